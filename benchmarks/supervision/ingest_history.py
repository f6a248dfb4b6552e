"""Ingest speed of live status data with and without the status history.

The status and presence projections now also append every report to `status_history` /
`presence_history`. This measures events per second through the real ingestor on a real
store, once as it is and once with those two statements replaced by a no-op `SELECT 1`
(the "before"; the no-op still costs a round trip, so the ratio is, if anything, pessimistic),
alternating runs to share the machine's noise.

    python -m benchmarks.supervision.ingest_history            # quick: 40,000 events, SQLite
    python -m benchmarks.supervision.ingest_history --events 200000 --db postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from chargenet.adapters.storage.projections import live
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from tests.builders import T0, areas, charger, meta, operator, station

STATUSES = [
    ConnectorStatus.AVAILABLE,
    ConnectorStatus.CHARGING,
    ConnectorStatus.OCCUPIED,
    ConnectorStatus.FAULTED,
    ConnectorStatus.UNAVAILABLE,
]


def world(chargers: int) -> list[Event]:
    events: list[Event] = [*areas(), operator()]
    for s in range(chargers // 10):
        events.append(station(f"S{s}"))
        for c in range(10):
            events.append(charger(f"S{s}C{c}", f"S{s}", guns=2))
    return events


def stream(chargers: int, n: int, seed: int) -> list[Event]:
    """Status reports (90 %), presence (5 %), some late by up to 10 minutes."""
    rng = random.Random(seed)
    ids = [f"S{i // 10}C{i % 10}" for i in range(chargers)]
    clock = T0 + timedelta(days=1)
    out: list[Event] = []
    for _ in range(n):
        clock += timedelta(milliseconds=rng.randint(1, 400))
        when = clock - timedelta(seconds=rng.choice([0] * 9 + [rng.randint(1, 600)]))
        c = rng.choice(ids)
        if rng.random() < 0.05:
            out.append(
                ChargerPresenceChanged(
                    **meta(when), charger_id=ChargerId(c), online=rng.random() < 0.8
                )
            )
        else:
            out.append(
                ConnectorStatusChanged(
                    **meta(when),
                    connector_id=ConnectorId(f"{c}-{rng.randint(1, 2)}-1"),
                    status=rng.choice(STATUSES),
                )
            )
    return out


def run(db: str | None, chargers: int, events: list[Event], history: bool) -> float:
    saved = live._STATUS_HISTORY, live._PRESENCE_HISTORY
    with tempfile.TemporaryDirectory() as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        platform = bootstrap(Settings(database_url=url, sqlite_synchronous="NORMAL"))
        platform.ingestor.ingest(world(chargers))
        if not history:
            live._STATUS_HISTORY = live._PRESENCE_HISTORY = "SELECT 1"
        try:
            started = time.perf_counter()
            for i in range(0, len(events), 2000):
                platform.ingestor.ingest(events[i : i + 2000])
            elapsed = time.perf_counter() - started
        finally:
            live._STATUS_HISTORY, live._PRESENCE_HISTORY = saved
            if db:
                from sqlalchemy import delete

                from chargenet.adapters.storage.schema import STATE_TABLES
                from chargenet.adapters.storage.schema import events as log

                with platform.store.engine.begin() as conn:
                    for table in STATE_TABLES:
                        conn.execute(delete(table))
                    conn.execute(delete(log))
            platform.close()
    return len(events) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--chargers", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", default=None, help="an empty database (default: a temp SQLite)")
    args = parser.parse_args()
    events = stream(args.chargers, args.events, seed=1)
    before, after = [], []
    for _ in range(args.rounds):
        before.append(run(args.db, args.chargers, events, history=False))
        after.append(run(args.db, args.chargers, events, history=True))
    b, a = max(before), max(after)
    print(f"{args.events:,} status/presence events, {args.chargers:,} chargers × 2 connectors")
    print(f"without history (before): {b:,.0f} events/s")
    print(f"with history (now):       {a:,.0f} events/s")
    print(f"ratio now/before: {a / b:.2f}  (slow-down {100 * (1 - a / b):.1f} %)")


if __name__ == "__main__":
    main()
