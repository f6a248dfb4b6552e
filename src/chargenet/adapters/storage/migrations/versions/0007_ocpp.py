"""ocpp: charger credentials for the OCPP gateway

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charger_credentials",
        sa.Column("charger_id", sa.String(length=128), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            chargenet.adapters.storage.types.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("charger_id", name=op.f("pk_charger_credentials")),
    )


def downgrade() -> None:
    op.drop_table("charger_credentials")
