"""R20–R25 coverage checks and R24 parking-space ratios over the stations in service on a
day. Each rule reports its status, a summary, and every shortfall with what it would take.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from chargenet.analytics.planning.model import AreaPoint, StationState
from chargenet.analytics.planning.results import RuleResult, Shortfall, Status
from chargenet.analytics.planning.roads import road_spacing
from chargenet.analytics.planning.spatial import DistanceModel, Road
from chargenet.core.areas import AreaLevel
from chargenet.core.planning.rules import ALL, CoverageRule, ParkingRatio, RuleKind, in_force
from chargenet.kit.geo import EARTH_RADIUS_M


@dataclass
class CoverageInput:
    """Everything a check needs. `areas` are the areas to check (inside the requested
    area); `stations` are every station in service in the pack's region, since a charger
    across a county border still serves a village near it."""

    year: int
    scope: str  # the area checked (a city, or one county in it)
    region: str  # the pack's region; city-wide counts are checked only when scope == region
    areas: Sequence[AreaPoint]
    stations: Sequence[StationState]
    centres: dict[str, AreaPoint] = field(default_factory=dict)  # zone centres by code
    roads: Sequence[Road] = ()
    distance: DistanceModel = field(default_factory=DistanceModel)
    skip_areas: frozenset[str] = frozenset()  # planning units without territory


def _km(metres: float) -> float:
    return round(metres / 1000.0, 3)


def _base(rule: CoverageRule, year: int, status: Status) -> RuleResult:
    return RuleResult(
        rule_id=rule.id,
        kind=rule.kind.value,
        requirement=rule.requirement,
        source=rule.source,
        description=rule.description,
        year=year,
        status=status,
        assumption=rule.assumption,
    )


def _areas(inp: CoverageInput, rule: CoverageRule) -> list[AreaPoint]:
    return [
        a
        for a in inp.areas
        if a.level is rule.level and a.named(rule.name_suffixes) and a.code not in inp.skip_areas
    ]


def _servers(inp: CoverageInput, rule: CoverageRule) -> list[StationState]:
    return [s for s in inp.stations if s.qualifies(rule.stations)]


def _county_of(area: AreaPoint) -> str | None:
    return area.code if area.level is AreaLevel.COUNTY else area.county


def _tally(by_county: dict[str, dict[str, int]], county: str | None, ok: bool) -> None:
    row = by_county.setdefault(county or "", {"total": 0, "met": 0})
    row["total"] += 1
    row["met"] += ok


def _distance_check(
    inp: CoverageInput,
    rule: CoverageRule,
    result: RuleResult,
    points: list[tuple[str, str, float, float, str | None]],
    limit_km: Decimal,
) -> RuleResult:
    servers = _servers(inp, rule)
    limit = float(limit_km) * 1000.0
    if not points:
        result.status = Status.NOT_CHECKABLE
        result.needs = "no points to check (areas without positions, or none in scope)"
        return result
    lats = np.array([p[2] for p in points])
    lons = np.array([p[3] for p in points])
    dist = inp.distance.nearest(
        lats,
        lons,
        np.array([s.site.lat for s in servers]),
        np.array([s.site.lon for s in servers]),
    )
    by_county: dict[str, dict[str, int]] = {}
    for (code, name, lat, lon, county), d in zip(points, dist.tolist(), strict=True):
        ok = d <= limit
        _tally(by_county, county, ok)
        if not ok:
            near = "none in the region" if math.isinf(d) else f"nearest is {_km(d)} km"
            result.shortfalls.append(
                Shortfall(
                    kind="area" if result.kind == RuleKind.AREA_DISTANCE.value else "point",
                    id=code,
                    name=name,
                    needs=f"a qualifying charger within {limit_km} km ({near})",
                    lat=lat,
                    lon=lon,
                    measured=None if math.isinf(d) else _km(d),
                    required=float(limit_km),
                    area_code=county,
                    new_stations=1,
                )
            )
    finite = dist[np.isfinite(dist)]
    result.summary = {
        "points": len(points),
        "within": len(points) - len(result.shortfalls),
        "max_km": float(limit_km),
        "worst_km": _km(float(finite.max())) if len(finite) else None,
        "distance": inp.distance.describe(),
        "stations": rule.stations.describe(),
    }
    result.by_county = {k: v for k, v in by_county.items() if k}
    result.status = Status.MET if not result.shortfalls else Status.UNMET
    if result.shortfalls:
        result.needs = (
            f"{len(result.shortfalls)} of {len(points)} points are farther than {limit_km} km "
            "from a qualifying charger; see the siting recommendation for the fewest new stations"
        )
    return result


def _zone_points(
    centre: AreaPoint, inner_km: float, outer_km: float, step_km: float
) -> list[tuple[str, str, float, float, str | None]]:
    """A square grid of points in the ring inner_km ≤ r ≤ outer_km around the centre."""
    assert centre.lat is not None and centre.lon is not None
    steps = math.floor(outer_km / step_km)
    out: list[tuple[str, str, float, float, str | None]] = []
    dlat = step_km * 1000.0 / (math.pi * EARTH_RADIUS_M / 180.0)
    dlon = dlat / math.cos(math.radians(centre.lat))
    for i in range(-steps, steps + 1):
        for j in range(-steps, steps + 1):
            r = math.hypot(i, j) * step_km
            if inner_km <= r <= outer_km:
                lat = round(centre.lat + i * dlat, 6)
                lon = round(centre.lon + j * dlon, 6)
                out.append(
                    (
                        f"{centre.code}@{i},{j}",
                        f"{r:.1f} km from {centre.name_zh}",
                        lat,
                        lon,
                        centre.county or centre.code,
                    )
                )
    return out


def _presence(inp: CoverageInput, rule: CoverageRule, result: RuleResult) -> RuleResult:
    areas = _areas(inp, rule)
    servers = _servers(inp, rule)
    piles: Counter[str] = Counter()
    for s in servers:
        for code in s.site.chain:
            if code:
                piles[code] += s.piles
    by_county: dict[str, dict[str, int]] = {}
    missing = []
    for a in areas:
        ok = piles[a.code] > 0
        _tally(by_county, _county_of(a), ok)
        row = by_county[_county_of(a) or ""]
        row["piles"] = row.get("piles", 0) + piles[a.code]
        if not ok:
            missing.append(a)
    covered = len(areas) - len(missing)
    result.by_county = {k: v for k, v in by_county.items() if k}
    if result.kind == RuleKind.AREA_AVERAGE.value:
        required = in_force(rule.min_average, result.year)
        assert required is not None
        total = sum(piles[a.code] for a in areas)
        average = total / len(areas) if areas else 0.0
        result.summary = {
            "areas": len(areas),
            "piles": total,
            "average": round(average, 2),
            "min_average": float(required),
        }
        result.status = Status.MET if areas and average >= float(required) else Status.UNMET
        if result.status is Status.UNMET:
            more = math.ceil(float(required) * len(areas) - total)
            result.needs = (
                f"{more} more qualifying piles in {rule.level.value if rule.level else ''} areas"
            )
            result.shortfalls.append(
                Shortfall(
                    kind="count",
                    id=rule.id,
                    name=rule.description,
                    needs=result.needs,
                    measured=round(average, 2),
                    required=float(required),
                )
            )
        return result
    required = in_force(rule.min_areas, result.year)
    assert required is not None
    need = len(areas) if required == ALL else int(required)
    result.summary = {
        "areas": len(areas),
        "with_piles": covered,
        "required": need,
        "stations": rule.stations.describe(),
    }
    result.status = Status.MET if covered >= need else Status.UNMET
    if result.status is Status.UNMET:
        if required == ALL:
            for a in missing:
                result.shortfalls.append(
                    Shortfall(
                        kind="area",
                        id=a.code,
                        name=a.name_zh,
                        needs="a qualifying pile in the area",
                        lat=a.lat,
                        lon=a.lon,
                        measured=0,
                        required=1,
                        area_code=_county_of(a),
                        new_stations=1,
                        positions=((a.lat, a.lon),)
                        if a.lat is not None and a.lon is not None
                        else (),
                    )
                )
            result.needs = f"{len(missing)} areas have no qualifying pile: one station at each"
        else:
            result.needs = (
                f"{need - covered} more areas need a qualifying pile ({covered} of {need})"
            )
            result.shortfalls.append(
                Shortfall(
                    kind="count",
                    id=rule.id,
                    name=rule.description,
                    needs=result.needs,
                    measured=covered,
                    required=need,
                )
            )
    return result


def _minimum(inp: CoverageInput, rule: CoverageRule, result: RuleResult) -> RuleResult:
    min_stations = in_force(rule.min_stations, result.year) or Decimal(0)
    min_piles = in_force(rule.min_piles, result.year) or Decimal(0)
    servers = _servers(inp, rule)
    areas = _areas(inp, rule)
    by_county: dict[str, dict[str, int]] = {}
    for a in areas:
        mine = [s for s in servers if s.site.in_area(a.code)]
        count, piles = len(mine), sum(s.piles for s in mine)
        ok = count >= min_stations and piles >= min_piles
        _tally(by_county, _county_of(a), ok)
        if ok:
            continue
        more_stations = max(0, int(min_stations) - count)
        more_piles = max(0, int(min_piles) - piles)
        new = max(more_stations, 1 if more_piles else 0)
        per_station = max(rule.stations.min_piles, math.ceil(more_piles / new) if new else 0)
        needs = []
        if more_stations:
            needs.append(f"{more_stations} more {rule.stations.describe()}")
        if more_piles:
            needs.append(f"{more_piles} more piles in them")
        result.shortfalls.append(
            Shortfall(
                kind="area",
                id=a.code,
                name=a.name_zh,
                needs="; ".join(needs)
                + (f" (e.g. {new} new station(s) of {per_station} piles)" if new else ""),
                lat=a.lat,
                lon=a.lon,
                measured=count,
                required=float(min_stations),
                area_code=_county_of(a),
                new_stations=new,
                piles_each=per_station,
                positions=((a.lat, a.lon),) * new
                if a.lat is not None and a.lon is not None
                else (),
            )
        )
    result.by_county = {k: v for k, v in by_county.items() if k}
    result.summary = {
        "areas": len(areas),
        "meeting": len(areas) - len(result.shortfalls),
        "min_stations": float(min_stations),
        "min_piles": float(min_piles),
        "stations": rule.stations.describe(),
    }
    result.status = Status.MET if not result.shortfalls else Status.UNMET
    if result.shortfalls:
        result.needs = f"{len(result.shortfalls)} areas short of the minimum"
    return result


def _roads(inp: CoverageInput, rule: CoverageRule, result: RuleResult) -> RuleResult:
    limit = in_force(rule.max_gap_km, result.year)
    assert limit is not None
    roads = [r for r in inp.roads if not rule.road_classes or r.road_class in rule.road_classes]
    if not roads:
        result.status = Status.NOT_CHECKABLE
        classes = ", ".join(rule.road_classes) or "any"
        result.needs = f"no roads of class {classes} are loaded (chargenet plan --roads FILE)"
        return result
    servers = _servers(inp, rule)
    spacing = road_spacing(
        roads,
        [s.site.station_id for s in servers],
        [s.site.lat for s in servers],
        [s.site.lon for s in servers],
        float(rule.snap_km) * 1000.0,
        float(limit) * 1000.0,
        rule.include_road_ends,
    )
    for road in spacing:
        for gap in road.gaps:
            ends = f"{gap.from_station or 'road start'} → {gap.to_station or 'road end'}"
            result.shortfalls.append(
                Shortfall(
                    kind="road_gap",
                    id=f"{gap.road}@{gap.start_km}-{gap.end_km}",
                    name=f"{gap.road} km {gap.start_km}–{gap.end_km} ({ends})",
                    needs=f"{gap.new_stations} new {rule.stations.describe()} on this stretch",
                    lat=gap.positions[0][0] if gap.positions else None,
                    lon=gap.positions[0][1] if gap.positions else None,
                    measured=round(gap.length_km, 3),
                    required=float(limit),
                    new_stations=gap.new_stations,
                    positions=tuple((p[0], p[1]) for p in gap.positions),
                )
            )
    result.summary = {
        "roads": len(roads),
        "length_km": round(sum(r.length_km for r in spacing), 1),
        "largest_gap_km": max((r.largest_gap_km for r in spacing), default=0.0),
        "max_gap_km": float(limit),
        "stations_on_roads": len({sid for r in spacing for sid, _ in r.stations}),
        "stations": rule.stations.describe(),
    }
    result.status = Status.MET if not result.shortfalls else Status.UNMET
    if result.shortfalls:
        total = sum(s.new_stations for s in result.shortfalls)
        result.needs = (
            f"{len(result.shortfalls)} stretches too long: {total} new stations close them"
        )
    return result


def _sites(inp: CoverageInput, rule: CoverageRule, result: RuleResult) -> RuleResult:
    f = rule.stations
    admitted = [s for s in inp.stations if s.admitted(f)]
    qualified = [s for s in admitted if s.qualifies(f)]
    if rule.kind is RuleKind.SITE_COUNT:
        required = in_force(rule.min_sites, result.year)
        assert required is not None
        result.summary = {
            "sites": len(qualified),
            "required": int(required),
            "stations": f.describe(),
        }
        result.status = Status.MET if len(qualified) >= required else Status.UNMET
        if result.status is Status.UNMET:
            result.needs = f"{int(required) - len(qualified)} more {f.describe()}"
            result.shortfalls.append(
                Shortfall(
                    kind="count",
                    id=rule.id,
                    name=rule.description,
                    needs=result.needs,
                    measured=len(qualified),
                    required=int(required),
                )
            )
        return result
    if rule.kind is RuleKind.SITE_SHARE:
        required = in_force(rule.min_share, result.year)
        assert required is not None
        sites = max(len(admitted), rule.expected_sites or 0)
        share = len(qualified) / sites if sites else 0.0
        result.summary = {
            "sites": sites,
            "registered": len(admitted),
            "qualifying": len(qualified),
            "share": round(share, 4),
            "min_share": float(required),
            "stations": f.describe(),
        }
        result.status = Status.MET if sites and share >= float(required) else Status.UNMET
        if result.status is Status.UNMET:
            more = math.ceil(float(required) * sites - 1e-9) - len(qualified)
            result.needs = f"{more} more sites equipped as {f.describe()}"
            missing = sites - len(admitted)
            if missing > 0:
                result.needs += f" ({missing} of the plan's {sites} sites are not in the registry)"
            for s in admitted:
                if not s.qualifies(f):
                    result.shortfalls.append(_station_shortfall(s, f))
        return result
    # SITE_EQUIPMENT: every admitted station must qualify.
    for s in admitted:
        if not s.qualifies(f):
            result.shortfalls.append(_station_shortfall(s, f))
    result.summary = {
        "stations": len(admitted),
        "equipped": len(qualified),
        "requirement": f.describe(),
    }
    result.status = Status.MET if not result.shortfalls else Status.UNMET
    if result.shortfalls:
        result.needs = f"{len(result.shortfalls)} stations need more (DC) piles"
    return result


def _station_shortfall(s: StationState, f: object) -> Shortfall:
    from chargenet.core.planning.rules import StationFilter

    assert isinstance(f, StationFilter)
    lacking = []
    if s.piles < f.min_piles:
        lacking.append(f"{f.min_piles - s.piles} more piles")
    have_dc = s.dc_at_least(f.min_dc_power_w)
    if have_dc < f.min_dc_piles:
        power = f" of ≥ {f.min_dc_power_w // 1000} kW" if f.min_dc_power_w else ""
        lacking.append(f"{f.min_dc_piles - have_dc} more DC piles{power}")
    return Shortfall(
        kind="station",
        id=s.site.station_id,
        name=s.site.name,
        needs="; ".join(lacking),
        lat=s.site.lat,
        lon=s.site.lon,
        measured=have_dc,
        required=f.min_dc_piles,
        area_code=s.site.chain[2],
    )


CITY_WIDE = (RuleKind.ROAD_SPACING, RuleKind.SITE_COUNT, RuleKind.SITE_SHARE)


def check_rule(inp: CoverageInput, rule: CoverageRule) -> RuleResult | None:
    """One rule for one year; None when the rule is city-wide and the scope is smaller."""
    if rule.kind in CITY_WIDE and inp.scope != inp.region:
        return None
    first = rule.first_year()
    if first is None or inp.year < first:
        result = _base(rule, inp.year, Status.NOT_IN_FORCE)
        result.needs = f"in force from {first}"
        return result
    result = _base(rule, inp.year, Status.UNMET)
    if rule.kind is RuleKind.AREA_DISTANCE:
        limit = in_force(rule.max_km, inp.year)
        assert limit is not None
        points: list[tuple[str, str, float, float, str | None]] = [
            (a.code, a.name_zh, a.lat, a.lon, _county_of(a))
            for a in _areas(inp, rule)
            if a.lat is not None and a.lon is not None
        ]
        return _distance_check(inp, rule, result, points, limit)
    if rule.kind is RuleKind.ZONE_DISTANCE:
        limit = in_force(rule.max_km, inp.year)
        assert limit is not None
        centre = inp.centres.get(rule.centre or "")
        if centre is None or centre.lat is None:
            result.status = Status.NOT_CHECKABLE
            result.needs = f"the centre area {rule.centre} has no position"
            return result
        if inp.scope not in (inp.region, centre.code, centre.county):
            return None
        points = _zone_points(
            centre, float(rule.inner_km), float(rule.outer_km), float(rule.grid_km)
        )
        return _distance_check(inp, rule, result, points, limit)
    if rule.kind in (RuleKind.AREA_PRESENCE, RuleKind.AREA_AVERAGE):
        return _presence(inp, rule, result)
    if rule.kind is RuleKind.AREA_MINIMUM:
        return _minimum(inp, rule, result)
    if rule.kind is RuleKind.ROAD_SPACING:
        return _roads(inp, rule, result)
    return _sites(inp, rule, result)


def check_parking(stations: Sequence[StationState], ratio: ParkingRatio, year: int) -> RuleResult:
    """R24: each station of the categories must have the share of spaces with chargers."""
    result = RuleResult(
        rule_id=f"parking.{ratio.id}",
        kind="parking_ratio",
        requirement=ratio.requirement,
        source=ratio.source,
        description=ratio.description,
        year=year,
        status=Status.UNMET,
    )
    required = in_force(ratio.min_share, year)
    if required is None:
        result.status = Status.NOT_IN_FORCE
        first = min(ratio.min_share)
        result.needs = f"in force from {first}"
        return result
    sites = [s for s in stations if ratio.applies_to(s.site.category, s.site.scenic_grade)]
    known = [s for s in sites if s.site.parking_spaces]
    for s in known:
        spaces = s.site.parking_spaces or 0
        charging = (
            s.site.charging_spaces if s.site.charging_spaces is not None else min(s.piles, spaces)
        )
        need = math.ceil(float(required) * spaces - 1e-9)
        if charging < need:
            result.shortfalls.append(
                Shortfall(
                    kind="station",
                    id=s.site.station_id,
                    name=s.site.name,
                    needs=f"{need - charging} more charging spaces "
                    f"({charging} of {spaces}, needs {float(required):.0%})",
                    lat=s.site.lat,
                    lon=s.site.lon,
                    measured=round(charging / spaces, 4),
                    required=float(required),
                    area_code=s.site.chain[2],
                )
            )
    aim = in_force(ratio.aim, year)
    result.summary = {
        "sites": len(sites),
        "with_parking_data": len(known),
        "meeting": len(known) - len(result.shortfalls),
        "min_share": float(required),
        "aim": float(aim) if aim is not None else None,
        "categories": [c.value for c in ratio.categories],
    }
    if not known:
        result.status = Status.NOT_CHECKABLE
        result.needs = "no station of these categories reports its parking spaces"
    else:
        result.status = Status.MET if not result.shortfalls else Status.UNMET
        if result.shortfalls:
            more = sum(int(s.needs.split()[0]) for s in result.shortfalls)
            result.needs = (
                f"{len(result.shortfalls)} sites below the share: {more} more charging spaces"
            )
    return result


def check_all(
    inp: CoverageInput, rules: Sequence[CoverageRule], parking: Sequence[ParkingRatio]
) -> list[RuleResult]:
    results = [r for r in (check_rule(inp, rule) for rule in rules) if r is not None]
    in_scope = [s for s in inp.stations if s.site.in_area(inp.scope)]
    results += [check_parking(in_scope, ratio, inp.year) for ratio in parking]
    return results
