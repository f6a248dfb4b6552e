"""stop orders: the operator's report of its rectification

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable): no batch copy of a table others may be reading.
    op.add_column(
        "stop_orders",
        sa.Column(
            "rectified_at",
            chargenet.adapters.storage.types.UtcDateTime(timezone=True),
            nullable=True,
        ),
    )
    op.add_column("stop_orders", sa.Column("rectified_by", sa.String(length=200), nullable=True))
    op.add_column("stop_orders", sa.Column("rectification", sa.Text(), nullable=True))


def downgrade() -> None:
    for column in ("rectification", "rectified_by", "rectified_at"):
        op.drop_column("stop_orders", column)
