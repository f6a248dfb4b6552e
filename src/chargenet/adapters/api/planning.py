"""Planning endpoints under /api/v1/planning: policy packs, plan vs actual, coverage and
gaps (public); siting and the monthly progress report (regulators). JSON shapes are in
docs/planning.md."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Regulator, bind, services
from chargenet.analytics.planning.spatial import DEFAULT_DETOUR
from chargenet.analytics.planning.targets import ForecastMethod
from chargenet.app.planning import CandidateSpec, PlanningService, PolicyPackRow, to_json
from chargenet.core.access import Audience, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.planning.pack import PolicyPack
from chargenet.kit.bounds import StoredInt

Area = Annotated[str, Query(description="Area code (a city, county …)")]
Year = Annotated[int, Query(ge=1990, le=2100)]
Detour = Annotated[
    float, Query(ge=1.0, le=5.0, description="Straight line × this = charging distance")
]
Network = Annotated[bool, Query(description="Measure along the loaded road network")]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _pack_json(pack: PolicyPack, row: PolicyPackRow) -> dict[str, Any]:
    return {
        "id": pack.id,
        "region": pack.region,
        "title": pack.title,
        "version": pack.version.isoformat(),
        "loaded_at": row["loaded_at"].isoformat(),
        "sources": dict(pack.sources),
        "notes": list(pack.notes),
        "units": to_json(list(pack.units)),
        "metrics": to_json(dict(pack.metrics)),
        "targets": len(pack.targets),
        "rules": to_json(list(pack.rules)),
        "parking": to_json(list(pack.parking)),
    }


def _results_json(results: list[Any], limit: int) -> list[dict[str, Any]]:
    out = []
    for r in results:
        item = to_json(r)
        item["shortfall_count"] = len(r.shortfalls)
        item["shortfalls"] = item["shortfalls"][:limit]
        out.append(item)
    return out


Service = Annotated[PlanningService, Depends(services(PlanningService))]
router = APIRouter(prefix="/api/v1/planning", tags=["planning"])


def planning_router(service: PlanningService, authenticators: Sequence[Authenticator]) -> APIRouter:
    """Regulators' endpoints keep their area inside the caller's jurisdiction."""
    return bind(router, service, authenticators)


@router.get("/packs", **declared(Audience.PUBLIC))
async def packs(planning: Service) -> Any:
    """Policy packs in force: metric and ratio definitions, rules, parking ratios."""
    loaded = await run_in_threadpool(planning.loaded_packs)
    return [_pack_json(pack, row) for pack, row in loaded]


@router.get("/packs/{pack_id}", **declared(Audience.PUBLIC))
async def pack(planning: Service, pack_id: str) -> Any:
    for p, row in await run_in_threadpool(planning.loaded_packs):
        if p.id == pack_id:
            return {**_pack_json(p, row), "text": row["text"]}
    raise UnknownReference("pack", pack_id)


@router.get("/targets", **declared(Audience.PUBLIC))
async def targets(
    planning: Service,
    area: Area,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    metric: str | None = None,
    as_of: Annotated[date | None, Query(description="Default: today")] = None,
    method: ForecastMethod = ForecastMethod.RUN_RATE,
) -> Any:
    """Plan vs actual for every target in the area (and the areas in it)."""
    rows = await run_in_threadpool(
        planning.plan_vs_actual, area, year, month, as_of, method, metric
    )
    return to_json(rows)


@router.get("/targets/{target_id}/months", **declared(Audience.PUBLIC))
async def target_months(planning: Service, target_id: str, as_of: date | None = None) -> Any:
    """A yearly pile target month by month: built, cumulative, expected by then."""
    return to_json(await run_in_threadpool(planning.monthly, target_id, as_of))


@router.get("/targets/{target_id}/revisions", **declared(Audience.PUBLIC))
async def target_revisions(planning: Service, target_id: str) -> Any:
    """Every value the target has had, with its date and source (R16)."""
    area = target_id.split("|", 1)[0]
    rows = await run_in_threadpool(planning.revisions, area, target_id)
    if not rows:
        raise UnknownReference("target", target_id)
    return to_json(rows)


@router.get("/coverage", **declared(Audience.PUBLIC))
async def coverage(
    planning: Service,
    area: Area,
    year: Year,
    on: Annotated[
        date | None, Query(description="Stations in service on (default: year end or today)")
    ] = None,
    detour: Detour = DEFAULT_DETOUR,
    network: Network = False,
    limit: Annotated[int, Query(ge=0, le=10_000, description="Shortfalls listed per rule")] = 50,
) -> Any:
    """Every coverage rule and parking ratio of the area's pack, with shortfalls."""
    results, pack, inp = await run_in_threadpool(planning.coverage, area, year, on, detour, network)
    return {
        "area": area,
        "year": year,
        "pack": pack.id if pack else None,
        "distance": inp.distance.describe(),
        "stations": len(inp.stations),
        "rules": _results_json(results, limit),
    }


@router.get("/gaps", **declared(Audience.PUBLIC))
async def gaps(
    planning: Service,
    area: Area,
    year: Year,
    detour: Detour = DEFAULT_DETOUR,
    network: Network = False,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 50,
) -> Any:
    """Only the unmet rules, each with what it would take to meet it."""
    results, pack, _ = await run_in_threadpool(planning.coverage, area, year, None, detour, network)
    unmet = [r for r in results if r.status.value in ("unmet", "not_checkable")]
    return {
        "area": area,
        "year": year,
        "pack": pack.id if pack else None,
        "gaps": _results_json(unmet, limit),
    }


@router.get("/siting", **declared(Audience.REGULATOR))
async def siting(
    planning: Service,
    viewer: Regulator,
    area: Area,
    year: Year,
    budget: Annotated[
        StoredInt | None,
        Query(ge=1, description="At most this many new stations (maximum coverage)"),
    ] = None,
    villages: bool = True,
    townships: bool = True,
    # A candidate every few metres would be millions of them: memory, not a plan.
    road_every_km: Annotated[float | None, Query(ge=0.5, le=1000)] = 5.0,
    detour: Detour = DEFAULT_DETOUR,
    network: Network = False,
    time_limit: Annotated[float, Query(gt=0, le=300)] = 30.0,
) -> Any:
    """Where to build next: the fewest new stations closing the coverage gaps."""
    spec = CandidateSpec(villages, townships, road_every_km)
    plan = await run_in_threadpool(
        planning.siting,
        viewer.area_within(area),
        year,
        spec,
        detour=detour,
        network=network,
        budget=budget,
        time_limit=time_limit,
    )
    return to_json(plan)


@router.get("/progress", **declared(Audience.REGULATOR))
async def progress(
    planning: Service,
    viewer: Regulator,
    area: Area,
    month: Annotated[str, Query(description="YYYY-MM")],
) -> Any:
    """The monthly progress report (R16) for every county-level unit in the area."""
    found = _MONTH.match(month)
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1990 <= int(found.group(1)) <= 2100:
        # The years Year allows: 0000-12 would reach the calendar as year 0 (a 500).
        raise HTTPException(status_code=422, detail="month must be YYYY-MM, 1990-01 to 2100-12")
    area = viewer.area_within(area)
    return await run_in_threadpool(
        planning.progress, area, int(found.group(1)), int(found.group(2))
    )
