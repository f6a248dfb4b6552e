"""scale: the log without its index on type; room for HOT updates of the live rows

Every row appended to the log wrote an entry in `ix_events_type` (88 bytes of WAL an
event in the writer benchmark, its largest index after the event_id key), and no query
needs it: the log's readers walk it by `seq` (the event list, a rebuild, the incident
look-up from a first seq), a type being one filter among others on those rows.

On PostgreSQL the rows updated in place at every report — a connector's live row, a
session's energy while it charges — leave room on their page (fillfactor): an update
whose new version fits on the row's page is a HOT update, which writes no index entry
(the connector's key, the session's five indexes) and whose dead versions the next
reader of the page prunes. Full pages made most live-row updates in the writer benchmark
move to another page, an index entry each.

The log's event_id compares bytewise on PostgreSQL (COLLATE "C"): its unique key is
where every append looks for a duplicate and inserts, a dozen comparisons deep in a
B-tree of random ids, and under the database's collation each comparison is a locale
comparison (strcoll) rather than memcmp. Equality, and so what counts as a duplicate, is
the same under any deterministic collation: the bytes.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Rows updated in place, and the share of each page their inserts leave free for that.
FILLFACTOR = {"connector_live": 50, "sessions": 70}


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_type")
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE events ALTER COLUMN event_id TYPE varchar(200) COLLATE "C"')
        for table, percent in FILLFACTOR.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FILLFACTOR:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        op.execute('ALTER TABLE events ALTER COLUMN event_id TYPE varchar(200) COLLATE "default"')
    with op.batch_alter_table("events") as batch_op:
        batch_op.create_index("ix_events_type", ["type"], unique=False)
