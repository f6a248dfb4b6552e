"""Coverage and siting rules (R20–R25) and parking-space ratios (R24), as plans state them.

A threshold is given per year ("< 50 km in 2023, < 30 km in 2024, < 10 km in 2025"): a
year uses the value of the latest year given at or before it, and a rule is not in force
before its first year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from chargenet.core.areas import AreaLevel
from chargenet.core.registry.model import Access, SiteCategory

YearMap = Mapping[int, Decimal]
ALL = Decimal("Infinity")  # "every area" in a count threshold


def in_force(values: YearMap, year: int) -> Decimal | None:
    """The threshold for `year`: the latest year given at or before it, else None."""
    years = [y for y in values if y <= year]
    return values[max(years)] if years else None


class RuleKind(StrEnum):
    AREA_DISTANCE = "area_distance"  # every area point of a level within D km of a charger
    ZONE_DISTANCE = "zone_distance"  # every point of a disc/ring around a centre within D km
    AREA_PRESENCE = "area_presence"  # areas of a level with qualifying piles inside: N or all
    AREA_AVERAGE = "area_average"  # qualifying piles per area of a level, on average ≥ N
    AREA_MINIMUM = "area_minimum"  # each area of a level: ≥ S qualifying stations, ≥ P piles
    ROAD_SPACING = "road_spacing"  # along roads: consecutive qualifying stations ≤ G km apart
    SITE_COUNT = "site_count"  # qualifying stations of a category: at least N
    SITE_SHARE = "site_share"  # share of a category's sites that qualify: at least p
    SITE_EQUIPMENT = "site_equipment"  # every station of a category qualifies


# Which year maps each kind needs (at least one of them).
KIND_THRESHOLDS: dict[RuleKind, tuple[str, ...]] = {
    RuleKind.AREA_DISTANCE: ("max_km",),
    RuleKind.ZONE_DISTANCE: ("max_km",),
    RuleKind.AREA_PRESENCE: ("min_areas",),
    RuleKind.AREA_AVERAGE: ("min_average",),
    RuleKind.AREA_MINIMUM: ("min_stations", "min_piles"),
    RuleKind.ROAD_SPACING: ("max_gap_km",),
    RuleKind.SITE_COUNT: ("min_sites",),
    RuleKind.SITE_SHARE: ("min_share",),
    RuleKind.SITE_EQUIPMENT: ("from_year",),
}


@dataclass(frozen=True, slots=True)
class StationFilter:
    """Which stations (and which of their piles) a rule counts."""

    access: tuple[Access, ...] = (Access.PUBLIC,)  # () = any access
    categories: tuple[SiteCategory, ...] = ()  # () = any category
    min_piles: int = 1
    min_dc_piles: int = 0
    min_dc_power_w: int = 0  # "high-power DC": only DC piles at least this strong count
    scenic_grades: tuple[int, ...] = ()  # scenic_spot A-grades (0 = below A); () = any

    def describe(self) -> str:
        words = ["/".join(a.value for a in self.access) or "any"]
        if self.categories:
            words.append("(" + ", ".join(c.value for c in self.categories) + ")")
        words.append("stations")
        if self.min_dc_piles:
            power = f" ≥ {self.min_dc_power_w // 1000} kW" if self.min_dc_power_w else ""
            words.append(f"with ≥ {self.min_dc_piles} DC piles{power}")
        elif self.min_piles > 1:
            words.append(f"with ≥ {self.min_piles} piles")
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class CoverageRule:
    id: str
    kind: RuleKind
    requirement: str  # R20, R21 …
    source: str  # document and section
    description: str
    stations: StationFilter = field(default_factory=StationFilter)
    level: AreaLevel | None = None  # AREA_* rules
    name_suffixes: tuple[str, ...] = ()  # only areas whose Chinese name ends so (村委会 …)
    centre: str | None = None  # ZONE_DISTANCE: area code whose point is the centre
    inner_km: Decimal = Decimal(0)
    outer_km: Decimal = Decimal(0)
    grid_km: Decimal = Decimal("0.5")  # ZONE_DISTANCE sampling step
    road_classes: tuple[str, ...] = ()  # ROAD_SPACING: () = every road
    snap_km: Decimal = Decimal(1)  # a station this close to a road serves it
    include_road_ends: bool = True
    expected_sites: int | None = None  # SITE_SHARE: the plan's own count of sites
    max_km: YearMap = field(default_factory=dict)
    min_areas: YearMap = field(default_factory=dict)  # ALL = every area
    min_average: YearMap = field(default_factory=dict)
    min_stations: YearMap = field(default_factory=dict)
    min_piles: YearMap = field(default_factory=dict)
    max_gap_km: YearMap = field(default_factory=dict)
    min_sites: YearMap = field(default_factory=dict)
    min_share: YearMap = field(default_factory=dict)
    from_year: YearMap = field(default_factory=dict)  # SITE_EQUIPMENT: {year: 1}
    assumption: str = ""  # parameters the source does not give, and what we chose

    def first_year(self) -> int | None:
        years = [y for name in KIND_THRESHOLDS[self.kind] for y in getattr(self, name)]
        return min(years) if years else None

    def problems(self) -> list[str]:
        out: list[str] = []
        where = f"kind {self.kind.value}"
        if not any(getattr(self, name) for name in KIND_THRESHOLDS[self.kind]):
            need = " or ".join(KIND_THRESHOLDS[self.kind])
            out.append(f"{where} needs {need}")
        area_kinds = (
            RuleKind.AREA_DISTANCE,
            RuleKind.AREA_PRESENCE,
            RuleKind.AREA_AVERAGE,
            RuleKind.AREA_MINIMUM,
        )
        if self.kind in area_kinds and self.level is None:
            out.append(f"{where} needs a level")
        if self.kind is RuleKind.ZONE_DISTANCE:
            if not self.centre:
                out.append(f"{where} needs a centre area")
            if not 0 <= self.inner_km < self.outer_km:
                out.append(f"{where}: need 0 ≤ inner_km < outer_km")
            if self.grid_km <= 0:
                out.append(f"{where}: grid_km must be positive")
        site_kinds = (RuleKind.SITE_COUNT, RuleKind.SITE_SHARE, RuleKind.SITE_EQUIPMENT)
        if self.kind in site_kinds and not self.stations.categories:
            out.append(f"{where} needs station categories")
        for name in ("max_km", "max_gap_km"):
            if any(v <= 0 for v in getattr(self, name).values()):
                out.append(f"{where}: {name} must be positive")
        if any(not 0 <= v <= 1 for v in self.min_share.values()):
            out.append(f"{where}: min_share is a share between 0 and 1")
        return out


@dataclass(frozen=True, slots=True)
class ParkingRatio:
    """R24: the share of a site's parking spaces that have a charger, per category."""

    id: str
    categories: tuple[SiteCategory, ...]
    min_share: YearMap
    requirement: str
    source: str
    description: str = ""
    scenic_grades: tuple[int, ...] = ()  # scenic spots only: 0 = below A
    aim: YearMap = field(default_factory=dict)  # 力争: a higher share striven for

    def applies_to(self, category: SiteCategory, scenic_grade: int | None) -> bool:
        if category not in self.categories:
            return False
        if not self.scenic_grades:
            return True
        return (scenic_grade or 0) in self.scenic_grades

    def problems(self) -> list[str]:
        out = []
        if not self.categories:
            out.append(f"parking ratio {self.id}: no site categories")
        if not self.min_share:
            out.append(f"parking ratio {self.id}: no min_share")
        if any(not 0 < v <= 1 for v in [*self.min_share.values(), *self.aim.values()]):
            out.append(f"parking ratio {self.id}: shares lie in (0, 1]")
        return out
