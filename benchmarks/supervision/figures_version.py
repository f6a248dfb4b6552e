"""The cache key of uptime figures (`SupervisionReads.figures_version`) on a big status
history, PostgreSQL with monthly partitions: the key as it was (a count and newest instant
of each history table before the period's end) against the key as it is (the late reports
per hour and minute before the end, adapters/storage/history.py), in the same process on the same
rows. Median of `--runs` runs each.

    python -m benchmarks.supervision.figures_version                   # 3,000,000 rows
    python -m benchmarks.supervision.figures_version --rows 10000000 --runs 7

`--admin` is a PostgreSQL URL allowed to create databases; a scratch database is created,
filled and dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, func, select, text

from chargenet.adapters.storage import history
from chargenet.adapters.storage.queries_supervision import SupervisionReads, late_reports
from chargenet.adapters.storage.store import SqlEventStore
from chargenet.adapters.storage.tables_supervision import (
    power_limit_history,
    presence_history,
    status_history,
)
from chargenet.kit.timeutil import to_micros

START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 30
END = START + timedelta(days=DAYS - 1)  # a period ending a day before the newest reports
NOW = START + timedelta(days=DAYS)


def old_key(engine: Any, end: datetime) -> tuple[Any, ...]:
    """The history part of the key as it was: count and newest instant before `end`."""
    end_us, parts = to_micros(end), []
    with engine.connect() as conn:
        for h in (status_history, presence_history, power_limit_history):
            stmt = select(func.count(), func.max(h.c.at_us)).where(h.c.at_us < end_us)
            parts.extend(conn.execute(stmt).one())
    return tuple(parts)


def new_key(engine: Any, end: datetime) -> tuple[Any, ...]:
    """The history part of the key as it is (the statement in figures_version)."""
    stmt = late_reports(to_micros(end))
    with engine.connect() as conn:
        return tuple(tuple(r) for r in conn.execute(stmt))


def fill(engine: Any, rows: int, connectors: int) -> None:
    """`rows` status reports of `connectors` connectors spread over 30 days, late reports
    counted in every minute of every history table (the most `history_late` can hold),
    and the statistics the planner needs."""
    per = max(1, rows // connectors)
    step = DAYS * 86_400_000_000 // per
    with engine.begin() as conn:
        history.ensure_months(conn, START, NOW)
        conn.execute(
            text(
                "INSERT INTO status_history (connector_id, at_us, status) "
                "SELECT 'K' || (i % :n), :lo + (i / :n) * :step + (i % :n), 'available' "
                "FROM generate_series(0, :rows - 1) i"
            ),
            {"n": connectors, "lo": to_micros(START), "step": step, "rows": rows},
        )
        conn.execute(
            text(
                "INSERT INTO history_late (history, span_us, start_us, reports) "
                "SELECT t, :span, :lo + i::bigint * :span, 3 FROM generate_series(0, :n) i, "
                "unnest(ARRAY['status_history', 'presence_history', 'power_limit_history']) t"
            ),
            [
                {"lo": to_micros(START), "span": history.MINUTE_US, "n": DAYS * 1440},
                {"lo": to_micros(START), "span": history.HOUR_US, "n": DAYS * 24},
            ],
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def median_ms(work: Callable[[], Any], runs: int) -> float:
    work()  # warm the cache of pages as a dashboard asking often would
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--connectors", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--admin",
        default=os.environ.get(
            "CHARGENET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    name = f"chargenet_bench_version_{os.getpid()}"
    admin = create_engine(args.admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = args.admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        store = SqlEventStore(url)
        store.upgrade()
        store.dispose()
        engine = create_engine(url)
        started = time.perf_counter()
        fill(engine, args.rows, args.connectors)
        print(
            f"{args.rows:,} status reports of {args.connectors:,} connectors over {DAYS} days "
            f"(PostgreSQL, monthly partitions), filled in {time.perf_counter() - started:.0f} s"
        )
        reads = SupervisionReads(engine)
        before = median_ms(lambda: old_key(engine, END), args.runs)
        part = median_ms(lambda: new_key(engine, END), args.runs)
        after = median_ms(lambda: reads.figures_version(END, NOW), args.runs)
        cards = median_ms(lambda: reads.figures_version(END, NOW, scorecards=True), args.runs)
        print(f"history part of the key as it was (count, max): {before:,.1f} ms")
        print(f"history part of the key as it is (late reports): {part:,.2f} ms")
        print(f"whole key as it is (figures_version):           {after:,.2f} ms")
        print(f"whole key with scorecards:                      {cards:,.2f} ms")
        print(
            f"ratio of the history parts, was/is: {before / part:,.0f}×"
            f" (median of {args.runs} runs each)"
        )
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
