"""Read endpoints under /api/v1. Lists page with limit/offset and say the total in
`X-Total-Count`; unknown ids are 404 with the id named.

Who sees what: areas, operators, totals and public-access sites (stations, connectors with
live status, swap stations) are open data. Dedicated and private sites are seen only by
their operator, regulators of their jurisdiction and admins — a home charger's position is
personal data. Charger details (serial numbers, firmware), sessions and the event log need
a login: operators see their own, regulators their jurisdiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Anyone, Member, bind, services
from chargenet.adapters.api.params import AfterSeq, Offset
from chargenet.adapters.api.schemas import (
    AreaDetail,
    AreaOut,
    ChargerInventoryOut,
    ChargerOut,
    ConnectorOut,
    EventOut,
    OperatorDetail,
    OperatorOut,
    Overview,
    RejectedEventOut,
    SessionOut,
    StationDetail,
    StationOut,
    SwapStationOut,
)
from chargenet.app.queries import StateQueries, StationDetailRow
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.areas import AreaLevel
from chargenet.core.errors import UnknownReference
from chargenet.core.status import ConnectorStatus

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]


R = TypeVar("R")


def _paged(response: Response, page: tuple[list[R], int], limit: int) -> list[R]:
    rows, total = page
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Limit"] = str(limit)
    return rows


def _found(row: R | None, kind: str, ident: str) -> R:
    if row is None:
        raise UnknownReference(kind, ident)
    return row


def _strip_equipment_details(station: StationDetailRow, viewer: Principal) -> StationDetailRow:
    """Serial numbers and firmware are the operator's and its regulators' business."""
    if not viewer.in_scope(station["operator_id"], station["area_code"]):
        for charger in station.get("chargers", []):
            charger["serial_number"] = None
            charger["firmware"] = None
    return station


@dataclass(frozen=True)
class Reads:
    queries: StateQueries


Context = Annotated[Reads, Depends(services(Reads))]
router = APIRouter(prefix="/api/v1")


def read_router(queries: StateQueries, authenticators: Sequence[Authenticator]) -> APIRouter:
    """Registry, live-status and log reads, each scoped to the caller (module docstring)."""
    return bind(router, Reads(queries), authenticators)


def _log_reader(member: Principal) -> str | None:
    """The operator whose events a member may read; None for the whole log."""
    if member.role is Role.OPERATOR:
        return member.operator_id or "-"
    if not member.everywhere:
        raise HTTPException(
            status_code=403,
            detail="the event log is platform-wide: it needs an admin or a regulator "
            "without a jurisdiction limit",
        )
    return None


@router.get("/overview", response_model=Overview, tags=["overview"], **declared(Audience.PUBLIC))
async def overview(
    reads: Context,
    area: str | None = None,
    on: Annotated[
        date | None, Query(description="Count the piles in service on this day instead")
    ] = None,
) -> Any:
    """Totals for the whole platform or one area: piles (R01), sites, live status, log
    size. With `on`, piles and sites are those in service at the end of that day, and
    `status` is null: connector status is live, not kept day by day."""
    return {
        "area": area,
        "on": on,
        "counts": await run_in_threadpool(reads.queries.counts, area_code=area, on=on),
        "piles": await run_in_threadpool(reads.queries.pile_count, area_code=area, on=on),
        "status": None
        if on is not None
        else await run_in_threadpool(reads.queries.status_summary, area_code=area),
        "last_seq": await run_in_threadpool(reads.queries.last_seq),
    }


@router.get("/areas", response_model=list[AreaOut], tags=["areas"], **declared(Audience.PUBLIC))
async def areas(
    reads: Context,
    response: Response,
    level: AreaLevel | None = None,
    parent: str | None = None,
    q: Annotated[str | None, Query(description="Part of the Chinese or English name")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    page = await run_in_threadpool(reads.queries.areas, level, parent, q, limit, offset)
    return _paged(response, page, limit)


@router.get("/areas/{code}", response_model=AreaDetail, tags=["areas"], **declared(Audience.PUBLIC))
async def area(reads: Context, code: str) -> Any:
    """An area with its ancestors, statistics, piles and live connector status."""
    return _found(await run_in_threadpool(reads.queries.area, code), "area", code)


@router.get(
    "/operators",
    response_model=list[OperatorOut],
    tags=["registry"],
    **declared(Audience.PUBLIC),
)
async def operators(
    reads: Context, response: Response, limit: Limit = 100, offset: Offset = 0
) -> Any:
    return _paged(response, await run_in_threadpool(reads.queries.operators, limit, offset), limit)


@router.get(
    "/operators/{operator_id}",
    response_model=OperatorDetail,
    tags=["registry"],
    **declared(Audience.PUBLIC),
)
async def operator(reads: Context, operator_id: str) -> Any:
    return _found(
        await run_in_threadpool(reads.queries.operator, operator_id), "operator", operator_id
    )


@router.get(
    "/stations", response_model=list[StationOut], tags=["registry"], **declared(Audience.PUBLIC)
)
async def stations(
    reads: Context,
    viewer: Anyone,
    response: Response,
    area: str | None = None,
    operator: str | None = None,
    category: str | None = None,
    access: str | None = None,
    include_retired: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    page = await run_in_threadpool(
        reads.queries.stations,
        area,
        operator,
        category,
        access,
        include_retired,
        limit,
        offset,
        viewer=viewer,
    )
    return _paged(response, page, limit)


@router.get(
    "/stations/{station_id}",
    response_model=StationDetail,
    tags=["registry"],
    **declared(Audience.PUBLIC),
)
async def station(reads: Context, viewer: Anyone, station_id: str) -> Any:
    """A station with its chargers and every connector's live status."""
    row = _found(
        await run_in_threadpool(reads.queries.station, station_id, viewer), "station", station_id
    )
    return _strip_equipment_details(row, viewer)


