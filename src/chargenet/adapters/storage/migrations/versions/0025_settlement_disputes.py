"""settlement: disputes opened automatically on operators' figures (ledger_disputes);
tokens re-keyed from the unkeyed digest (driver_tokens.rekeyed_to); postings carry their
entry's kind, and statements read them from one covering index

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_T = chargenet.adapters.storage.types


def upgrade() -> None:
    with op.batch_alter_table("driver_tokens") as batch:
        batch.add_column(sa.Column("rekeyed_to", sa.String(length=64), nullable=True))
    with op.batch_alter_table("ledger_postings") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE ledger_postings SET kind = (SELECT e.kind FROM ledger_entries e"
        " WHERE e.entry_id = ledger_postings.entry_id)"
    )
    op.drop_index("ix_ledger_postings_account_posted", table_name="ledger_postings")
    op.create_index(
        "ix_ledger_postings_statement",
        "ledger_postings",
        ["account", "posted_at", "kind", "amount"],
        unique=False,
    )
    op.create_table(
        "ledger_disputes",
        sa.Column("dispute_id", sa.String(length=200), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("stated_energy_wh", sa.Integer(), nullable=True),
        sa.Column("stated_amount", _T.MicroAmount(), nullable=True),
        sa.Column("recorded_energy_wh", sa.Integer(), nullable=True),
        sa.Column("recorded_amount", _T.MicroAmount(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opened_at", _T.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_ledger_disputes")),
    )
    op.create_index(
        op.f("ix_ledger_disputes_session_id"), "ledger_disputes", ["session_id"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_disputes_operator_id"), "ledger_disputes", ["operator_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_disputes_operator_id"), table_name="ledger_disputes")
    op.drop_index(op.f("ix_ledger_disputes_session_id"), table_name="ledger_disputes")
    op.drop_table("ledger_disputes")
    op.drop_index("ix_ledger_postings_statement", table_name="ledger_postings")
    op.create_index(
        "ix_ledger_postings_account_posted",
        "ledger_postings",
        ["account", "posted_at"],
        unique=False,
    )
    with op.batch_alter_table("ledger_postings") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("driver_tokens") as batch:
        batch.drop_column("rekeyed_to")
