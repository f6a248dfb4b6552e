"""supervision: late history reports counted per table, minute and hour

A small table the history projections bump when a status, presence or power-limit report
arrives late, so that the cache key of uptime figures is an index range read, not a count
over the whole history (adapters/storage/queries_supervision.py, `figures_version`).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_late",
        sa.Column("span_us", sa.BigInteger(), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("history", sa.String(length=32), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("span_us", "start_us", "history", name=op.f("pk_history_late")),
    )


def downgrade() -> None:
    op.drop_table("history_late")
