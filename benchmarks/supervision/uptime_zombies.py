"""Uptime and zombie piles at city scale: N connectors × 30 days of status events.

Ours: `analytics.uptime.status_seconds` (one vectorised pass) and `analytics.zombies.sweep`.
Baseline, in the same run on the same data: the straightforward SQL a team would write —
SQLite with a LEAD() window over each connector's reports for uptime, and one WHERE
clause per zombie rule — with loading time excluded. The two answers are checked equal.

    python -m benchmarks.supervision.uptime_zombies                      # quick: 10,000
    python -m benchmarks.supervision.uptime_zombies --connectors 100000  # the issue's size
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from chargenet.analytics import uptime
from chargenet.analytics.statusclass import CODE, NEVI_OUTAGE, STATUSES
from chargenet.analytics.zombies import ChargerFacts, ZombieRules, sweep
from chargenet.core.status import ConnectorStatus
from chargenet.kit.timeutil import to_micros

START = datetime(2025, 6, 1, tzinfo=UTC)
DAYS = 30
WEIGHTS = {  # what a day of a public pile looks like, roughly
    ConnectorStatus.AVAILABLE: 0.45,
    ConnectorStatus.CHARGING: 0.25,
    ConnectorStatus.OCCUPIED: 0.2,
    ConnectorStatus.FAULTED: 0.04,
    ConnectorStatus.UNAVAILABLE: 0.02,
    ConnectorStatus.RESERVED: 0.02,
    ConnectorStatus.BLOCKED: 0.02,
}


def generate(n: int, per_day: float, seed: int) -> tuple[uptime.Fleet, uptime.Reports]:
    rng = np.random.default_rng(seed)
    start, end = to_micros(START), to_micros(START + timedelta(days=DAYS))
    counts = rng.poisson(per_day * DAYS, n) + 1
    conn = np.repeat(np.arange(n, dtype=np.int64), counts)
    at = rng.integers(start - 86_400_000_000, end, len(conn), dtype=np.int64)
    codes = np.array([CODE[s] for s in WEIGHTS], dtype=np.int64)
    status = rng.choice(codes, len(conn), p=np.array(list(WEIGHTS.values())))
    chargers = n // 2
    p_n = chargers * 10  # a presence change every three days or so
    presence = uptime.Reports(
        status_conn=conn,
        status_at=at,
        status_code=status,
        presence_charger=rng.integers(0, chargers, p_n, dtype=np.int64),
        presence_at=rng.integers(start, end, p_n, dtype=np.int64),
        presence_online=(rng.random(p_n) < 0.7).astype(np.int64),
    )
    fleet = uptime.Fleet(
        charger=np.arange(n, dtype=np.int64) // 2,
        service_from=np.full(n, start - 10**12, dtype=np.int64),
        service_until=np.full(n, uptime.FOREVER, dtype=np.int64),
    )
    return fleet, presence


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


def sql_zombies(db: sqlite3.Connection, now: datetime, r: ZombieRules) -> set[str]:
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
    return {row[0] for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=10_000)
    parser.add_argument(
        "--per-day", type=float, default=8.0, help="status reports per connector per day"
    )
    args = parser.parse_args()
    n = args.connectors
    fleet, reports = generate(n, args.per_day, seed=1)
    start, end = to_micros(START), to_micros(START + timedelta(days=DAYS))
    edges = np.array([start, end], dtype=np.int64)
    print(
        f"{n:,} connectors × {DAYS} days: {len(reports.status_at):,} status reports, "
        f"{len(reports.presence_at):,} presence reports"
    )

    status_only = uptime.Reports(reports.status_conn, reports.status_at, reports.status_code)
    t0 = time.perf_counter()
    seconds = uptime.status_seconds(fleet, status_only, edges)
    nevi = uptime.nevi(seconds[:, 0])
    ours = time.perf_counter() - t0

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE reports (conn INTEGER, at INTEGER, status TEXT)")
    names = [s.value for s in STATUSES]
    db.executemany(
        "INSERT INTO reports VALUES (?, ?, ?)",
        zip(
            reports.status_conn.tolist(),
            reports.status_at.tolist(),
            [names[c] for c in reports.status_code.tolist()],
            strict=True,
        ),
    )
    db.execute("CREATE INDEX ix ON reports (conn, at)")
    t0 = time.perf_counter()
    baseline = sql_uptime(db, start, end)
    base = time.perf_counter() - t0
    # Before a connector's first report the SQL knows nothing; ours counts it as offline.
    first = np.full(n, end, dtype=np.int64)
    np.minimum.at(first, reports.status_conn, reports.status_at)
    no_data = (np.clip(first, start, end) - start) / 1e6
    check = [
        abs(baseline[c][1] + no_data[c] - nevi.outage[c]) < 1e-3
        for c in range(0, n, max(1, n // 1000))
    ]
    print(
        f"uptime, reports only:  ours {ours:.2f} s, SQL window baseline {base:.2f} s, "
        f"ratio {base / ours:.1f}× (answers agree: {all(check)})"
    )

    t0 = time.perf_counter()
    full = uptime.status_seconds(fleet, reports, edges)
    uptime.nevi(full[:, 0]), uptime.uk(full[:, 0])
    print(f"uptime with presence (offline ≠ faulted), NEVI + UK: {time.perf_counter() - t0:.2f} s")

    # Per port, every port with two connectors (the worst case: one-connector ports pass
    # straight through), at each instant the better of the two.
    t0 = time.perf_counter()
    ports = np.arange(n, dtype=np.int64) // 2
    per_port = uptime.status_seconds(fleet, reports, edges, ports=ports)
    uptime.nevi(per_port[:, 0]), uptime.uk(per_port[:, 0])
    print(
        f"uptime per port ({n // 2:,} ports of two connectors), NEVI + UK: "
        f"{time.perf_counter() - t0:.2f} s"
    )

    now = START + timedelta(days=DAYS)
    facts = facts_for(n // 2, now, seed=2)
    rules = ZombieRules()
    t0 = time.perf_counter()
    steps = sweep(facts, {}, now, rules).of("detect")
    ours_z = time.perf_counter() - t0
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
    t0 = time.perf_counter()
    sql_found = sql_zombies(db, now, rules)
    base_z = time.perf_counter() - t0
    same = sql_found == {s.charger_id for s in steps}
    print(
        f"zombies, {len(facts):,} chargers: ours {ours_z:.3f} s ({len(steps):,} found, with "
        f"cases and evidence), SQL baseline {base_z:.3f} s, ratio {base_z / ours_z:.2f}× "
        f"(same chargers: {same})"
    )


if __name__ == "__main__":
    main()
