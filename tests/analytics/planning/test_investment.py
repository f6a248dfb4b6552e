"""Sites, ports and money: the siting programme against every subset of candidates on
small hand-made worlds (points on the equator, 0.01° ≈ 1.11 km)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from chargenet.analytics.planning.investment import (
    CostModel,
    DemandPoint,
    Feeder,
    StationNow,
    plan_investment,
    port_cost_of,
    site_options,
)
from chargenet.analytics.planning.siting import Candidate
from chargenet.analytics.planning.sizing import ServiceLevel, mix_for, size_site
from chargenet.analytics.planning.spatial import DistanceModel
from tests.analytics.planning.worlds import km

STRAIGHT = DistanceModel(1.0)
ALL_AC = {"*": {"ac": 1.0}}


def point(i: str, lon: float, kwh: float = 50.0, radius_km: float = 10.0) -> DemandPoint:
    return DemandPoint(i, 0.0, lon, radius_km * 1000, kwh, kwh / 25 * 0.08)


POINTS = [
    point("v1", 0.00, 20),
    point("v2", 0.15, 80),
    point("v3", 0.30, 40),
    point("v4", 0.45, 300),
    point("v5", 0.60, 60),
    point("v6", 0.90, 30),
]
CANDIDATES = [
    Candidate("c1", "road", 0.0, 0.05),
    Candidate("c2", "petrol_station", 0.0, 0.20),
    Candidate("c3", "village", 0.0, 0.38),
    Candidate("c4", "parking_lot", 0.0, 0.52),
    Candidate("c5", "road", 0.0, 0.75),
    Candidate("c6", "petrol_station", 0.0, 0.85),
    Candidate("c7", "transport_hub", 0.0, 0.30),
]


def reach(c: Candidate, p: DemandPoint) -> bool:
    return km(c.lon, p.lon) * 1000 <= p.radius_m


def subsets(n: int) -> itertools.chain[tuple[int, ...]]:
    return itertools.chain.from_iterable(itertools.combinations(range(n), k) for k in range(n + 1))


def test_without_a_budget_the_plan_is_the_cheapest_set_reaching_every_village() -> None:
    costs = CostModel()
    options = site_options(CANDIDATES, costs)
    best = min(
        sum(options[j].cost for j in s)
        for s in subsets(len(CANDIDATES))
        if all(any(reach(CANDIDATES[j], p) for j in s) for p in POINTS)
    )
    plan = plan_investment(POINTS, CANDIDATES, STRAIGHT, costs=costs)
    chosen = {s.candidate.id for s in plan.sites}
    assert plan.method == "highs" and plan.gap == 0
    assert sum(o.cost for o in options if o.candidate.id in chosen) == best
    assert not plan.uncovered
    # Every village is assigned to a site that reaches it, each once.
    assigned = [c for s in plan.sites for c in s.covers]
    assert sorted(assigned) == sorted(p.id for p in POINTS)
    by_id = {p.id: p for p in POINTS}
    assert all(reach(s.candidate, by_id[v]) for s in plan.sites for v in s.covers)
    # The greedy baseline is never cheaper than the proven optimum.
    greedy = plan_investment(POINTS, CANDIDATES, STRAIGHT, costs=costs, use_highs=False)
    assert (
        sum(o.cost for o in options if o.candidate.id in {s.candidate.id for s in greedy.sites})
        >= best
    )


def test_sites_are_sized_for_the_demand_they_receive() -> None:
    plan = plan_investment(POINTS, CANDIDATES, STRAIGHT)
    busiest = max(plan.sites, key=lambda s: s.demand_kwh_day)
    quietest = min(plan.sites, key=lambda s: s.demand_kwh_day)
    assert busiest.size.total_ports > quietest.size.total_ports
    assert plan.capex == sum(s.capex for s in plan.sites)
    assert plan.total_cost >= plan.capex


def test_a_money_budget_buys_the_most_demand_it_can_reach() -> None:
    # Quiet villages and slow ports only: each site needs just its one AC port, so a
    # subset's whole cost is its sites' cost and every subset can be priced by hand.
    quiet = [DemandPoint(p.id, p.lat, p.lon, p.radius_m, p.kwh_day, 0.01) for p in POINTS]
    costs = CostModel()
    options = site_options(CANDIDATES, costs, mixes=ALL_AC)
    budget = Decimal("400000")
    relaxed = ServiceLevel(0.5, 0.9)
    # The programme also sets money aside for the ports each reached village needs.
    per_point = port_cost_of(0.01, costs, relaxed, ALL_AC)

    def reached(s: tuple[int, ...]) -> list[DemandPoint]:
        return [p for p in quiet if any(reach(CANDIDATES[j], p) for j in s)]

    best = max(
        sum(p.kwh_day for p in reached(s))
        for s in subsets(len(CANDIDATES))
        if float(sum(options[j].cost for j in s)) + per_point * len(reached(s)) <= budget
    )
    plan = plan_investment(
        quiet,
        CANDIDATES,
        STRAIGHT,
        costs=costs,
        money_budget=budget,
        level=relaxed,
        mixes=ALL_AC,
    )
    assert plan.total_cost <= budget
    assert plan.covered_kwh_day == pytest.approx(best)
    assert plan.uncovered  # not everything fits the money
    assert all(s.size.ports == {"ac": 1} for s in plan.sites)


def test_ports_beyond_the_minimum_come_out_of_the_money_for_sites() -> None:
    budget = Decimal("600000")
    plan = plan_investment(POINTS, CANDIDATES, STRAIGHT, money_budget=budget)
    assert plan.total_cost <= budget
    assert plan.sites


def test_a_site_count_caps_the_sites() -> None:
    plan = plan_investment(POINTS, CANDIDATES, STRAIGHT, max_sites=1)
    assert len(plan.sites) == 1
    best = max(sum(p.kwh_day for p in POINTS if reach(c, p)) for c in CANDIDATES)
    assert plan.covered_kwh_day == pytest.approx(best)


def test_a_feeder_without_headroom_or_upgrade_keeps_sites_off_it() -> None:
    costs = CostModel(upgrade_per_kw=None)
    free = plan_investment(POINTS, CANDIDATES, STRAIGHT, costs=costs)
    taken = free.sites[0].candidate
    # The grid company has 3 kW left at that site and offers no upgrade: no port fits.
    feeder = Feeder("F1", taken.lat, taken.lon, headroom_kw=3.0, radius_km=0.5)
    plan = plan_investment(POINTS, CANDIDATES, STRAIGHT, costs=costs, feeders=[feeder])
    assert taken.id not in {s.candidate.id for s in plan.sites}
    only_there = {p.id for p in POINTS if [c for c in CANDIDATES if reach(c, p)] == [taken]}
    assert set(plan.uncovered) == only_there
    # With an upgrade at a price, the site may go there, and the feeder says what it costs.
    priced = plan_investment(
        POINTS,
        CANDIDATES,
        STRAIGHT,
        costs=CostModel(upgrade_per_kw=Decimal("1500")),
        feeders=[feeder],
    )
    for f in priced.feeders:
        assert f.upgrade_kw == pytest.approx(max(f.load_kw - 3.0, 0.0))
        assert f.upgrade_cost == (Decimal("1500") * Decimal(str(round(f.upgrade_kw, 3)))).quantize(
            Decimal("1")
        )


def test_villages_a_station_already_reaches_need_no_new_site() -> None:
    plan = plan_investment(POINTS, CANDIDATES, STRAIGHT, existing=[(0.0, 0.45)])
    assigned = {c for s in plan.sites for c in s.covers}
    assert "v4" not in assigned  # 0.45° is v4 itself; v3 and v5 are 16.7 km away
    assert plan.covered_kwh_day == pytest.approx(sum(p.kwh_day for p in POINTS))


def test_sites_the_other_rules_fix_are_built_sized_and_counted() -> None:
    # A road rule fixes a station at 0.45° with 2 DC piles: it stands at v4 (v3 and v5
    # are 16.7 km away), and the programme plans the rest around it.
    fixed = Candidate("fixed:road:1", "road", 0.0, 0.45)
    plan = plan_investment(
        POINTS, CANDIDATES, STRAIGHT, forced=[fixed], minimum={fixed.id: {"dc": 2}}
    )
    by_id = {s.candidate.id: s for s in plan.sites}
    assert fixed.id in by_id and by_id[fixed.id].size.ports.get("dc", 0) >= 2
    assert "v4" in by_id[fixed.id].covers  # the fixed site serves the village it stands at
    assert not plan.uncovered
    # Against every subset of the free candidates, with the fixed site standing.
    options = site_options(CANDIDATES, CostModel())
    best = min(
        sum(options[j].cost for j in s)
        for s in subsets(len(CANDIDATES))
        if all(
            km(0.45, p.lon) * 1000 <= p.radius_m or any(reach(CANDIDATES[j], p) for j in s)
            for p in POINTS
        )
    )
    free_cost = sum(o.cost for o in options if o.candidate.id in by_id)
    assert free_cost == best


# Resizing standing stations ----------------------------------------------------------

BUSY = [point("b1", 0.00, 600), point("b2", 0.06, 400), point("b3", 0.50, 30)]
NEW_SITES = [
    Candidate("n1", "village", 0.0, 0.06),
    Candidate("n2", "road", 0.0, 0.03),
    Candidate("n3", "village", 0.0, 0.50),
    Candidate("n4", "petrol_station", 0.0, 0.46),
]


def standing(headroom_kw: float) -> StationNow:
    # A car park with 2 AC and 1 DC port by b1; its connection has `headroom_kw` to spare.
    return StationNow("s1", "parking_lot", 0.0, 0.0, {"ac": 2, "dc": 1}, headroom_kw, "c1")


def cheapest_by_hand(station: StationNow, costs: CostModel) -> tuple[Decimal, tuple[str, ...]]:
    """Every subset of the upgrade and the new sites: each village goes to the nearest
    chosen one within reach, each is sized for what it serves (a new site: its class
    mix with one port of each class; the upgrade: the ports its demand needs less what
    the station has), priced as the cost model says."""
    places = [
        ("upgrade:s1", station.kind, station.lon),
        *((c.id, c.kind, c.lon) for c in NEW_SITES),
    ]
    best: tuple[Decimal, tuple[str, ...]] | None = None
    for chosen in subsets(len(places)):
        served: dict[int, list[DemandPoint]] = {j: [] for j in chosen}
        ok = True
        for p in BUSY:
            near = [j for j in chosen if km(places[j][2], p.lon) * 1000 <= p.radius_m]
            if not near:
                ok = False
                break
            served[min(near, key=lambda j: abs(places[j][2] - p.lon))].append(p)
        if not ok:
            continue
        total = Decimal(0)
        for j, pts in served.items():
            peak = sum(p.peak_sessions_hour for p in pts)
            mix = mix_for(places[j][1])
            if j == 0:
                whole = size_site(peak, mix).ports
                added = {k: n - station.ports.get(k, 0) for k, n in whole.items()}
                added = {k: n for k, n in added.items() if n > 0}
                over = costs.kw(added) - station.headroom_kw
                total += (
                    (costs.upgrade_works if added else Decimal(0))
                    + (
                        costs.connection_fixed
                        + costs.connection_per_kw * Decimal(str(round(over, 3)))
                        if added and over > 0
                        else Decimal(0)
                    )
                    + costs.ports_cost(added)
                )
                continue
            size = size_site(peak, mix, minimum={k: 1 for k, v in mix.items() if v > 0})
            total += (
                costs.site_cost(places[j][1])
                + costs.connection_fixed
                + costs.connection_per_kw * Decimal(str(round(size.connection_kw, 3)))
                + costs.ports_cost(size.ports)
            )
        names = tuple(sorted(places[j][0] for j in chosen))
        if best is None or total < best[0]:
            best = (total, names)
    assert best is not None
    return best[0].quantize(Decimal("1")), best[1]


def test_a_station_short_of_ports_is_upgraded_when_that_beats_building_new() -> None:
    costs = CostModel()
    station = standing(300.0)  # room on its connection for the ports it lacks
    best, names = cheapest_by_hand(station, costs)
    assert "upgrade:s1" in names  # by hand, upgrading is the cheapest way
    plan = plan_investment(BUSY, NEW_SITES, STRAIGHT, costs=costs, stations=[station])
    assert plan.total_cost == best
    assert tuple(sorted(s.candidate.id for s in plan.sites)) == names
    up = next(s for s in plan.sites if s.upgrade_of is not None)
    assert set(up.covers) == {"b1", "b2"}
    # Ports are added on top of what stands, and no new connection is bought.
    assert up.size.ports["ac"] > 0 and up.size.ports.get("dc", 0) >= 1
    assert up.capex == costs.upgrade_works + sum(
        costs.classes[k].capex * n for k, n in up.size.ports.items()
    )
    assert plan.ports == {k: sum(s.size.ports.get(k, 0) for s in plan.sites) for k in plan.ports}


def test_an_upgrade_beyond_the_stations_connection_pays_for_more_grid() -> None:
    costs = CostModel()
    full = standing(0.0)  # its connection has no room left
    plan = plan_investment(BUSY, NEW_SITES, STRAIGHT, costs=costs, stations=[full])
    best, names = cheapest_by_hand(full, costs)
    assert plan.total_cost == best
    assert tuple(sorted(s.candidate.id for s in plan.sites)) == names
    up = next(s for s in plan.sites if s.upgrade_of is not None)
    kw = costs.kw(up.size.ports)
    assert up.capex == (
        costs.upgrade_works
        + costs.connection_fixed
        + costs.connection_per_kw * Decimal(str(round(kw, 3)))
        + sum(costs.classes[k].capex * n for k, n in up.size.ports.items())
    )


def test_a_station_with_ports_enough_serves_its_villages_as_it_is() -> None:
    roomy = StationNow("s1", "parking_lot", 0.0, 0.0, {"ac": 30, "dc": 6})
    plan = plan_investment(BUSY, NEW_SITES, STRAIGHT, stations=[roomy])
    assert all(s.upgrade_of is None for s in plan.sites)
    assert {c for s in plan.sites for c in s.covers} == {"b3"}
