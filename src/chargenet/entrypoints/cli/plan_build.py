"""`chargenet plan demand|build|phases|scenario …`: demand per place, sized sites with
cost and grid, the multi-year plan, and saved scenarios compared side by side."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chargenet.adapters.tabular import to_xlsx
from chargenet.app.ingest import Disposition
from chargenet.app.planning_build import (
    BuildPlanner,
    UserInputs,
    scenario_event,
    side_by_side,
)
from chargenet.app.planning_inputs import (
    InputError,
    read_candidates,
    read_feeders,
    read_figures,
)
from chargenet.core.errors import UnknownReference
from chargenet.core.events import Source
from chargenet.core.planning.scenario import Scenario, ScenarioError
from chargenet.entrypoints.cli.plan import (
    AreaOption,
    DbOption,
    JsonOption,
    RoadsOption,
    _fail_unknown,
    _platform,
    _print_json,
    _service,
    _solver_banner_to_stderr,
    console,
    err,
    plan_app,
)

scenario_app = typer.Typer(help="Named planning scenarios: save, list, compare.")
plan_app.add_typer(scenario_app, name="scenario")

FileOption = Annotated[Path | None, typer.Option()]


def _money(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        err.print(f"[red]not an amount: {text!r}[/red]")
        raise typer.Exit(2) from exc


def _inputs(
    candidates: Path | None,
    grid: Path | None,
    population: Path | None,
    traffic: Path | None,
) -> UserInputs:
    try:
        return UserInputs(
            candidates=read_candidates(candidates.read_text("utf-8")) if candidates else (),
            feeders=read_feeders(grid.read_text("utf-8")) if grid else (),
            population=read_figures(population.read_text("utf-8"), "population")
            if population
            else {},
            traffic=read_figures(traffic.read_text("utf-8"), "vehicles_per_day") if traffic else {},
        )
    except (OSError, InputError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _scenario(**values: Any) -> Scenario:
    try:
        return Scenario.from_json({k: v for k, v in values.items() if v is not None})
    except ScenarioError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _planner(db: str | None, roads: str | None) -> tuple[Any, BuildPlanner]:
    platform = _platform(db)
    _service(platform, roads)
    return platform, platform.build


Year = Annotated[int, typer.Option("--year", help="Plan year")]
Growth = Annotated[
    float | None, typer.Option(help="EV stock growth a year beyond the plans' targets (0.2)")
]
Budget = Annotated[str | None, typer.Option(help="Money for the whole plan (CNY)")]
Sites = Annotated[int | None, typer.Option("--sites", help="At most this many new sites")]
Classes = Annotated[
    str | None,
    typer.Option(help="Only these candidate classes, comma-separated (petrol_station,road,…)"),
]
Candidates = Annotated[
    Path | None, typer.Option(help="Candidate CSV: id,lat,lon[,name][,class][,area_code]")
]
Grid = Annotated[
    Path | None,
    typer.Option(help="Grid headroom CSV: feeder,lat,lon,headroom_kw[,radius_km][,upgrade_per_kw]"),
]
Population = Annotated[Path | None, typer.Option(help="CSV: code,population")]
Traffic = Annotated[Path | None, typer.Option(help="CSV: code,vehicles_per_day")]


@plan_app.command("demand")
def demand(
    area: AreaOption,
    year: Year,
    growth: Growth = None,
    population: Population = None,
    traffic: Traffic = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Charging demand per village: observed use, vehicle stock and its growth."""
    platform, planner = _planner(db, None)
    scenario = _scenario(name="demand", area=area, year=year, growth=growth)
    try:
        model = planner.demand(scenario, _inputs(None, None, population, traffic))
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if as_json:
        _print_json(model)
        return
    table = Table("county", "EVs", "public share", "kWh a day", "basis")
    for code, c in sorted(model.counties.items()):
        table.add_row(
            code,
            f"{float(c['evs']):,.0f}",
            f"{float(c['public_share']):.0%}",
            f"{float(c['kwh_day']):,.0f}",
            str(c["basis"]),
        )
    console.print(table)
    console.print(
        f"{len(model.points)} places, {model.total_kwh_day():,.0f} kWh a day; "
        f"busy hour {max(range(24), key=lambda h: model.profile[h])}:00; " + "; ".join(model.notes)
    )


def _build_options(
    area: str,
    year: int,
    growth: float | None,
    budget: str | None,
    sites: int | None,
    classes: str | None,
    detour: float,
    wait: float,
    utilisation: float,
    registry: bool,
    every_km: float,
    time_limit: float,
) -> dict[str, Any]:
    return {
        "area": area,
        "year": year,
        "growth": growth,
        "money_budget": str(_money(budget)) if budget else None,
        "max_sites": sites,
        "classes": [c.strip() for c in classes.split(",") if c.strip()] if classes else None,
        "detour": detour,
        "max_wait_probability": wait,
        "max_utilisation": utilisation,
        "registry": registry,
        "road_every_km": every_km if every_km > 0 else None,
        "time_limit": time_limit,
    }


