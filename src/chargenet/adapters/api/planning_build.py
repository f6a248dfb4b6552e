"""Build-plan endpoints under /api/v1/planning (regulators, inside their jurisdiction):
demand, sized sites with cost and grid, the multi-year plan, and saved scenarios compared
side by side (JSON or XLSX). Shapes in docs/planning.md."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Regulator, bind, services
from chargenet.adapters.tabular import MEDIA_TYPES, to_xlsx
from chargenet.app.ingest import Disposition, Outcome
from chargenet.app.planning import to_json
from chargenet.app.planning_build import BuildPlanner, side_by_side
from chargenet.core.access import Audience, declared
from chargenet.core.planning.scenario import Scenario

Area = Annotated[str, Query(description="Area code (a city, county …)")]
Year = Annotated[int, Query(ge=1990, le=2100)]


def _scenario(values: dict[str, Any]) -> Scenario:
    return Scenario.from_json({k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class Building:
    """The build planner and `save`, which records a scenario (an event through the
    ingestor). Every area asked about is bounded by the calling regulator's jurisdiction."""

    planner: BuildPlanner
    save: Callable[[Scenario, str], Outcome]


Context = Annotated[Building, Depends(services(Building))]
router = APIRouter(prefix="/api/v1/planning", tags=["planning"])


def planning_build_router(
    planner: BuildPlanner,
    save: Callable[[Scenario, str], Outcome],
    authenticators: Sequence[Authenticator],
) -> APIRouter:
    return bind(router, Building(planner, save), authenticators)


@router.get("/demand", **declared(Audience.REGULATOR))
async def demand(
    building: Context,
    viewer: Regulator,
    area: Area,
    year: Year,
    growth: Annotated[float | None, Query(ge=-0.5, le=5)] = None,
) -> Any:
    """Charging demand per village for the year: observed use (with what busy
    chargers turned away), the vehicle stock and its planned growth."""
    s = _scenario(
        {"name": "demand", "area": viewer.area_within(area), "year": year, "growth": growth}
    )
    return to_json(await run_in_threadpool(building.planner.demand, s))


@router.get("/build", **declared(Audience.REGULATOR))
async def build(
    building: Context,
    viewer: Regulator,
    area: Area,
    year: Year,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    budget: Annotated[str | None, Query(max_length=20, description="Money (CNY)")] = None,
    sites: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    growth: Annotated[float | None, Query(ge=-0.5, le=5)] = None,
    classes: Annotated[list[str] | None, Query(max_length=20)] = None,
    time_limit: Annotated[float, Query(gt=0, le=300)] = 30.0,
) -> Any:
    """Sites, ports per power class, kW, capital and operating cost for the year:
    a saved scenario's, or the one these parameters make."""
    area = viewer.area_within(area)
    if scenario:
        chosen = await run_in_threadpool(building.planner.scenario, area, scenario)
    else:
        chosen = _scenario(
            {
                "name": "build",
                "area": area,
                "year": year,
                "money_budget": budget,
                "max_sites": sites,
                "growth": growth,
                "classes": classes,
                "time_limit": time_limit,
            }
        )
    plan, model = await run_in_threadpool(building.planner.investment, chosen)
    return {"scenario": chosen.to_json(), "plan": to_json(plan), "demand": model.counties}


@router.get("/phases", **declared(Audience.REGULATOR))
async def phases(
    building: Context,
    viewer: Regulator,
    area: Area,
    year: Year,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    start: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    yearly_budget: Annotated[str | None, Query(max_length=20)] = None,
    time_limit: Annotated[float, Query(gt=0, le=300)] = 60.0,
) -> Any:
    """The multi-year plan: what to build each year so that each year's rules hold,
    counting what was built; every claim with its figures. A saved scenario's, or
    the one these parameters make."""
    area = viewer.area_within(area)
    if scenario:
        chosen = await run_in_threadpool(building.planner.scenario, area, scenario)
    else:
        chosen = _scenario(
            {
                "name": "phases",
                "area": area,
                "year": year,
                "start": start,
                "yearly_budget": yearly_budget,
                "time_limit": time_limit,
            }
        )
    return to_json(await run_in_threadpool(building.planner.phases, chosen))


@router.get("/scenarios", **declared(Audience.REGULATOR))
async def scenarios(building: Context, viewer: Regulator, area: str | None = None) -> Any:
    """Saved scenarios in the caller's jurisdiction (or the area asked, inside it)."""
    saved = await run_in_threadpool(building.planner.saved, viewer.area_within(area))
    return [{**s.to_json(), "saved_by": r["saved_by"], "saved_at": r["saved_at"]} for s, r in saved]


@router.post("/scenarios", status_code=201, **declared(Audience.REGULATOR))
async def save_scenario(
    building: Context, viewer: Regulator, body: Annotated[dict[str, Any], Body()]
) -> Any:
    """Save (or replace) a named scenario: name, area, year and any assumptions
    (growth, detour, money_budget, max_sites, classes, …)."""
    chosen = _scenario(body)
    viewer.area_within(chosen.area)
    outcome = await run_in_threadpool(building.save, chosen, viewer.name)
    if outcome.disposition not in (Disposition.ACCEPTED, Disposition.DUPLICATE):
        raise HTTPException(status_code=422, detail=outcome.reason)
    return chosen.to_json()


@router.get("/scenarios/compare", **declared(Audience.REGULATOR))
async def compare(
    building: Context,
    viewer: Regulator,
    area: Area,
    names: Annotated[list[str], Query(min_length=1, max_length=10)],
    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json",
    phased: Annotated[
        bool, Query(description="Also plan the years: coverage reached each year")
    ] = True,
) -> Any:
    """Saved scenarios side by side: one column per scenario (XLSX with format=xlsx)."""
    area = viewer.area_within(area)
    chosen = [await run_in_threadpool(building.planner.scenario, area, n) for n in names]
    rows = await run_in_threadpool(building.planner.compare, chosen, phased=phased)
    if format == "xlsx":
        return Response(
            to_xlsx(side_by_side(rows), sheet="scenarios"),
            media_type=MEDIA_TYPES["xlsx"],
            headers={"Content-Disposition": f'attachment; filename="scenarios-{area}.xlsx"'},
        )
    return to_json(rows)
