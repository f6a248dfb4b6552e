"""Build plans a planner can act on: demand from the platform's own use and the vehicle
stock, sites sized per power class, grid headroom and cost, multi-year phases, and named
scenarios compared side by side (docs/planning.md, "Build plans")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypedDict

from chargenet.analytics.planning.coverage import CoverageInput, check_rule
from chargenet.analytics.planning.demand import (
    DemandAssumptions,
    DemandModel,
    SessionRecord,
    build_demand,
    station_use,
    stock_in,
)
from chargenet.analytics.planning.investment import (
    CostModel,
    DemandPoint,
    Feeder,
    InvestmentPlan,
    StationNow,
    plan_investment,
    site_options,
)
from chargenet.analytics.planning.model import AreaPoint, PileRecord, StationSite, StationState
from chargenet.analytics.planning.phases import (
    Claim,
    Existing,
    PhasePlan,
    PhasePoint,
    plan_phases,
)
from chargenet.analytics.planning.results import Status
from chargenet.analytics.planning.siting import (
    FIXED_KINDS,
    Candidate,
    candidates_along_roads,
    candidates_from_areas,
    nearest_area,
    recommend,
)
from chargenet.analytics.planning.sizing import (
    AC,
    DC,
    PORT_CLASSES,
    ServiceLevel,
    minimum_ports,
    port_class,
)
from chargenet.app.planning import AreaTargetRow, VehicleCountRow, roads_near
from chargenet.core.areas import AreaLevel
from chargenet.core.errors import UnknownReference
from chargenet.core.events import PlanningScenarioSaved, Source
from chargenet.core.ids import AreaCode, EventId
from chargenet.core.planning.metrics import Basis, Counted
from chargenet.core.planning.pack import PolicyPack
from chargenet.core.planning.rules import CoverageRule, RuleKind
from chargenet.core.planning.scenario import Scenario
from chargenet.core.registry.model import Access, SiteCategory
from chargenet.kit.ids import stable_id

# Candidate classes the plans name as priority sites (001 重点任务; 002 二、2 and
# 保障措施（二）): petrol and gas stations, transport hubs, public car parks and P+R,
# service areas and trunk-road parking. The registry's stations of these categories are
# candidates for more ports: the site and its connection exist.
REGISTRY_CLASSES: dict[SiteCategory, str] = {
    SiteCategory.TRANSPORT_HUB: "transport_hub",
    SiteCategory.PARK_AND_RIDE: "parking_lot",
    SiteCategory.PUBLIC_CAR_PARK: "parking_lot",
    SiteCategory.COMMERCIAL: "parking_lot",
    SiteCategory.HIGHWAY_SERVICE_AREA: "service_area",
    SiteCategory.TRUNK_ROAD_PARKING: "service_area",
}


class ScenarioRow(TypedDict):
    """A saved scenario: its parameters as `Scenario.to_json` wrote them."""

    scenario_id: str
    area_code: str
    name: str
    parameters: str  # JSON
    saved_by: str
    saved_at: datetime
    as_of: datetime


class BuildData(Protocol):
    def area_points(self, within: str) -> list[AreaPoint]: ...
    def piles(self, within: str) -> list[PileRecord]: ...
    def station_sites(self, within: str) -> list[StationSite]: ...
    def statistics(self, within: str) -> list[VehicleCountRow]: ...
    def targets(self, within: str) -> list[AreaTargetRow]: ...
    def sessions(self, within: str, start: datetime, end: datetime) -> list[SessionRecord]: ...
    def scenarios(self, within: str | None = None) -> list[ScenarioRow]: ...


@dataclass
class UserInputs:
    """What the user supplies beside the platform's data (CSV files, docs/planning.md)."""

    candidates: Sequence[Candidate] = ()
    feeders: Sequence[Feeder] = ()
    population: Mapping[str, float] = field(default_factory=dict)
    traffic: Mapping[str, float] = field(default_factory=dict)
    costs: CostModel = field(default_factory=CostModel)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(4), tzinfo=UTC)


