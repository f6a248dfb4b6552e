"""settlement: drivers, their tokens, the ledger; token uids for local lists

Revision ID: 0016
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_T = chargenet.adapters.storage.types


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, _T.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "drivers",
        sa.Column("driver_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit_limit", _T.MicroAmount(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        _when("registered_at"),
        _when("as_of"),
        sa.PrimaryKeyConstraint("driver_id", name=op.f("pk_drivers")),
    )
    op.create_table(
        "driver_tokens",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("driver_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        _when("expires_at", nullable=True),
        _when("registered_at"),
        _when("as_of"),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_driver_tokens")),
    )
    op.create_index(
        op.f("ix_driver_tokens_driver_id"), "driver_tokens", ["driver_id"], unique=False
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("floor", _T.MicroAmount(), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_ledger_accounts")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        _when("posted_at"),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        op.f("ix_ledger_entries_reference"), "ledger_entries", ["reference"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_entries_posted_at"), "ledger_entries", ["posted_at"], unique=False
    )
    op.create_table(
        "ledger_postings",
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("amount", _T.MicroAmount(), nullable=False),
        _when("posted_at"),
        sa.PrimaryKeyConstraint("entry_id", "account", name=op.f("pk_ledger_postings")),
    )
    op.create_index(
        "ix_ledger_postings_account_posted",
        "ledger_postings",
        ["account", "posted_at"],
        unique=False,
    )
    op.create_table(
        "session_claims",
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        _when("claimed_at"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_claims")),
    )
    op.create_table(
        "token_uids",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("uid", sa.String(length=128), nullable=False),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_token_uids")),
    )


def downgrade() -> None:
    op.drop_table("token_uids")
    op.drop_table("session_claims")
    op.drop_index("ix_ledger_postings_account_posted", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index(op.f("ix_ledger_entries_posted_at"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_reference"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_accounts")
    op.drop_index(op.f("ix_driver_tokens_driver_id"), table_name="driver_tokens")
    op.drop_table("driver_tokens")
    op.drop_table("drivers")
