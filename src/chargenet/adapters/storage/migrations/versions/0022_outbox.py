"""the durable outbox: deliveries to partners, written with the event that causes them

T/CEC pushes move from tcec_outbox to it: pending ones are carried over (kind
"tcec.<endpoint>", about the order their purpose named), then tcec_outbox is dropped.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = chargenet.adapters.storage.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("delivery_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=128), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_deliveries_delivery_id")),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_deliveries_ref", "deliveries", ["kind", "ref"])
    op.execute(
        "INSERT INTO deliveries (delivery_id, kind, destination, ref, payload, state, attempts,"
        " next_attempt_at, last_error, created_at) SELECT 'tcec-outbox-' || CAST(id AS TEXT),"
        " 'tcec.' || endpoint, partner_id,"
        " CASE WHEN SUBSTR(purpose, 1, 6) = 'order:' THEN SUBSTR(purpose, 7) ELSE purpose END,"
        " payload, state, attempts, next_attempt_at, last_error, created_at"
        " FROM tcec_outbox WHERE state = 'pending'"
    )
    with op.batch_alter_table("tcec_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_tcec_outbox_due")
    op.drop_table("tcec_outbox")


def downgrade() -> None:
    # Pushes still pending are not carried back: the older outbox resends orders only.
    op.create_table(
        "tcec_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tcec_outbox")),
    )
    op.create_index("ix_tcec_outbox_due", "tcec_outbox", ["state", "next_attempt_at"])
    op.drop_index("ix_deliveries_ref", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
