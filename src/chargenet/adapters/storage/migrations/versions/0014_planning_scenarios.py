"""planning: named scenarios

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planning_scenarios",
        sa.Column("scenario_id", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.Column(
            "saved_at", chargenet.adapters.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "as_of", chargenet.adapters.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("scenario_id", name=op.f("pk_planning_scenarios")),
        sa.UniqueConstraint("area_code", "name", name=op.f("uq_planning_scenarios_area_code_name")),
    )
    with op.batch_alter_table("planning_scenarios", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_planning_scenarios_area_code"), ["area_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("planning_scenarios", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planning_scenarios_area_code"))
    op.drop_table("planning_scenarios")
