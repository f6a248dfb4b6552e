"""What keeping the metered load per quarter hour costs the ingest path, and how long
officials wait for the load curve, the flexibility forecast and an event's measured shed.

    .venv/bin/python -m benchmarks.orderly.figures [--stations 50] [--days 7] [--runs 3]

Ingest: meter samples with a power value (each adds to `load_quarters`) against the same
number of samples without one (which do not), through the same EventIngestor, on fresh
SQLite files in the same process; the ratio is the projection's cost. Then, on the world
with power: an area's load curve over one day and over all days, the flexibility of the
next 12 hours, and one demand-response event's 10-in-10 measurement. Medians of --runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import (
    DemandResponseCalled,
    DemandResponseScope,
    Event,
    GridConnectionStated,
    MeterSampled,
)
from chargenet.core.ids import ConnectorId, StationId
from chargenet.kit.clock import FixedClock
from tests.builders import areas, charger, meta, operator, station

START = datetime(2026, 11, 2, tzinfo=UTC)


def world(stations: int) -> list[Event]:
    out: list[Event] = [*areas(), operator()]
    for i in range(stations):
        out += [
            station(f"S{i}", lat=38.4 + i * 1e-3, lon=112.7),
            charger(f"C{i}", f"S{i}", guns=2),
            GridConnectionStated(
                **meta(START), station_id=StationId(f"S{i}"), valid_from=START, capacity_w=100_000
            ),
        ]
    return out


def samples(stations: int, days: int, power: bool) -> list[Event]:
    return [
        MeterSampled(
            **meta(START + timedelta(minutes=15 * q + 1)),
            connector_id=ConnectorId(f"C{i}-1-1"),
            power_w=30_000 + q % 7 * 1000 if power else None,
            energy_register_wh=None if power else q * 1000,
        )
        for q in range(days * 96)
        for i in range(stations)
    ]


def ingest(path: Path, stations: int, evs: list[Event]) -> tuple[float, Platform]:
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous="NORMAL"))
    platform.ingestor.ingest(world(stations))
    begin = time.perf_counter()
    for i in range(0, len(evs), 2_000):
        platform.ingestor.ingest(evs[i : i + 2_000])
    return time.perf_counter() - begin, platform


def timed(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        work()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with_power = samples(args.stations, args.days, True)
    without = samples(args.stations, args.days, False)
    n = len(with_power)
    print(f"{args.stations} stations, {args.days} days, {n:,} meter samples each way")
    with tempfile.TemporaryDirectory() as folder:
        base: list[float] = []
        load: list[float] = []
        platform: Platform | None = None
        for run in range(args.runs):
            seconds, p = ingest(Path(folder) / f"plain{run}.db", args.stations, without)
            base.append(seconds)
            p.close()
            seconds, p = ingest(Path(folder) / f"load{run}.db", args.stations, with_power)
            load.append(seconds)
            if platform is not None:
                platform.close()
            platform = p
        assert platform is not None
        b, w = statistics.median(base), statistics.median(load)
        print(f"ingest without power: {n / b:,.0f} samples/s ({b:.2f} s)")
        print(f"ingest with power (load_quarters): {n / w:,.0f} samples/s ({w:.2f} s)")
        print(f"ratio with / without: {w / b:.2f}")
        end = START + timedelta(days=args.days)
        platform.orderly.clock = FixedClock(end)
        event_start = end - timedelta(hours=6)
        platform.ingestor.ingest(
            [
                DemandResponseCalled(
                    **meta(event_start),
                    dr_id="DR",
                    scope=DemandResponseScope.AREA,
                    scope_id="140900",
                    start=event_start,
                    end=event_start + timedelta(hours=1),
                    share=0.5,
                    called_by="bench",
                )
            ]
        )
        figures = platform.orderly_figures
        day = timed(lambda: figures.load_curve(end - timedelta(days=1), end, "140900"), args.runs)
        span = timed(lambda: figures.load_curve(START, end, "140900"), args.runs)
        flex = timed(lambda: figures.flexibility("140900"), args.runs)
        shed = timed(lambda: figures.dr_performance(event_start, end, "140900"), args.runs)
        print(f"load curve, 1 day: {day * 1000:.0f} ms; {args.days} days: {span * 1000:.0f} ms")
        print(f"flexibility, 12 h: {flex * 1000:.0f} ms")
        print(f"one event's measured shed (45 days of baseline): {shed * 1000:.0f} ms")
        platform.close()


if __name__ == "__main__":
    main()
