"""Build plans over real storage (SQLite and PostgreSQL): demand from the vehicle stock,
a sized site for the village no station reaches, the multi-year plan meeting the
county's pile target with what was built, and saved scenarios compared side by side."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chargenet.app.ingest import Disposition
from chargenet.app.planning import pack_events
from chargenet.app.planning_build import UserInputs, scenario_event, side_by_side
from chargenet.bootstrap import Platform
from chargenet.core.events import Source
from chargenet.core.ids import ConnectorId, SessionId, StationId
from chargenet.core.planning.scenario import Scenario, ScenarioError
from tests.app.test_planning import NOW, city, pack_text  # noqa: F401  (the fixture)

VILLAGE = "140902100201"
WHEN = datetime(2025, 7, 15, 4, tzinfo=UTC)


@pytest.fixture
def planned(city: Platform) -> Platform:  # noqa: F811
    outcomes = city.ingestor.ingest(pack_events(pack_text(), NOW), atomic=True)
    assert {o.disposition for o in outcomes} == {Disposition.ACCEPTED}
    return city


def save(platform: Platform, **values: object) -> Disposition:
    scenario = Scenario.from_json({"area": "140900", "year": 2025, **values})
    event = scenario_event(scenario, "tester", WHEN, Source(adapter="planning"))
    return platform.ingestor.ingest([event])[0].disposition


def test_the_village_no_station_reaches_gets_a_sized_site_with_its_cost(
    planned: Platform,
) -> None:
    scenario = Scenario(name="base", area="140900", year=2025, detour=1.0, road_every_km=None)
    plan, model = planned.build.investment(scenario)
    # 40 EVs at end-2024, grown by nothing known: the stock, at the assumed public share.
    assert model.counties["140902"]["basis"] == "stock"
    assert model.total_kwh_day() == pytest.approx(40 * 7.5 * 0.35)
    [site] = plan.sites
    assert site.covers == [VILLAGE]
    assert site.size.total_ports >= 1 and site.cost > 0
    assert plan.covered_kwh_day == pytest.approx(plan.demand_kwh_day)
    assert plan.method == "highs" and plan.gap == 0


def test_the_phased_plan_meets_the_countys_pile_target_counting_what_was_built(
    planned: Platform,
) -> None:
    scenario = Scenario(name="p", area="140900", year=2025, detour=1.0, road_every_km=None)
    plan = planned.build.phases(scenario)
    assert [y.year for y in plan.years] == [2025]
    claims = {c.rule: c for c in plan.claims}
    assert claims["village_distance"].met
    piles = claims["new_piles:140902"]
    # 10 new public piles asked for 2025; 4 were built by July: the plan adds the rest.
    assert piles.required == 10 and piles.met and piles.detail.startswith("4 built")


ROAD_RULE = """
[[rules]]
id = "road_spacing"
kind = "road_spacing"
requirement = "R22"
source = "s"
description = "county roads: stations with 2 DC piles at most 30 km apart, 20 km from 2025"
road_classes = ["county"]
stations = { min_dc_piles = 2 }
max_gap_km = { 2024 = 30, 2025 = 20 }
snap_km = 1
"""
ROAD = ((38.40, 112.74), (38.85, 112.74))  # a county road 50 km north from the seat


def test_road_and_presence_rules_fix_sites_in_each_year_of_the_phased_plan(
    city: Platform,  # noqa: F811
) -> None:
    from chargenet.analytics.planning.spatial import Road

    outcomes = city.ingestor.ingest(pack_events(pack_text() + ROAD_RULE, NOW), atomic=True)
    assert {o.disposition for o in outcomes} == {Disposition.ACCEPTED}
    city.planning.use_roads([Road("X101", "county", ROAD)])
    scenario = Scenario(
        name="roads",
        area="140900",
        year=2025,
        years=(2024, 2025),
        start=2024,
        detour=1.0,
        road_every_km=None,
        time_limit=20,
    )
    plan = city.build.phases(scenario)
    assert [y.year for y in plan.years] == [2024, 2025]
    # No station stands in 2024 (S1 and S2 open in 2025): 50 km of road asks one
    # station in its middle; in 2025, 20 km asks one more in each half.
    first, second = plan.years
    assert [c for c, _ in first.sites if c.startswith("fixed:road_spacing")] != []
    assert len([c for c, _ in second.sites if c.startswith("fixed:road_spacing")]) == 2
    assert any(c.startswith("fixed:township_presence") for c, _ in second.sites)
    claims = {(c.year, c.rule): c for c in plan.claims}
    assert {(2024, "road_spacing"), (2025, "road_spacing"), (2025, "township_presence")} <= set(
        claims
    )
    assert all(c.met for c in plan.claims), [c for c in plan.claims if not c.met]
    # Again by hand: stations on the road (within 1 km of it) each year, spaced along it.
    for y in plan.years:
        gap = 30 if y.year == 2024 else 20
        where = [p for z in plan.years if z.year <= y.year for p in z.positions]
        if y.year >= 2025:
            where += [(38.40, 112.74), (38.41, 112.75)]  # S1 and S2, two DC piles each
        along = sorted(
            (lat - ROAD[0][0]) * 111.19
            for lat, lon in where
            if abs(lon - ROAD[0][1]) * 111.19 * 0.782 <= 1.0
        )
        marks = [0.0, *along, (ROAD[1][0] - ROAD[0][0]) * 111.19]
        assert max(b - a for a, b in itertools.pairwise(marks)) <= gap


def test_scenarios_are_saved_replaced_and_compared_side_by_side(planned: Platform) -> None:
    assert save(planned, name="base", detour=1.0, road_every_km=None) is Disposition.ACCEPTED
    assert save(planned, name="tight", detour=1.0, road_every_km=None, money_budget="1000") is (
        Disposition.ACCEPTED
    )
    assert save(planned, name="base", detour=1.0, road_every_km=None, growth=0.5) is (
        Disposition.ACCEPTED
    )
    saved = planned.build.saved("140900")
    assert [s.name for s, _ in saved] == ["base", "tight"]
    assert saved[0][0].growth == 0.5  # replaced, not added
    assert planned.build.saved("140981") == []
    rows = planned.build.compare([s for s, _ in saved])
    assert [r["scenario"] for r in rows] == ["base", "tight"]
    # The township rule fixes one site whatever the money: 1,000 CNY cannot pay for it.
    assert [r["sites"] for r in rows] == [1, 1]
    assert [r["over_budget"] for r in rows] == [False, True]
    assert rows[1]["money_budget"] == Decimal("1000")
    table = side_by_side(rows)
    assert {"figure", "base", "tight"} == set(table[0])
    assert next(r for r in table if r["figure"] == "over_budget") == {
        "figure": "over_budget",
        "base": False,
        "tight": True,
    }


def test_a_bad_scenario_is_refused_with_the_field_named(planned: Platform) -> None:
    with pytest.raises(ScenarioError, match="growth"):
        Scenario.from_json({"name": "x", "area": "140900", "year": 2025, "growth": 9})
    with pytest.raises(ScenarioError, match="unknown fields: colour"):
        Scenario.from_json({"name": "x", "area": "140900", "year": 2025, "colour": "red"})
    with pytest.raises(ScenarioError, match="classes"):
        Scenario.from_json({"name": "x", "area": "140900", "year": 2025, "classes": ["moon"]})
    scenario = Scenario(name="x", area="999999", year=2025)
    event = scenario_event(scenario, "t", WHEN, Source(adapter="planning"))
    assert planned.ingestor.ingest([event])[0].disposition is Disposition.REJECTED


def test_a_county_with_sessions_takes_its_demand_from_them(planned: Platform) -> None:
    from datetime import timedelta

    from chargenet.core.events import Event, SessionEnded, SessionStarted
    from tests.builders import meta

    events: list[Event] = []
    first = datetime(2025, 5, 1, 11, tzinfo=UTC)  # 19:00 in Shanghai
    for d in range(60):
        start = first + timedelta(days=d)
        sid = f"T{d}"
        events.append(
            SessionStarted(
                **meta(start),
                session_id=SessionId(sid),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            )
        )
        events.append(
            SessionEnded(
                **meta(start + timedelta(hours=1)), session_id=SessionId(sid), energy_wh=45_000
            )
        )
    outcomes = planned.ingestor.ingest(events)
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    model = planned.build.demand(Scenario(name="d", area="140900", year=2025))
    county = model.counties["140902"]
    assert county["basis"] == "observed"
    [use] = model.stations
    assert use.station_id == "S1" and use.busy_hour == 19
    assert use.sessions_day == pytest.approx(60 / 90)
    share = use.kwh_day * use.uplift / (40 * 7.5)
    assert county["public_share"] == pytest.approx(share)
    assert model.profile[19] == pytest.approx(1.0)


def test_candidates_come_from_the_registry_and_the_users_file_filtered_by_class(
    planned: Platform,
) -> None:
    from chargenet.analytics.planning.siting import Candidate

    mine = Candidate("user:P1", "petrol_station", 38.6, 112.7, "中石化 1")
    every = planned.build.candidates(
        Scenario(name="c", area="140900", year=2025, road_every_km=None),
        UserInputs(candidates=[mine]),
    )
    kinds = {c.kind for c in every}
    # S1 is a public car park, S2 a commercial car park: candidates for more ports.
    assert {"parking_lot:registry", "petrol_station", "village", "township"} <= kinds
    only = planned.build.candidates(
        Scenario(name="c", area="140900", year=2025, classes=("petrol_station",)),
        UserInputs(candidates=[mine]),
    )
    assert only == [mine]


def test_a_stations_stated_grid_connection_is_the_headroom_an_upgrade_may_use(
    planned: Platform,
) -> None:
    from datetime import date, timedelta

    from chargenet.core.events import GridConnectionStated
    from tests.builders import meta

    day = date(2025, 7, 15)
    standing = planned.build._standing("140900", day)  # the stations a plan may resize
    assert standing and all(s.headroom_kw == 0.0 for s in standing)  # none stated: none
    target = standing[0]
    drawn_w = sum(
        p.power_w
        for p in planned.build.data.piles("140900")
        if p.station_id == target.id and p.in_service(day)
    )
    stated = [
        GridConnectionStated(
            **meta(WHEN),
            station_id=StationId(target.id),
            valid_from=WHEN - timedelta(days=days),
            capacity_w=drawn_w + extra_kw * 1000,
        )
        for days, extra_kw in ((60, 150), (30, 250))  # the newer statement holds
    ]
    assert all(o.ok for o in planned.ingestor.ingest(stated))
    after = {s.id: s.headroom_kw for s in planned.build._standing("140900", day)}
    assert after[target.id] == pytest.approx(250.0)
    assert all(kw == 0.0 for sid, kw in after.items() if sid != target.id)
