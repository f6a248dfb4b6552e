"""Uptime and zombie piles at province scale: N connectors × 30 days of status events.

Ours: `analytics.supervision.uptime.status_seconds_batched` — batches of whole chargers
streamed from a columnar store on disk (each batch read, then measured; only one batch of
reports and the per-connector result are ever in memory) — and
`analytics.supervision.zombies`. Each measurement of ours runs in a fresh process, whose
peak resident memory (ru_maxrss, everything: interpreter, numpy, buffers) is printed.

Baseline, in the same run on the same data: the straightforward SQL a team would write —
SQLite with a LEAD() window over each connector's reports (indexed by connector and time)
for uptime, and one WHERE clause per zombie rule — with loading excluded. The answers are
checked equal.

The generated data (columnar files and the baseline's SQLite file) is kept under --store
and reused by later runs of the same size.

    python -m benchmarks.supervision.uptime_zombies                           # quick: 10,000
    python -m benchmarks.supervision.uptime_zombies --connectors 100000 --runs 3
    python -m benchmarks.supervision.uptime_zombies --connectors 300000 --runs 3
    python -m benchmarks.supervision.uptime_zombies --connectors 100000 --whole  # old path
    python -m benchmarks.supervision.uptime_zombies --connectors 100000 --zombies-only --runs 9
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from chargenet.analytics.supervision import uptime
from chargenet.analytics.supervision.statusclass import CODE, NEVI_OUTAGE, STATUSES
from chargenet.analytics.supervision.zombies import (
    ChargerFacts,
    FactColumns,
    ZombieRules,
    detect_all,
    sweep,
)
from chargenet.core.status import ConnectorStatus
from chargenet.kit.timeutil import to_micros

START = datetime(2025, 6, 1, tzinfo=UTC)
DAYS = 30
BLOCK = 2_000  # connectors generated (and written) at a time
WEIGHTS = {  # what a day of a public pile looks like, roughly
    ConnectorStatus.AVAILABLE: 0.45,
    ConnectorStatus.CHARGING: 0.25,
    ConnectorStatus.OCCUPIED: 0.2,
    ConnectorStatus.FAULTED: 0.04,
    ConnectorStatus.UNAVAILABLE: 0.02,
    ConnectorStatus.RESERVED: 0.02,
    ConnectorStatus.BLOCKED: 0.02,
}
START_US = to_micros(START)
END_US = to_micros(START + timedelta(days=DAYS))
COLUMNS = {  # the columnar store: one file per column, rows by (connector, time)
    "status_at": np.int64,
    "status_code": np.int8,
    "presence_at": np.int64,
    "presence_online": np.int8,
}


# --- the store ----------------------------------------------------------------------------


def _block(first: int, n: int, per_day: float, seed: int) -> dict[str, Any]:
    """Connectors first…first+n−1 (two per charger, chargers first//2…): their reports,
    sorted by connector and time as an index on (connector, at) returns them."""
    rng = np.random.default_rng([seed, first])
    counts = rng.poisson(per_day * DAYS, n) + 1
    conn = np.repeat(np.arange(n, dtype=np.int64), counts)
    at = rng.integers(START_US - 86_400_000_000, END_US, len(conn), dtype=np.int64)
    order = np.lexsort((at, conn))
    codes = np.array([CODE[s] for s in WEIGHTS], dtype=np.int8)
    status = rng.choice(codes, len(conn), p=np.array(list(WEIGHTS.values())))
    chargers = n // 2  # a presence change every three days or so
    p_counts = rng.poisson(10, chargers)
    p_charger = np.repeat(np.arange(chargers, dtype=np.int64), p_counts)
    p_at = rng.integers(START_US, END_US, len(p_charger), dtype=np.int64)
    p_order = np.lexsort((p_at, p_charger))
    return {
        "status_counts": counts,
        "status_at": at[order],
        "status_code": status,  # random draws: any order is as random
        "presence_counts": p_counts,
        "presence_at": p_at[p_order],
        "presence_online": (rng.random(len(p_charger)) < 0.7).astype(np.int8),
    }


def build_store(
    path: Path, n: int, per_day: float, seed: int, with_sql: bool = True
) -> dict[str, int]:
    """Write N connectors' reports, block by block, unless already there."""
    done = path / "done"
    if done.exists() and (not with_sql or (path / "reports.db").exists()):
        return {k: int(v) for k, v in (line.split("=") for line in done.read_text().split())}
    path.mkdir(parents=True, exist_ok=True)
    files = {name: open(path / name, "wb") for name in COLUMNS}  # noqa: SIM115
    status_offsets = [np.zeros(1, dtype=np.int64)]
    presence_offsets = [np.zeros(1, dtype=np.int64)]
    db = sqlite3.connect(path / "reports.db.part") if with_sql else None
    if db is not None:
        db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE reports (conn INTEGER, at INTEGER, status TEXT);"
        )
    names = [s.value for s in STATUSES]
    n_status = n_presence = 0
    for first in range(0, n, BLOCK):
        b = _block(first, min(BLOCK, n - first), per_day, seed)
        for name, f in files.items():
            f.write(b[name].astype(COLUMNS[name]).tobytes())
        status_offsets.append(n_status + np.cumsum(b["status_counts"]))
        presence_offsets.append(n_presence + np.cumsum(b["presence_counts"]))
        if db is not None:
            conn = np.repeat(np.arange(first, first + len(b["status_counts"])), b["status_counts"])
            db.executemany(
                "INSERT INTO reports VALUES (?, ?, ?)",
                zip(
                    conn.tolist(),
                    b["status_at"].tolist(),
                    [names[c] for c in b["status_code"].tolist()],
                    strict=True,
                ),
            )
        n_status += int(b["status_counts"].sum())
        n_presence += int(b["presence_counts"].sum())
    for f in files.values():
        f.close()
    np.concatenate(status_offsets).tofile(path / "status_offsets")
    np.concatenate(presence_offsets).tofile(path / "presence_offsets")
    if db is not None:
        db.execute("CREATE INDEX ix ON reports (conn, at)")
        db.commit()
        db.close()
        (path / "reports.db.part").rename(path / "reports.db")
    done.write_text(f"status={n_status} presence={n_presence}")
    return {"status": n_status, "presence": n_presence}


