"""Siting: the solver's answer is optimal on small cases, the greedy fallback reports its
gap, and recommended sites really close the gaps they claim."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from chargenet.analytics.planning.coverage import CoverageInput, check_all
from chargenet.analytics.planning.model import AreaPoint, StationState
from chargenet.analytics.planning.results import Status
from chargenet.analytics.planning.setcover import solve_cover
from chargenet.analytics.planning.siting import (
    Candidate,
    candidates_along_roads,
    candidates_from_areas,
    recommend,
)
from chargenet.analytics.planning.spatial import DistanceModel, Road
from chargenet.core.areas import AreaLevel
from chargenet.core.planning.rules import ALL, CoverageRule, RuleKind, StationFilter
from tests.analytics.planning.worlds import CITY, COUNTY, station, township, village


def test_set_cover_finds_the_optimum_where_greedy_does_not() -> None:
    # The classic trap: greedy takes the big set {0..3} first and then needs two more;
    # the optimum is the two halves {0,1,4} and {2,3,5}.
    covers = [[0, 1], [0, 1], [0, 2], [0, 2], [1], [2]]
    exact = solve_cover(covers, 3)
    assert exact.method == "highs" and exact.objective == 2 and exact.optimal
    assert sorted(exact.chosen) == [1, 2]
    greedy = solve_cover(covers, 3, use_highs=False)
    assert greedy.method == "greedy" and greedy.objective == 3
    assert greedy.bound == 2 and greedy.gap == pytest.approx(1 / 3)
    assert greedy.status == "asked for"  # not "highspy unavailable or failed"


def test_maximum_coverage_with_a_budget_and_uncoverable_demand() -> None:
    covers = [[0], [0], [1], [1], [1], []]
    best = solve_cover(covers, 2, budget=1)
    assert best.chosen == (1,) and best.objective == 3 and best.uncoverable == (5,)
    weighted = solve_cover(covers, 2, budget=1, weights=[10, 10, 1, 1, 1, 1])
    assert weighted.chosen == (0,) and weighted.objective == 20


RULES = [
    CoverageRule(
        id="village_distance",
        kind=RuleKind.AREA_DISTANCE,
        requirement="R20",
        source="test",
        description="villages within 10 km",
        level=AreaLevel.VILLAGE,
        max_km={2025: Decimal(10)},
    ),
    CoverageRule(
        id="township_presence",
        kind=RuleKind.AREA_PRESENCE,
        requirement="R20",
        source="test",
        description="every township",
        level=AreaLevel.TOWNSHIP,
        min_areas={2025: ALL},
    ),
    CoverageRule(
        id="road_spacing",
        kind=RuleKind.ROAD_SPACING,
        requirement="R22",
        source="test",
        description="road spacing",
        stations=StationFilter(min_dc_piles=2),
        max_gap_km={2025: Decimal(10)},
    ),
]


def _world() -> tuple[list[AreaPoint], list[StationState], list[Road]]:
    rng = np.random.default_rng(3)
    villages = [
        village(f"4502020{i // 10:02d}{i % 10:03d}", float(lon), lat=float(lat))
        for i, (lat, lon) in enumerate(
            zip(rng.uniform(0, 0.6, 60), rng.uniform(0, 0.6, 60), strict=True)
        )
    ]
    towns = [township(f"45020200{i}", 0.1 + 0.2 * i, lat=0.3) for i in range(3)]
    stations = [
        station("A", 0.1, lat=0.3, chain=("450000", CITY, COUNTY, "450202000", None)),
        station("B", 0.05, lat=0.05),
    ]
    roads = [
        Road("X1", "county", ((0.0, 0.0), (0.0, 0.6))),
        Road("X2", "county", ((0.6, 0.0), (0.6, 0.6))),
    ]
    return [*villages, *towns], stations, roads


def test_recommended_sites_close_the_gaps_they_claim() -> None:
    areas, stations, roads = _world()
    distance = DistanceModel(1.2)
    inp = CoverageInput(2025, CITY, CITY, areas, stations, roads=roads, distance=distance)
    before = {r.rule_id: r for r in check_all(inp, RULES, [])}
    assert all(r.status is Status.UNMET for r in before.values())
    candidates = candidates_from_areas(areas, [AreaLevel.VILLAGE, AreaLevel.TOWNSHIP])
    candidates += candidates_along_roads(roads, 5.0)
    plan = recommend(list(before.values()), RULES, candidates, distance)
    assert plan.cover is not None and plan.cover.optimal and not plan.uncoverable
    assert plan.fixed == sum(
        s.new_stations for r in before.values() if r.kind != "area_distance" for s in r.shortfalls
    )
    # Build what the plan says (each site as equipped as its reasons ask) and check again.
    built = [
        station(
            f"new{i}",
            s.lon,
            lat=s.lat,
            piles=s.piles,
            dc=(60_000,) * s.dc_piles,
            chain=(
                "450000",
                CITY,
                COUNTY,
                s.id.split(":")[1] if s.id.startswith("township_presence") else None,
                None,
            ),
        )
        for i, s in enumerate(plan.sites)
    ]
    after = check_all(
        CoverageInput(2025, CITY, CITY, areas, [*stations, *built], roads=roads, distance=distance),
        RULES,
        [],
    )
    assert {r.rule_id: r.status for r in after} == {r.id: Status.MET for r in RULES}


def test_a_budget_covers_as_much_as_it_can() -> None:
    areas, stations, _ = _world()
    distance = DistanceModel(1.2)
    inp = CoverageInput(2025, CITY, CITY, areas, stations, distance=distance)
    results = check_all(inp, RULES[:1], [])
    candidates = candidates_from_areas(areas, [AreaLevel.VILLAGE])
    full = recommend(results, RULES[:1], candidates, distance)
    assert full.cover is not None and full.cover.objective > 1
    one = recommend(results, RULES[:1], candidates, distance, budget=1)
    assert one.cover is not None and len(one.sites) == 1 and one.cover.optimal
    # Brute force: the best single candidate covers exactly this many gap villages.
    gaps = [s for s in results[0].shortfalls]
    reach = distance.covering(
        np.array([c.lat for c in candidates]),
        np.array([c.lon for c in candidates]),
        np.array([g.lat for g in gaps]),
        np.array([g.lon for g in gaps]),
        np.array([10_000.0] * len(gaps)),
    )
    best = max(sum(c in r for r in reach) for c in range(len(candidates)))
    assert one.cover.objective == best == len(one.sites[0].covers)


def test_user_candidates_and_unreachable_demand() -> None:
    areas = [village("450202001001", 0.0), village("450202001002", 1.0)]
    rule = RULES[0]
    inp = CoverageInput(2025, CITY, CITY, areas, [], distance=DistanceModel(1.0))
    results = check_all(inp, [rule], [])
    mine = [Candidate("user:1", "user", 0.0, 0.01, "my car park")]
    plan = recommend(results, [rule], mine, DistanceModel(1.0))
    assert [s.id for s in plan.sites] == ["site:user:1"]
    assert plan.uncoverable == ["450202001002"]
