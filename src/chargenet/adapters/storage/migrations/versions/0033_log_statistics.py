"""scale: no planner statistics for the log's payload and event_id (PostgreSQL)

ANALYZE of the log (autovacuum's, after every tenth of its rows is new) sorts a sample of
up to 30,000 rows for each column's most common values and histogram. For the payload,
JSON texts of about 400 bytes compared with the database's collation, that was a quarter
of the analyze's CPU, and for event_id a fifth (`ANALYZE events` of 20,000 rows: 97 ms
of the server's CPU, 54 without these two; docs/scale.md, PostgreSQL). No plan needs
them: event_id is found by equality on its unique key, whose uniqueness the planner knows
from the index, and the payload is only read, or matched by LIKE for an id inside it, for
which a histogram of whole JSON texts says nothing. The other columns (seq, type, times,
adapter, operator) keep their statistics: the event list and incident look-ups filter
on them.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Columns of the log whose statistics no query plan uses.
UNANALYZED = ("payload", "event_id")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's ANALYZE keeps index statistics only
    for column in UNANALYZED:
        op.execute(f"ALTER TABLE events ALTER COLUMN {column} SET STATISTICS 0")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in UNANALYZED:
        op.execute(f"ALTER TABLE events ALTER COLUMN {column} SET STATISTICS -1")
