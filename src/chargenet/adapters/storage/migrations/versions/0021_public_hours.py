"""public hours of stations: institutions' own chargers opened to the public (R39)

Revision ID: 0021
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stations", sa.Column("public_hours", sa.String(length=200), nullable=True))
    op.add_column(
        "stations",
        sa.Column(
            "public_hours_as_of",
            chargenet.adapters.storage.types.UtcDateTime(timezone=True),
            nullable=True,
        ),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL): a batch copy of `stations` would
    # trip the foreign keys that chargers and connectors hold on it.
    op.drop_column("stations", "public_hours_as_of")
    op.drop_column("stations", "public_hours")
