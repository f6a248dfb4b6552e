"""Orderly charging under /api/v1/orderly: stations as electrical systems (grid
connection, shared feeders), a driver's energy and departure, a site's load against its
limit with each session's limit and whether it keeps to it (docs/orderly.md).

Operators state their own stations' grid connections and their drivers' needs; feeders
are the grid's, stated by admins; operators and regulators read their own / their
jurisdiction's sites.
"""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Admin, Member, Regulator, bind, services
from chargenet.app.orderly import OrderlyService
from chargenet.app.orderly_figures import OrderlyFigures
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.events import DemandResponseScope
from chargenet.kit.ids import new_id

Watts = Annotated[int, Field(ge=0, le=1_000_000_000)]
Id = Annotated[str, Field(min_length=1, max_length=128)]


class GridConnectionIn(BaseModel):
    station_id: Id
    capacity_w: Watts = Field(description="what charging at the station may draw in total")
    capacity_va: Watts | None = Field(default=None, description="the connection's rating")
    phases: Literal[1, 3] = 3
    voltage_v: int = Field(default=220, ge=100, le=2000, description="phase to neutral")
    feeder_id: Id | None = Field(default=None, description="the shared feeder above it")
    pv_peak_w: Watts = 0
    storage_wh: int = Field(default=0, ge=0, le=10_000_000_000)
    storage_power_w: Watts = 0
    valid_from: datetime | None = Field(default=None, description="default: now")


class FeederIn(BaseModel):
    feeder_id: Id
    name: str = Field(min_length=1, max_length=200)
    capacity_w: Watts
    phases: Literal[1, 3] = 3
    area_code: Annotated[str, Field(max_length=32)] | None = None
    valid_from: datetime | None = None


class DemandResponseIn(BaseModel):
    scope: Literal["all", "area", "feeder", "station"] = Field(
        description="regulators: their area (default) or a station in it"
    )
    scope_id: Annotated[str, Field(max_length=128)] = ""
    start: datetime | None = Field(default=None, description="default: now")
    end: datetime
    share: float = Field(ge=0.0, le=1.0, description="share of each site's limit allowed")
    reason: str = Field(min_length=1, max_length=200)


