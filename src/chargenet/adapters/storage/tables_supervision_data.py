"""Supervision data beyond uptime: parking occupancy of charging bays (R39) and the
interface-compliance record of each operator platform (R38, docs/supervision.md).

`parking_live` is state derived from the log (rebuilt). `interface_traffic` and
`interface_refusals` are a record of the exchange itself — how many messages each partner
sent and which were refused, with why — kept beside the log, not in it: a refused message
never became a fact.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Index, Integer, String, Table, Text

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime, big_id

parking_live = Table(
    "parking_live",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("station_id", String(ID), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("occupied", Boolean),
    Column("locked", Boolean),
    Column("as_of", UtcDateTime, nullable=False),
)

# Messages per partner, day (UTC), endpoint and answer code (0: accepted).
interface_traffic = Table(
    "interface_traffic",
    metadata,
    Column("protocol", String(16), primary_key=True),
    Column("partner_id", String(ID), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("endpoint", String(64), primary_key=True),
    Column("ret", Integer, primary_key=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("messages", Integer, nullable=False),
)

# Each refused message: when, where, the answer code and its reason.
interface_refusals = Table(
    "interface_refusals",
    metadata,
    Column("refusal_id", big_id(), primary_key=True, autoincrement=True),
    Column("protocol", String(16), nullable=False),
    Column("partner_id", String(ID), nullable=False),
    Column("operator_id", String(ID), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("ret", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Index("ix_interface_refusals_partner_at", "partner_id", "at"),
)


# Each operator's own channel for orders and notices (a webhook and the secret its
# messages are signed with, sealed under the master key): configuration, never the log.
operator_channels = Table(
    "operator_channels",
    metadata,
    Column("operator_id", String(ID), primary_key=True),
    Column("url", String(500), nullable=False),
    Column("secret_sealed", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Safety incidents (R33) and the investigation's finding.
incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("station_id", String(ID), nullable=False, index=True),
    Column("charger_id", String(ID)),
    Column("connector_id", String(ID)),
    Column("session_id", String(ID)),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("area_code", String(32), index=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("reported_by", String(128), nullable=False),
    Column("injuries", Integer, nullable=False),
    Column("deaths", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("responsible", String(16)),
    Column("finding", Text),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(128)),
)

# Random inspections, 双随机一公开 (R38): each draw with its seed and pools, and each
# drawn station with its team, result and rectification.
inspection_draws = Table(
    "inspection_draws",
    metadata,
    Column("draw_id", String(ID), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("team", Integer, nullable=False),
    Column("area_code", String(32), index=True),
    Column("inspectors", Text, nullable=False),  # JSON list, sorted
    Column("targets", Text, nullable=False),  # JSON list of station ids, sorted
    Column("drawn_by", String(128), nullable=False),
    Column("drawn_at", UtcDateTime, nullable=False),
)

inspection_targets = Table(
    "inspection_targets",
    metadata,
    Column("draw_id", String(ID), primary_key=True),
    Column("station_id", String(ID), primary_key=True),
    Column("position", Integer, nullable=False),  # order of the draw
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("inspectors", Text, nullable=False),  # JSON list
    Column("result", String(16)),
    Column("findings", Text),
    Column("rectify_by", Date),
    Column("inspected_at", UtcDateTime),
    Column("inspected_by", String(128)),
    Column("rectified_at", UtcDateTime),
    Column("rectification", Text),
)

# Operators' credit records (信用惩戒, R38): penalties and their appeals.
credit_penalties = Table(
    "credit_penalties",
    metadata,
    Column("penalty_id", String(ID), primary_key=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("area_code", String(32), index=True),
    Column("points", Integer, nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("basis", String(200), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("appeal_state", String(16), nullable=False),
    Column("appeal_grounds", Text),
    Column("appealed_at", UtcDateTime),
    Column("appeal_note", Text),
    Column("appeal_decided_at", UtcDateTime),
    Column("appeal_decided_by", String(128)),
)

# Demonstration townships, villages and roads (R38).
demonstrations = Table(
    "demonstrations",
    metadata,
    Column("designation_id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("area_code", String(32), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("basis", String(200), nullable=False),
    Column("designated_by", String(128), nullable=False),
    Column("designated_at", UtcDateTime, nullable=False),
)

# Swap stations (R40): every status report (for uptime), and the packs each holds.
swap_status_history = Table(
    "swap_status_history",
    metadata,
    Column("swap_station_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),
    Column("status", String(16), nullable=False),
    sqlite_with_rowid=False,
)

swap_batteries = Table(
    "swap_batteries",
    metadata,
    Column("swap_station_id", String(ID), primary_key=True),
    Column("pack_id", String(ID), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("soh_percent", Float),
    Column("soc_percent", Float),
    Column("cycles", Integer),
    Column("as_of", UtcDateTime, nullable=False),
)

# Children first, as STATE_TABLES wants them.
SUPERVISION_DATA_STATE = (
    swap_status_history,
    swap_batteries,
    parking_live,
    incidents,
    inspection_targets,
    inspection_draws,
    credit_penalties,
    demonstrations,
)
