"""The cost of a quarter's EV-ChART filing against the 12-month NEVI uptime it contains.

A SQLite world of N two-port DC chargers, each reporting a few faults a month over a
year, is built once; then, in the same process, the NEVI report by port for the quarter's
last month (the baseline: module 3's arithmetic alone) and the whole filing (stations,
ports, sessions, uptime and each port's outage log) are timed, alternately.

    python -m benchmarks.supervision.filings [--chargers 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.kit.clock import FixedClock
from tests.builders import areas, charger, meta, operator, station

START = datetime(2024, 6, 30, 16, tzinfo=UTC)  # 1 July 2024, Shanghai
NOW = datetime(2025, 7, 10, 16, tzinfo=UTC)


def world(n: int, seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = [*areas(), operator()]
    for s in range(max(1, n // 10)):
        events.append(station(f"S{s}", when=START))
    for c in range(n):
        cid = f"C{c}"
        events.append(charger(cid, f"S{c % max(1, n // 10)}", power_w=160_000, when=START))
        events.append(ChargerPresenceChanged(**meta(START), charger_id=ChargerId(cid), online=True))
        for gun in (1, 2):
            conn = f"{cid}-{gun}-1"
            events.append(
                ConnectorStatusChanged(
                    **meta(START), connector_id=ConnectorId(conn), status=ConnectorStatus.AVAILABLE
                )
            )
            at = START
            while True:
                at += timedelta(hours=rng.uniform(24, 24 * 15))
                if at >= NOW:
                    break
                events.append(
                    ConnectorStatusChanged(
                        **meta(at), connector_id=ConnectorId(conn), status=ConnectorStatus.FAULTED
                    )
                )
                events.append(
                    ConnectorStatusChanged(
                        **meta(at + timedelta(hours=rng.uniform(0.5, 8))),
                        connector_id=ConnectorId(conn),
                        status=ConnectorStatus.AVAILABLE,
                    )
                )
    return events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'filings.db'}"
        platform = bootstrap(
            Settings(database_url=url, sqlite_synchronous="OFF"), clock=FixedClock(NOW)
        )
        events = world(args.chargers)
        for i in range(0, len(events), 2_000):
            platform.ingestor.ingest(events[i : i + 2_000])
        baseline, filing = [], []
        rows = outages = 0
        for _ in range(args.runs):
            t = time.perf_counter()
            platform.supervision.nevi_monthly(Scope(), 2025, 6, by="port", unit="port")
            baseline.append(time.perf_counter() - t)
            t = time.perf_counter()
            tables = platform.filings.evchart(Scope(), 2025, 2)
            filing.append(time.perf_counter() - t)
            rows, outages = len(tables["uptime"]), len(tables["outage"])
        platform.close()
    b, f = statistics.median(baseline), statistics.median(filing)
    print(
        f"{args.chargers} chargers, {rows} ports, {len(events)} events, {outages} outages "
        f"in the quarter; medians of {args.runs} runs"
    )
    print(f"NEVI 12 months by port (baseline): {b:.2f} s")
    print(f"EV-ChART filing, all modules:      {f:.2f} s  (ratio {f / b:.2f})")


if __name__ == "__main__":
    main()
