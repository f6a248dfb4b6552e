"""The siting programme on a province-sized instance, against the greedy baseline in the
same run.

    .venv/bin/python -m benchmarks.planning.bench                      # 3 runs, 120 s limit
    .venv/bin/python -m benchmarks.planning.bench --runs 1 --time-limit 30

A Guangxi-like province (the bounding box of 广西, 21.5–26.3 °N, 104.5–112 °E): 14
cities, 111 counties, ~1,200 townships and 15,000 villages clustered around them, 3,000
stations already in the cities and county seats; 30,000 candidates of every class —
village centres, township seats, points along roads, petrol stations, transport hubs and
car parks — each with its class's site cost. Every village must be within 10 km of
charging (straight line × 1.3). Demand per village: a log-normal population share of its
county's EVs × 7.5 kWh a day × 35 % public.

Three cases, each solved by HiGHS (with the time limit) and by the greedy baseline
(lazy cost-effectiveness), in the same process:
1. no budget: the cheapest plan reaching every village (weighted set cover);
2. a money budget of half the no-budget plan's site cost: the most demand within reach;
3. as 1, with the 3,000 stations resizable (each a car park with 2 AC and 2 DC ports, no
   headroom on its connection): a station short of ports for the villages it
   reaches is an upgrade option beside the new sites.
Printed per run and as the median over the runs: time, HiGHS's optimality gap, and the
ratio greedy ÷ HiGHS (cost for case 1; demand reached for case 2, HiGHS ÷ greedy).
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

import numpy as np

from chargenet.analytics.planning.investment import (
    CostModel,
    DemandPoint,
    StationNow,
    plan_investment,
)
from chargenet.analytics.planning.siting import Candidate
from chargenet.analytics.planning.spatial import DistanceModel

LAT, LON = (21.5, 26.3), (104.5, 112.0)
KM_LAT = 111.2


def province(
    seed: int = 7, villages: int = 15_000, candidates: int = 30_000
) -> tuple[list[DemandPoint], list[Candidate], list[tuple[float, float]]]:
    rng = np.random.default_rng(seed)
    cities = np.column_stack(
        [rng.uniform(LAT[0] + 0.4, LAT[1] - 0.4, 14), rng.uniform(LON[0] + 0.5, LON[1] - 0.5, 14)]
    )
    counties = np.repeat(cities, 8, axis=0)[:111] + rng.normal(0, 0.35, (111, 2))
    evs = rng.integers(3_000, 40_000, 111)
    towns = counties[rng.integers(0, 111, 1_200)] + rng.normal(0, 0.25, (1_200, 2))
    town_county = np.argmin(((towns[:, None, :] - counties[None, :, :]) ** 2).sum(axis=2), axis=1)
    v_town = rng.integers(0, 1_200, villages)
    v = towns[v_town] + rng.normal(0, 0.07, (villages, 2))
    v_county = town_county[v_town]
    pop = rng.lognormal(7.0, 0.6, villages)
    share = pop / np.bincount(v_county, weights=pop, minlength=111)[v_county]
    kwh = evs[v_county] * 7.5 * 0.35 * share
    points = [
        DemandPoint(
            f"v{i}",
            float(v[i, 0]),
            float(v[i, 1]),
            10_000.0,
            float(kwh[i]),
            float(kwh[i] / 25 * 0.078),
        )
        for i in range(villages)
    ]
    cands: list[Candidate] = []
    for i in range(villages):
        cands.append(Candidate(f"village:{i}", "village", float(v[i, 0]), float(v[i, 1])))
    for i in range(len(towns)):
        cands.append(Candidate(f"town:{i}", "township", float(towns[i, 0]), float(towns[i, 1])))
    rest = candidates - len(cands)
    kinds = ["road"] * 8 + ["petrol_station"] * 4 + ["transport_hub"] + ["parking_lot"] * 2
    near = v[rng.integers(0, villages, rest)] + rng.normal(0, 0.06, (rest, 2))
    for i in range(rest):
        cands.append(
            Candidate(f"c:{i}", kinds[i % len(kinds)], float(near[i, 0]), float(near[i, 1]))
        )
    stations = counties[rng.integers(0, 111, 3_000)] + rng.normal(0, 0.04, (3_000, 2))
    existing = [(float(a), float(b)) for a, b in stations]
    return points, cands, existing


def run(
    time_limit: float, seed: int, villages: int = 15_000, candidates: int = 30_000
) -> dict[str, float]:
    points, cands, existing = province(seed, villages, candidates)
    distance = DistanceModel(1.3)
    costs = CostModel()
    out: dict[str, float] = {}
    t = time.perf_counter()
    exact = plan_investment(
        points, cands, distance, costs=costs, existing=existing, time_limit=time_limit
    )
    out["cover_highs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    greedy = plan_investment(
        points, cands, distance, costs=costs, existing=existing, use_highs=False
    )
    out["cover_greedy_s"] = time.perf_counter() - t
    out["cover_gap"] = exact.gap
    out["cover_sites"] = len(exact.sites)
    out["cover_greedy_sites"] = len(greedy.sites)
    # HiGHS's own best against greedy's (the plan keeps whichever is better).
    out["cover_ratio"] = greedy.objective / exact.solver_objective
    out["total_cost_m"] = float(exact.total_cost) / 1e6
    budget = Decimal(str(round(exact.objective / 2)))
    t = time.perf_counter()
    exact_b = plan_investment(
        points,
        cands,
        distance,
        costs=costs,
        existing=existing,
        money_budget=budget,
        time_limit=time_limit,
    )
    out["budget_highs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    greedy_b = plan_investment(
        points,
        cands,
        distance,
        costs=costs,
        existing=existing,
        money_budget=budget,
        use_highs=False,
    )
    out["budget_greedy_s"] = time.perf_counter() - t
    out["budget_gap"] = exact_b.gap
    out["budget_ratio"] = exact_b.solver_objective / max(greedy_b.objective, 1e-9)
    out["budget_rounds"] = exact_b.rounds
    stations = [
        StationNow(f"s{k}", "parking_lot", lat, lon, {"ac": 2, "dc": 2})
        for k, (lat, lon) in enumerate(existing)
    ]
    t = time.perf_counter()
    exact_r = plan_investment(
        points, cands, distance, costs=costs, stations=stations, time_limit=time_limit
    )
    out["resize_highs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    greedy_r = plan_investment(
        points, cands, distance, costs=costs, stations=stations, use_highs=False
    )
    out["resize_greedy_s"] = time.perf_counter() - t
    out["resize_gap"] = exact_r.gap
    out["resize_upgrades"] = sum(x.upgrade_of is not None for x in exact_r.sites)
    out["resize_new_sites"] = sum(x.upgrade_of is None for x in exact_r.sites)
    out["resize_ratio"] = greedy_r.objective / exact_r.solver_objective
    out["resize_total_cost_m"] = float(exact_r.total_cost) / 1e6
    out["resize_greedy_total_cost_m"] = float(greedy_r.total_cost) / 1e6
    print(
        f"  {len(points):,} villages, {len(cands):,} candidates, {len(existing):,} stations; "
        f"{len(exact.uncovered) + len(exact.uncoverable)} out of every candidate's reach"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--villages", type=int, default=15_000)
    parser.add_argument("--candidates", type=int, default=30_000)
    args = parser.parse_args()
    results = []
    for k in range(args.runs):
        r = run(args.time_limit, args.seed, args.villages, args.candidates)
        results.append(r)
        print(f"run {k + 1}: " + ", ".join(f"{key} {v:.4g}" for key, v in r.items()))
    print("median:")
    for key in results[0]:
        print(f"  {key}: {statistics.median(r[key] for r in results):.4g}")


if __name__ == "__main__":
    main()
