"""What the durable outbox costs the ingest path: connector status changes ingested with
an upstream province configured (each event queues a notification_stationStatus delivery
in its own transaction) against the same events with none (the baseline), same process.
With `--ocpi`, the OCPI forwarder's rule too: the same events with no rule at all (the
baseline), with the rule and no upstream platform registered, and with one registered
(each event queues an `ocpi.status` push in its own transaction).

    .venv/bin/python -m benchmarks.outbox [--events 10000] [--runs 3] [--ocpi]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.ingest.run import stream, world
from chargenet.adapters.ocpi.forward import OCPI_KINDS, PEERS_TTL_S
from chargenet.adapters.storage.queries_ocpi import SqlOcpiDirectory
from chargenet.app.ocpi import PeerKind, PeerStatus
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings


def ingest_rate(path: Path, upstream: str, n: int, ocpi: str = "rule") -> float:
    """`ocpi`: "none" (the OCPI rule removed), "rule" (no platform registered), or
    "upstream" (one registered)."""
    url = f"sqlite:///{path}"
    platform = bootstrap(
        Settings(database_url=url, sqlite_synchronous="NORMAL", tcec_upstream=upstream)
    )
    try:
        platform.ingestor.ingest(world())
        if ocpi == "none":
            platform.ingestor.rules = [
                r for r in platform.ingestor.rules if "ocpi_pushes" not in r.__qualname__
            ]
        elif ocpi == "upstream":
            directory = SqlOcpiDirectory(url)
            now = platform.clock.now()
            directory.add_peer("province", PeerKind.UPSTREAM, "province", now)
            directory.update_peer("province", now, status=PeerStatus.REGISTERED, token_out="t" * 32)
            directory.dispose()
            time.sleep(PEERS_TTL_S)  # the rule's cached list of platforms renews
        evs = stream(n)
        start = time.perf_counter()
        for i in range(0, n, 2_000):
            platform.ingestor.ingest(evs[i : i + 2_000])
        elapsed = time.perf_counter() - start
        queued = len(
            platform.outbox.store.items(kind="tcec.notification_stationStatus", limit=n + 1)
        )
        assert queued == (n if upstream else 0), queued
        pushes = len(platform.outbox.store.items(kind=OCPI_KINDS, limit=n + 1))
        assert pushes == (n if ocpi == "upstream" else 0), pushes
        return n / elapsed
    finally:
        platform.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ocpi", action="store_true", help="measure the OCPI forwarder's rule")
    args = parser.parse_args()
    if args.ocpi:
        rates: dict[str, list[float]] = {"none": [], "rule": [], "upstream": []}
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                for mode, got in rates.items():
                    got.append(ingest_rate(Path(tmp) / f"{mode}{run}.db", "", args.events, mode))
        base = statistics.median(rates["none"])
        labels = {
            "none": "no OCPI rule (baseline)",
            "rule": "OCPI rule, no upstream platform",
            "upstream": "OCPI rule, one upstream: a push each",
        }
        for mode, got in rates.items():
            rate = statistics.median(got)
            print(
                f"status changes ingested, {labels[mode]}: {rate:,.0f} /s"
                f" (median of {args.runs}; ratio to baseline {rate / base:.2f})"
            )
        return
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
