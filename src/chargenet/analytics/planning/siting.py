"""Where to build next: the fewest new stations that close the coverage gaps.

Fixed needs come first, each the fewest possible: new stations spaced along road
stretches that are too long (exact on a line), one in each area a presence rule finds
empty, and the stations a county is short of. Then the distance gaps — villages and city
zones farther than the year's charging distance — are closed by set cover over the
candidate sites (village centres, township seats, points every k km along roads, zone
grid points, or the user's own list), with the fixed new stations counted as built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chargenet.analytics.planning.model import AreaPoint
from chargenet.analytics.planning.results import RuleResult, Status
from chargenet.analytics.planning.setcover import CoverSolution, solve_cover
from chargenet.analytics.planning.spatial import DistanceModel, PointIndex, Road, segment_lengths
from chargenet.core.areas import AreaLevel
from chargenet.core.planning.rules import CoverageRule, RuleKind

DISTANCE_KINDS = (RuleKind.AREA_DISTANCE.value, RuleKind.ZONE_DISTANCE.value)
FIXED_KINDS = (
    RuleKind.ROAD_SPACING.value,
    RuleKind.AREA_PRESENCE.value,
    RuleKind.AREA_MINIMUM.value,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    kind: str  # village | township | road | zone | user
    lat: float
    lon: float
    name: str = ""
    area_code: str | None = None


@dataclass
class Recommendation:
    id: str
    lat: float
    lon: float
    kind: str  # where it comes from: road_gap, area, county, or a candidate kind
    name: str
    reasons: list[str]  # rule ids it serves
    piles: int  # at least this many piles …
    dc_piles: int  # … of which at least this many DC
    dc_power_w: int = 0
    covers: list[str] = field(default_factory=list)  # demand points it brings in range
    area_code: str | None = None


@dataclass
class SitingPlan:
    year: int
    distance: str
    sites: list[Recommendation]
    fixed: int  # from road gaps, empty areas, county minimums
    cover: CoverSolution | None  # the set-cover solve for the distance gaps
    demands: int  # distance-gap points to close
    uncoverable: list[str]  # demand points no candidate reaches
    candidates: int
    left_open: list[str]  # rules siting cannot close (counts of site kinds, parking shares)


def candidates_from_areas(
    areas: Sequence[AreaPoint], levels: Sequence[AreaLevel]
) -> list[Candidate]:
    kinds = {
        AreaLevel.VILLAGE: "village",
        AreaLevel.TOWNSHIP: "township",
        AreaLevel.COUNTY: "county",
    }
    return [
        Candidate(f"{kinds[a.level]}:{a.code}", kinds[a.level], a.lat, a.lon, a.name_zh, a.county)
        for a in areas
        if a.level in levels and a.lat is not None and a.lon is not None
    ]


def candidates_along_roads(roads: Sequence[Road], every_km: float) -> list[Candidate]:
    """A point every `every_km` along each road (and at both ends)."""
    out = []
    step = every_km * 1000.0
    for road in roads:
        pts = np.asarray(road.points, dtype=np.float64)
        seg = segment_lengths(road.points)
        chain = np.concatenate(([0.0], np.cumsum(seg)))
        total = float(chain[-1])
        marks = np.append(np.arange(0.0, total, step), total) if total > 0 else np.zeros(1)
        lats = np.interp(marks, chain, pts[:, 0])
        lons = np.interp(marks, chain, pts[:, 1])
        for k, (lat, lon, at) in enumerate(zip(lats, lons, marks, strict=True)):
            out.append(
                Candidate(
                    f"road:{road.ref}:{k}",
                    "road",
                    round(float(lat), 6),
                    round(float(lon), 6),
                    f"{road.ref} km {at / 1000:.1f}",
                )
            )
    return out


def _requirements(rules: dict[str, CoverageRule], reasons: Sequence[str]) -> tuple[int, int, int]:
    piles = dc = power = 0
    for reason in reasons:
        rule = rules.get(reason)
        if rule is None:
            continue
        piles = max(piles, rule.stations.min_piles, rule.stations.min_dc_piles)
        dc = max(dc, rule.stations.min_dc_piles)
        power = max(power, rule.stations.min_dc_power_w)
    return max(piles, 1), dc, power


def recommend(
    results: Sequence[RuleResult],
    rules: Sequence[CoverageRule],
    candidates: Sequence[Candidate],
    distance: DistanceModel,
    *,
    budget: int | None = None,
    time_limit: float = 30.0,
    use_highs: bool = True,
) -> SitingPlan:
    """New sites that close every gap siting can close, fewest first."""
    by_id = {r.id: r for r in rules}
    sites: list[Recommendation] = []
    for result in results:
        if result.status is not Status.UNMET or result.kind not in FIXED_KINDS:
            continue
        for s in result.shortfalls:
            for k, (lat, lon) in enumerate(s.positions):
                piles, dc, power = _requirements(by_id, [result.rule_id])
                piles = max(piles, s.piles_each)
                sites.append(
                    Recommendation(
                        id=f"{result.rule_id}:{s.id}:{k + 1}",
                        lat=lat,
                        lon=lon,
                        kind={"road_spacing": "road_gap", "area_minimum": "county"}.get(
                            result.kind, "area"
                        ),
                        name=s.name,
                        reasons=[result.rule_id],
                        piles=piles,
                        dc_piles=dc,
                        dc_power_w=power,
                        area_code=s.area_code,
                    )
                )
    fixed = len(sites)
    # Distance gaps: demand points with their own radius, minus what the fixed sites reach.
    demand: list[tuple[str, float, float, float, str]] = []  # id, lat, lon, radius m, rule
    for result in results:
        if result.status is not Status.UNMET or result.kind not in DISTANCE_KINDS:
            continue
        for s in result.shortfalls:
            if s.lat is not None and s.lon is not None and s.required is not None:
                demand.append((s.id, s.lat, s.lon, s.required * 1000.0, result.rule_id))
    if sites and demand:
        reach = distance.covering(
            np.array([s.lat for s in sites]),
            np.array([s.lon for s in sites]),
            np.array([d[1] for d in demand]),
            np.array([d[2] for d in demand]),
            np.array([d[3] for d in demand]),
        )
        for d, found in zip(demand, reach, strict=True):
            for i in found:
                sites[i].covers.append(d[0])
                if d[4] not in sites[i].reasons:
                    sites[i].reasons.append(d[4])
        demand = [d for d, found in zip(demand, reach, strict=True) if not found]
    solution = None
    uncoverable: list[str] = []
    if demand:
        covers = distance.covering(
            np.array([c.lat for c in candidates]),
            np.array([c.lon for c in candidates]),
            np.array([d[1] for d in demand]),
            np.array([d[2] for d in demand]),
            np.array([d[3] for d in demand]),
        )
        solution = solve_cover(
            covers, len(candidates), budget=budget, time_limit=time_limit, use_highs=use_highs
        )
        uncoverable = [demand[i][0] for i in solution.uncoverable]
        chosen = set(solution.chosen)
        for c_index in sorted(chosen):
            c = candidates[c_index]
            served = [d for d, cs in zip(demand, covers, strict=True) if c_index in cs]
            reasons = sorted({d[4] for d in served})
            piles, dc, power = _requirements(by_id, reasons)
            sites.append(
                Recommendation(
                    id=f"site:{c.id}",
                    lat=c.lat,
                    lon=c.lon,
                    kind=c.kind,
                    name=c.name,
                    reasons=reasons,
                    piles=piles,
                    dc_piles=dc,
                    dc_power_w=power,
                    covers=[d[0] for d in served],
                    area_code=c.area_code,
                )
            )
    left_open = [
        r.rule_id
        for r in results
        if r.status is Status.UNMET and r.kind not in FIXED_KINDS + DISTANCE_KINDS
    ]
    return SitingPlan(
        year=results[0].year if results else 0,
        distance=distance.describe(),
        sites=sites,
        fixed=fixed,
        cover=solution,
        demands=len(demand),
        uncoverable=uncoverable,
        candidates=len(candidates),
        left_open=left_open,
    )


def nearest_area(sites: Sequence[Recommendation], areas: Sequence[AreaPoint]) -> None:
    """Name each site's area by the nearest village or township point, where unknown."""
    points = [
        a
        for a in areas
        if a.lat is not None
        and a.lon is not None
        and a.level in (AreaLevel.VILLAGE, AreaLevel.TOWNSHIP)
    ]
    if not points or not sites:
        return
    index = PointIndex(np.array([a.lat for a in points]), np.array([a.lon for a in points]))
    _, nearest = index.nearest(np.array([s.lat for s in sites]), np.array([s.lon for s in sites]))
    for site, i in zip(sites, nearest.tolist(), strict=True):
        if site.area_code is None and i >= 0:
            site.area_code = points[i].county
