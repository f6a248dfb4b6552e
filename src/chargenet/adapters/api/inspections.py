"""Random inspections, 双随机一公开 (R38): regulators draw stations and inspectors at
random (the seed recorded, the draw reproducible from it), record each inspection's result
and the rectification; everyone can read the results (`/api/v1/public/inspections`)."""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Regulator, bind, services
from chargenet.adapters.api.params import Offset
from chargenet.app.inspections import InspectionService, VerifiedDrawRow
from chargenet.core.access import Audience, Principal, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.supervision.inspections import MAX_POOL, MAX_SEED, InspectionResult

Name = Annotated[str, Field(min_length=1, max_length=128)]


class DrawIn(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    inspectors: list[Name] = Field(min_length=1, max_length=MAX_POOL)
    count: int = Field(ge=1, le=MAX_POOL, description="how many stations to draw")
    team: int = Field(default=2, ge=1, le=10, description="inspectors per station")
    area: str | None = Field(default=None, max_length=32)
    targets: list[Name] | None = Field(
        default=None,
        max_length=MAX_POOL,
        description="the station pool (default: public stations of the area)",
    )
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)


class ResultIn(BaseModel):
    station_id: Name
    result: InspectionResult
    findings: Annotated[str, Field(max_length=4000)] = ""
    rectify_by: date | None = None


class RectifiedIn(BaseModel):
    station_id: Name
    note: Annotated[str, Field(max_length=4000)] = ""


Service = Annotated[InspectionService, Depends(services(InspectionService))]
router = APIRouter(prefix="/api/v1", tags=["supervision: random inspections"])


def inspections_router(
    service: InspectionService, authenticators: Sequence[Authenticator]
) -> APIRouter:
    return bind(router, service, authenticators)


async def _in_scope(service: InspectionService, principal: Principal, station_id: str) -> None:
    area = await run_in_threadpool(service.queries.station_area, station_id)
    if area is None or not principal.in_scope(None, area):
        raise UnknownReference("station", station_id)


async def _visible_draw(
    service: InspectionService, principal: Principal, draw_id: str
) -> VerifiedDrawRow:
    row = await service.get(draw_id)
    area = row.get("area_code")
    if not (principal.everywhere or (area is not None and principal.in_scope(None, area))):
        raise UnknownReference("inspection draw", draw_id)
    return row


@router.post("/supervision/inspections/draws", status_code=201, **declared(Audience.REGULATOR))
async def make_draw(principal: Regulator, service: Service, body: DrawIn) -> Any:
    """Draw stations and, for each, a team of inspectors at random; the answer holds the
    seed and the pools, and `reproduced: true` — the draw redone from them."""
    area = principal.area_within(body.area)
    for station_id in body.targets or ():
        await _in_scope(service, principal, station_id)
    return await service.draw(
        title=body.title,
        inspectors=body.inspectors,
        count=body.count,
        team=body.team,
        area=area,
        targets=body.targets,
        seed=body.seed,
        by=principal.name,
    )


@router.get("/supervision/inspections/draws/{draw_id}", **declared(Audience.REGULATOR))
async def get_draw(principal: Regulator, service: Service, draw_id: str) -> Any:
    return await _visible_draw(service, principal, draw_id)


@router.post("/supervision/inspections/draws/{draw_id}/results", **declared(Audience.REGULATOR))
async def record(principal: Regulator, service: Service, draw_id: str, body: ResultIn) -> Any:
    """An inspection's result at a drawn station (rectify: with the date to do it by)."""
    await _visible_draw(service, principal, draw_id)
    await _in_scope(service, principal, body.station_id)
    return await service.record(
        draw_id,
        body.station_id,
        body.result,
        body.findings,
        principal.name,
        body.rectify_by,
    )


@router.post("/supervision/inspections/draws/{draw_id}/rectified", **declared(Audience.REGULATOR))
async def rectified(principal: Regulator, service: Service, draw_id: str, body: RectifiedIn) -> Any:
    await _visible_draw(service, principal, draw_id)
    await _in_scope(service, principal, body.station_id)
    return await service.rectified(draw_id, body.station_id, body.note, principal.name)


@router.get("/public/inspections", **declared(Audience.PUBLIC))
async def public_results(
    response: Response,
    service: Service,
    area: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> Any:
    """The public list (公开): each drawn public station, its draw (with the seed) and
    the inspection's result and rectification."""
    rows, total = await run_in_threadpool(service.queries.results, area, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return rows
