"""Ingest throughput of the one event path, against a naive baseline in the same run.

    .venv/bin/python -m benchmarks.ingest.run [--events 20000] [--sync FULL|NORMAL]

chargenet: connector status changes submitted in batches of 2,000 through EventIngestor
(validation, log append, savepoint, projection, one commit per batch).
baseline: what a straightforward service does — per event, SQLAlchemy Core statements to
insert the log row and update the connector's status, one commit per event.
Both write to a fresh SQLite file in WAL mode with the same synchronous setting.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, update

from chargenet.adapters import codec
from chargenet.adapters.storage.schema import connector_live, events
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import ConnectorStatusChanged, Event
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus
from tests.builders import at, charger, meta, small_world

CHARGERS = 500


def world() -> list[Event]:
    return [*small_world(), *[charger(f"C{i}", guns=2) for i in range(2, CHARGERS + 1)]]


def stream(n: int) -> list[ConnectorStatusChanged]:
    statuses = list(ConnectorStatus)
    return [
        ConnectorStatusChanged(
            **meta(at(i / 60)),
            connector_id=ConnectorId(f"C{1 + i % CHARGERS}-{1 + (i // CHARGERS) % 2}-1"),
            status=statuses[i % len(statuses)],
        )
        for i in range(n)
    ]


def run_chargenet(path: Path, sync: str, evs: list[ConnectorStatusChanged]) -> float:
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous=sync))
    platform.ingestor.ingest(world())
    start = time.perf_counter()
    for i in range(0, len(evs), 2_000):
        platform.ingestor.ingest(evs[i : i + 2_000])
    elapsed = time.perf_counter() - start
    rebuild_start = time.perf_counter()
    report = platform.store.rebuild()
    rebuild = time.perf_counter() - rebuild_start
    print(
        f"  rebuild: {report.applied} events in {rebuild:.2f} s "
        f"({report.applied / rebuild:,.0f} events/s)"
    )
    platform.close()
    return elapsed


def run_baseline(path: Path, sync: str, evs: list[ConnectorStatusChanged]) -> float:
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous=sync))
    platform.ingestor.ingest(world())
    engine = platform.store.engine
    with engine.begin() as conn:
        for cid in {e.connector_id for e in evs}:
            conn.execute(insert(connector_live).values(connector_id=cid))
    start = time.perf_counter()
    for event in evs:
        with engine.begin() as conn:
            conn.execute(
                insert(events).values(
                    event_id=event.event_id,
                    type=event.TYPE,
                    version=event.VERSION,
                    adapter=event.source.adapter,
                    occurred_at=event.occurred_at,
                    received_at=event.received_at,
                    payload=codec.encode(event).decode(),
                )
            )
            conn.execute(
                update(connector_live)
                .where(connector_live.c.connector_id == event.connector_id)
                .values(status=event.status.value, status_since=event.occurred_at)
            )
    elapsed = time.perf_counter() - start
    platform.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--sync", default="FULL", choices=["FULL", "NORMAL", "OFF"])
    args = parser.parse_args()
    evs = stream(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.events:,} status changes, SQLite WAL synchronous={args.sync}")
        ours = run_chargenet(Path(tmp) / "a.db", args.sync, evs)
        base = run_baseline(Path(tmp) / "b.db", args.sync, evs)
    result = {
        "events": args.events,
        "chargenet_events_per_s": round(args.events / ours),
        "baseline_events_per_s": round(args.events / base),
        "ratio": round(base / ours, 1),
    }
    print(f"  chargenet: {result['chargenet_events_per_s']:,} events/s")
    print(f"  baseline : {result['baseline_events_per_s']:,} events/s (commit per event)")
    print(f"  ratio    : {result['ratio']}x")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
