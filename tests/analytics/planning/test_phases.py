"""The multi-year build plan on a small world, against every way of building its
candidates (never, or in one of the years): the cheapest discounted plan, and every
rule it claims checked again, year by year, by plain great-circle distance."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest

from chargenet.analytics.planning.investment import CostModel, site_options
from chargenet.analytics.planning.phases import Existing, PhasePlan, PhasePoint, plan_phases
from chargenet.analytics.planning.siting import Candidate
from chargenet.analytics.planning.spatial import DistanceModel
from tests.analytics.planning.worlds import km

YEARS = (2023, 2024, 2025)
RADII = {2023: 50.0, 2024: 30.0, 2025: 10.0}  # Xinzhou's village distance, km
STRAIGHT = DistanceModel(1.0)
RATE = 0.06

VILLAGES = [(f"v{i}", lon) for i, lon in enumerate((0.0, 0.12, 0.3, 0.5, 0.62, 0.95))]
CANDIDATES = [
    Candidate("c1", "village", 0.0, 0.05, area_code="A"),
    Candidate("c2", "road", 0.0, 0.25, area_code="A"),
    Candidate("c3", "petrol_station", 0.0, 0.45, area_code="B"),
    Candidate("c4", "parking_lot", 0.0, 0.6, area_code="B"),
    Candidate("c5", "road", 0.0, 0.9, area_code="B"),
    Candidate("c6", "transport_hub", 0.0, 0.33, area_code="A"),
]


def points() -> list[PhasePoint]:
    return [
        PhasePoint(v, 0.0, lon, {y: r * 1000 for y, r in RADII.items()}, "village_distance")
        for v, lon in VILLAGES
    ]


def brute_force(
    existing: list[tuple[float, int]], start: int = 2023
) -> tuple[float, dict[str, int | None]]:
    """The cheapest discounted build years over all (len(YEARS)+1)^n choices."""
    options = site_options(CANDIDATES, CostModel())
    years = [y for y in YEARS if y >= start]
    best, best_choice = math.inf, {}
    for choice in itertools.product([None, *years], repeat=len(CANDIDATES)):
        ok = True
        for y in years:
            standing = [lon for (lon, since) in existing if since <= y] + [
                c.lon for c, when in zip(CANDIDATES, choice, strict=True) if when and when <= y
            ]
            if not all(any(km(s, lon) <= RADII[y] for s in standing) for _, lon in VILLAGES):
                ok = False
                break
        if not ok:
            continue
        cost = sum(
            float(o.cost) * (1 + RATE) ** -(when - years[0])
            for o, when in zip(options, choice, strict=True)
            if when
        )
        if cost < best - 1e-6:
            best, best_choice = cost, dict(zip((c.id for c in CANDIDATES), choice, strict=True))
    return best, best_choice


def check_claims_by_hand(plan: PhasePlan, existing: list[tuple[float, int]]) -> None:
    where = {c.id: c.lon for c in CANDIDATES}
    for claim in plan.claims:
        standing = [lon for lon, since in existing if since <= claim.year] + [
            where[c] for c in plan.built_by(claim.year)
        ]
        reached = sum(any(km(s, lon) <= RADII[claim.year] for s in standing) for _, lon in VILLAGES)
        assert claim.achieved == reached
        assert claim.met == (reached == len(VILLAGES))
        assert claim.met  # the plan meets every rule it claims, every year


def test_the_phased_plan_is_the_cheapest_way_to_meet_every_years_distance() -> None:
    options = site_options(CANDIDATES, CostModel())
    plan = plan_phases(YEARS, points(), options, STRAIGHT, discount_rate=RATE)
    best, choice = brute_force([])
    assert plan.method == "highs" and plan.gap == pytest.approx(0, abs=1e-9)
    assert plan.objective == pytest.approx(best, rel=1e-9)
    check_claims_by_hand(plan, [])
    assert {c.year for c in plan.claims} == set(YEARS)
    # Building early costs more (money now is dearer): the plan builds each site as late
    # as the tightening distance allows, and 2025's 10 km needs more sites than 2023's 50.
    built_in = {c: y.year for y in plan.years for c, _ in y.sites}
    assert len(plan.built_by(2025)) > len(plan.built_by(2023)) >= 1
    assert sum(1 for v in choice.values() if v) == len(built_in)


def test_replanning_counts_what_was_actually_built() -> None:
    options = site_options(CANDIDATES, CostModel())
    # 2023 is history: a station went up at 0.55° (not a candidate) in 2023.
    actual = [(0.55, 2023)]
    plan = plan_phases(
        YEARS,
        points(),
        options,
        STRAIGHT,
        start=2024,
        existing=[Existing(0.0, lon, since) for lon, since in actual],
        discount_rate=RATE,
    )
    best, _ = brute_force(actual, start=2024)
    assert [y.year for y in plan.years] == [2024, 2025]
    assert plan.objective == pytest.approx(best, rel=1e-9)
    check_claims_by_hand(plan, actual)
    assert "c4" not in plan.built_by(2025)  # the actual station stands where c4 would


def test_county_pile_targets_are_met_each_year_with_extra_piles_where_cheaper() -> None:
    options = site_options(CANDIDATES, CostModel())
    county_of = {c.id: c.area_code for c in CANDIDATES}
    targets = {("A", 2024): 6, ("B", 2025): 3}
    plan = plan_phases(
        YEARS,
        points(),
        options,
        STRAIGHT,
        county_of=county_of,
        pile_targets=targets,
        built={("A", 2024): 2},
        discount_rate=RATE,
    )
    piles = [c for c in plan.claims if c.kind == "county_piles"]
    assert {(c.subject, c.year) for c in piles} == {("A", 2024), ("B", 2025)}
    assert all(c.met for c in piles)
    a_2024 = next(y for y in plan.years if y.year == 2024)
    planned_a = sum(n for c, n in a_2024.sites if county_of[c] == "A")
    planned_a += a_2024.extra_piles.get("A", 0)
    assert planned_a == 4  # 6 asked, 2 already built: exactly the shortfall, no more


def test_a_yearly_budget_that_cannot_pay_for_the_rules_says_so() -> None:
    options = site_options(CANDIDATES, CostModel())
    plan = plan_phases(
        YEARS,
        points(),
        options,
        STRAIGHT,
        money=dict.fromkeys(YEARS, Decimal("1000")),
        discount_rate=RATE,
    )
    assert not plan.years and plan.notes
