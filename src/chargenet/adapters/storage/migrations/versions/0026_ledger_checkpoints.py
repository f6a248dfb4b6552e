"""settlement: month-end balance checkpoints of ledger accounts (ledger_checkpoints), so a
statement's opening balance sums the postings since the newest checkpoint only

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_T = chargenet.adapters.storage.types


def upgrade() -> None:
    # Empty at first: checkpoints are written as statements of closed months are asked.
    op.create_table(
        "ledger_checkpoints",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("at", _T.UtcDateTime(timezone=True), nullable=False),
        sa.Column("balance", _T.MicroAmount(), nullable=False),
        sa.Column("written_at", _T.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", "at", name=op.f("pk_ledger_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("ledger_checkpoints")
