"""swap stations: the time of the newest status report applied (status_at)

A swap station's status follows the one recency rule (core.status.newest_report), which
compares a report with the newest one applied, not with when the status began.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("swap_stations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_at",
                chargenet.adapters.storage.types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("swap_stations", schema=None) as batch_op:
        batch_op.drop_column("status_at")
