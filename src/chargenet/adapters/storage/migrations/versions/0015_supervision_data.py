"""supervision data: parking occupancy, interface compliance, operators' channels,
incidents, random inspections, credit records, demonstrations,
swap stations' status history and battery packs

Revision ID: 0015
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = chargenet.adapters.storage.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "parking_live",
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("station_id", sa.String(length=128), nullable=False),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("occupied", sa.Boolean(), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=True),
        sa.Column("as_of", _AT, nullable=False),
        sa.PrimaryKeyConstraint("connector_id", name=op.f("pk_parking_live")),
    )
    op.create_index(op.f("ix_parking_live_station_id"), "parking_live", ["station_id"])
    op.create_index(op.f("ix_parking_live_operator_id"), "parking_live", ["operator_id"])
    op.create_table(
        "interface_traffic",
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("ret", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "protocol", "partner_id", "day", "endpoint", "ret", name=op.f("pk_interface_traffic")
        ),
    )
    op.create_index(op.f("ix_interface_traffic_operator_id"), "interface_traffic", ["operator_id"])
    op.create_table(
        "interface_refusals",
        sa.Column(
            "refusal_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=128), nullable=False),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("ret", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("refusal_id", name=op.f("pk_interface_refusals")),
    )
    op.create_index("ix_interface_refusals_partner_at", "interface_refusals", ["partner_id", "at"])

    op.create_table(
        "operator_channels",
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_operator_channels")),
    )

    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("station_id", sa.String(length=128), nullable=False),
        sa.Column("charger_id", sa.String(length=128), nullable=True),
        sa.Column("connector_id", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("occurred_at", _AT, nullable=False),
        sa.Column("reported_at", _AT, nullable=False),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("injuries", sa.Integer(), nullable=False),
        sa.Column("deaths", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("responsible", sa.String(length=16), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("closed_at", _AT, nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incidents")),
    )
    for column in ("station_id", "operator_id", "area_code"):
        op.create_index(op.f(f"ix_incidents_{column}"), "incidents", [column])

    op.create_table(
        "inspection_draws",
        sa.Column("draw_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("team", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("inspectors", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("drawn_by", sa.String(length=128), nullable=False),
        sa.Column("drawn_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("draw_id", name=op.f("pk_inspection_draws")),
    )
    op.create_index(op.f("ix_inspection_draws_area_code"), "inspection_draws", ["area_code"])
    op.create_table(
        "inspection_targets",
        sa.Column("draw_id", sa.String(length=128), nullable=False),
        sa.Column("station_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("inspectors", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("inspected_at", _AT, nullable=True),
        sa.Column("inspected_by", sa.String(length=128), nullable=True),
        sa.Column("rectified_at", _AT, nullable=True),
        sa.Column("rectification", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("draw_id", "station_id", name=op.f("pk_inspection_targets")),
    )
    op.create_index(
        op.f("ix_inspection_targets_operator_id"), "inspection_targets", ["operator_id"]
    )

    op.create_table(
        "credit_penalties",
        sa.Column("penalty_id", sa.String(length=128), nullable=False),
        sa.Column("operator_id", sa.String(length=128), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("appeal_state", sa.String(length=16), nullable=False),
        sa.Column("appeal_grounds", sa.Text(), nullable=True),
        sa.Column("appealed_at", _AT, nullable=True),
        sa.Column("appeal_note", sa.Text(), nullable=True),
        sa.Column("appeal_decided_at", _AT, nullable=True),
        sa.Column("appeal_decided_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("penalty_id", name=op.f("pk_credit_penalties")),
    )
    op.create_index(op.f("ix_credit_penalties_operator_id"), "credit_penalties", ["operator_id"])
    op.create_index(op.f("ix_credit_penalties_area_code"), "credit_penalties", ["area_code"])
    op.create_table(
        "demonstrations",
        sa.Column("designation_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("designated_by", sa.String(length=128), nullable=False),
        sa.Column("designated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("designation_id", name=op.f("pk_demonstrations")),
    )
    op.create_index(op.f("ix_demonstrations_area_code"), "demonstrations", ["area_code"])

    op.create_table(
        "swap_status_history",
        sa.Column("swap_station_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("swap_station_id", "at_us", name=op.f("pk_swap_status_history")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "swap_batteries",
        sa.Column("swap_station_id", sa.String(length=128), nullable=False),
        sa.Column("pack_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("soh_percent", sa.Float(), nullable=True),
        sa.Column("soc_percent", sa.Float(), nullable=True),
        sa.Column("cycles", sa.Integer(), nullable=True),
        sa.Column("as_of", _AT, nullable=False),
        sa.PrimaryKeyConstraint("swap_station_id", "pack_id", name=op.f("pk_swap_batteries")),
    )


def downgrade() -> None:
    op.drop_table("swap_batteries")
    op.drop_table("swap_status_history")
    op.drop_table("demonstrations")
    op.drop_table("credit_penalties")
    op.drop_table("inspection_targets")
    op.drop_table("inspection_draws")
    op.drop_table("incidents")
    op.drop_table("operator_channels")
    op.drop_table("interface_refusals")
    op.drop_table("interface_traffic")
    op.drop_table("parking_live")