Detour = Annotated[float, typer.Option(help="Straight line × this = charging distance")]
Wait = Annotated[float, typer.Option(help="Service level: chance a driver waits, at most")]
Utilisation = Annotated[float, typer.Option(help="Service level: ports busy, at most")]
Registry = Annotated[
    bool, typer.Option(help="The registry's hubs, car parks, service areas as candidates")
]
EveryKm = Annotated[float, typer.Option(help="Road candidates every k km (0: none)")]
TimeLimit = Annotated[float, typer.Option(help="Solver time limit, seconds")]


@plan_app.command("build")
def build(
    area: AreaOption,
    year: Year,
    budget: Budget = None,
    sites: Sites = None,
    growth: Growth = None,
    classes: Classes = None,
    candidates: Candidates = None,
    grid: Grid = None,
    population: Population = None,
    traffic: Traffic = None,
    scenario: Annotated[str | None, typer.Option(help="Use a saved scenario")] = None,
    roads: RoadsOption = None,
    detour: Detour = 1.3,
    wait: Wait = 0.2,
    utilisation: Utilisation = 0.8,
    registry: Registry = True,
    every_km: EveryKm = 5.0,
    time_limit: TimeLimit = 30.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What to build for a year: sites, ports per power class, kW, cost, grid."""
    platform, planner = _planner(db, roads)
    inputs = _inputs(candidates, grid, population, traffic)
    try:
        if scenario:
            chosen = planner.scenario(area, scenario)
        else:
            chosen = _scenario(
                name="build",
                **_build_options(
                    area,
                    year,
                    growth,
                    budget,
                    sites,
                    classes,
                    detour,
                    wait,
                    utilisation,
                    registry,
                    every_km,
                    time_limit,
                ),
            )
        with _solver_banner_to_stderr():
            plan, model = planner.investment(chosen, inputs)
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if as_json:
        _print_json({"scenario": chosen.to_json(), "plan": plan, "demand": model.counties})
        return
    table = Table("site", "class", "AC", "DC", "ultra", "kW", "kWh/day", "cost", "feeder")
    for s in plan.sites:
        table.add_row(
            s.candidate.name or s.candidate.id,
            s.candidate.kind + (" (ports added)" if s.upgrade_of else ""),
            str(s.size.ports.get("ac", 0)),
            str(s.size.ports.get("dc", 0)),
            str(s.size.ports.get("ultra", 0)),
            f"{s.size.connection_kw:,.0f}",
            f"{s.demand_kwh_day:,.0f}",
            f"{s.cost:,}",
            s.feeder or "",
        )
    console.print(table)
    gap = "—" if plan.gap != plan.gap else f"{plan.gap:.2%}"
    console.print(
        f"{sum(x.upgrade_of is None for x in plan.sites)} new sites, "
        f"{sum(x.upgrade_of is not None for x in plan.sites)} stations upgraded, "
        f"new ports {plan.ports}; capital {plan.capex:,} "
        f"{plan.currency}, operating {plan.opex_year:,} a year, total {plan.total_cost:,} "
        f"(operating over the horizon, present value); demand within reach "
        f"{plan.covered_kwh_day:,.0f} of {plan.demand_kwh_day:,.0f} kWh a day; "
        f"{plan.method} {plan.status}, gap {gap}"
    )


@plan_app.command("phases")
def phases(
    area: AreaOption,
    year: Annotated[int, typer.Option("--year", help="The last year to plan")],
    years: Annotated[
        str | None, typer.Option(help="Plan years, comma-separated (default: the rule's)")
    ] = None,
    start: Annotated[
        int | None, typer.Option(help="First year still to plan (earlier: what was built)")
    ] = None,
    yearly_budget: Annotated[str | None, typer.Option(help="Money a year (CNY)")] = None,
    sites: Annotated[int | None, typer.Option("--sites", help="New sites a year, at most")] = None,
    scenario: Annotated[str | None, typer.Option(help="Use a saved scenario")] = None,
    classes: Classes = None,
    candidates: Candidates = None,
    grid: Grid = None,
    roads: RoadsOption = None,
    detour: Detour = 1.3,
    registry: Registry = True,
    every_km: EveryKm = 5.0,
    time_limit: TimeLimit = 60.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The multi-year build plan: each year's rules, at the least discounted cost."""
    platform, planner = _planner(db, roads)
    try:
        year_list = [int(y) for y in years.split(",")] if years else None
    except ValueError as exc:
        err.print("[red]--years: whole years, comma-separated[/red]")
        raise typer.Exit(2) from exc
    chosen = _scenario(
        name="phases",
        area=area,
        year=year,
        years=year_list,
        start=start,
        yearly_budget=str(_money(yearly_budget)) if yearly_budget else None,
        max_sites=sites,
        classes=[c.strip() for c in classes.split(",")] if classes else None,
        detour=detour,
        registry=registry,
        road_every_km=every_km if every_km > 0 else None,
        time_limit=time_limit,
    )
    try:
        if scenario:
            chosen = planner.scenario(area, scenario)
        with _solver_banner_to_stderr():
            plan = planner.phases(chosen, _inputs(candidates, grid, None, None))
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if as_json:
        _print_json(plan)
        return
    table = Table("year", "new sites", "extra piles", "cost", "claims")
    for y in plan.years:
        claims = [c for c in plan.claims if c.year == y.year]
        table.add_row(
            str(y.year),
            str(len(y.sites)),
            str(sum(y.extra_piles.values())),
            f"{y.cost:,.0f}",
            ", ".join(f"{c.rule} {'met' if c.met else 'UNMET'}" for c in claims),
        )
    console.print(table)
    console.print(f"{plan.method} {plan.status}, gap {plan.gap:.2%}; " + "; ".join(plan.notes))


@scenario_app.command("save")
def scenario_save(
    name: Annotated[str, typer.Argument(help="The scenario's name")],
    area: AreaOption,
    year: Year,
    budget: Budget = None,
    sites: Sites = None,
    growth: Growth = None,
    classes: Classes = None,
    detour: Detour = 1.3,
    wait: Wait = 0.2,
    utilisation: Utilisation = 0.8,
    registry: Registry = True,
    every_km: EveryKm = 5.0,
    time_limit: TimeLimit = 30.0,
    db: DbOption = None,
) -> None:
    """Save (or replace) a named scenario for an area."""
    chosen = _scenario(
        name=name,
        **_build_options(
            area,
            year,
            growth,
            budget,
            sites,
            classes,
            detour,
            wait,
            utilisation,
            registry,
            every_km,
            time_limit,
        ),
    )
    platform = _platform(db)
    try:
        event = scenario_event(chosen, "cli", platform.clock.now(), Source(adapter="planning"))
        outcome = platform.ingestor.ingest([event])[0]
    finally:
        platform.close()
    if outcome.disposition not in (Disposition.ACCEPTED, Disposition.DUPLICATE):
        err.print(f"[red]{name}: {outcome.reason}[/red]")
        raise typer.Exit(1)
    console.print(f"saved {area}|{name}")


@scenario_app.command("list")
def scenario_list(
    area: Annotated[str | None, typer.Option("--area", help="Only scenarios in this area")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The saved scenarios."""
    platform = _platform(db)
    try:
        saved = platform.build.saved(area)
    finally:
        platform.close()
    if as_json:
        _print_json([{**s.to_json(), "saved_at": row["saved_at"]} for s, row in saved])
        return
    table = Table("area", "name", "year", "budget", "sites", "growth", "classes", "saved")
    for s, row in saved:
        table.add_row(
            s.area,
            s.name,
            str(s.year),
            str(s.money_budget or ""),
            str(s.max_sites or ""),
            "" if s.growth is None else f"{s.growth:.0%}",
            ",".join(s.classes) or "all",
            row["saved_at"].isoformat(),
        )
    console.print(table)


@scenario_app.command("compare")
def scenario_compare(
    names: Annotated[list[str], typer.Argument(help="Saved scenario names")],
    area: AreaOption,
    xlsx: Annotated[Path | None, typer.Option(help="Write the comparison to this .xlsx")] = None,
    candidates: Candidates = None,
    grid: Grid = None,
    population: Population = None,
    traffic: Traffic = None,
    roads: RoadsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plans of saved scenarios side by side: demand, sites, ports, money, grid."""
    platform, planner = _planner(db, roads)
    try:
        chosen = [planner.scenario(area, n) for n in names]
        with _solver_banner_to_stderr():
            rows = planner.compare(chosen, _inputs(candidates, grid, population, traffic))
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    table_rows = side_by_side(rows)
    if xlsx:
        xlsx.write_bytes(to_xlsx(table_rows, sheet="scenarios"))
        console.print(f"wrote {xlsx}")
    if as_json:
        _print_json(rows)
        return
    table = Table("figure", *names)
    for r in table_rows:
        table.add_row(str(r["figure"]), *("" if r[n] is None else str(r[n]) for n in names))
    console.print(table)
