"""Planning use cases: load policy packs as events, then plan vs actual, coverage, gaps,
siting and the monthly progress report, over what the read side holds."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from importlib import resources
from typing import Any, Protocol, TypedDict, TypeVar

from chargenet.analytics.planning.coverage import CoverageInput, check_all
from chargenet.analytics.planning.model import AreaPoint, PileRecord, StationSite, stations_on
from chargenet.analytics.planning.report import (
    UnitReport,
    due_dates,
    month_bounds,
    pile_figures,
    region_coverage,
    unit_report,
)
from chargenet.analytics.planning.results import RuleResult
from chargenet.analytics.planning.siting import (
    Candidate,
    SitingPlan,
    candidates_along_roads,
    candidates_from_areas,
    nearest_area,
    recommend,
)
from chargenet.analytics.planning.spatial import DEFAULT_DETOUR, DistanceModel, Road, RoadNetwork
from chargenet.analytics.planning.targets import (
    Actuals,
    ForecastMethod,
    MonthProgress,
    PlanVsActual,
    TargetRow,
    monthly,
    plan_vs_actual,
)
from chargenet.app.queries import TargetRow as StoredTargetRow
from chargenet.core.areas import AreaLevel
from chargenet.core.errors import UnknownReference
from chargenet.core.events import AreaRegistered, Event, PolicyPackLoaded, Source, TargetSet
from chargenet.core.ids import AreaCode, EventId
from chargenet.core.planning.metrics import STANDARD_METRICS, Metric, Notation
from chargenet.core.planning.pack import PolicyPack, parse_pack
from chargenet.core.planning.revisions import effective_day, in_force
from chargenet.core.planning.rules import RuleKind
from chargenet.kit.cache import VersionedCache
from chargenet.kit.ids import stable_id

T = TypeVar("T")

PACK_SOURCE = Source(adapter="planning")


class AreaChainRow(TypedDict):
    """An area with the codes of the areas above it (None above its own level)."""

    code: str
    level: str  # an `AreaLevel` value
    name_zh: str
    name_en: str | None
    province_code: str | None
    city_code: str | None
    county_code: str | None
    township_code: str | None


class VehicleCountRow(TypedDict):
    """An area's registered vehicles in a year (area statistics)."""

    area_code: str
    year: int
    ev_count: int | None
    motor_vehicles: int | None


class AreaTargetRow(StoredTargetRow):
    """A plan target as set (its latest value), with the name and level of its area."""

    name_zh: str
    name_en: str | None
    level: str  # an `AreaLevel` value


class TargetRevisionRow(TypedDict):
    """One value a target has had (R16), in the order set."""

    event_id: str
    target_id: str
    area_code: str
    value: Decimal
    source_ref: str
    revised_at: datetime  # when it was set
    valid_from: date | None  # the day it takes effect; None: the day it was set


class PolicyPackRow(TypedDict):
    pack_id: str
    region_code: str
    version: date
    title: str
    text: str  # the TOML as loaded
    loaded_at: datetime
    as_of: datetime


class PlanningData(Protocol):
    def area_points(self, within: str) -> list[AreaPoint]: ...
    def area(self, code: str) -> AreaChainRow | None: ...
    def piles(self, within: str) -> list[PileRecord]: ...
    def station_sites(self, within: str) -> list[StationSite]: ...
    def statistics(self, within: str) -> list[VehicleCountRow]: ...
    def targets(self, within: str) -> list[AreaTargetRow]: ...
    def revisions(self, within: str) -> list[TargetRevisionRow]: ...
    def packs(self) -> list[PolicyPackRow]: ...


# --- packs --------------------------------------------------------------------------------


