"""CPU time of one page of `query_stations_info` as chargenet answers it (the read model's
station page the receiver asks for), in full and incrementally (LastQueryTime), on SQLite
with N stations of two chargers of two guns each, 1 % of them changed since.

    .venv/bin/python -m benchmarks.tcec.stations_page [--stations 5000] [--runs 5]

CPU time (`time.process_time`: SQLite runs in-process), the median of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event, StationUpdated
from tests import migrated
from tests.builders import T0, areas, charger, meta, operator, station


def _cpu(call: Callable[[], Any], runs: int) -> float:
    spent = []
    for _ in range(runs):
        start = time.process_time()
        call()
        spent.append(time.process_time() - start)
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n = args.stations
    path = Path(tempfile.mkdtemp())
    settings = Settings(database_url=migrated.sqlite_url(path / "c.db"), sqlite_synchronous="OFF")
    platform = bootstrap(settings)
    try:
        events: list[Event] = [*areas(), operator("OPZ")]
        for i in range(n):
            sid = f"S{i:06d}"
            events += [
                station(sid, "OPZ", when=T0),
                charger(f"A{i:06d}", sid, when=T0),
                charger(f"B{i:06d}", sid, when=T0),
            ]
        for k in range(0, len(events), 2000):
            platform.ingestor.ingest(events[k : k + 2000])
        later = T0 + timedelta(hours=1)
        platform.ingestor.ingest(
            [
                StationUpdated(**meta(later), station=station(f"S{i:06d}", "OPZ", name="x").station)
                for i in range(0, n, 100)
            ]
        )
        since = T0 + timedelta(minutes=30)
        read = platform.read
        full = _cpu(lambda: read.stations(None, None, None, None, False, 100, 0), args.runs)
        incremental = _cpu(
            lambda: read.stations(None, None, None, None, True, 100, 0, None, since), args.runs
        )
        _, changed = read.stations(None, None, None, None, True, 100, 0, None, since)
        print(
            f"stations={n}: full page {full * 1000:.1f} ms CPU, "
            f"incremental page {incremental * 1000:.1f} ms CPU ({changed} changed)"
        )
    finally:
        platform.close()


if __name__ == "__main__":
    main()
