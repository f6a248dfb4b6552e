"""Each coverage rule on a small world whose answer is known by hand."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from chargenet.analytics.planning.coverage import CoverageInput, check_parking, check_rule
from chargenet.analytics.planning.results import Status
from chargenet.analytics.planning.spatial import DistanceModel, PointIndex, Road, RoadNetwork
from chargenet.core.areas import AreaLevel
from chargenet.core.planning.rules import (
    ALL,
    CoverageRule,
    ParkingRatio,
    RuleKind,
    StationFilter,
)
from chargenet.core.registry.model import Access, SiteCategory
from tests.analytics.planning.worlds import CITY, COUNTY, county, km, station, township, village


def rule(kind: RuleKind, **kw: object) -> CoverageRule:
    return CoverageRule(
        id=kw.pop("id", "r"),  # type: ignore[arg-type]
        kind=kind,
        requirement="R20",
        source="test",
        description="test rule",
        **kw,  # type: ignore[arg-type]
    )


def world(year: int = 2025, **kw: object) -> CoverageInput:
    kw.setdefault("areas", [])
    return CoverageInput(year=year, scope=CITY, region=CITY, distance=DistanceModel(1.0), **kw)  # type: ignore[arg-type]


def test_village_distance_uses_each_years_threshold() -> None:
    # A charger at 0°; villages 0.1° (11.1 km), 0.2° (22.2 km) and 0.4° (44.5 km) east.
    villages = [
        village("450202001001", 0.1),
        village("450202001002", 0.2),
        village("450202001003", 0.4),
    ]
    stations = [station("S", 0.0)]
    r = rule(
        RuleKind.AREA_DISTANCE,
        level=AreaLevel.VILLAGE,
        max_km={2023: Decimal(50), 2024: Decimal(30), 2025: Decimal(10)},
    )
    results = {
        y: check_rule(world(y, areas=villages, stations=stations), r)
        for y in (2022, 2023, 2024, 2025)
    }
    assert results[2022] is not None and results[2022].status is Status.NOT_IN_FORCE
    assert results[2023] is not None and results[2023].status is Status.MET
    by_2024 = results[2024]
    assert by_2024 is not None and [s.id for s in by_2024.shortfalls] == ["450202001003"]
    assert by_2024.shortfalls[0].measured == pytest.approx(km(0, 0.4), abs=0.01)
    by_2025 = results[2025]
    assert by_2025 is not None and by_2025.status is Status.UNMET
    assert by_2025.summary["within"] == 0 and len(by_2025.shortfalls) == 3
    assert by_2025.by_county == {COUNTY: {"total": 3, "met": 0}}


def test_the_detour_factor_lengthens_charging_distance() -> None:
    villages = [village("450202001001", 0.08)]  # 8.9 km as the crow flies
    r = rule(RuleKind.AREA_DISTANCE, level=AreaLevel.VILLAGE, max_km={2025: Decimal(10)})
    straight = check_rule(world(areas=villages, stations=[station("S", 0.0)]), r)
    detoured = check_rule(
        CoverageInput(2025, CITY, CITY, villages, [station("S", 0.0)], distance=DistanceModel(1.3)),
        r,
    )
    assert straight is not None and straight.status is Status.MET
    assert detoured is not None and detoured.status is Status.UNMET
    assert detoured.shortfalls[0].measured == pytest.approx(km(0, 0.08) * 1.3, abs=0.01)


def test_only_qualifying_stations_serve_and_name_suffixes_select_villages() -> None:
    villages = [
        village("450202001001", 0.05),
        village("450202001002", 0.05, name="乙社区居民委员会"),
    ]
    private = station("P", 0.05, access=Access.PRIVATE)
    public_far = station("F", 0.5)
    r = rule(
        RuleKind.AREA_DISTANCE,
        level=AreaLevel.VILLAGE,
        name_suffixes=("村委会",),
        max_km={2025: Decimal(10)},
    )
    result = check_rule(world(areas=villages, stations=[private, public_far]), r)
    assert result is not None and result.summary["points"] == 1
    assert result.shortfalls[0].measured == pytest.approx(km(0.05, 0.5), abs=0.01)


def test_zone_distance_samples_the_ring_around_the_centre() -> None:
    centre = county(lon=0.0)
    r = rule(
        RuleKind.ZONE_DISTANCE,
        centre=COUNTY,
        inner_km=Decimal(0),
        outer_km=Decimal(2),
        grid_km=Decimal(1),
        max_km={2025: Decimal("2.5")},
    )
    met = check_rule(world(areas=[], stations=[station("S", 0.0)], centres={COUNTY: centre}), r)
    assert met is not None and met.status is Status.MET and met.summary["points"] == 13
    # A charger 3 km east leaves the western edge 5 km away.
    east = station("E", 3 / km(0, 1))
    unmet = check_rule(world(areas=[], stations=[east], centres={COUNTY: centre}), r)
    assert unmet is not None and unmet.status is Status.UNMET
    assert unmet.summary["worst_km"] == pytest.approx(5.0, abs=0.05)


def test_presence_counts_areas_with_piles_and_all_lists_the_empty_ones() -> None:
    towns = [township("450202001", 0.0), township("450202002", 0.1), township("450202003", 0.2)]
    in_first = station("A", 0.0, piles=6, chain=("450000", CITY, COUNTY, "450202001", None))
    in_second = station("B", 0.1, piles=2, chain=("450000", CITY, COUNTY, "450202002", None))
    stations = [in_first, in_second]
    every = rule(RuleKind.AREA_PRESENCE, level=AreaLevel.TOWNSHIP, min_areas={2023: ALL})
    result = check_rule(world(areas=towns, stations=stations), every)
    assert result is not None and result.status is Status.UNMET
    assert [s.id for s in result.shortfalls] == ["450202003"]
    assert result.shortfalls[0].positions == ((0.0, 0.2),)
    two = rule(RuleKind.AREA_PRESENCE, level=AreaLevel.TOWNSHIP, min_areas={2023: Decimal(2)})
    met = check_rule(world(areas=towns, stations=stations), two)
    assert met is not None and met.status is Status.MET
    average = rule(RuleKind.AREA_AVERAGE, level=AreaLevel.TOWNSHIP, min_average={2025: Decimal(3)})
    avg = check_rule(world(areas=towns, stations=stations), average)
    assert avg is not None and avg.status is Status.UNMET  # 8 piles / 3 townships = 2.67
    assert avg.summary["average"] == pytest.approx(2.67) and "1 more" in avg.needs


def test_area_minimum_needs_enough_centralized_stations_and_piles() -> None:
    r = rule(
        RuleKind.AREA_MINIMUM,
        level=AreaLevel.COUNTY,
        stations=StationFilter(min_piles=4),
        min_stations={2025: Decimal(2)},
        min_piles={2025: Decimal(30)},
    )
    small = station("small", 0.0, piles=3)  # not centralized: fewer than 4 piles
    big = station("big", 0.0, piles=20)
    result = check_rule(world(areas=[county()], stations=[small, big]), r)
    assert result is not None and result.status is Status.UNMET
    gap = result.shortfalls[0]
    assert gap.measured == 1 and gap.new_stations == 1 and gap.piles_each == 10
    enough = [big, station("big2", 0.01, piles=10)]
    met = check_rule(world(areas=[county()], stations=enough), r)
    assert met is not None and met.status is Status.MET


ROAD = Road("X001", "county", ((0.0, 0.0), (0.0, 0.4)))  # 44.48 km along the equator


def test_road_spacing_finds_the_largest_gap_between_stations_with_two_dc_piles() -> None:
    r = rule(
        RuleKind.ROAD_SPACING,
        road_classes=("county",),
        stations=StationFilter(min_dc_piles=2),
        max_gap_km={2025: Decimal(10)},
        snap_km=Decimal(1),
    )
    on_road = [station(f"S{i}", lon, lat=0.002) for i, lon in enumerate((0.0, 0.08, 0.16, 0.4))]
    one_dc = station("weak", 0.25, dc=(60_000,))  # on the road, but only one DC pile
    far = station("far", 0.3, lat=0.05)  # 5.6 km off the road
    result = check_rule(world(stations=[*on_road, one_dc, far], roads=[ROAD]), r)
    assert result is not None and result.status is Status.UNMET
    [gap] = result.shortfalls
    assert gap.measured == pytest.approx(km(0.16, 0.4), abs=0.05)  # 26.7 km from S2 to S3
    assert gap.new_stations == 2  # ⌈26.7 / 10⌉ − 1
    assert result.summary["largest_gap_km"] == pytest.approx(km(0.16, 0.4), abs=0.05)
    assert result.summary["stations_on_roads"] == 4
    # The new stations, evenly spaced, bring every gap within 10 km.
    added = [station(f"N{i}", lon) for i, (lat, lon) in enumerate(gap.positions)]
    again = check_rule(world(stations=[*on_road, *added], roads=[ROAD]), r)
    assert again is not None and again.status is Status.MET


def test_road_spacing_is_not_checkable_without_roads_of_the_class() -> None:
    r = rule(RuleKind.ROAD_SPACING, road_classes=("township",), max_gap_km={2025: Decimal(10)})
    result = check_rule(world(stations=[], roads=[ROAD]), r)
    assert result is not None and result.status is Status.NOT_CHECKABLE


def test_site_rules_count_share_and_equipment() -> None:
    sa = SiteCategory.HIGHWAY_SERVICE_AREA
    fast = station("fast", 0.0, category=sa, dc=(160_000,), piles=2)
    slow = station("slow", 0.1, category=sa, dc=(), piles=2)
    count = rule(
        RuleKind.SITE_COUNT, stations=StationFilter(categories=(sa,)), min_sites={2023: Decimal(3)}
    )
    result = check_rule(world(stations=[fast, slow]), count)
    assert result is not None and result.status is Status.UNMET and "1 more" in result.needs
    share = rule(
        RuleKind.SITE_SHARE,
        stations=StationFilter(categories=(sa,), min_dc_piles=1),
        expected_sites=4,
        min_share={2024: Decimal("0.5")},
    )
    shared = check_rule(world(stations=[fast, slow]), share)
    assert shared is not None and shared.summary["share"] == 0.25  # 1 of the plan's 4 sites
    assert shared.status is Status.UNMET and [s.id for s in shared.shortfalls] == ["slow"]
    scenic = SiteCategory.SCENIC_SPOT
    equip = rule(
        RuleKind.SITE_EQUIPMENT,
        stations=StationFilter(access=(), categories=(scenic,), min_dc_piles=2),
        from_year={2023: Decimal(1)},
    )
    spots = [
        station("ok", 0.0, category=scenic),
        station("bad", 0.1, category=scenic, dc=(60_000,)),
    ]
    equipped = check_rule(world(stations=spots), equip)
    assert equipped is not None and [s.id for s in equipped.shortfalls] == ["bad"]
    # City-wide counts are not checked for a county alone.
    assert check_rule(CoverageInput(2025, COUNTY, CITY, [], [fast]), count) is None


def test_parking_ratio_per_site_category_and_scenic_grade() -> None:
    ratio = ParkingRatio(
        id="scenic_4a",
        categories=(SiteCategory.SCENIC_SPOT,),
        min_share={2025: Decimal("0.3")},
        requirement="R24",
        source="test",
        scenic_grades=(4, 5),
    )
    spots = [
        station("4a-ok", 0, category=SiteCategory.SCENIC_SPOT, grade=4, parking=100, charging=30),
        station("5a-low", 0, category=SiteCategory.SCENIC_SPOT, grade=5, parking=100, charging=10),
        station("3a", 0, category=SiteCategory.SCENIC_SPOT, grade=3, parking=100, charging=1),
    ]
    result = check_parking(spots, ratio, 2025)
    assert result.summary["sites"] == 2 and [s.id for s in result.shortfalls] == ["5a-low"]
    assert result.shortfalls[0].needs.startswith("20 more charging spaces")
    assert check_parking(spots, ratio, 2024).status is Status.NOT_IN_FORCE
    unknown = [station("x", 0, category=SiteCategory.SCENIC_SPOT, grade=4)]
    assert check_parking(unknown, ratio, 2025).status is Status.NOT_CHECKABLE


def test_the_kd_tree_agrees_with_brute_force_great_circle_distances() -> None:
    rng = np.random.default_rng(7)
    lats, lons = 38 + rng.random(300), 112 + rng.random(300)
    qlat, qlon = 38 + rng.random(50), 112 + rng.random(50)
    dist, _ = PointIndex(lats, lons).nearest(qlat, qlon)
    from chargenet.kit.geo import haversine_m

    brute = [
        min(haversine_m(a, b, c, d) for c, d in zip(lats, lons, strict=True))
        for a, b in zip(qlat, qlon, strict=True)
    ]
    assert dist == pytest.approx(brute, rel=1e-9, abs=1e-3)


def test_road_network_distance_follows_the_roads() -> None:
    # An L-shaped road: east 0.1° then north 0.1°. A village at the corner's far end is
    # 15.7 km away in a straight line but 22.2 km along the road.
    road = Road("X", "county", ((0.0, 0.0), (0.0, 0.1), (0.1, 0.1)))
    network = RoadNetwork([road])
    stations = [station("S", 0.0)]
    villages = [village("450202001001", 0.1, lat=0.1)]
    r = rule(RuleKind.AREA_DISTANCE, level=AreaLevel.VILLAGE, max_km={2025: Decimal(20)})
    straight = check_rule(world(areas=villages, stations=stations), r)
    along = check_rule(
        CoverageInput(2025, CITY, CITY, villages, stations, distance=DistanceModel(1.0, network)), r
    )
    assert straight is not None and straight.status is Status.MET
    assert along is not None and along.status is Status.UNMET
    assert along.shortfalls[0].measured == pytest.approx(2 * km(0, 0.1), abs=0.02)
