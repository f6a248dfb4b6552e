"""scale: the load quarters partitioned by month (PostgreSQL) and rolled up by hour

`load_quarters` becomes a table partitioned by range of at_us, one partition per month,
as status history is (adapters/storage/history.py); its rows are copied over. The hourly
roll-up `load_hourly`, which outlives the quarters' retention, is made partitioned the
same way. SQLite keeps plain tables.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from chargenet.adapters.storage import history

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = {
    "load_quarters": "station_id, at_us, connector_id",
    "load_hourly": "station_id, at_us",
}


def upgrade() -> None:
    op.create_table(
        "load_hourly",
        sa.Column("station_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("load_w_sum", sa.Float(), nullable=False),
        sa.Column("quarters", sa.SmallInteger(), nullable=False),
        sa.Column("peak_w", sa.Float(), nullable=False),
        sa.Column("peak_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "at_us", name=op.f("pk_load_hourly")),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    now = datetime.now(UTC)
    for table, key in _KEYS.items():
        history.partition_by_month(bind, table, key, now)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        history.unpartition(bind, "load_quarters", _KEYS["load_quarters"])
    op.drop_table("load_hourly")
