"""Status, presence and power-limit history, the metered load per quarter hour and the
meter samples, at national scale: monthly partitions on PostgreSQL, retention, and the
partitions kept ahead of time.

On PostgreSQL each history table is partitioned by range of `at_us` (PostgreSQL 15 docs,
5.11 "Table Partitioning"), one partition per calendar month (UTC) and a DEFAULT partition
for whatever falls outside them (a charger's clock in 1970, a month not yet created).
Reads are unchanged: the planner prunes the partitions a time range cannot touch (5.11.4).
Retention drops whole months (DETACH + DROP: no row-by-row DELETE, no bloat, no VACUUM).
SQLite keeps plain tables; retention there is a DELETE.

Either way retention of status history keeps, for each connector (charger), its last
report before the cut: the state a connector was in at the cut is what uptime starts from,
so figures for any period after the cut are the same before and after pruning. Tables of
figures per period (`CUT`: the load quarters, the meter samples and their hourly roll-ups)
hold no state to carry over: their retention cuts plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

from chargenet.kit.timeutil import from_micros, to_micros

# (table, key column): every history table uptime reads.
HISTORY = (
    ("status_history", "connector_id"),
    ("presence_history", "charger_id"),
    ("power_limit_history", "connector_id"),
)
# Late reports. The cache key of uptime figures (queries_supervision.figures_version) must
# move when a report about a past period arrives, and only then: a count of the rows before
# the period's end would see it, but at national scale that count reads most of the history
# on every dashboard request. Instead the projections count, in `history_late`, per table
# the reports that are late, twice: in the minute and in the hour of `at_us`. The key of a
# period that is over sums the hours wholly before its end's hour and the minutes of that
# hour that begin before its end: two range reads of a small table per history table (at
# most 24 hours a day, and 60 minutes), the same on SQLite and on PostgreSQL, whatever the
# partitions, however long the period.
# A report is late when it is about an instant more than `LATE_US` before it was received,
# or older than the newest report already held for its connector (charger). Minutes near
# the end, not only hours: dashboards ask about periods ending at the last whole minute,
# and a charger whose clock runs behind sends "late" reports all the time, which must not
# move the key of a period that ended before their minute.
# What it cannot see: a report about the last `LATE_US` of a period, on time, that reached
# the tables after the figures were computed. So a period over for less than `SETTLED_US`
# keys on the log's newest event as well; the margin `SETTLED_US - LATE_US` (20 s) is what
# a report may spend between intake and projection. A report about now is never late and
# moves no ended period's key.
# Why not a per-table high-water mark of `at_us` (late = below it): every report would
# update the same row, one lock every writer queues on; late reports are the few (a charger
# emptying its queue after an outage, a partner pushing in batches, a clock running behind).
LATE_US = 10_000_000
SETTLED_US = 30_000_000
MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
NOTE_LATE = (
    "INSERT INTO history_late (history, span_us, start_us, reports) VALUES"
    f" (:history, {MINUTE_US}, :minute, 1), (:history, {HOUR_US}, :hour, 1)"
    " ON CONFLICT (span_us, start_us, history) DO UPDATE SET reports = history_late.reports + 1"
)


def is_late(at: datetime, received_at: datetime, newest_held: datetime | None) -> bool:
    """The rule above: about more than `LATE_US` before its receipt, or behind its own
    connector's (charger's) newest report."""
    if to_micros(received_at) - to_micros(at) > LATE_US:
        return True
    return newest_held is not None and at < newest_held


def late_params(table: str, at_us: int) -> dict[str, object]:
    return {"history": table, "minute": at_us - at_us % MINUTE_US, "hour": at_us - at_us % HOUR_US}


# Figures per period, partitioned the same way, whose retention is a plain cut: the load
# quarters and their hours; the meter samples (each connector's energy per hour is counted
# from a sample to the next, in the first one's hour, so no hour kept needs a sample before
# the cut) and their hours.
LOAD = ("load_quarters", "load_hourly")
METER = ("meter_history", "meter_hourly")
CUT = (*LOAD, *METER)
PARTITIONED = (*(table for table, _ in HISTORY), *CUT)
_CHILD = re.compile(rf"^({'|'.join(PARTITIONED)})_(p\d{{6}}|default)$")


def is_partition(name: str | None) -> bool:
    """A monthly (or the default) partition of a history table: not declared in schema.py,
    made and dropped by this module."""
    return bool(name and _CHILD.match(name))


def month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def partition_name(table: str, year: int, month: int) -> str:
    return f"{table}_p{year:04d}{month:02d}"


def _months(first: datetime, last: datetime) -> list[tuple[int, int]]:
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def partitioned(conn: Connection, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = :t AND c.relnamespace = to_regnamespace(current_schema())"
        ),
        {"t": table},
    ).first()
    return found is not None


def partitions(conn: Connection, table: str) -> list[str]:
    """The monthly partitions of a table, oldest first (not the default)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t"
        ),
        {"t": table},
    ).scalars()
    return sorted(r for r in rows if r != f"{table}_default")