def shipped_packs() -> dict[str, str]:
    """The packs that come with chargenet, by name: their TOML text."""
    folder = resources.files("chargenet.core.planning") / "packs"
    return {
        entry.name.removesuffix(".toml"): entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def _noon_utc(day: date) -> datetime:
    # 12:00 at UTC+8 is 04:00 UTC: the date stays the same in China and in UTC.
    return datetime.combine(day, time(4), tzinfo=UTC)


def pack_events(text: str, received_at: datetime) -> list[Event]:
    """The events that put a pack in force: its planning units (AreaRegistered), the
    pack itself (PolicyPackLoaded) and every target value (TargetSet), each revision on
    its own date. Event ids derive from the content, so loading the same pack again
    changes nothing and a changed value becomes a revision."""
    pack = parse_pack(text)
    events: list[Event] = []
    set_on = _noon_utc(pack.version)

    def meta(*parts: object, at: datetime) -> dict[str, Any]:
        return {
            "event_id": EventId(stable_id("pack", pack.id, *parts)),
            "source": PACK_SOURCE,
            "occurred_at": at,
            "received_at": received_at,
        }

    for unit in pack.units:
        events.append(
            AreaRegistered(
                **meta("unit", unit.code, unit.name_zh, unit.parent, at=set_on),
                code=AreaCode(unit.code),
                level=unit.level,
                name_zh=unit.name_zh,
                parent_code=AreaCode(unit.parent),
                name_en=unit.name_en or None,
            )
        )
    events.append(
        PolicyPackLoaded(
            **meta("pack", stable_id(text), at=set_on),
            pack_id=pack.id,
            region_code=AreaCode(pack.region),
            version=pack.version,
            title=pack.title,
            text=text,
        )
    )
    for entry in pack.targets:
        metric = pack.metric(entry.metric)
        assert metric is not None  # parse_pack checked
        definition = metric.definition
        if metric.strength.value != "binding":
            definition += f" [{metric.strength.value}]"
        day = entry.revised_on or pack.version
        events.append(
            TargetSet(
                **meta(
                    "target", entry.target_id, day, entry.value, entry.source, at=_noon_utc(day)
                ),
                target_id=entry.target_id,
                area_code=AreaCode(entry.area_code),
                metric=entry.metric,
                value=entry.value,
                year=entry.year,
                month=entry.month,
                definition=definition,
                source_ref=entry.source,
                valid_from=day,
            )
        )
    return events


def roads_near(
    roads: Sequence[Road], areas: Sequence[AreaPoint], margin_deg: float = 0.2
) -> list[Road]:
    """The roads that touch the areas' extent (with a margin): a road file or the demo's
    roads may cover several cities, and another city's expressway is not this one's gap."""
    lats = [a.lat for a in areas if a.lat is not None]
    lons = [a.lon for a in areas if a.lon is not None]
    if not lats or not lons:
        return list(roads)
    south, north = min(lats) - margin_deg, max(lats) + margin_deg
    west, east = min(lons) - margin_deg, max(lons) + margin_deg
    return [
        r
        for r in roads
        if any(south <= lat <= north and west <= lon <= east for lat, lon in r.points)
    ]


# --- JSON ---------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """Plain JSON values: numbers for Decimals, ISO dates, enum values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "all"  # ALL in a count threshold: every area
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _effective(revision: TargetRevisionRow) -> date:
    return effective_day(revision["valid_from"], revision["revised_at"])


def _value_on(history: Sequence[TargetRevisionRow], day: date) -> Decimal | None:
    """The value in force on `day` of a target's revisions, in the order recorded."""
    return in_force(((_effective(h), h["value"]) for h in history), day)


# --- the service --------------------------------------------------------------------------


@dataclasses.dataclass
class CandidateSpec:
    villages: bool = True
    townships: bool = True
    road_every_km: float | None = 5.0
    user: Sequence[Candidate] = ()


class PlanningService:
    def __init__(self, data: PlanningData, today: Any = None) -> None:
        self.data = data
        self._today = today  # a callable giving today's date (tests pin it)
        self.roads: list[Road] = []
        self._network: RoadNetwork | None = None
        self._parsed: dict[str, PolicyPack] = {}
        # Coverage and siting are costly (seconds for a city) and read only the registry,
        # targets and packs: kept per question until one of those changes (the data's
        # `registry_version`), a new day begins or the roads are replaced.
        self._cache = VersionedCache(size=64)
        self._roads_version = 0

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        version = getattr(self.data, "registry_version", None)
        if version is None:
            return compute()
        return self._cache.get(key, (self.today(), self._roads_version, version()), compute)

    # roads ---------------------------------------------------------------------------

    def use_roads(self, roads: Sequence[Road]) -> None:
        self.roads = list(roads)
        self._network = None
        self._roads_version += 1

    def distance_model(
        self, detour: float = DEFAULT_DETOUR, network: bool = False
    ) -> DistanceModel:
        if network and self.roads:
            if self._network is None:
                self._network = RoadNetwork(self.roads)
            return DistanceModel(detour, self._network)
        return DistanceModel(detour)

    def today(self) -> date:
        return self._today() if self._today is not None else datetime.now(UTC).date()

    # packs ---------------------------------------------------------------------------

    def loaded_packs(self) -> list[tuple[PolicyPack, PolicyPackRow]]:
        out = []
        for row in self.data.packs():
            text = row["text"]
            pack = self._parsed.get(text)
            if pack is None:  # packs change rarely; parsing each on every question does not
                pack = self._parsed[text] = parse_pack(text)
            out.append((pack, row))
        return out

    def packs_for(self, area_code: str) -> list[PolicyPack]:
        """Packs governing an area, the most specific (deepest region) first."""
        row = self._area(area_code)
        chain = {
            row["code"],
            row["province_code"],
            row["city_code"],
            row["county_code"],
            row["township_code"],
        }
        found = [p for p, _ in self.loaded_packs() if p.region in chain]
        return sorted(found, key=lambda p: -self._depth(p.region))

    def _depth(self, code: str) -> int:
        return AreaLevel(self._area(code)["level"]).depth

    def _area(self, code: str) -> AreaChainRow:
        row = self.data.area(code)
        if row is None:
            raise UnknownReference("area", code)
        return row

    def metric_for(self, packs: Sequence[PolicyPack], metric_id: str) -> Metric | None:
        for pack in packs:
            if metric_id in pack.metrics:
                return pack.metrics[metric_id]
        return STANDARD_METRICS.get(metric_id)

    def ratio_notation(self, area_code: str, metric_id: str = "evs_per_public_pile") -> Notation:
        """How the plan governing the area writes its vehicle-to-pile ratio (R03): Xinzhou
        "1:6" (piles first), Guangxi "2.3:1" (vehicles first)."""
        metric = self.metric_for(self.packs_for(area_code), metric_id)
        return metric.notation if metric is not None else Notation.VEHICLES_FIRST

    # plan vs actual ------------------------------------------------------------------

    def _actuals(self, area: str) -> Actuals:
        evs: dict[tuple[str, int], int] = {}
        motor: dict[tuple[str, int], int] = {}
        for r in self.data.statistics(area):
            if r["ev_count"] is not None:
                evs[(r["area_code"], r["year"])] = r["ev_count"]
            if r["motor_vehicles"] is not None:
                motor[(r["area_code"], r["year"])] = r["motor_vehicles"]
        return Actuals(self.data.piles(area), evs, motor)

    def plan_vs_actual(
        self,
        area: str,
        year: int | None = None,
        month: int | None = None,
        as_of: date | None = None,
        method: ForecastMethod = ForecastMethod.RUN_RATE,
        metric: str | None = None,
    ) -> list[PlanVsActual]:
        as_of = as_of or self.today()
        self._area(area)
        actuals = self._actuals(area)
        packs_cache: dict[str, list[PolicyPack]] = {}
        revisions: dict[str, list[TargetRevisionRow]] = {}
        for rev in self.data.revisions(area):
            revisions.setdefault(rev["target_id"], []).append(rev)
        out = []
        for r in self.data.targets(area):
            if year is not None and r["year"] != year:
                continue
            if month is not None and r["month"] not in (None, month):
                continue
            if metric is not None and r["metric"] != metric:
                continue
            packs = packs_cache.setdefault(r["area_code"], self.packs_for(r["area_code"]))
            definition = self.metric_for(packs, r["metric"])
            if definition is None:
                continue  # a metric nobody defined: shown by /targets, not measured
            history = revisions.get(r["target_id"], [])
            value = _value_on(history, as_of) if history else r["value"]
            if value is None:
                continue  # no value of this target had taken effect by `as_of`
            row = plan_vs_actual(
                TargetRow(
                    r["target_id"],
                    r["area_code"],
                    r["metric"],
                    r["year"],
                    value,
                    r["month"],
                    r["definition"],
                    r["source_ref"],
                ),
                definition,
                actuals,
                as_of,
                method,
            )
            if len(history) > 1:
                latest = max(_effective(h) for h in history)
                row.notes.append(f"{len(history)} revisions; latest valid from {latest}")
            out.append(row)
        return out

    def monthly(self, target_id: str, as_of: date | None = None) -> list[MonthProgress]:
        area = target_id.split("|", 1)[0]
        rows = [r for r in self.data.targets(area) if r["target_id"] == target_id]
        if not rows:
            raise UnknownReference("target", target_id)
        r = rows[0]
        definition = self.metric_for(self.packs_for(area), r["metric"])
        if definition is None:
            return []
        as_of = as_of or self.today()
        history = self.revisions(area, target_id)
        value = _value_on(history, as_of) if history else r["value"]
        if value is None:
            return []  # not yet in force on `as_of`
        target = TargetRow(target_id, area, r["metric"], r["year"], value, r["month"])
        return monthly(target, definition, self._actuals(area), as_of)

    def revisions(self, area: str, target_id: str | None = None) -> list[TargetRevisionRow]:
        return [r for r in self.data.revisions(area) if target_id in (None, r["target_id"])]

    # coverage ------------------------------------------------------------------------

    def _coverage_input(
        self, area: str, year: int, on: date | None, detour: float, network: bool
    ) -> tuple[CoverageInput, PolicyPack | None]:
        packs = [p for p in self.packs_for(area) if p.rules or p.parking]
        pack = packs[0] if packs else None
        region = pack.region if pack else area
        day = on or min(self.today(), date(year, 12, 31))
        stations = stations_on(self.data.station_sites(region), self.data.piles(region), day)
        areas = self.data.area_points(area)
        centres = {
            a.code: a
            for rule in (pack.rules if pack else ())
            if rule.kind is RuleKind.ZONE_DISTANCE and rule.centre
            for a in self.data.area_points(rule.centre)
            if a.code == rule.centre
        }
        inp = CoverageInput(
            year=year,
            scope=area,
            region=region,
            areas=areas,
            stations=stations,
            centres=centres,
            roads=roads_near(self.roads, areas),
            distance=self.distance_model(detour, network),
            skip_areas=pack.unit_codes() if pack else frozenset(),
        )
        return inp, pack

    def coverage(
        self,
        area: str,
        year: int,
        on: date | None = None,
        detour: float = DEFAULT_DETOUR,
        network: bool = False,
    ) -> tuple[list[RuleResult], PolicyPack | None, CoverageInput]:
        def compute() -> tuple[list[RuleResult], PolicyPack | None, CoverageInput]:
            inp, pack = self._coverage_input(area, year, on, detour, network)
            if pack is None:
                return [], None, inp
            return check_all(inp, pack.rules, pack.parking), pack, inp

        return self._cached(("coverage", area, year, on, detour, network), compute)

    def siting(
        self,
        area: str,
        year: int,
        spec: CandidateSpec | None = None,
        *,
        on: date | None = None,
        detour: float = DEFAULT_DETOUR,
        network: bool = False,
        budget: int | None = None,
        time_limit: float = 30.0,
        use_highs: bool = True,
    ) -> SitingPlan:
        spec = spec or CandidateSpec()
        key = (
            "siting",
            area,
            year,
            spec.villages,
            spec.townships,
            spec.road_every_km,
            tuple(spec.user),
            on,
            detour,
            network,
            budget,
            time_limit,
            use_highs,
        )
        return self._cached(
            key,
            lambda: self._siting(
                area, year, spec, on, detour, network, budget, time_limit, use_highs
            ),
        )

    def _siting(
        self,
        area: str,
        year: int,
        spec: CandidateSpec,
        on: date | None,
        detour: float,
        network: bool,
        budget: int | None,
        time_limit: float,
        use_highs: bool,
    ) -> SitingPlan:
        results, pack, inp = self.coverage(area, year, on, detour, network)
        levels = [
            lvl
            for lvl, on_ in (
                (AreaLevel.VILLAGE, spec.villages),
                (AreaLevel.TOWNSHIP, spec.townships),
            )
            if on_
        ]
        candidates = candidates_from_areas(inp.areas, levels)
        if spec.road_every_km:
            candidates += candidates_along_roads(inp.roads, spec.road_every_km)
        for result in results:
            if result.kind == RuleKind.ZONE_DISTANCE.value:
                candidates += [
                    Candidate(f"zone:{s.id}", "zone", s.lat, s.lon, s.name, s.area_code)
                    for s in result.shortfalls
                    if s.lat is not None and s.lon is not None
                ]
        candidates += list(spec.user)
        plan = recommend(
            results,
            pack.rules if pack else [],
            candidates,
            inp.distance,
            budget=budget,
            time_limit=time_limit,
            use_highs=use_highs,
        )
        nearest_area(plan.sites, inp.areas)
        return plan

    # the monthly report (R16) --------------------------------------------------------

    def progress(self, area: str, year: int, month: int) -> dict[str, Any]:
        """The month's report for every county-level unit under `area` (a city), or for
        `area` itself when it is a county."""
        row = self._area(area)
        start_year = date(year, 1, 1)
        month_start, end = month_bounds(year, month)
        plans = self.plan_vs_actual(area, year=year, as_of=end)
        results, pack, _ = self.coverage(area, year, on=end)
        piles = self.data.piles(area)
        units = [a for a in self.data.area_points(area) if a.level is AreaLevel.COUNTY]
        if AreaLevel(row["level"]) is AreaLevel.COUNTY:
            units = [a for a in units if a.code == area]
        unit_codes = pack.unit_codes() if pack else frozenset()
        reports: list[UnitReport] = []
        for unit in units:
            reports.append(
                unit_report(
                    unit.code,
                    unit.name_zh,
                    unit.name_en,
                    unit.code in unit_codes,
                    pile_figures(piles, unit.code, start_year, month_start, end),
                    [p for p in plans if p.area_code == unit.code],
                    results,
                )
            )
        region = unit_report(
            area,
            row["name_zh"],
            row["name_en"],
            False,
            pile_figures(piles, area, start_year, month_start, end),
            [p for p in plans if p.area_code == area],
            [],
        )
        region_coverage(region, results, whole_region=pack is not None and pack.region == area)
        monthly_due, yearly_due = due_dates(year, month)
        return {
            "area": {"code": area, "name_zh": row["name_zh"], "name_en": row["name_en"]},
            "month": f"{year:04d}-{month:02d}",
            "as_of": end.isoformat(),
            "due": monthly_due.isoformat(),
            "year_report_due": yearly_due.isoformat() if yearly_due else None,
            "pack": {"id": pack.id, "version": pack.version.isoformat()} if pack else None,
            "region": to_json(region),
            "units": to_json(reports),
        }