class BuildPlanner:
    def __init__(self, planning: Any, data: BuildData) -> None:
        self.planning = planning  # the PlanningService: packs, coverage, today
        self.data = data

    # rules and places ---------------------------------------------------------------

    def _distance_rule(self, area: str) -> tuple[PolicyPack | None, CoverageRule | None]:
        packs = [p for p in self.planning.packs_for(area) if p.rules]
        pack = packs[0] if packs else None
        for rule in pack.rules if pack else ():
            if rule.kind is RuleKind.AREA_DISTANCE and rule.level is AreaLevel.VILLAGE:
                return pack, rule
        return pack, None

    def places(self, area: str) -> tuple[list[AreaPoint], CoverageRule | None]:
        """The villages the area's distance rule names (all villages without a rule)."""
        _, rule = self._distance_rule(area)
        points = [
            a
            for a in self.data.area_points(area)
            if a.level is AreaLevel.VILLAGE
            and a.lat is not None
            and a.lon is not None
            and (rule is None or a.named(rule.name_suffixes))
        ]
        return points, rule

    # demand -------------------------------------------------------------------------

    def demand(
        self, scenario: Scenario, inputs: UserInputs | None = None, year: int | None = None
    ) -> DemandModel:
        inputs = inputs or UserInputs()
        year = year or scenario.year
        area = scenario.area
        today = self.planning.today()
        places, _ = self.places(area)
        end = _noon(today)
        start = end - timedelta(days=scenario.window_days)
        piles = self.data.piles(area)
        ports: dict[str, int] = {}
        for p in piles:
            if p.in_service(today):
                ports[p.station_id] = ports.get(p.station_id, 0) + 1
        sites = self.data.station_sites(area)
        county = {s.station_id: s.chain[2] for s in sites}
        a = DemandAssumptions(
            kwh_per_ev_day=scenario.kwh_per_ev_day, public_share=scenario.public_share
        )
        uses = station_use(self.data.sessions(area, start, end), ports, county, start, end, a)
        known: dict[str, dict[int, int]] = {}
        for count in self.data.statistics(area):
            if count["ev_count"] is not None:
                known.setdefault(count["area_code"], {})[count["year"]] = count["ev_count"]
        new_by: dict[str, dict[int, float]] = {}
        for r in self.data.targets(area):
            metric = self.planning.metric_for(self.planning.packs_for(r["area_code"]), r["metric"])
            q = metric.quantity if metric is not None else None
            if (
                q is not None
                and q.counted is Counted.EVS
                and q.basis is Basis.NEW
                and q.since_year is None
            ):
                new_by.setdefault(r["area_code"], {})[r["year"]] = float(r["value"])
        counties = {p.county for p in places if p.county}
        evs, evs_now = {}, {}
        for c in counties:
            evs[c], _ = stock_in(year, known.get(c, {}), new_by.get(c), scenario.growth)
            evs_now[c], _ = stock_in(today.year - 1, known.get(c, {}), new_by.get(c))
        return build_demand(
            year,
            places,
            uses=uses,
            evs=evs,
            evs_now=evs_now,
            population=inputs.population,
            traffic=inputs.traffic,
            assumptions=a,
        )

    # candidates -----------------------------------------------------------------------

    def candidates(self, scenario: Scenario, inputs: UserInputs | None = None) -> list[Candidate]:
        inputs = inputs or UserInputs()
        area = scenario.area
        areas = self.data.area_points(area)
        levels = [
            lvl
            for lvl, on in (
                (AreaLevel.VILLAGE, scenario.villages),
                (AreaLevel.TOWNSHIP, scenario.townships),
            )
            if on
        ]
        out = candidates_from_areas(areas, levels)
        if scenario.road_every_km:
            out += candidates_along_roads(
                roads_near(self.planning.roads, areas), scenario.road_every_km
            )
        if scenario.registry:
            for s in self.data.station_sites(area):
                kind = REGISTRY_CLASSES.get(s.category)
                if kind and s.access is Access.PUBLIC and s.retired is None:
                    out.append(
                        Candidate(
                            f"registry:{s.station_id}",
                            f"{kind}:registry",
                            s.lat,
                            s.lon,
                            s.name,
                            s.chain[2],
                        )
                    )
        out += list(inputs.candidates)
        if scenario.classes:
            out = [c for c in out if c.kind.split(":", 1)[0] in scenario.classes]
        return out

    # plans ----------------------------------------------------------------------------

    def _existing(self, area: str, day: date) -> list[StationSite]:
        stations = self.data.station_sites(area)
        in_service = {p.station_id for p in self.data.piles(area) if p.in_service(day)}
        return [s for s in stations if s.station_id in in_service and s.access is Access.PUBLIC]

    def _standing(self, area: str, day: date) -> list[StationNow]:
        """The public stations in service on `day` with their ports per power class and
        the kW their grid connection can still take: its last stated capacity (orderly
        charging's site model) less what its piles can draw; none where no connection was
        stated (every added kW then pays for connection)."""
        ports: dict[str, dict[str, int]] = {}
        drawn_w: dict[str, int] = {}
        for p in self.data.piles(area):
            if p.in_service(day):
                k = port_class(p.power_type, p.power_w)
                mine = ports.setdefault(p.station_id, {})
                mine[k] = mine.get(k, 0) + 1
                drawn_w[p.station_id] = drawn_w.get(p.station_id, 0) + p.power_w

        def headroom_kw(site: StationSite) -> float:
            if site.grid_capacity_w is None:
                return 0.0
            return max(site.grid_capacity_w - drawn_w.get(site.station_id, 0), 0) / 1000

        return [
            StationNow(
                s.station_id,
                REGISTRY_CLASSES.get(s.category, "*"),
                s.lat,
                s.lon,
                ports[s.station_id],
                headroom_kw=headroom_kw(s),
                area_code=s.chain[2],
                name=s.name,
            )
            for s in self._existing(area, day)
            if s.station_id in ports
        ]

    def investment(
        self, scenario: Scenario, inputs: UserInputs | None = None
    ) -> tuple[InvestmentPlan, DemandModel]:
        """Sites, ports per class and money for the scenario's year."""
        inputs = inputs or UserInputs()
        model = self.demand(scenario, inputs)
        _, rule = self._distance_rule(scenario.area)
        radius_km = scenario.within_km
        if rule is not None:
            from chargenet.core.planning.rules import in_force

            km = in_force(rule.max_km, scenario.year)
            radius_km = float(km) if km is not None else radius_km
        points = [
            DemandPoint(
                p.code,
                p.lat,
                p.lon,
                radius_km * 1000,
                p.kwh_day,
                p.peak_sessions_hour,
                rule.id if rule else "within_km",
            )
            for p in model.points
        ]
        day = min(self.planning.today(), date(scenario.year, 12, 31))
        stations = self._standing(scenario.area, day)
        forced, minimum = self._fixed_needs(scenario)
        plan = plan_investment(
            points,
            self.candidates(scenario, inputs),
            self.planning.distance_model(scenario.detour),
            costs=inputs.costs,
            feeders=inputs.feeders,
            stations=stations,
            level=ServiceLevel(scenario.max_wait_probability, scenario.max_utilisation),
            money_budget=scenario.money_budget,
            max_sites=scenario.max_sites,
            time_limit=scenario.time_limit,
            forced=forced,
            minimum=minimum,
        )
        return plan, model

    def _rule_check(
        self, scenario: Scenario, year: int, planned: Sequence[StationState] = ()
    ) -> tuple[CoverageInput, list[CoverageRule]]:
        """The coverage input of the year with `planned` stations standing beside those
        in service, and the rules whose shortfalls fix sites (roads, presence, county
        minimums)."""
        _, pack, inp = self.planning.coverage(scenario.area, year, detour=scenario.detour)
        rules = [r for r in (pack.rules if pack else ()) if r.kind.value in FIXED_KINDS]
        return replace(inp, stations=[*inp.stations, *planned]), rules

    def _rule_sites(
        self, scenario: Scenario, year: int, planned: Sequence[StationState] = ()
    ) -> list[tuple[Candidate, dict[str, int], StationState]]:
        """The sites the other rules fix in the year, each the fewest possible (siting's
        fixed needs: stations spaced along roads too long without one, one in each empty
        area of a presence rule, the stations a county lacks), with the ports each rule
        asks and the station it would be."""
        inp, rules = self._rule_check(scenario, year, planned)
        results = [res for rule in rules if (res := check_rule(inp, rule)) is not None]
        siting = recommend(results, rules, [], inp.distance, use_highs=False)
        nearest_area(siting.sites, inp.areas)
        kinds = {"road_gap": "road", "area": "township", "county": "parking_lot"}
        out = []
        for r in siting.sites[: siting.fixed]:
            c = Candidate(
                f"fixed:{r.id}", kinds.get(r.kind, r.kind), r.lat, r.lon, r.name, r.area_code
            )
            # An area's site stands in that area (the shortfall's id is its code).
            code = r.id.split(":")[1] if r.kind in ("area", "county") else r.area_code
            dc = (max(r.dc_power_w, int(PORT_CLASSES[DC].power_kw * 1000)),) * r.dc_piles
            out.append(
                (c, minimum_ports(r.dc_piles, r.piles), planned_station(c, r.piles, dc, code))
            )
        return out

    def _fixed_needs(self, scenario: Scenario) -> tuple[list[Candidate], dict[str, dict[str, int]]]:
        sites = self._rule_sites(scenario, scenario.year)
        return [c for c, _, _ in sites], {c.id: m for c, m, _ in sites}

    def phases(self, scenario: Scenario, inputs: UserInputs | None = None) -> PhasePlan:
        """The multi-year plan: each year's distance and county new-pile targets, from
        `start` on, counting what was built before."""
        inputs = inputs or UserInputs()
        area = scenario.area
        places, rule = self.places(area)
        years = sorted(scenario.years or (rule.max_km.keys() if rule else (scenario.year,)))
        years = [y for y in years if y <= max(scenario.year, years[0])] or years
        today = self.planning.today()
        start = scenario.start or max(min(today.year, years[-1]), years[0])
        from chargenet.core.planning.rules import in_force

        radii: dict[int, float] = {}
        for y in years:
            km = in_force(rule.max_km, y) if rule else Decimal(str(scenario.within_km))
            if km is not None:
                radii[y] = float(km) * 1000
        points = [
            PhasePoint(
                p.code,
                p.lat or 0.0,
                p.lon or 0.0,
                radii,
                rule.id if rule else "within_km",
                p.county,
            )
            for p in places
        ]
        sites = [s for s in self.data.station_sites(area) if s.access is Access.PUBLIC]
        piles = self.data.piles(area)
        first_day: dict[str, date] = {}
        for p in piles:
            if p.access is Access.PUBLIC:
                first_day[p.station_id] = min(
                    first_day.get(p.station_id, p.commissioned), p.commissioned
                )
        # What stands today counts from the year it entered service (this year's too).
        existing = [
            Existing(s.lat, s.lon, first_day[s.station_id].year, s.chain[2])
            for s in sites
            if s.station_id in first_day and first_day[s.station_id] <= today
        ]
        built: dict[tuple[str, int], int] = {}
        for p in piles:
            county = p.chain[2]
            if p.access is Access.PUBLIC and county and p.commissioned.year in years:
                built[(county, p.commissioned.year)] = (
                    built.get((county, p.commissioned.year), 0) + 1
                )
        targets: dict[tuple[str, int], int] = {}
        for r in self.planning.plan_vs_actual(area, as_of=date(years[-1], 12, 31)):
            metric = self.planning.metric_for(self.planning.packs_for(r.area_code), r.metric)
            q = metric.quantity if metric is not None else None
            if (
                q is not None
                and q.counted is Counted.PILES
                and q.basis is Basis.NEW
                and q.since_year is None
                and (not q.access or Access.PUBLIC in q.access)
                and r.month is None
                and r.year in years
                and r.year >= start
                and r.area_code != area
            ):
                # A county's yearly new public piles (Xinzhou 附件1): the plan adds them.
                targets[(r.area_code, r.year)] = max(
                    targets.get((r.area_code, r.year), 0), int(r.target)
                )
        # The sites the road, presence and county rules fix, year by year: a year's
        # check sees the sites fixed for the years before it standing.
        fixed: dict[str, tuple[Candidate, dict[str, int], StationState]] = {}
        due: dict[str, int] = {}
        for y in (y for y in years if y >= start):
            standing = [st for _, _, st in fixed.values()]
            for c, m, st in self._rule_sites(scenario, y, standing):
                if c.id not in fixed:
                    fixed[c.id], due[c.id] = (c, m, st), y
        candidates = [c for c, _, _ in fixed.values()] + self.candidates(scenario, inputs)
        options = site_options(
            candidates, inputs.costs, inputs.feeders, {c: m for c, (_, m, _) in fixed.items()}
        )
        as_station = {c: st for c, (_, _, st) in fixed.items()}
        for o in options:
            if o.candidate.id not in as_station:
                as_station[o.candidate.id] = planned_station(
                    o.candidate,
                    sum(o.minimum.values()),
                    tuple(
                        int(PORT_CLASSES[k].power_kw * 1000)
                        for k, n in o.minimum.items()
                        if k != AC
                        for _ in range(n)
                    ),
                    o.candidate.area_code,
                )

        def rule_claims(year: int, built_ids: Sequence[str]) -> list[Claim]:
            """Each road, presence and county rule in force, checked again with the plan's
            sites standing by the year (each equipped with the ports it is planned with)."""
            before, rules = self._rule_check(scenario, year)
            after, _ = self._rule_check(scenario, year, [as_station[c] for c in built_ids])
            out = []
            for rule in rules:
                was, now = check_rule(before, rule), check_rule(after, rule)
                if was is None or now is None or now.status not in (Status.MET, Status.UNMET):
                    continue
                gaps = float(sum(max(f.new_stations, 1) for f in was.shortfalls))
                left = float(sum(max(f.new_stations, 1) for f in now.shortfalls))
                out.append(
                    Claim(
                        year,
                        rule.id,
                        rule.kind.value,
                        rule.description,
                        gaps,
                        gaps - left,
                        now.status is Status.MET,
                        now.needs
                        or "met"
                        + (f"; the {gaps:g} station(s) it asked stand by then" if gaps else ""),
                    )
                )
            return out

        yearly = {y: scenario.yearly_budget for y in years} if scenario.yearly_budget else None
        return plan_phases(
            years,
            points,
            options,
            self.planning.distance_model(scenario.detour),
            start=start,
            existing=existing,
            county_of={c.id: c.area_code for c in candidates},
            pile_targets=targets,
            built=built,
            pile_cost=inputs.costs.ports_cost({"ac": 1}),
            money=yearly,
            max_sites={y: scenario.max_sites for y in years} if scenario.max_sites else None,
            time_limit=scenario.time_limit,
            due=due,
            rule_claims=rule_claims,
        )

    def saved(self, within: str | None = None) -> list[tuple[Scenario, ScenarioRow]]:
        out = []
        for row in self.data.scenarios(within):
            out.append((Scenario.from_json(json.loads(row["parameters"])), row))
        return out

    def scenario(self, area: str, name: str) -> Scenario:
        for s, _ in self.saved(area):
            if s.area == area and s.name == name:
                return s
        raise UnknownReference("scenario", f"{area}|{name}")

    def compare(
        self, scenarios: Sequence[Scenario], inputs: UserInputs | None = None, phased: bool = True
    ) -> list[dict[str, Any]]:
        """One row per scenario, side by side: what it assumes and what it plans; with
        `phased`, the share of villages its multi-year plan brings within each year's
        charging distance (`coverage_<year>`, the years it plans)."""
        rows = []
        for s in scenarios:
            plan, model = self.investment(s, inputs)
            row: dict[str, Any] = {
                "scenario": s.name,
                "area": s.area,
                "year": s.year,
                "growth": s.growth,
                "detour": s.detour,
                "money_budget": s.money_budget,
                "max_sites": s.max_sites,
                "candidates": ",".join(s.classes) or "all",
                "demand_kwh_day": round(model.total_kwh_day(), 1),
                "covered_kwh_day": round(plan.covered_kwh_day, 1),
                "covered_share": round(plan.covered_kwh_day / model.total_kwh_day(), 4)
                if model.total_kwh_day()
                else None,
                "sites": sum(x.upgrade_of is None for x in plan.sites),
                "upgraded_stations": sum(x.upgrade_of is not None for x in plan.sites),
                "ports_ac": plan.ports.get("ac", 0),
                "ports_dc": plan.ports.get("dc", 0),
                "ports_ultra": plan.ports.get("ultra", 0),
                "capex": plan.capex,
                "opex_year": plan.opex_year,
                "total_cost": plan.total_cost,
                "currency": plan.currency,
                "grid_upgrade_kw": round(sum(f.upgrade_kw for f in plan.feeders), 1),
                "uncovered": len(plan.uncovered),
                "unmet_kwh_day": round(max(model.total_kwh_day() - plan.covered_kwh_day, 0), 1),
                # the rules' fixed sites alone may cost more than the money given
                "over_budget": s.money_budget is not None and plan.total_cost > s.money_budget,
                "method": plan.method,
                "gap": plan.gap,
            }
            if phased:
                places = len(self.places(s.area)[0])
                for c in self.phases(s, inputs).claims:
                    if c.kind == "distance" and places:
                        row[f"coverage_{c.year}"] = round(c.achieved / places, 4)
            rows.append(row)
        return rows


