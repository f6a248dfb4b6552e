"""orderly charging: grid connections, feeders, charging needs, demand-response events

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> chargenet.adapters.storage.types.UtcDateTime:
    return chargenet.adapters.storage.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "grid_connections",
        sa.Column("station_id", sa.String(length=128), nullable=False),
        sa.Column("valid_from", _utc(), nullable=False),
        sa.Column("capacity_w", sa.BigInteger(), nullable=False),
        sa.Column("capacity_va", sa.BigInteger(), nullable=True),
        sa.Column("phases", sa.SmallInteger(), nullable=False),
        sa.Column("voltage_v", sa.Integer(), nullable=False),
        sa.Column("feeder_id", sa.String(length=128), nullable=True),
        sa.Column("pv_peak_w", sa.BigInteger(), nullable=False),
        sa.Column("storage_wh", sa.BigInteger(), nullable=False),
        sa.Column("storage_power_w", sa.BigInteger(), nullable=False),
        sa.Column("as_of", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "valid_from", name=op.f("pk_grid_connections")),
    )
    op.create_index(
        op.f("ix_grid_connections_feeder_id"), "grid_connections", ["feeder_id"], unique=False
    )
    op.create_table(
        "feeders",
        sa.Column("feeder_id", sa.String(length=128), nullable=False),
        sa.Column("valid_from", _utc(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("capacity_w", sa.BigInteger(), nullable=False),
        sa.Column("phases", sa.SmallInteger(), nullable=False),
        sa.Column("area_code", sa.String(length=128), nullable=True),
        sa.Column("as_of", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("feeder_id", "valid_from", name=op.f("pk_feeders")),
    )
    op.create_table(
        "charging_needs",
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=True),
        sa.Column("departure_at", _utc(), nullable=True),
        sa.Column("max_power_w", sa.BigInteger(), nullable=True),
        sa.Column("min_power_w", sa.BigInteger(), nullable=True),
        sa.Column("as_of", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_charging_needs")),
    )
    op.create_table(
        "dr_events",
        sa.Column("dr_id", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=128), nullable=False),
        sa.Column("start_at", _utc(), nullable=False),
        sa.Column("end_at", _utc(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("called_by", sa.String(length=128), nullable=False),
        sa.Column("program", sa.String(length=200), nullable=False),
        sa.Column("as_of", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("dr_id", name=op.f("pk_dr_events")),
    )
    op.create_index(op.f("ix_dr_events_start_at"), "dr_events", ["start_at"], unique=False)
    op.create_index(op.f("ix_dr_events_end_at"), "dr_events", ["end_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dr_events_end_at"), table_name="dr_events")
    op.drop_index(op.f("ix_dr_events_start_at"), table_name="dr_events")
    op.drop_table("dr_events")
    op.drop_table("charging_needs")
    op.drop_table("feeders")
    op.drop_index(op.f("ix_grid_connections_feeder_id"), table_name="grid_connections")
    op.drop_table("grid_connections")
