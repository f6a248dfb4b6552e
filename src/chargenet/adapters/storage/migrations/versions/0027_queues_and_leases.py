"""ordered delivery queues (deliveries.queue: the OCPI forwarder's pushes go out in order
per partner) and leases on background jobs (leases: one node runs each periodic job)

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = chargenet.adapters.storage.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("queue", sa.String(length=128), nullable=False, server_default="")
        )
    op.create_index("ix_deliveries_queue", "deliveries", ["queue", "state", "id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_deliveries_queue", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("queue")
