"""Tables of orderly charging: stations as electrical systems (their grid connection and
the feeders they share, each with a history of limits) and what active sessions need.
All are state, rebuilt from the log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, SmallInteger, String, Table

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime

# One row per statement: the limit in force at a time is the row with the latest
# valid_from not after it.
grid_connections = Table(
    "grid_connections",
    metadata,
    Column("station_id", String(ID), primary_key=True),
    Column("valid_from", UtcDateTime, primary_key=True),
    Column("capacity_w", BigInteger, nullable=False),
    Column("capacity_va", BigInteger),
    Column("phases", SmallInteger, nullable=False),
    Column("voltage_v", Integer, nullable=False),
    Column("feeder_id", String(ID), index=True),
    Column("pv_peak_w", BigInteger, nullable=False),
    Column("storage_wh", BigInteger, nullable=False),
    Column("storage_power_w", BigInteger, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

feeders = Table(
    "feeders",
    metadata,
    Column("feeder_id", String(ID), primary_key=True),
    Column("valid_from", UtcDateTime, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("capacity_w", BigInteger, nullable=False),
    Column("phases", SmallInteger, nullable=False),
    Column("area_code", String(ID)),
    Column("as_of", UtcDateTime, nullable=False),
)

charging_needs = Table(
    "charging_needs",
    metadata,
    Column("session_id", String(ID), primary_key=True),
    Column("energy_wh", BigInteger),
    Column("departure_at", UtcDateTime),
    Column("max_power_w", BigInteger),
    Column("min_power_w", BigInteger),
    Column("discharge_max_w", BigInteger),  # vehicle-to-grid (0023)
    Column("dischargeable_wh", BigInteger),
    Column("as_of", UtcDateTime, nullable=False),
)

dr_events = Table(
    "dr_events",
    metadata,
    Column("dr_id", String(ID), primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(ID), nullable=False),
    Column("start_at", UtcDateTime, nullable=False, index=True),
    Column("end_at", UtcDateTime, nullable=False, index=True),
    Column("share", Float, nullable=False),
    Column("called_by", String(128), nullable=False),
    Column("program", String(200), nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

# Metered load per connector and quarter hour (the 15-minute demand interval grid
# operators bill and measure demand response by): the sum of the power samples in it and
# their count, so the mean is exact whatever order samples arrive in. A station's load in a
# quarter is the sum of its connectors' means.
load_quarters = Table(
    "load_quarters",
    metadata,
    Column("station_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),  # start of the quarter, UTC µs
    Column("connector_id", String(ID), primary_key=True),
    Column("sum_w", BigInteger, nullable=False),
    Column("samples", Integer, nullable=False),
    Column("last_us", BigInteger, nullable=False),  # the newest sample counted, UTC µs
    sqlite_with_rowid=False,
)

# Each station's load per hour, rolled up from its quarters (adapters/storage/rollup.py)
# before retention drops them: the sum of its quarter loads in the hour (a quarter with no
# samples counts 0 W, as the load curve shows it), how many quarters had samples, and the
# highest quarter with when it began. Mean W of the hour = load_w_sum / 4; Wh = load_w_sum
# / 4. Not state from the log (a rebuild keeps it); partitioned by month on PostgreSQL.
load_hourly = Table(
    "load_hourly",
    metadata,
    Column("station_id", String(ID), primary_key=True),
    Column("at_us", BigInteger, primary_key=True),  # start of the hour, UTC µs
    Column("load_w_sum", Float, nullable=False),
    Column("quarters", SmallInteger, nullable=False),
    Column("peak_w", Float, nullable=False),
    Column("peak_at_us", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

ORDERLY_STATE_TABLES: tuple[Table, ...] = (
    grid_connections,
    feeders,
    charging_needs,
    dr_events,
    load_quarters,
)