def create_month(conn: Connection, table: str, year: int, month: int) -> bool:
    """Create one month's partition unless it exists; rows of that month that were waiting
    in the default partition move into it. True when created."""
    name = partition_name(table, year, month)
    if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
        return False
    lo, hi = to_micros(month_start(year, month)), to_micros(month_start(year, month + 1))
    default = f"{table}_default"
    waiting = conn.execute(
        text(f"SELECT 1 FROM {default} WHERE at_us >= :lo AND at_us < :hi LIMIT 1"),
        {"lo": lo, "hi": hi},
    ).first()
    if waiting is None:
        conn.execute(
            text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})")
        )
        return True
    # PostgreSQL refuses a new partition while the default holds rows of its range: take the
    # default out, make the month, move its rows, put the default back (one transaction).
    conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {default}"))
    conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})"))
    moved = f"at_us >= {lo} AND at_us < {hi}"
    conn.execute(text(f"INSERT INTO {name} SELECT * FROM {default} WHERE {moved}"))
    conn.execute(text(f"DELETE FROM {default} WHERE {moved}"))
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT"))
    return True


def ensure_months(conn: Connection, first: datetime, last: datetime) -> list[str]:
    """Partitions for every month from `first` to `last` (PostgreSQL; nothing elsewhere).
    Processes starting together take turns (a transaction-scoped advisory lock)."""
    made: list[str] = []
    if conn.dialect.name != "postgresql":
        return made
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('chargenet history partitions'))"))
    for table in PARTITIONED:
        if not partitioned(conn, table):
            continue
        for y, m in _months(first, last):
            if create_month(conn, table, y, m):
                made.append(partition_name(table, y, m))
    return made


