"""Roll-ups: what is left once retention has dropped the detail. Status durations per
day (`status_daily`), computed by the uptime rule itself; each station's load per hour
(`load_hourly`), from its quarters; each connector's energy, highest power and samples
per hour (`meter_hourly`), from its meter samples."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, delete, func, insert, select, text

from chargenet.adapters.storage import history, schema  # noqa: F401  (the tables, in order)
from chargenet.adapters.storage.tables_orderly import load_hourly, load_quarters
from chargenet.adapters.storage.tables_supervision import (
    meter_history,
    meter_hourly,
    status_daily,
)
from chargenet.analytics.supervision.statusclass import COUNTED_STATUSES
from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_ports import Scope
from chargenet.kit.timeutil import from_micros, to_micros

FLAGS = ("counted", "excluded", "closed")  # uptime.COUNTED, EXCLUDED, CLOSED


def roll_up(
    engine: Engine, supervision: SupervisionService, first: date, last: date, zone: str
) -> int:
    """Seconds per connector, status and flag of each local day `first`…`last`, by the
    uptime rule itself (`SupervisionService.measure`, per connector), into `status_daily`
    (a day rolled up again replaces its rows). Returns the rows written."""
    tz = ZoneInfo(zone)
    written = 0
    day = first
    while day <= last:
        lo = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        measured = supervision.measure(Scope(), [lo, hi], "connector")
        cells = measured.seconds[:, 0]  # (connectors, statuses, flags)
        rows = [
            {
                "connector_id": measured.units[u]["connector_id"],
                "day": day,
                "status": COUNTED_STATUSES[s],
                "flag": FLAGS[f],
                "seconds": float(cells[u, s, f]),
            }
            for u, s, f in zip(*cells.nonzero(), strict=True)
        ]
        with engine.begin() as conn:
            conn.execute(delete(status_daily).where(status_daily.c.day == day))
            for i in range(0, len(rows), 10_000):
                conn.execute(insert(status_daily), rows[i : i + 10_000])
        written += len(rows)
        day += timedelta(days=1)
    return written


# --- the load quarters by hour ----------------------------------------------------------

HOUR_US = 3_600_000_000
# Each station's load per quarter (the sum of its connectors' mean samples, as
# queries_orderly.load reads it), then per hour: the sum, the count, the highest quarter
# and the first quarter that reached it.
_LOAD_HOURLY = text(
    "INSERT INTO load_hourly (station_id, at_us, load_w_sum, quarters, peak_w, peak_at_us)"
    " SELECT station_id, hour, SUM(w), COUNT(*), MAX(w), MIN(CASE WHEN top = 1 THEN at_us END)"
    " FROM (SELECT station_id, at_us, hour, w, ROW_NUMBER() OVER"
    " (PARTITION BY station_id, hour ORDER BY w DESC, at_us) AS top"
    " FROM (SELECT station_id, at_us, at_us - at_us % 3600000000 AS hour,"
    " SUM(sum_w * 1.0 / samples) AS w FROM load_quarters"
    " WHERE at_us >= :lo AND at_us < :hi GROUP BY station_id, at_us) AS per_quarter"
    " ) AS ranked GROUP BY station_id, hour"
)


def roll_up_load(engine: Engine, start: datetime, end: datetime) -> int:
    """Each station's load per hour of [start, end) (whole UTC hours: the edges are taken
    down to the hour) from the load quarters into `load_hourly`; hours rolled up again
    replace their rows. Returns the rows written."""
    lo = to_micros(start) - to_micros(start) % HOUR_US
    hi = to_micros(end) - to_micros(end) % HOUR_US
    if hi <= lo:
        return 0
    with engine.begin() as conn:
        conn.execute(delete(load_hourly).where(load_hourly.c.at_us >= lo, load_hourly.c.at_us < hi))
        return conn.execute(_LOAD_HOURLY, {"lo": lo, "hi": hi}).rowcount or 0


def first_unrolled(engine: Engine, detail: Table, hourly: Table, cut: datetime) -> int | None:
    """The time (µs) of the oldest detail row before `cut` whose hour is not rolled up yet
    (None: nothing to roll up). Hours up to the newest one rolled up are done: their detail
    was dropped by the cut that followed. A row stored since for one of them (a late
    report, a charger's wrong clock) must not have them rolled up again: a roll-up replaces
    every hour from the first it is given, and would leave only what came late."""
    with engine.connect() as conn:
        rolled = conn.execute(
            select(func.max(hourly.c.at_us)).where(hourly.c.at_us < to_micros(cut))
        ).scalar()
        after = -(2**63) if rolled is None else rolled + HOUR_US
        oldest = conn.execute(
            select(func.min(detail.c.at_us)).where(
                detail.c.at_us >= after, detail.c.at_us < to_micros(cut)
            )
        ).scalar()
    return None if oldest is None else int(oldest)


def keep_from(now: datetime, months: int) -> datetime:
    """The first month kept when keeping `months` months: the month in progress and the
    months before it."""
    return history.month_start(now.year, now.month - (months - 1))


def retain_load(
    engine: Engine, now: datetime, quarter_months: int, hourly_months: int
) -> list[history.Pruned]:
    """Retention of the metered load: quarters older than `quarter_months` months are
    rolled up by hour, then dropped; hours older than `hourly_months` months are dropped.
    The 10-in-10 baseline reads 45 days of quarters back: at least 2 months are kept."""
    if quarter_months < 2 or hourly_months < quarter_months:
        raise ValueError(
            f"keep at least 2 months of load quarters and as many of hours, not "
            f"{quarter_months} and {hourly_months}"
        )
    cut = keep_from(now, quarter_months)
    oldest = first_unrolled(engine, load_quarters, load_hourly, cut)
    if oldest is not None:
        roll_up_load(engine, from_micros(oldest), cut)
    return [
        history.cut_before(engine, "load_quarters", cut),
        history.cut_before(engine, "load_hourly", keep_from(now, hourly_months)),
    ]


# --- the meter samples by hour ----------------------------------------------------------

# A rise of a connector's energy register from one sample to its next is delivered in the
# hour of the first sample (with samples a minute or a quarter apart, the hour it was
# delivered in). Not counted: a fall (a meter replaced, a register that restarts with each
# transaction, a session's energy so far where no register is sent — T/CEC 102 — falling to
# the next session's 0: its next rise counts from the new value) and a rise over more than
# `METER_GAP_US` (a charger offline for days: when the energy went is not known; the
# session keeps it). The first sample's hour, not the second's: an hour needs the samples
# after it, never the ones before, so the hours before a retention cut are all rolled up
# while their samples are kept, and those after it need nothing the cut dropped.
METER_GAP_US = 86_400_000_000
_RISES = (
    "SELECT connector_id, at_us, CASE WHEN next_at <= at_us + :gap AND next_wh > wh"
    " THEN next_wh - wh ELSE 0 END AS wh FROM (SELECT connector_id, at_us,"
    " energy_register_wh AS wh,"
    " LEAD(at_us) OVER (PARTITION BY connector_id ORDER BY at_us) AS next_at,"
    " LEAD(energy_register_wh) OVER (PARTITION BY connector_id ORDER BY at_us) AS next_wh"
    " FROM meter_history WHERE energy_register_wh IS NOT NULL AND at_us >= :lo"
    " AND at_us < :until{only}) AS pairs WHERE at_us < :hi"
)
_METER_HOURS = (
    "SELECT connector_id, at_us - at_us % 3600000000 AS hour, SUM(wh), MAX(w), SUM(n)"
    " FROM (SELECT connector_id, at_us, 0 AS wh, power_w AS w, 1 AS n FROM meter_history"
    " WHERE at_us >= :lo AND at_us < :hi{only} UNION ALL SELECT connector_id, at_us, wh,"
    " NULL, 0 FROM (" + _RISES + ") AS rises) AS parts"
    " GROUP BY connector_id, at_us - at_us % 3600000000"
)


def meter_hours(only_connectors: bool) -> str:
    """Each connector's (energy Wh, highest power W, samples) per hour of [:lo, :hi), from
    its samples (`meter_history`); with `only_connectors`, of the connectors in :ids
    (an expanding bind parameter) only."""
    only = " AND connector_id IN :ids" if only_connectors else ""
    return _METER_HOURS.format(only=only)


def meter_params(lo: int, hi: int) -> dict[str, int]:
    return {"lo": lo, "hi": hi, "until": hi + METER_GAP_US, "gap": METER_GAP_US}


def roll_up_meter(engine: Engine, start: datetime, end: datetime) -> int:
    """Each connector's metering per hour of [start, end) (whole UTC hours: the edges are
    taken down to the hour) from its samples into `meter_hourly`; hours rolled up again
    replace their rows. An hour's energy needs the samples up to a day after it: roll up
    hours a day old or more. Returns the rows written."""
    lo = to_micros(start) - to_micros(start) % HOUR_US
    hi = to_micros(end) - to_micros(end) % HOUR_US
    if hi <= lo:
        return 0
    insert_hours = text(
        "INSERT INTO meter_hourly (connector_id, at_us, energy_wh, max_power_w, samples) "
        + meter_hours(False)
    )
    with engine.begin() as conn:
        h = meter_hourly.c
        conn.execute(delete(meter_hourly).where(h.at_us >= lo, h.at_us < hi))
        return conn.execute(insert_hours, meter_params(lo, hi)).rowcount or 0


def retain_meter(
    engine: Engine, now: datetime, sample_months: int, hourly_months: int
) -> list[history.Pruned]:
    """Retention of the meter samples: samples older than `sample_months` months are
    rolled up by hour, then dropped; hours older than `hourly_months` months are dropped.
    The event log keeps every sample whatever this drops."""
    if sample_months < 1 or hourly_months < sample_months:
        raise ValueError(
            f"keep at least 1 month of meter samples and as many of hours, not "
            f"{sample_months} and {hourly_months}"
        )
    cut = keep_from(now, sample_months)
    oldest = first_unrolled(engine, meter_history, meter_hourly, cut)
    if oldest is not None:
        roll_up_meter(engine, from_micros(oldest), cut)
    return [
        history.cut_before(engine, "meter_history", cut),
        history.cut_before(engine, "meter_hourly", keep_from(now, hourly_months)),
    ]