def scenario_text(scenario: Scenario) -> str:
    return json.dumps(scenario.to_json(), ensure_ascii=False, sort_keys=True)


def scenario_event(
    scenario: Scenario, saved_by: str, now: datetime, source: Source
) -> PlanningScenarioSaved:
    """The event that saves (or replaces) a scenario under its area and name."""
    text = scenario_text(scenario)
    return PlanningScenarioSaved(
        event_id=EventId(stable_id("scenario", scenario.area, scenario.name, text, now)),
        source=source,
        occurred_at=now,
        received_at=now,
        scenario_id=f"{scenario.area}|{scenario.name}",
        area_code=AreaCode(scenario.area),
        name=scenario.name,
        parameters=text,
        saved_by=saved_by[:100],
    )


def side_by_side(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Scenarios as columns, figures as rows: how planners lay scenarios out."""
    if not rows:
        return []
    names = [str(r["scenario"]) for r in rows]
    out = []
    for key in dict.fromkeys(k for r in rows for k in r):  # every figure, in first-seen order
        if key == "scenario":
            continue
        out.append({"figure": key, **{n: r.get(key) for n, r in zip(names, rows, strict=True)}})
    return out


def _chain(code: str | None) -> tuple[str | None, ...]:
    """Province, city, county, township, village codes of a GB/T 2260 code (12 digits
    for a village, 9 for a township, 6 for a county); a planning unit's code stands
    alone as its county."""
    if not code:
        return (None, None, None, None, None)
    if not code.isdigit() or len(code) < 6:
        return (None, None, code, None, None)
    return (
        code[:2] + "0000",
        code[:4] + "00",
        code[:6] if code[4:6] != "00" else None,
        code[:9] if len(code) >= 9 else None,
        code if len(code) == 12 else None,
    )


def planned_station(
    c: Candidate, piles: int, dc_powers: tuple[int, ...], area: str | None
) -> StationState:
    """A planned site as the coverage checks see a station: public, in `area`, with its
    piles and DC piles."""
    site = StationSite(
        f"plan:{c.id}",
        c.name,
        c.lat,
        c.lon,
        SiteCategory.PUBLIC_CAR_PARK,
        Access.PUBLIC,
        _chain(area),
    )
    return StationState(site, max(piles, len(dc_powers)), tuple(sorted(dc_powers)))
