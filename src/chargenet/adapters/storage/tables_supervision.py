"""Supervision state: status history, outage exclusions, zombie cases, stop orders.

Status and presence history keep their instants as integer microseconds since the Unix
epoch (UTC), not as UtcDateTime: they are written on the hot path and read by the
hundred thousand for uptime, where integers cost nothing to bind, compare and hand to
numpy, while text times cost a parse each on SQLite.
"""

from __future__ import annotations

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime

# Every status report of every connector, as reported (repeats included: a late report
# must land between the right neighbours, see docs/supervision.md).
status_history = Table(
    "status_history",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64)),
    Column("vendor_error_code", String(64)),
    Column("info", String(200)),
    # SQLite: the rows live in the primary-key B-tree itself, one write per report, not two.
    sqlite_with_rowid=False,
)

presence_history = Table(
    "presence_history",
    metadata,
    Column("charger_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),
    Column("online", Boolean, nullable=False),
    Column("reason", String(200)),
    sqlite_with_rowid=False,
)

# The power limits chargers report for their connectors (OCPP Power.Offered): below a
# port's minimum power it is not "up" for NEVI (23 CFR 680.116(b), 680.106(d)).
power_limit_history = Table(
    "power_limit_history",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),
    Column("limit_w", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# Every meter sample of every connector (MeterSampled: OCPP MeterValues and transaction
# meter data, OCPI session updates, T/CEC reports), its readings as columns: at national
# scale most of the log's bytes, kept here for a configurable number of months
# (adapters/storage/rollup.py) and by hour after that (`meter_hourly`). Two samples of a
# connector at one instant make one row: each reading the last one given, as connector_live
# keeps them. REAL (4 bytes, 7 digits) for the measured quantities: more than any meter
# resolves, half of double precision's bytes.
meter_history = Table(
    "meter_history",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),
    Column("session_id", String(ID)),
    # The meter's register; where a sample has none, its session's energy so far (T/CEC
    # 102's TotalPower: a register restarting at 0 with each session, projections/live.py).
    Column("energy_register_wh", BigInteger),
    Column("power_w", Integer),
    Column("current_a", REAL),
    Column("voltage_v", REAL),
    Column("soc_percent", REAL),
    Column("temperature_c", REAL),
    sqlite_with_rowid=False,
)

# Late history reports, counted per table, per minute and per hour (`span_us`) of the
# instant they are about: what
# lets the cache key of uptime figures (`SupervisionReads.figures_version`) see a report
# about a past period without counting the whole history (the rule: adapters/storage/history.py).
history_late = Table(
    "history_late",
    metadata,
    # Span and start first: the key reads ranges of them for every table at once.
    Column("span_us", BigInteger, primary_key=True),
    Column("start_us", BigInteger, primary_key=True),
    Column("history", String(32), primary_key=True),
    Column("reports", BigInteger, nullable=False),
)

# Seconds per connector, local day, counted status and flag (counted, excluded, closed),
# rolled up from the history by the uptime rule itself (adapters/storage/history.py): what
# is left of a day once retention has dropped its reports. Not state from the log (a
# rebuild keeps it); only non-zero cells.
status_daily = Table(
    "status_daily",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("flag", String(8), primary_key=True),
    Column("seconds", Float, nullable=False),
)

# Each connector's metering per hour, rolled up from `meter_history`
# (adapters/storage/rollup.py) before retention drops its samples: the energy delivered
# (each rise of the register between a sample and the next, at most a day later, counted in
# the hour of the first), the highest power sampled and how many samples. Not state from
# the log (a rebuild keeps it); partitioned by month on PostgreSQL.
meter_hourly = Table(
    "meter_hourly",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),  # start of the hour, UTC µs
    Column("energy_wh", BigInteger, nullable=False),
    Column("max_power_w", Integer),
    Column("samples", Integer, nullable=False),
    sqlite_with_rowid=False,
)

outage_exclusions = Table(
    "outage_exclusions",
    metadata,
    Column("exclusion_id", String(ID), primary_key=True),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(ID), nullable=False, index=True),
    Column("station_id", String(ID), index=True),
    Column("operator_id", String(ID), index=True),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("excluded_by", String(ID), nullable=False),
    Column("excluded_at", UtcDateTime, nullable=False),
    Column("withdrawn_at", UtcDateTime),
    Column("withdrawn_by", String(ID)),
)

zombie_cases = Table(
    "zombie_cases",
    metadata,
    Column("case_id", String(ID), primary_key=True),
    Column("charger_id", String(ID), nullable=False, index=True),
    Column("station_id", String(ID), index=True),
    Column("operator_id", String(ID), index=True),
    Column("rules", String(200), nullable=False),  # comma-separated ZombieRule values
    Column("evidence", Text, nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("notified_at", UtcDateTime),
    Column("deadline", UtcDateTime),
    Column("escalation_level", SmallInteger, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("outcome", String(16)),
    Column("close_note", Text),
    Column("closed_by", String(ID)),
)

# The full history of each case, one row per step (the events themselves stay in the log).
zombie_case_steps = Table(
    "zombie_case_steps",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("case_id", String(ID), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("step", String(16), nullable=False),
    Column("detail", Text, nullable=False),
)

stop_orders = Table(
    "stop_orders",
    metadata,
    Column("stop_id", String(ID), primary_key=True),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(ID), nullable=False, index=True),
    Column("station_id", String(ID), index=True),
    Column("operator_id", String(ID), index=True),
    Column("reason", Text, nullable=False),
    Column("issued_by", String(ID), nullable=False),
    Column("alarm_id", String(ID)),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("lifted_at", UtcDateTime),
    Column("lifted_by", String(ID)),
    Column("lift_reason", Text),
    # The operator's newest report of what it did to rectify (the earlier ones are in the log).
    Column("rectified_at", UtcDateTime),
    Column("rectified_by", String(200)),
    Column("rectification", Text),
    Index("ix_stop_orders_open", "lifted_at"),
)

# Children first, as STATE_TABLES wants them.
SUPERVISION_TABLES = (
    status_history,
    presence_history,
    power_limit_history,
    meter_history,
    history_late,
    outage_exclusions,
    zombie_case_steps,
    zombie_cases,
    stop_orders,
)
