"""chargenet's orderly-charging scheduler against acnportal's online algorithms, in one
process, on the same sessions and the same simulator (acnportal's `acnsim`):

- a Caltech-ACN-like workplace site: 54 EVSEs of 32 A on three phases under one 150 kVA
  transformer, workplace sessions;
- a residential compound: 200 AC posts of 32 A under a 250 kW share of its transformer,
  home sessions.

Sessions come from ElaadNL's distributions shipped with `ev2gym` (benchmarks/orderly/
sessions.py). Every algorithm is re-run every period with the same knowledge (arrival,
departure and energy of the plugged-in sessions, as acnportal gives its own algorithms).
Prices: the grid time-of-use classes of chargenet's sample table (valley 0.30, flat 0.65,
peak 1.00, critical 1.30 CNY/kWh). Then the time of one re-optimisation for 1,000 and
10,000 sessions in one area (median of several runs).

    python -m benchmarks.orderly [--days 3] [--seed 1] [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks.orderly.sessions import Session, draw
from chargenet.analytics.orderly import Need, Node, Problem, plan, plan_greedy, plan_lp
from chargenet.app.orderly import CLASS_PRICE
from chargenet.core.tariffs import GridTou, PeriodClass, grid_tou_from_toml

ZONE = ZoneInfo("Asia/Shanghai")
VOLTAGE = 220.0
MAX_A = 32.0
MIN_A = 6.0


def _tou() -> GridTou:
    text = (resources.files("chargenet.core.gridtou") / "sample.toml").read_text("utf-8")
    return next(t for t in grid_tou_from_toml(tomllib.loads(text)) if t.region_code == "140000")


TOU = _tou()


def price_at(at: datetime) -> float:
    return CLASS_PRICE[TOU.class_at(at.astimezone(ZONE).time())]


@dataclass(frozen=True)
class Site:
    name: str
    evses: int
    limit_kw: float  # transformer share for charging, split evenly over three phases
    kind: str  # ElaadNL column
    per_day: float


CALTECH = Site("Caltech-ACN-like workplace, 54 EVSEs, 150 kVA", 54, 150.0, "workplace", 75)
COMPOUND = Site("residential compound, 200 AC posts, 250 kW", 200, 250.0, "private", 150)


def phase_of(index: int) -> int:
    return index % 3


# --- acnportal ---------------------------------------------------------------------------


def network(site: Site) -> Any:
    from acnportal import acnsim

    net = acnsim.ChargingNetwork()
    angles = (0.0, -120.0, 120.0)
    groups: list[list[str]] = [[], [], []]
    for i in range(site.evses):
        sid = f"EVSE-{i:03d}"
        net.register_evse(
            acnsim.EVSE(sid, max_rate=MAX_A, min_rate=0), VOLTAGE, angles[phase_of(i)]
        )
        groups[phase_of(i)].append(sid)
    per_phase_a = site.limit_kw * 1000 / 3 / VOLTAGE
    for k, ids in enumerate(groups):
        net.add_constraint(acnsim.Current(ids), per_phase_a, name=f"phase-{k}")
    return net


def events(site: Site, sessions: Sequence[Session], period_min: float) -> tuple[Any, float]:
    """acnsim plug-in events, each session on the first free EVSE; the requested energy."""
    from acnportal import acnsim

    free_at = [0.0] * site.evses
    out, requested = [], 0.0
    for n, s in enumerate(sessions):
        arrival = int(s.arrival_min // period_min)
        departure = int((s.arrival_min + s.stay_min) // period_min)
        if departure <= arrival:
            continue
        evse = next((i for i in range(site.evses) if free_at[i] <= arrival), None)
        if evse is None:
            continue  # the site is full: the driver goes elsewhere
        free_at[evse] = departure + 1
        battery = acnsim.Battery(100.0, 0.0, MAX_A * VOLTAGE / 1000)
        ev = acnsim.EV(arrival, departure, s.energy_kwh, f"EVSE-{evse:03d}", f"s{n}", battery)
        out.append(acnsim.PluginEvent(arrival, ev))
        requested += s.energy_kwh
    return acnsim.EventQueue(out), requested


def chargenet_algorithm(solver: Callable[[Problem], Any], start: datetime, site: Site) -> Any:
    from acnportal.algorithms import BaseAlgorithm

    class Algo(BaseAlgorithm):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.max_recompute = 1

        def schedule(self, active: list[Any]) -> dict[str, list[float]]:
            iface = self.interface
            now_p = iface.current_time
            period_s = iface.period * 60.0
            now = start + timedelta(seconds=now_p * period_s)
            needs = []
            for s in active:
                index = int(s.station_id.split("-")[1])
                needs.append(
                    Need(
                        session_id=s.station_id,
                        node="site",
                        max_w=MAX_A * VOLTAGE,
                        min_w=MIN_A * VOLTAGE,
                        energy_wh=max(0.0, s.remaining_demand) * 1000.0,
                        departure_s=max(1.0, (s.estimated_departure - now_p)) * period_s,
                        phase=phase_of(index),
                        arrived_s=(now_p - s.arrival) * period_s,
                    )
                )
            # Fine slots to the next full hour (prices change on the hour), then hourly.
            to_hour = (60 - now.astimezone(ZONE).minute) % 60 or 60
            fine = max(1, round(to_hour * 60 / period_s))
            longest = max((n.departure_s for n in needs), default=period_s)
            durations = [period_s] * fine
            while sum(durations) < longest:
                durations.append(3600.0)
            prices = []
            at = now
            for d in durations:
                prices.append(price_at(at + timedelta(seconds=d / 2)))
                at += timedelta(seconds=d)
            node = Node(node_id="site", limit_w=site.limit_kw * 1000 * 0.999, phases=3)
            problem = Problem(needs, [node], durations, prices)
            result = solver(problem)
            if result is None:
                result = plan_greedy(problem)
            return {
                sid: [float(w) / VOLTAGE]
                for sid, w in zip(result.session_ids, result.power_w[:, 0], strict=True)
            }

    return Algo()


@dataclass
class Figures:
    name: str
    delivered_pct: float
    peak_kw: float
    cost: float
    valley_pct: float
    seconds: float
    calls: int
    per_call_ms: float


def simulate(
    site: Site,
    sessions: Sequence[Session],
    algo: Any,
    name: str,
    start: datetime,
    period_min: float,
) -> Figures:
    from acnportal import acnsim

    queue, _ = events(site, sessions, period_min)
    sim = acnsim.Simulator(network(site), algo, queue, start, period=period_min, verbose=False)
    began = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - began
    power_kw = np.asarray(acnsim.aggregate_power(sim))
    hours = period_min / 60.0
    delivered = float(power_kw.sum() * hours)
    cost = valley = 0.0
    for t, kw in enumerate(power_kw):
        at = start + timedelta(minutes=(t + 0.5) * period_min)
        cost += kw * hours * price_at(at)
        if TOU.class_at(at.astimezone(ZONE).time()) is PeriodClass.VALLEY:
            valley += kw * hours
    times = [stat["solve_time"] for stat in algo.solve_stats]
    return Figures(
        name,
        100.0 * float(acnsim.proportion_of_energy_delivered(sim)),
        float(power_kw.max()),
        cost,
        100.0 * valley / delivered if delivered else 0.0,
        seconds,
        len(times),
        1000 * statistics.median(times) if times else 0.0,
    )


def adaptive_charging() -> Callable[[], Any] | None:
    """acnportal's model-predictive algorithm, AdaptiveSchedulingAlgorithm, when its package
    is installed: `adacharge` (caltech-netlab/adacharge; not on PyPI, install it from its
    repository) with cvxpy. Its authors' online objective (Lee et al., "Adaptive Charging
    Networks", 2021): charge as soon as possible, then share equally; solved with Clarabel,
    cvxpy's default conic solver (ECOS, the package's default, no longer ships with cvxpy)."""
    try:
        import adacharge
    except ImportError:
        return None

    def make() -> Any:
        return adacharge.AdaptiveSchedulingAlgorithm(
            [
                adacharge.ObjectiveComponent(adacharge.quick_charge),
                adacharge.ObjectiveComponent(adacharge.equal_share, 1e-12),
            ],
            solver="CLARABEL",
        )

    return make


def run_site(site: Site, days: int, seed: int, period_min: float) -> list[Figures]:
    from acnportal import algorithms

    start = datetime(2026, 3, 2, tzinfo=ZONE)  # a Monday, local midnight
    sessions = draw(site.kind, days, site.per_day, seed, MAX_A * VOLTAGE / 1000)
    contenders: list[tuple[str, Callable[[], Any]]] = [
        ("acnportal Uncontrolled", algorithms.UncontrolledCharging),
        (
            "acnportal EDF",
            lambda: algorithms.SortedSchedulingAlgo(algorithms.earliest_deadline_first),
        ),
        ("acnportal LLF", lambda: algorithms.SortedSchedulingAlgo(algorithms.least_laxity_first)),
        ("chargenet LP (HiGHS)", lambda: chargenet_algorithm(plan_lp, start, site)),
        ("chargenet greedy", lambda: chargenet_algorithm(plan_greedy, start, site)),
    ]
    mpc = adaptive_charging()
    if mpc is not None:
        contenders.insert(3, ("acnportal MPC (adacharge)", mpc))
    out = []
    for name, make in contenders:
        algo = make()
        algo.max_recompute = 1  # every algorithm re-plans every period
        out.append(simulate(site, sessions, algo, name, start, period_min))
    return out


# --- one re-optimisation at scale -----------------------------------------------------------


def area_problem(sessions: int, seed: int) -> Problem:
    """An area of stations of 50 posts under feeders of 10 stations: AC 7 kW posts on one
    phase and DC 60 kW on three; energy and stay from the home/workplace curves."""
    rng = np.random.default_rng(seed)
    stations = max(1, sessions // 50)
    nodes = []
    for f in range(max(1, stations // 10)):
        nodes.append(Node(node_id=f"F{f}", limit_w=10 * 50 * 7040 * 0.3, phases=3))
    for s in range(stations):
        nodes.append(
            Node(
                node_id=f"S{s}",
                limit_w=50 * 7040 * 0.5,
                phases=3,
                parent=f"F{min(s // 10, len(nodes) - 1)}",
            )
        )
    needs = []
    for i in range(sessions):
        dc = rng.random() < 0.1
        stay = float(rng.uniform(0.5, 2.0) if dc else rng.uniform(1.0, 14.0)) * 3600
        needs.append(
            Need(
                session_id=f"x{i}",
                node=f"S{i % stations}",
                max_w=60_000.0 if dc else 7040.0,
                min_w=0.0 if dc else MIN_A * VOLTAGE,
                energy_wh=float(rng.uniform(5, 40 if dc else 30)) * 1000,
                departure_s=stay,
                phases=3 if dc else 1,
                phase=i % 3,
                arrived_s=float(rng.uniform(0, 3 * 3600)),
            )
        )
    durations = [900.0] * 4 + [3600.0] * 23
    start = datetime(2026, 3, 2, 18, tzinfo=ZONE)
    prices, at = [], start
    for d in durations:
        prices.append(price_at(at + timedelta(seconds=d / 2)))
        at += timedelta(seconds=d)
    return Problem(needs, nodes, durations, prices)


def timing(sizes: Sequence[int], runs: int) -> list[tuple[int, str, float, float]]:
    out = []
    for size in sizes:
        problem = area_problem(size, seed=size)
        solvers: list[tuple[str, Callable[[Problem], Any]]] = [
            # the baseline: every slot of the horizon its own (no slots merged)
            ("LP fine", lambda p: plan_lp(p, time_limit_s=30.0, coarsen=False)),
            ("LP (HiGHS)", lambda p: plan_lp(p, time_limit_s=30.0)),
            ("greedy", plan_greedy),
            ("plan()", plan),
        ]
        for name, solve in solvers:
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                result = solve(problem)
                times.append(time.perf_counter() - began)
                assert result is not None
            served = float(result.power_w[:, 0].sum()) / 1000
            out.append((size, f"{name} [{result.solver}]", statistics.median(times), served))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.orderly")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", type=float, default=5.0, help="simulation period, minutes")
    parser.add_argument("--quick", action="store_true", help="one day, 1,000 sessions only")
    parser.add_argument("--timing-only", action="store_true", help="only the re-optimisations")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    days = 1 if args.quick else args.days
    for site in () if args.timing_only else (CALTECH, COMPOUND):
        figures = run_site(site, days, args.seed, args.period)
        print(f"\n{site.name}: {days} day(s), period {args.period:g} min")
        print(
            f"{'algorithm':26} {'energy %':>9} {'peak kW':>8} {'cost CNY':>9} "
            f"{'vs LLF':>7} {'valley %':>9} {'ms/call':>8} {'run s':>6}"
        )
        llf = next(f for f in figures if f.name.endswith("LLF"))
        for f in figures:
            print(
                f"{f.name:26} {f.delivered_pct:9.2f} {f.peak_kw:8.1f} {f.cost:9.1f} "
                f"{100 * (f.cost / llf.cost - 1):+6.1f}% {f.valley_pct:9.1f} "
                f"{f.per_call_ms:8.2f} {f.seconds:6.1f}"
            )
    sizes = (1_000,) if args.quick else (1_000, 10_000)
    print(
        f"\nOne re-optimisation, median of {args.runs} runs "
        "(an area of 50-post stations under feeders):"
    )
    fine: dict[int, float] = {}
    for size, name, seconds, served in timing(sizes, args.runs):
        fine.setdefault(size, seconds)
        print(
            f"  {size:>6} sessions  {name:20} {seconds:7.3f} s  "
            f"{seconds / fine[size]:5.2f}× LP fine   ({served:,.0f} kW now)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
