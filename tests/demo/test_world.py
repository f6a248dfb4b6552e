"""The demo city: real names and targets, generated equipment, consistent with the plans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerRegistered, Event
from chargenet.demo.world import XINZHOU, build_world, load_places

NOW = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> list[Event]:
    return build_world(seed=2023, now=NOW)


@pytest.fixture(scope="module")
def city(world: list[Event], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.db"
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous="OFF"))
    outcomes = []
    for start in range(0, len(world), 5_000):
        outcomes += platform.ingestor.ingest(world[start : start + 5_000])
    assert Counter(o.disposition for o in outcomes) == {Disposition.ACCEPTED: len(world)}
    yield platform
    platform.close()


def test_the_world_is_the_same_for_the_same_seed(world: list[Event]) -> None:
    again = build_world(seed=2023, now=NOW)
    assert [e.event_id for e in again] == [e.event_id for e in world]
    assert [e.event_id for e in build_world(seed=7, now=NOW)] != [e.event_id for e in world]


def test_xinzhou_has_its_fourteen_counties_with_townships_and_villages() -> None:
    places = load_places()
    counties = [p for p in places.values() if p.parent == XINZHOU and p.level == "county"]
    assert len(counties) == 14
    assert {"忻府区", "原平市", "偏关县"} <= {c.name_zh for c in counties}
    townships = [p for p in places.values() if p.level == "township" and p.code.startswith("1409")]
    villages = [p for p in places.values() if p.level == "village" and p.code.startswith("1409")]
    assert len(townships) > 150 and len(villages) > 2_600


def test_the_end_2022_baseline_is_about_720_piles(city: Platform) -> None:
    piles = city.read.pile_count(area_code=XINZHOU, on=date(2022, 12, 31))
    assert 700 <= piles.total <= 760  # R10: 720 at end-2022


def test_the_plan_targets_are_stored_as_the_seed_gives_them(city: Platform) -> None:
    targets = [
        t
        for t in city.read.targets()
        if t["metric"] == "new_public_piles" and t["area_code"] != XINZHOU
    ]
    by_year: Counter[int] = Counter()
    for t in targets:
        by_year[t["year"]] += int(t["value"])
    # The 15th unit of the table (五台山风景区) has no GB/T 2260 code: the Xinzhou policy
    # pack registers it under its NBS statistical code 140971, so the whole table is kept.
    assert by_year == {2023: 1_654, 2024: 1_617, 2025: 2_158}
    city_targets = {
        t["year"]: t["value"] for t in city.read.targets(XINZHOU) if t["metric"] == "public_piles"
    }
    assert city_targets[2025] == Decimal(6000)


def test_counties_are_both_ahead_of_and_behind_plan(city: Platform) -> None:
    ahead = behind = 0
    for target in city.read.targets():
        if target["metric"] != "new_public_piles" or target["year"] != 2025:
            continue
        built = (
            city.read.pile_count(area_code=target["area_code"], on=date(2025, 12, 31)).public
            - city.read.pile_count(area_code=target["area_code"], on=date(2024, 12, 31)).public
        )
        ahead += built >= target["value"]
        behind += built < target["value"]
    assert ahead >= 2 and behind >= 2


def test_household_sockets_are_registered_but_not_counted_as_piles(world: list[Event]) -> None:
    powers = [
        c.max_power_w
        for e in world
        if isinstance(e, ChargerRegistered)
        for evse in e.charger.evses
        for c in evse.connectors
    ]
    assert any(p <= 2_200 for p in powers)


def test_one_xinzhou_service_area_still_has_no_charger(city: Platform) -> None:
    _, total = city.read.stations(area_code=XINZHOU, category="highway_service_area")
    assert total == 17  # of 18 service areas (R23)


def test_swap_stations_are_in_the_same_registry(city: Platform) -> None:
    rows, total = city.read.swap_stations(area_code=XINZHOU)
    assert total == 4
    assert {t for r in rows for t in r["vehicle_types"]} >= {"mining", "heavy_truck", "taxi"}


def test_the_first_morning_has_a_month_of_history(city: Platform) -> None:
    """The dashboard's 30-day figures need a past: uptime near what real networks show,
    operators that differ, repairs, sessions, and zombie piles of every everyday kind."""
    from datetime import timedelta

    from chargenet.app.supervision_ports import Scope

    rows = city.supervision.uptime(Scope(area=XINZHOU), NOW - timedelta(days=30), NOW, "operator")
    uptimes = [r["nevi_uptime"] for r in rows]
    assert len(uptimes) >= 4 and all(90 < u < 99.9 for u in uptimes)
    assert max(uptimes) - min(uptimes) > 1  # scorecards have something to rank
    assert all(r["faulted_hours"] > 0 and r["offline_hours"] > 0 for r in rows)
    sessions, total = city.read.sessions(limit=1)
    assert total > 5_000 and sessions[0]["cost_amount"] is not None
    found = {
        rule
        for step in city.supervision.zombie_plan(NOW)
        if step.finding is not None
        for rule in step.finding.rules
    }
    assert {r.value for r in found} >= {"never_connected", "idle_available", "long_down"}
