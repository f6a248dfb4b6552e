"""planning: policy packs in force

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_packs",
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Date(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "loaded_at", chargenet.adapters.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "as_of", chargenet.adapters.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("pack_id", name=op.f("pk_policy_packs")),
    )
    with op.batch_alter_table("policy_packs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_packs_region_code"), ["region_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("policy_packs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_packs_region_code"))
    op.drop_table("policy_packs")
