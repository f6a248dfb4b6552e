"""The records planning computes over, as the read side hands them in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from chargenet.core.areas import AreaLevel
from chargenet.core.planning.rules import StationFilter
from chargenet.core.registry.model import Access, PowerType, SiteCategory


@dataclass(frozen=True, slots=True)
class AreaPoint:
    code: str
    level: AreaLevel
    name_zh: str
    lat: float | None
    lon: float | None
    parent: str | None = None
    county: str | None = None  # chain codes (the area's own code at its level)
    township: str | None = None
    name_en: str | None = None

    def named(self, suffixes: Sequence[str]) -> bool:
        return not suffixes or self.name_zh.endswith(tuple(suffixes))


@dataclass(frozen=True, slots=True)
class PileRecord:
    """One pile (a connector of 2.2 kW or more, R01) with where and when it served."""

    station_id: str
    access: Access
    power_type: PowerType
    power_w: int
    commissioned: date
    retired: date | None  # the day it left service; in service on d when retired > d
    chain: tuple[str | None, ...]  # province, city, county, township, village codes

    def in_service(self, day: date) -> bool:
        return self.commissioned <= day and (self.retired is None or self.retired > day)

    def in_area(self, area_code: str) -> bool:
        return area_code in self.chain


@dataclass(frozen=True, slots=True)
class StationSite:
    station_id: str
    name: str
    lat: float
    lon: float
    category: SiteCategory
    access: Access
    chain: tuple[str | None, ...]  # province, city, county, township, village codes
    scenic_grade: int | None = None
    parking_spaces: int | None = None
    charging_spaces: int | None = None
    commissioned: date | None = None
    retired: date | None = None
    # What its grid connection lets charging draw, as last stated (orderly charging's site
    # model, docs/orderly.md); None when never stated.
    grid_capacity_w: int | None = None

    def in_area(self, area_code: str) -> bool:
        return area_code in self.chain


@dataclass(frozen=True, slots=True)
class StationState:
    """A station with the piles it has in service on a day."""

    site: StationSite
    piles: int
    dc_powers: tuple[int, ...] = ()  # power of each DC pile, W

    @property
    def dc_piles(self) -> int:
        return len(self.dc_powers)

    def dc_at_least(self, power_w: int) -> int:
        return sum(p >= power_w for p in self.dc_powers)

    def admitted(self, f: StationFilter) -> bool:
        """Whether the station is of the kind a rule looks at (access, category, grade)."""
        s = self.site
        if f.access and s.access not in f.access:
            return False
        if f.categories and s.category not in f.categories:
            return False
        return not f.scenic_grades or (s.scenic_grade or 0) in f.scenic_grades

    def qualifies(self, f: StationFilter) -> bool:
        """Admitted and equipped as the rule asks (piles, DC piles, DC power)."""
        return (
            self.admitted(f)
            and self.piles >= f.min_piles
            and self.dc_at_least(f.min_dc_power_w) >= f.min_dc_piles
        )


def stations_on(
    sites: Iterable[StationSite], piles: Iterable[PileRecord], day: date
) -> list[StationState]:
    """Stations in service on `day` with their piles in service that day."""
    counts: dict[str, int] = {}
    dc: dict[str, list[int]] = {}
    for pile in piles:
        if pile.in_service(day):
            counts[pile.station_id] = counts.get(pile.station_id, 0) + 1
            if pile.power_type is PowerType.DC:
                dc.setdefault(pile.station_id, []).append(pile.power_w)
    out = []
    for site in sites:
        if site.retired is not None and site.retired <= day:
            continue
        n = counts.get(site.station_id, 0)
        if n == 0 and site.commissioned is not None and site.commissioned > day:
            continue
        if n == 0 and site.commissioned is None:
            continue  # never commissioned and nothing in service: not there yet
        out.append(StationState(site, n, tuple(sorted(dc.get(site.station_id, ())))))
    return out