class NeedsIn(BaseModel):
    energy_wh: int | None = Field(default=None, ge=0, le=1_000_000, description="still wanted")
    departure_at: datetime | None = Field(default=None, description="when the vehicle leaves")
    discharge_max_w: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="vehicle-to-grid: the most the vehicle may give (charger and vehicle can)",
    )
    dischargeable_wh: int | None = Field(
        default=None, ge=0, le=1_000_000, description="the energy above its minimum it may give"
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(422, "times carry their UTC offset")
    return value


@dataclass(frozen=True)
class Orderly:
    """The orderly-charging service and its figures, with the checks the routes share."""

    service: OrderlyService
    figures: OrderlyFigures

    async def holder_of(self, principal: Principal, kind: str, ident: str, write: bool) -> None:
        holder = await run_in_threadpool(self.service.queries.owner, kind, ident)
        if holder is None:
            raise UnknownReference(kind, ident)
        if write:
            if principal.role is Role.REGULATOR:
                raise HTTPException(403, "regulators read sites; operators state them")
            if principal.role is Role.OPERATOR and holder.operator_id != principal.operator_id:
                raise HTTPException(403, f"{kind} {ident} is not your operator's")
        elif not principal.in_scope(holder.operator_id, holder.area_code):
            raise HTTPException(403, f"{kind} {ident} is outside what you may see")

    async def scope(
        self, principal: Principal, area: str | None, station: str | None
    ) -> tuple[str | None, str | None]:
        """(area, operator) a load or flexibility question is narrowed to: one station the
        caller may see, or an area inside a regulator's jurisdiction; operators their own."""
        if station is not None:
            await self.holder_of(principal, "station", station, write=False)
            return None, None
        if principal.role is Role.OPERATOR:
            return area, principal.operator_id
        return principal.area_within(area), None


Context = Annotated[Orderly, Depends(services(Orderly))]
router = APIRouter(prefix="/api/v1/orderly", tags=["orderly charging"])


def orderly_router(
    service: OrderlyService, authenticators: Sequence[Authenticator], figures: OrderlyFigures
) -> APIRouter:
    return bind(router, Orderly(service, figures), authenticators)


def _by(principal: Principal) -> str | None:
    return principal.operator_id if principal.role is Role.OPERATOR else None


def _period(start: datetime, end: datetime, longest: timedelta) -> tuple[datetime, datetime]:
    begin, stop = _aware(start), _aware(end)
    assert begin is not None and stop is not None
    if not begin < stop or stop - begin > longest:
        raise HTTPException(422, f"start before end, at most {longest.days} days")
    return begin, stop


@router.post("/grid-connections", status_code=201, **declared(Audience.OPERATOR))
async def grid_connection(
    orderly: Context, principal: Member, body: Annotated[GridConnectionIn, Body()]
) -> Any:
    """State a station's grid connection from a time on (a later statement with a
    later valid_from changes the limit from then; the earlier stays in history)."""
    await orderly.holder_of(principal, "station", body.station_id, write=True)
    values = body.model_dump(exclude={"station_id", "valid_from"})
    event = await orderly.service.state_grid_connection(
        _by(principal), body.station_id, _aware(body.valid_from), **values
    )
    return {"station_id": event.station_id, "valid_from": event.valid_from}


@router.post("/feeders", status_code=201, **declared(Audience.ADMIN))
async def feeder(orderly: Context, principal: Admin, body: Annotated[FeederIn, Body()]) -> Any:
    """State a feeder or transformer shared by several stations, and its limit."""
    values = body.model_dump(exclude={"feeder_id", "name", "valid_from"})
    event = await orderly.service.state_feeder(
        body.feeder_id, body.name, _aware(body.valid_from), **values
    )
    return {"feeder_id": event.feeder_id, "valid_from": event.valid_from}


@router.post("/sessions/{session_id}/needs", **declared(Audience.OPERATOR))
async def needs(
    orderly: Context, session_id: str, principal: Member, body: Annotated[NeedsIn, Body()]
) -> Any:
    """A driver's energy wanted and departure, for the scheduler (through the
    operator's app; the vehicle's own, from ISO 15118, arrive over OCPP 2.0.1)."""
    await orderly.holder_of(principal, "session", session_id, write=True)
    await orderly.service.state_needs(
        _by(principal),
        session_id,
        body.energy_wh,
        _aware(body.departure_at),
        body.discharge_max_w,
        body.dischargeable_wh,
    )
    return {"session_id": session_id, "accepted": True}


@router.get("/sites/{station_id}", **declared(Audience.MEMBER))
async def site(orderly: Context, station_id: str, principal: Member) -> Any:
    """A station's limit, its load now, and each session's limit and whether its
    charger keeps to it (`exceeding`: flagged from its meter values)."""
    await orderly.holder_of(principal, "station", station_id, write=False)
    return await run_in_threadpool(orderly.service.site, station_id)


@router.post("/dr-events", status_code=201, **declared(Audience.REGULATOR))
async def demand_response(
    orderly: Context,
    principal: Regulator,
    body: Annotated[DemandResponseIn, Body()],
) -> Any:
    """Call a demand-response event: from start to end, managed stations in scope draw
    at most `share` of their limit. Regulators call it on their area or a station in
    it; admins on anything (all, a feeder)."""
    scope, scope_id = body.scope, body.scope_id
    if principal.role is Role.REGULATOR and principal.area_code is not None:
        if scope == "station":
            await orderly.holder_of(principal, "station", scope_id, write=False)
        elif scope in ("area", "all"):
            scope, scope_id = "area", principal.area_within(scope_id or principal.area_code)
        else:
            raise HTTPException(403, "feeders are the grid's: ask an administrator")
    elif scope == "station":
        await orderly.holder_of(principal, "station", scope_id, write=False)
    start = _aware(body.start) or orderly.service.clock.now()
    end = _aware(body.end)
    assert end is not None
    event = await orderly.service.call_demand_response(
        f"dr-{new_id()}",
        DemandResponseScope(scope),
        scope_id,
        start,
        end,
        body.share,
        called_by=principal.name,
        program=body.reason,
    )
    return {"dr_id": event.dr_id, "scope": scope, "scope_id": scope_id}


@router.get("/valley-share", **declared(Audience.MEMBER))
async def valley_share(
    orderly: Context,
    principal: Member,
    start: datetime,
    end: datetime,
    area: str | None = None,
    operator: str | None = None,
) -> Any:
    """Share of the energy charged in the grid's valley hours over a period, in all and
    per operator: regulators for their jurisdiction, operators for themselves."""
    if principal.role is Role.OPERATOR:
        if operator is not None and operator != principal.operator_id:
            raise HTTPException(403, "operators see their own figures only")
        operator = principal.operator_id
    else:
        area = principal.area_within(area)
    begin, stop = _period(start, end, timedelta(days=400))
    return await run_in_threadpool(orderly.service.valley_share, begin, stop, area, operator)


@router.get("/load", **declared(Audience.MEMBER))
async def load(
    orderly: Context,
    principal: Member,
    start: datetime | None = None,
    end: datetime | None = None,
    day: date | None = None,
    days: Annotated[int, Query(ge=1, le=31)] = 1,
    area: str | None = None,
    station: str | None = None,
) -> Any:
    """Metered load of the managed stations of an area, or of one station, per
    quarter hour against their limit and the limit under demand-response events;
    the events, the peak and the valley share. The period: start and end, or
    `days` from the local midnight of `day`."""
    if day is not None:
        start = datetime.combine(day, time(0), orderly.service.zone)
        end = start + timedelta(days=days)
    if start is None or end is None:
        raise HTTPException(422, "give start and end, or day")
    begin, stop = _period(start, end, timedelta(days=31))
    area, operator = await orderly.scope(principal, area, station)
    return await run_in_threadpool(orderly.figures.load_curve, begin, stop, area, station, operator)


@router.get("/energy", **declared(Audience.MEMBER))
async def energy(
    orderly: Context,
    principal: Member,
    station: str,
    start: datetime,
    end: datetime,
) -> Any:
    """A station's energy delivered per UTC hour wholly in the period (at most 31 days),
    in all and per connector with its highest power and samples, from the meter history
    and, for months its retention has dropped, the hourly roll-up."""
    begin, stop = _period(start, end, timedelta(days=31))
    await orderly.scope(principal, None, station)
    return await run_in_threadpool(orderly.figures.energy_by_hour, station, begin, stop)


@router.get("/flexibility", **declared(Audience.MEMBER))
async def flexibility(
    orderly: Context,
    principal: Member,
    area: str | None = None,
    station: str | None = None,
    hours: Annotated[int, Query(ge=1, le=48)] = 12,
) -> Any:
    """Per hour ahead: the load charging would draw at full power (sessions plugged
    in, arrivals the sites' history expects) and how much of it could be shed or
    shifted and still be delivered before the vehicles leave."""
    area, operator = await orderly.scope(principal, area, station)
    return await run_in_threadpool(orderly.figures.flexibility, area, station, hours, operator)


@router.get("/dr-events/performance", **declared(Audience.REGULATOR))
async def dr_performance(
    orderly: Context,
    principal: Regulator,
    start: datetime,
    end: datetime,
    area: str | None = None,
) -> Any:
    """Each demand-response event in the period at stations in the area: target,
    baseline (10 in 10), measured load, requested and measured shed."""
    begin, stop = _period(start, end, timedelta(days=400))
    return await run_in_threadpool(
        orderly.figures.dr_performance, begin, stop, principal.area_within(area)
    )


@router.post("/replan", **declared(Audience.ADMIN))
async def replan(orderly: Context, principal: Admin) -> Any:
    """Re-plan every managed site now and send the changed limits."""
    snap, result, sent = await orderly.service.run_once()
    return {
        "sessions": len(snap.sessions),
        "solver": result.solver,
        "seconds": round(result.seconds, 4),
        "limits_sent": len(sent),
        "accepted": sum(1 for r in sent if r.outcome.value == "accepted"),
    }