def ensure_ahead(engine: Engine, now: datetime, months: int = 3) -> list[str]:
    """This month's partitions and the next `months` (run at start-up and monthly)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        return ensure_months(
            conn, month_start(now.year, now.month), month_start(now.year, now.month + months)
        )


def partition_by_month(conn: Connection, table: str, key: str, now: datetime) -> None:
    """Turn a plain table into one partitioned by month of `at_us` (PostgreSQL), its rows
    copied over, its primary key `key` (which holds at_us, as PostgreSQL requires of a
    partitioned table's unique keys) kept. Months with rows from the last year on (older
    rows wait in the default partition until retention or a partition of their own), this
    month and the next three are made."""
    plain = f"{table}_plain"
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {plain}"))
    conn.execute(text(f"ALTER TABLE {plain} RENAME CONSTRAINT pk_{table} TO pk_{plain}"))
    conn.execute(
        text(f"CREATE TABLE {table} (LIKE {plain} INCLUDING DEFAULTS) PARTITION BY RANGE (at_us)")
    )
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})"))
    conn.execute(text(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT"))
    lo, hi = conn.execute(text(f"SELECT MIN(at_us), MAX(at_us) FROM {plain}")).one()
    first = month_start(now.year - 1, now.month)
    if lo is not None:
        first = max(first, min(from_micros(lo), now))
    last = month_start(now.year, now.month + 3)
    if hi is not None and from_micros(hi) < month_start(now.year + 1, now.month):
        last = max(last, from_micros(hi))
    ensure_months(conn, first, last)
    conn.execute(text(f"INSERT INTO {table} SELECT * FROM {plain}"))
    conn.execute(text(f"DROP TABLE {plain}"))


def unpartition(conn: Connection, table: str, key: str) -> None:
    """Back to a plain table with the same rows and primary key (a migration going down)."""
    plain = f"{table}_plain"
    conn.execute(text(f"CREATE TABLE {plain} (LIKE {table} INCLUDING DEFAULTS)"))
    conn.execute(text(f"INSERT INTO {plain} SELECT * FROM {table}"))
    conn.execute(text(f"DROP TABLE {table}"))  # and its partitions
    conn.execute(text(f"ALTER TABLE {plain} RENAME TO {table}"))
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})"))


@dataclass(frozen=True)
class Pruned:
    table: str
    partitions_dropped: int
    rows_deleted: int


def prune(engine: Engine, keep_from: datetime) -> list[Pruned]:
    """Retention: remove history before `keep_from`, keeping each connector's (charger's)
    last report before it. On PostgreSQL the months wholly before it go as partitions."""
    cut = to_micros(keep_from)
    out = []
    with engine.begin() as conn:
        for table, key in HISTORY:
            if partitioned(conn, table):
                out.append(_prune_partitioned(conn, table, key, cut))
                continue
            deleted = conn.execute(
                text(
                    f"DELETE FROM {table} WHERE at_us < :cut AND EXISTS ("
                    f"SELECT 1 FROM {table} later WHERE later.{key} = {table}.{key} "
                    f"AND later.at_us > {table}.at_us AND later.at_us < :cut)"
                ),
                {"cut": cut},
            ).rowcount
            out.append(Pruned(table, 0, deleted or 0))
        # Figures of periods before the cut may change: move every period's key once (hour
        # 0 begins before any period's end).
        for table, _ in HISTORY:
            conn.execute(text(NOTE_LATE), late_params(table, 0))
    return out


def _drop_months_before(conn: Connection, table: str, cut: int) -> int:
    """Detach and drop the monthly partitions wholly before `cut`; how many."""
    dropped = 0
    for name in partitions(conn, table):
        y, m = int(name[-6:-2]), int(name[-2:])
        if to_micros(month_start(y, m + 1)) <= cut:
            conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            conn.execute(text(f"DROP TABLE {name}"))
            dropped += 1
    return dropped


def cut_before(engine: Engine, table: str, keep_from: datetime) -> Pruned:
    """Retention of a table of figures per period (`CUT`): everything before `keep_from`
    goes, whole months as partitions on PostgreSQL, the rest by DELETE."""
    if table not in CUT:
        raise ValueError(f"{table} keeps its last report before a cut: use prune")
    at = to_micros(keep_from)
    with engine.begin() as conn:
        dropped = _drop_months_before(conn, table, at) if partitioned(conn, table) else 0
        deleted = conn.execute(
            text(f"DELETE FROM {table} WHERE at_us < :cut"), {"cut": at}
        ).rowcount
    return Pruned(table, dropped, deleted or 0)


def _prune_partitioned(conn: Connection, table: str, key: str, cut: int) -> Pruned:
    keep = f"{table}_keep"
    conn.execute(
        text(
            f"CREATE TEMP TABLE {keep} ON COMMIT DROP AS SELECT DISTINCT ON ({key}) * "
            f"FROM {table} WHERE at_us < :cut ORDER BY {key}, at_us DESC"
        ),
        {"cut": cut},
    )
    dropped = _drop_months_before(conn, table, cut)
    deleted = conn.execute(text(f"DELETE FROM {table} WHERE at_us < :cut"), {"cut": cut}).rowcount
    # The kept reports land in the default partition (their month is gone) or stay in theirs.
    conn.execute(text(f"INSERT INTO {table} SELECT * FROM {keep}"))
    conn.execute(text(f"DROP TABLE {keep}"))
    return Pruned(table, dropped, deleted or 0)