@router.get(
    "/chargers", response_model=list[ChargerOut], tags=["registry"], **declared(Audience.MEMBER)
)
async def chargers(
    reads: Context,
    member: Member,
    response: Response,
    station: str | None = None,
    operator: str | None = None,
    online: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    page = await run_in_threadpool(
        reads.queries.chargers, station, operator, online, False, limit, offset, viewer=member
    )
    return _paged(response, page, limit)


@router.get(
    "/chargers/{charger_id}",
    response_model=ChargerOut,
    tags=["registry"],
    **declared(Audience.MEMBER),
)
async def charger(reads: Context, member: Member, charger_id: str) -> Any:
    return _found(
        await run_in_threadpool(reads.queries.charger, charger_id, member), "charger", charger_id
    )


@router.get(
    "/chargers/{charger_id}/inventory",
    response_model=ChargerInventoryOut,
    tags=["registry"],
    **declared(Audience.MEMBER),
)
async def charger_inventory(reads: Context, member: Member, charger_id: str) -> Any:
    """The charger's hardware and firmware as it reported them: vendor, model, serial
    number and firmware, and each component variable (modem, meter, OCPP 2.0.1
    device model) with when it was reported."""
    row = _found(
        await run_in_threadpool(reads.queries.charger, charger_id, member), "charger", charger_id
    )
    items = await run_in_threadpool(reads.queries.charger_inventory, charger_id)
    return {
        **{k: row[k] for k in ("charger_id", "vendor", "model", "serial_number", "firmware")},
        "items": items,
    }


@router.get(
    "/connectors", response_model=list[ConnectorOut], tags=["live"], **declared(Audience.PUBLIC)
)
async def connectors(
    reads: Context,
    viewer: Anyone,
    response: Response,
    station: str | None = None,
    area: str | None = None,
    operator: str | None = None,
    status: ConnectorStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Connectors with live status, filterable by effective status."""
    page = await run_in_threadpool(
        reads.queries.connectors,
        station,
        area,
        operator,
        status,
        None,
        False,
        limit,
        offset,
        viewer=viewer,
    )
    return _paged(response, page, limit)


@router.get(
    "/swap-stations",
    response_model=list[SwapStationOut],
    tags=["registry"],
    **declared(Audience.PUBLIC),
)
async def swap_stations(
    reads: Context,
    viewer: Anyone,
    response: Response,
    area: str | None = None,
    operator: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    page = await run_in_threadpool(
        reads.queries.swap_stations, area, operator, limit, offset, viewer=viewer
    )
    return _paged(response, page, limit)


@router.get(
    "/sessions", response_model=list[SessionOut], tags=["sessions"], **declared(Audience.MEMBER)
)
async def sessions(
    reads: Context,
    member: Member,
    response: Response,
    station: str | None = None,
    connector: str | None = None,
    state: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    page = await run_in_threadpool(
        reads.queries.sessions, station, connector, state, limit, offset, viewer=member
    )
    return _paged(response, page, limit)


@router.get("/events", response_model=list[EventOut], tags=["events"], **declared(Audience.OWN))
async def events(
    reads: Context,
    member: Member,
    after_seq: AfterSeq = 0,
    type: Annotated[str | None, Query(description="Event type, e.g. station.registered")] = None,
    adapter: str | None = None,
    limit: Limit = 100,
) -> Any:
    """The durable event log in order; page by passing the last `seq` seen. Operators
    read the events their own platform sent."""
    operator = _log_reader(member)
    return await run_in_threadpool(reads.queries.events, after_seq, type, adapter, limit, operator)


@router.get(
    "/events/rejected",
    response_model=list[RejectedEventOut],
    tags=["events"],
    **declared(Audience.OWN),
)
async def rejected(
    reads: Context, member: Member, response: Response, limit: Limit = 100, offset: Offset = 0
) -> Any:
    """Events that were refused, newest first, each with its reason."""
    operator = _log_reader(member)
    return _paged(
        response, await run_in_threadpool(reads.queries.rejected, limit, offset, operator), limit
    )
