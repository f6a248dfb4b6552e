"""ocpi hub: response_url tickets and the parties heard from or OFFLINE, shared by nodes

`hub_tickets` holds each response_url the hub gave in place of a requester's (with its
expiry), `hub_parties` the time each party was last heard from and whether its last
still-alive check failed, so that any node behind the balancer relays a result and
refuses an OFFLINE party (shared_state = "database").

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hub_tickets",
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ticket", name=op.f("pk_hub_tickets")),
    )
    op.create_index(op.f("ix_hub_tickets_expires_us"), "hub_tickets", ["expires_us"])
    op.create_table(
        "hub_parties",
        sa.Column("peer_id", sa.String(length=128), nullable=False),
        sa.Column("heard_us", sa.BigInteger(), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("peer_id", name=op.f("pk_hub_parties")),
    )


def downgrade() -> None:
    op.drop_table("hub_parties")
    op.drop_table("hub_tickets")
