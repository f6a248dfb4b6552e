"""ocpp: chargers' hardware and firmware inventory

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charger_inventory",
        sa.Column("charger_id", sa.String(length=128), nullable=False),
        sa.Column("component", sa.String(length=50), nullable=False),
        sa.Column("component_instance", sa.String(length=50), nullable=False),
        sa.Column("evse_no", sa.SmallInteger(), nullable=False),
        sa.Column("connector_no", sa.SmallInteger(), nullable=False),
        sa.Column("variable", sa.String(length=50), nullable=False),
        sa.Column("variable_instance", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "as_of",
            chargenet.adapters.storage.types.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "charger_id",
            "component",
            "component_instance",
            "evse_no",
            "connector_no",
            "variable",
            "variable_instance",
            name=op.f("pk_charger_inventory"),
        ),
    )


def downgrade() -> None:
    op.drop_table("charger_inventory")
