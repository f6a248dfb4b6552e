"""scale: meter samples as a history table, partitioned by month, and rolled up by hour

`meter_history` keeps every meter sample's readings as columns (the log stays the record),
`meter_hourly` each connector's energy, highest power and samples per hour, which outlives
the samples' retention. On PostgreSQL both are partitioned by range of at_us, one
partition per month, as status history is (adapters/storage/history.py). SQLite keeps
plain tables. Existing samples come from the log with `chargenet db rebuild`.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from chargenet.adapters.storage import history

revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meter_history",
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("energy_register_wh", sa.BigInteger(), nullable=True),
        sa.Column("power_w", sa.Integer(), nullable=True),
        sa.Column("current_a", sa.REAL(), nullable=True),
        sa.Column("voltage_v", sa.REAL(), nullable=True),
        sa.Column("soc_percent", sa.REAL(), nullable=True),
        sa.Column("temperature_c", sa.REAL(), nullable=True),
        sa.PrimaryKeyConstraint("connector_id", "at_us", name=op.f("pk_meter_history")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "meter_hourly",
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("max_power_w", sa.Integer(), nullable=True),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("connector_id", "at_us", name=op.f("pk_meter_hourly")),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    now = datetime.now(UTC)
    for table in history.METER:
        history.partition_by_month(bind, table, "connector_id, at_us", now)


def downgrade() -> None:
    op.drop_table("meter_hourly")  # and its partitions
    op.drop_table("meter_history")