def _read(path: Path, name: str, lo: int, hi: int) -> uptime.I64:
    dtype = np.dtype(COLUMNS[name])
    with open(path / name, "rb") as f:
        f.seek(lo * dtype.itemsize)
        return np.fromfile(f, dtype=dtype, count=hi - lo).astype(np.int64)


def batches(path: Path, n: int, size: int, presence: bool, ports: bool) -> Iterator[uptime.Batch]:
    """The store, read one batch of `size` connectors (whole chargers) at a time."""
    s_off = np.fromfile(path / "status_offsets", dtype=np.int64)
    p_off = np.fromfile(path / "presence_offsets", dtype=np.int64)
    size += size % 2
    for first in range(0, n, size):
        last = min(first + size, n)
        m = last - first
        lo, hi = int(s_off[first]), int(s_off[last])
        status_conn = np.repeat(np.arange(m, dtype=np.int64), np.diff(s_off[first : last + 1]))
        reports = uptime.Reports(
            status_conn=status_conn,
            status_at=_read(path, "status_at", lo, hi),
            status_code=_read(path, "status_code", lo, hi),
        )
        if presence:
            c0, c1 = first // 2, (last + 1) // 2
            plo, phi = int(p_off[c0]), int(p_off[c1])
            reports = uptime.Reports(
                reports.status_conn,
                reports.status_at,
                reports.status_code,
                presence_charger=np.repeat(
                    np.arange(c1 - c0, dtype=np.int64), np.diff(p_off[c0 : c1 + 1])
                ),
                presence_at=_read(path, "presence_at", plo, phi),
                presence_online=_read(path, "presence_online", plo, phi),
            )
        local = np.arange(m, dtype=np.int64)
        fleet = uptime.Fleet(
            charger=local // 2,
            service_from=np.full(m, START_US - 10**12, dtype=np.int64),
            service_until=np.full(m, uptime.FOREVER, dtype=np.int64),
        )
        if ports:  # every port with two connectors: the worst case
            yield uptime.Batch(fleet, reports, np.arange(first // 2, (last + 1) // 2), local // 2)
        else:
            yield uptime.Batch(fleet, reports, np.arange(first, last, dtype=np.int64))


# --- ours, each in a fresh process ----------------------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss over an exec, so a fresh process would report its parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def ours(path: str, n: int, size: int, mode: str, sample: list[int]) -> dict[str, Any]:
    """Measure in this process; `mode`: status (reports only), full (presence, per port,
    NEVI + UK) or whole (the former one pass over every report in memory)."""
    store = Path(path)
    edges = np.array([START_US, END_US], dtype=np.int64)
    floor = _peak_mb()
    t0 = time.perf_counter()
    if mode == "whole":
        parts = list(batches(store, n, n, presence=False, ports=False))
        seconds = uptime.status_seconds(parts[0].fleet, parts[0].reports, edges)
        figures = uptime.nevi(seconds[:, 0])
    else:
        full = mode == "full"
        n_units = (n + 1) // 2 if full else n
        seconds = uptime.status_seconds_batched(
            batches(store, n, size, presence=full, ports=full), edges, n_units
        )
        figures = uptime.nevi(seconds[:, 0])
        if full:
            uptime.uk(seconds[:, 0])
    elapsed = time.perf_counter() - t0
    return {
        "seconds": elapsed,
        "peak_mb": _peak_mb(),
        "floor_mb": floor,
        "outage": [float(figures.outage[c]) for c in sample] if mode != "full" else [],
    }


def in_fresh_process(*args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(ours, *args).result()
        return result


# --- the SQL baseline -------------------------------------------------------------------------


def sql_uptime(db: sqlite3.Connection, start: int, end: int) -> dict[int, tuple[float, float]]:
    """(total, outage) seconds per connector from its reports alone, the usual way."""
    outage = ",".join(f"'{s.value}'" for s in NEVI_OUTAGE)
    rows = db.execute(
        f"""
        WITH timeline AS (
          SELECT conn, status, at,
                 LEAD(at, 1, {end}) OVER (PARTITION BY conn ORDER BY at) AS next_at
          FROM reports),
        clipped AS (
          SELECT conn, status, MAX(at, {start}) AS a, MIN(next_at, {end}) AS b FROM timeline
          WHERE next_at > {start} AND at < {end})
        SELECT conn, SUM(b - a) / 1e6,
               SUM(CASE WHEN status IN ({outage}) THEN b - a ELSE 0 END) / 1e6
        FROM clipped GROUP BY conn"""
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def facts_for(n_chargers: int, now: datetime, seed: int) -> list[ChargerFacts]:
    """A city's chargers, about one in six meeting some zombie rule."""
    rng = random.Random(seed)
    out = []
    for i in range(n_chargers):
        roll = rng.random()
        sessions = rng.randint(0, 60)
        share = rng.uniform(0, 0.15) if rng.random() < 0.1 else rng.uniform(0.5, 1)

        def ago(days: float, p: float = 1.0) -> datetime | None:
            return now - timedelta(days=days) if rng.random() < p else None

        out.append(
            ChargerFacts(
                charger_id=f"C{i}",
                registered_at=now - timedelta(days=rng.randint(1, 900)),
                public=rng.random() < 0.8,
                first_report_at=None if roll < 0.01 else ago(rng.randint(1, 800)),
                down_since=ago(rng.uniform(0, 20)) if roll < 0.05 else None,
                available_since=ago(rng.uniform(0, 60), 0.3),
                last_session_end=ago(rng.uniform(0, 60), 0.9),
                sessions=sessions,
                successful=int(sessions * share),
            )
        )
    return out


def sql_zombies(db: sqlite3.Connection, now: datetime, r: ZombieRules) -> list[str]:
    day = 86_400.0
    t = now.timestamp()
    rows = db.execute(
        """SELECT charger_id FROM facts WHERE
             (first_report IS NULL AND :t - registered >= :never)
          OR (first_report IS NOT NULL AND down_since IS NOT NULL AND :t - down_since >= :down)
          OR (available_since IS NOT NULL AND (public = 1 OR :any = 1)
              AND :t - available_since >= :idle
              AND (last_end IS NULL OR :t - last_end >= :idle))
          OR (sessions >= :min_sessions AND successful * 1.0 / sessions <= :rate)""",
        {
            "t": t,
            "never": r.never_connected_days * day,
            "down": r.down_days * day,
            "idle": r.idle_days * day,
            "any": int(not r.idle_public_only),
            "min_sessions": r.min_sessions,
            "rate": r.max_success_rate,
        },
    ).fetchall()
    return [row[0] for row in rows]


def zombies(n_chargers: int, runs: int) -> None:
    now = START + timedelta(days=DAYS)
    facts = facts_for(n_chargers, now, seed=2)
    rules = ZombieRules()
    db = sqlite3.connect(":memory:")
    db.execute("""CREATE TABLE facts (charger_id TEXT, registered REAL, public INTEGER,
                  first_report REAL, down_since REAL, available_since REAL, last_end REAL,
                  sessions INTEGER, successful INTEGER)""")

    def ts(d: datetime | None) -> float | None:
        return None if d is None else d.timestamp()

    db.executemany(
        "INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.charger_id,
                ts(f.registered_at),
                int(f.public),
                ts(f.first_report_at),
                ts(f.down_since),
                ts(f.available_since),
                ts(f.last_session_end),
                f.sessions,
                f.successful,
            )
            for f in facts
        ],
    )
    columns = FactColumns.of(facts)  # as the store hands them over (loading excluded)
    detect_t, sweep_t, base = [], [], []
    # Each side timed as timeit does, with the collector off: a collection that one
    # step's garbage triggers would otherwise land in whichever side runs next.
    gc.disable()
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            found = detect_all(columns, now, rules)
            zombie_ids = columns.ids_where(found.any)
            detect_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            sql_found = sql_zombies(db, now, rules)
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            steps = sweep(columns, {}, now, rules).of("detect")
            sweep_t.append(time.perf_counter() - t0)
            gc.collect()
    finally:
        gc.enable()
    same = set(sql_found) == {s.charger_id for s in steps} == set(zombie_ids)
    ours_d, ours_s, base_z = (statistics.median(x) for x in (detect_t, sweep_t, base))
    print(
        f"zombies, {len(facts):,} chargers ({len(steps):,} found; same chargers as SQL: "
        f"{same}): the rules over all chargers {ours_d * 1000:.2f} ms, SQL WHERE baseline "
        f"{base_z * 1000:.2f} ms, ratio {base_z / ours_d:.1f}×; the whole sweep with cases "
        f"and evidence {ours_s * 1000:.1f} ms"
    )


# --- the run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=10_000)
    parser.add_argument(
        "--per-day", type=float, default=8.0, help="status reports per connector per day"
    )
    parser.add_argument("--runs", type=int, default=1, help="report the median of this many")
    parser.add_argument("--batch", type=int, default=2_000, help="connectors per batch")
    parser.add_argument(
        "--store",
        type=Path,
        default=Path(tempfile.gettempdir()) / "chargenet-bench-supervision",
        help="where the generated data is kept between runs",
    )
    parser.add_argument(
        "--whole", action="store_true", help="also time the former one-pass path (much memory)"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the SQL baseline")
    parser.add_argument(
        "--zombies-only", action="store_true", help="only the zombie rules (one charger a pair)"
    )
    args = parser.parse_args()
    n = args.connectors
    if args.zombies_only:
        zombies(n // 2, max(args.runs, 3))
        return
    path = args.store / f"{n}x{DAYS}d-{args.per_day:g}-seed1"
    t0 = time.perf_counter()
    sizes = build_store(path, n, args.per_day, seed=1, with_sql=not args.no_baseline)
    print(
        f"{n:,} connectors × {DAYS} days: {sizes['status']:,} status reports, "
        f"{sizes['presence']:,} presence reports (store ready in "
        f"{time.perf_counter() - t0:.0f} s: {path})"
    )
    sample = list(range(0, n, max(1, n // 1000)))
    runs: dict[str, list[dict[str, Any]]] = {"status": [], "full": [], "whole": [], "sql": []}
    baseline: dict[int, tuple[float, float]] = {}
    for _ in range(args.runs):
        runs["status"].append(in_fresh_process(str(path), n, args.batch, "status", sample))
        if not args.no_baseline:
            db = sqlite3.connect(path / "reports.db")
            db.execute("PRAGMA mmap_size = 68719476736")  # read like an in-memory database
            t0 = time.perf_counter()
            baseline = sql_uptime(db, START_US, END_US)
            runs["sql"].append({"seconds": time.perf_counter() - t0})
            db.close()
        runs["full"].append(in_fresh_process(str(path), n, args.batch, "full", []))
        if args.whole:
            runs["whole"].append(in_fresh_process(str(path), n, n, "whole", sample))

    def med(kind: str, key: str = "seconds") -> float:
        return float(statistics.median(r[key] for r in runs[kind]))

    times = ", ".join(f"{r['seconds']:.2f}" for r in runs["status"])
    line = (
        f"uptime, reports only, batches of {args.batch:,} connectors: ours {med('status'):.2f} s "
        f"(runs: {times}), peak memory {med('status', 'peak_mb'):.0f} MB "
        f"(the process idle: {med('status', 'floor_mb'):.0f} MB)"
    )
    if runs["sql"]:
        s_off = np.fromfile(path / "status_offsets", dtype=np.int64)
        # Before a connector's first report the SQL knows nothing; ours counts it offline.
        first = [int(_read(path, "status_at", int(s_off[c]), int(s_off[c]) + 1)[0]) for c in sample]
        ours_outage = runs["status"][-1]["outage"]
        check = all(
            abs(baseline[c][1] + (min(max(f, START_US), END_US) - START_US) / 1e6 - o) < 1e-3
            for c, f, o in zip(sample, first, ours_outage, strict=True)
        )
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs["sql"])
        line += (
            f"; SQL window baseline {med('sql'):.2f} s (runs: {times}), "
            f"ratio {med('sql') / med('status'):.1f}× (answers agree: {check})"
        )
    print(line)
    print(
        f"uptime with presence (offline ≠ faulted), per port ({(n + 1) // 2:,} ports of two "
        f"connectors), NEVI + UK: {med('full'):.2f} s, peak memory {med('full', 'peak_mb'):.0f} MB"
    )
    if runs["whole"]:
        agree = np.allclose(runs["whole"][-1]["outage"], runs["status"][-1]["outage"])
        print(
            f"former one pass over all reports in memory: {med('whole'):.2f} s, peak memory "
            f"{med('whole', 'peak_mb'):.0f} MB (same figures: {agree})"
        )
    zombies(n // 2, max(args.runs, 3))


if __name__ == "__main__":
    main()
