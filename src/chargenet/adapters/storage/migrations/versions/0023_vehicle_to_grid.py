"""orderly charging: vehicle-to-grid needs (the most a vehicle may give, and how much)

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("charging_needs") as batch:
        batch.add_column(sa.Column("discharge_max_w", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("dischargeable_wh", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("charging_needs") as batch:
        batch.drop_column("dischargeable_wh")
        batch.drop_column("discharge_max_w")
