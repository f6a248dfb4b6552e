"""What the durable outbox costs the ingest path: connector status changes ingested with
an upstream province configured (each event queues a notification_stationStatus delivery
in its own transaction) against the same events with none (the baseline), same process.

    .venv/bin/python -m benchmarks.outbox [--events 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.ingest.run import stream, world
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings


def ingest_rate(path: Path, upstream: str, n: int) -> float:
    platform = bootstrap(
        Settings(
            database_url=f"sqlite:///{path}", sqlite_synchronous="NORMAL", tcec_upstream=upstream
        )
    )
    try:
        platform.ingestor.ingest(world())
        evs = stream(n)
        start = time.perf_counter()
        for i in range(0, n, 2_000):
            platform.ingestor.ingest(evs[i : i + 2_000])
        elapsed = time.perf_counter() - start
        queued = len(
            platform.outbox.store.items(kind="tcec.notification_stationStatus", limit=n + 1)
        )
        assert queued == (n if upstream else 0), queued
        return n / elapsed
    finally:
        platform.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    plain: list[float] = []
    queued: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            plain.append(ingest_rate(Path(tmp) / f"plain{run}.db", "", args.events))
            queued.append(ingest_rate(Path(tmp) / f"queued{run}.db", "PROVINCE", args.events))
    p, q = statistics.median(plain), statistics.median(queued)
    print(f"status changes ingested, no upstream (baseline): {p:,.0f} /s (median of {args.runs})")
    print(f"status changes ingested, each queuing a push:    {q:,.0f} /s (median of {args.runs})")
    print(f"ratio with outbox / baseline: {q / p:.2f}")


if __name__ == "__main__":
    main()
