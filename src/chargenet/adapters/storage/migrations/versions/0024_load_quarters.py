"""orderly charging: metered load per connector and quarter hour

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "load_quarters",
        sa.Column("station_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("sum_w", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "station_id", "at_us", "connector_id", name=op.f("pk_load_quarters")
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("load_quarters")
