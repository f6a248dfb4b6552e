"""Nearest-available queries over a province's worth of connectors: the live index's grid
search against a linear scan of the same index, in the same run.

    .venv/bin/python -m benchmarks.finder.run                 # 1,000,000 connectors
    .venv/bin/python -m benchmarks.finder.run --connectors 100000 --queries 500

Stations are spread over Shanxi's extent (about 156,000 km²), denser around eleven city
centres, 4–16 connectors each, 60% of them available. Every query asks for the 10 nearest
stations with an available connector (DC ≥ 60 kW for a third of them); both methods must
give the same answer.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

from chargenet.app.finder import Filters, FinderConnectorRow, FinderRow, LiveIndex

T = datetime(2025, 5, 1, tzinfo=UTC)
SOUTH, NORTH, WEST, EAST = 34.6, 40.7, 110.2, 114.6
CITIES = [
    (37.87, 112.55),
    (40.08, 113.30),
    (38.42, 112.73),
    (35.03, 110.99),
    (36.09, 111.52),
    (37.69, 112.75),
    (35.50, 112.85),
    (36.20, 113.12),
    (39.33, 112.43),
    (37.52, 111.14),
    (37.86, 113.58),
]


def world(connectors: int, seed: int) -> list[FinderRow]:
    rng = random.Random(seed)
    rows: list[FinderRow] = []
    n = 0
    while n < connectors:
        if rng.random() < 0.6:
            clat, clon = rng.choice(CITIES)
            lat, lon = rng.gauss(clat, 0.15), rng.gauss(clon, 0.15)
        else:
            lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        station = f"S{len(rows)}"
        dc = rng.random() < 0.7
        power = rng.choice((60_000, 120_000, 160_000)) if dc else 7_000
        operator = f"OP{rng.randint(1, 20)}"
        for k in range(min(rng.randint(4, 16), connectors - n)):
            status = "available" if rng.random() < 0.6 else rng.choice(("charging", "faulted"))
            rows.append(
                FinderRow(
                    station_id=station,
                    operator_id=operator,
                    name=station,
                    name_en=None,
                    address=None,
                    lat=lat,
                    lon=lon,
                    access="public",
                    category="public_car_park",
                    opening_hours="24/7",
                    public_hours=None,
                    province_code="140000",
                    city_code=None,
                    county_code=None,
                    township_code=None,
                    village_code=None,
                    connector=FinderConnectorRow(
                        connector_id=f"{station}-{k}",
                        charger_id=f"{station}-C",
                        standard="gbt_dc" if dc else "gbt_ac",
                        power_type="dc" if dc else "ac",
                        max_power_w=power,
                        reported_status=status,
                        status_since=T,
                        status_at=T,
                        charger_online=True,
                        presence_since=T,
                        presence_at=T,
                        stopped=False,
                    ),
                )
            )
            n += 1
    return rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def measure(fn: Any, queries: list[tuple[float, float, Filters]]) -> tuple[list[Any], list[float]]:
    answers, times = [], []
    for lat, lon, filters in queries:
        start = time.perf_counter()
        answers.append([h.station.station_id for h in fn(lat, lon, filters, limit=10)])
        times.append(time.perf_counter() - start)
    return answers, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connectors", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--baseline-queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rows = world(args.connectors, args.seed)
    tracemalloc.start()
    start = time.perf_counter()
    index = LiveIndex()
    index.load(rows)
    load_s = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del rows
    rng = random.Random(args.seed + 1)
    queries = []
    for _ in range(args.queries):
        clat, clon = (
            rng.choice(CITIES)
            if rng.random() < 0.7
            else (rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST))
        )
        filters = Filters(
            available_now=True,
            dc_only=rng.random() < 0.33,
            min_power_w=60_000 if rng.random() < 0.33 else 0,
        )
        queries.append((rng.gauss(clat, 0.1), rng.gauss(clon, 0.1), filters))

    grid_answers, grid_times = measure(index.nearest, queries)
    subset = queries[: args.baseline_queries]
    scan_answers, scan_times = measure(index.linear_nearest, subset)
    assert scan_answers == grid_answers[: len(subset)], "the grid and the scan disagree"

    grid_qps = len(grid_times) / sum(grid_times)
    scan_qps = len(scan_times) / sum(scan_times)
    print(f"connectors: {args.connectors:,} at {len(index.stations):,} stations")
    print(f"index load: {load_s:.1f} s, peak memory while loading {peak / 2**20:,.0f} MiB")
    grid_p50, grid_p99 = statistics.median(grid_times) * 1e3, percentile(grid_times, 99) * 1e3
    scan_p50, scan_p99 = statistics.median(scan_times) * 1e3, percentile(scan_times, 99) * 1e3
    print(
        f"grid index:  {grid_qps:10,.0f} queries/s  p50 {grid_p50:7.3f} ms"
        f"  p99 {grid_p99:7.3f} ms  ({len(grid_times):,} queries)"
    )
    print(
        f"linear scan: {scan_qps:10,.1f} queries/s  p50 {scan_p50:7.1f} ms"
        f"  p99 {scan_p99:7.1f} ms  ({len(scan_times):,} queries)"
    )
    print(
        f"ratio: the grid answers {grid_qps / scan_qps:,.0f}× more queries per second; "
        f"p99 {scan_p99 / grid_p99:,.0f}× lower"
    )


if __name__ == "__main__":
    main()
