"""Tables: the event log, refused events, and current state (rebuildable from the log).

Every state table carries `as_of`: the source time of the newest event applied to the row.
An event older than `as_of` does not overwrite the row (late data never wins).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

# Feature tables live in their own modules, on the same `metadata` (users and login
# sessions: settings, not state derived from the log, so not rebuilt).
from chargenet.adapters.storage import (
    tables_dashboard,  # noqa: F401
    tables_ocpi,
    tables_outbox,  # noqa: F401
    tables_shared,  # noqa: F401
)
from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.tables_ocpp import OCPP_STATE_TABLES
from chargenet.adapters.storage.tables_orderly import ORDERLY_STATE_TABLES
from chargenet.adapters.storage.tables_planning import PLANNING_TABLES
from chargenet.adapters.storage.tables_settlement import SETTLEMENT_STATE_TABLES
from chargenet.adapters.storage.tables_supervision import SUPERVISION_TABLES
from chargenet.adapters.storage.tables_supervision_data import SUPERVISION_DATA_STATE
from chargenet.adapters.storage.tables_tcec import TCEC_STATE_TABLES
from chargenet.adapters.storage.types import DecimalText, MicroAmount, UtcDateTime, big_id

__all__ = ["ID", "STATE_TABLES", "metadata"]

# --- the log ------------------------------------------------------------------------------

_EVENT_ID = String(200).with_variant(String(200, collation="C"), "postgresql")

events = Table(
    "events",
    metadata,
    Column("seq", big_id(), primary_key=True, autoincrement=True),
    # Compared bytewise on PostgreSQL: a memcmp, not the locale's strcoll, at each step
    # down its unique key (migration 0032).
    Column("event_id", _EVENT_ID, nullable=False, unique=True),
    Column("type", String(64), nullable=False),  # no index: read by seq (0032)
    Column("version", SmallInteger, nullable=False),
    Column("adapter", String(32), nullable=False),
    Column("operator_id", String(ID)),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
)

rejected_events = Table(
    "rejected_events",
    metadata,
    Column("id", big_id(), primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False, index=True),
    Column("type", String(64), nullable=False),
    Column("adapter", String(32), nullable=False),
    Column("operator_id", String(ID)),
    Column("received_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
)

# --- areas --------------------------------------------------------------------------------

areas = Table(
    "areas",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("level", String(16), nullable=False, index=True),
    Column("parent_code", String(32), index=True),
    Column("name_zh", String(200), nullable=False),
    Column("name_en", String(200)),
    Column("lat", Float),
    Column("lon", Float),
    Column("province_code", String(32)),
    Column("city_code", String(32)),
    Column("county_code", String(32)),
    Column("township_code", String(32)),
    Column("as_of", UtcDateTime, nullable=False),
)

area_statistics = Table(
    "area_statistics",
    metadata,
    Column("area_code", String(32), primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("ev_count", Integer),
    Column("motor_vehicles", Integer),
    Column("population", Integer),
    Column("as_of", UtcDateTime, nullable=False),
)

# --- registry -----------------------------------------------------------------------------

operators = Table(
    "operators",
    metadata,
    Column("operator_id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200)),
    Column("uscc", String(18)),
    Column("service_phone", String(64)),
    Column("licence_valid_until", Date),
    Column("insurance_valid_until", Date),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

_CHAIN = ("province_code", "city_code", "county_code", "township_code", "village_code")

stations = Table(
    "stations",
    metadata,
    Column("station_id", String(ID), primary_key=True),
    Column("operator_id", String(ID), ForeignKey("operators.operator_id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200)),
    Column("address", String(300)),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("area_code", String(32)),
    Column("area_placed", String(16)),  # given | nearest | code (official code not in areas)
    *[Column(name, String(32), index=True) for name in _CHAIN],
    Column("category", String(32), nullable=False),
    Column("scenic_grade", SmallInteger),
    Column("access", String(16), nullable=False),
    Column("parking_spaces", Integer),
    Column("charging_spaces", Integer),
    Column("opening_hours", String(100), nullable=False),
    Column("commissioned_on", Date),
    Column("source_adapter", String(32), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime),
    Column("as_of", UtcDateTime, nullable=False),
    # When it is open to the public (R39, core/registry/public_hours.py), as last stated
    # by `station.public_hours_set`; None: its registered access alone.
    Column("public_hours", String(200)),
    Column("public_hours_as_of", UtcDateTime),
    Index("ix_stations_operator", "operator_id"),
)

chargers = Table(
    "chargers",
    metadata,
    Column("charger_id", String(ID), primary_key=True),
    Column("station_id", String(ID), ForeignKey("stations.station_id"), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("vendor", String(100)),
    Column("model", String(100)),
    Column("serial_number", String(100)),
    Column("firmware", String(100)),
    Column("protocol", String(16)),
    Column("online", Boolean),  # None: presence not tracked (reported by an operator platform)
    Column("presence_since", UtcDateTime),  # when it became so
    Column("presence_at", UtcDateTime),  # the newest presence report applied
    Column("registered_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime),
    Column("as_of", UtcDateTime, nullable=False),
    # When the operator says it entered service; supervision counts its time from then (or
    # else from its first report), not from when chargenet learned of it.
    Column("commissioned_at", UtcDateTime),
)

connectors = Table(
    "connectors",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("charger_id", String(ID), ForeignKey("chargers.charger_id"), nullable=False, index=True),
    Column("station_id", String(ID), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False),
    Column("evse_no", SmallInteger, nullable=False),
    Column("evse_uid", String(ID)),
    Column("connector_no", SmallInteger, nullable=False),
    Column("standard", String(16), nullable=False),
    Column("power_type", String(4), nullable=False),
    Column("max_power_w", Integer, nullable=False),
    Column("max_voltage_v", Integer),
    Column("max_current_a", Integer),
    Column("is_pile", Boolean, nullable=False),  # R01, from chargenet.core.registry.piles
    Column("is_fast", Boolean, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime),
    Column("as_of", UtcDateTime, nullable=False),
    Index("ix_connectors_charger_numbers", "charger_id", "evse_no", "connector_no"),
)

connector_live = Table(
    "connector_live",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("status", String(16)),
    Column("status_since", UtcDateTime),  # when the current status began
    Column("status_at", UtcDateTime),  # the newest status report applied
    Column("error_code", String(64)),
    Column("vendor_error_code", String(64)),
    Column("info", String(200)),
    Column("session_id", String(ID)),
    Column("power_w", Integer),
    Column("energy_register_wh", BigInteger),
    Column("current_a", Float),
    Column("voltage_v", Float),
    Column("soc_percent", Float),
    Column("temperature_c", Float),
    Column("meter_at", UtcDateTime),
)

swap_stations = Table(
    "swap_stations",
    metadata,
    Column("swap_station_id", String(ID), primary_key=True),
    Column("operator_id", String(ID), ForeignKey("operators.operator_id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", String(300)),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("area_code", String(32)),
    Column("area_placed", String(16)),
    *[Column(name, String(32), index=True) for name in _CHAIN],
    Column("vehicle_types", String(200), nullable=False),  # comma-separated
    Column("bays", SmallInteger, nullable=False),
    Column("battery_slots", Integer, nullable=False),
    Column("access", String(16), nullable=False),
    Column("opening_hours", String(100), nullable=False),
    Column("commissioned_on", Date),
    Column("max_power_w", Integer),
    Column("status", String(16)),
    Column("status_since", UtcDateTime),
    Column("status_at", UtcDateTime),  # the newest status report applied
    Column("batteries_ready", Integer),
    Column("source_adapter", String(32), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime),
    Column("as_of", UtcDateTime, nullable=False),
)

battery_swaps = Table(
    "battery_swaps",
    metadata,
    Column("swap_station_id", String(ID), primary_key=True),
    Column("swap_id", String(ID), primary_key=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("vehicle_type", String(16), nullable=False),
    Column("energy_wh", Integer),
)

# --- sessions -----------------------------------------------------------------------------

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(ID), primary_key=True),
    Column("connector_id", String(ID), nullable=False, index=True),
    Column("charger_id", String(ID), nullable=False),
    Column("station_id", String(ID), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False, index=True),
    Column("ended_at", UtcDateTime),
    Column("meter_start_wh", BigInteger),
    Column("meter_stop_wh", BigInteger),
    Column("energy_wh", Integer),
    Column("peak_power_w", Integer),
    Column("stop_reason", String(64)),
    Column("cost_amount", MicroAmount),
    Column("currency", String(3)),
    Column("flags", String(200), nullable=False),
    Column("token_hash", String(128)),
    Column("source_adapter", String(32), nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

# --- supervision --------------------------------------------------------------------------

alarms = Table(
    "alarms",
    metadata,
    Column("alarm_id", String(ID), primary_key=True),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(ID), nullable=False, index=True),
    Column("station_id", String(ID), index=True),
    Column("operator_id", String(ID), index=True),
    Column("code", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(ID)),
    Column("cleared_at", UtcDateTime),
    Column("clear_reason", Text),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(ID), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(ID), nullable=False, index=True),
    Column("station_id", String(ID), index=True),
    Column("operator_id", String(ID), index=True),
    Column("reason", Text, nullable=False),
    Column("issued_by", String(ID), nullable=False),
    Column("parameters", Text, nullable=False),  # JSON object
    Column("issued_at", UtcDateTime, nullable=False),
    Column("outcome", String(16)),
    Column("acknowledged_at", UtcDateTime),
    Column("detail", Text),
)

# --- planning -----------------------------------------------------------------------------

targets = Table(
    "targets",
    metadata,
    Column("target_id", String(ID), primary_key=True),
    Column("area_code", String(32), nullable=False, index=True),
    Column("metric", String(64), nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("month", SmallInteger),
    Column("value", DecimalText, nullable=False),
    Column("definition", Text, nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("valid_from", Date),
    Column("as_of", UtcDateTime, nullable=False),
)

target_revisions = Table(
    "target_revisions",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("target_id", String(ID), nullable=False, index=True),
    Column("value", DecimalText, nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("revised_at", UtcDateTime, nullable=False),  # when it was set (the event's time)
    Column("valid_from", Date),  # the day it takes effect; None: the day it was set
)

# The core's tables derived from the log; children first, so that deleting in this order
# respects foreign keys.
_CORE_STATE: tuple[Table, ...] = (
    target_revisions,
    targets,
    orders,
    alarms,
    sessions,
    battery_swaps,
    swap_stations,
    connector_live,
    connectors,
    chargers,
    stations,
    operators,
    area_statistics,
    areas,
)

# Every table derived from the log, emptied and refilled by `chargenet db rebuild`: the
# features' (which refer to the core's) before the core's.
STATE_TABLES: tuple[Table, ...] = (
    *ORDERLY_STATE_TABLES,
    *SETTLEMENT_STATE_TABLES,
    *OCPP_STATE_TABLES,
    *tables_ocpi.STATE,
    *SUPERVISION_TABLES,
    *SUPERVISION_DATA_STATE,
    *TCEC_STATE_TABLES,
    *PLANNING_TABLES,
    *_CORE_STATE,
)
