"""service time and power limits: chargers' commissioning, reported power limits

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chargers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "commissioned_at",
                chargenet.adapters.storage.types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    op.create_table(
        "power_limit_history",
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("limit_w", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("connector_id", "at_us", name=op.f("pk_power_limit_history")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("power_limit_history")
    # A plain DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL): a batch copy of `chargers` would
    # trip the foreign keys that connectors and stations hold on it.
    op.drop_column("chargers", "commissioned_at")
