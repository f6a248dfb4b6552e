"""Battery-swap stations beyond the registry (R40):

- operators report, for their own swap stations (admins for any): `POST
  /api/v1/swap-stations/{id}/status {status, batteries_ready?, at?}`, `POST …/swaps
  {swap_id, vehicle_type, energy_wh?, at?}` (a swap order done), `POST …/batteries
  {packs: [{pack_id, state, soh_percent?, soc_percent?, cycles?}]}` (the whole inventory);
- `GET …/batteries` the packs; `GET /api/v1/supervision/swap-stations/figures?start=&end=`
  swaps, swaps per day, uptime and the packs' health per station.
"""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Member, bind, services
from chargenet.app.ingest import Outcome
from chargenet.app.swap import SwapQueries
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    BatterySwapped,
    Event,
    Source,
    SwapBatteriesReported,
    SwapStationStatusChanged,
    event_meta,
)
from chargenet.core.ids import OperatorId, SwapStationId
from chargenet.core.registry.model import SwapVehicleType
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision.swap import MAX_PACKS, BatteryPack, PackState
from chargenet.kit.ids import new_id, stable_id
from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE

Submit = Callable[[list[Event]], Awaitable[list[Outcome]]]
Id = Annotated[str, Field(min_length=1, max_length=128)]


class StatusIn(BaseModel):
    status: ConnectorStatus
    batteries_ready: int | None = Field(default=None, ge=0, le=10_000)
    at: datetime | None = None


class SwapIn(BaseModel):
    swap_id: Id
    vehicle_type: SwapVehicleType = SwapVehicleType.PASSENGER
    energy_wh: int | None = Field(default=None, ge=0, le=2_000_000)
    at: datetime | None = None


class PackIn(BaseModel):
    pack_id: Id
    state: PackState
    soh_percent: float | None = Field(default=None, ge=0, le=100)
    soc_percent: float | None = Field(default=None, ge=0, le=100)
    cycles: int | None = Field(default=None, ge=0, le=1_000_000)


class PacksIn(BaseModel):
    packs: list[PackIn] = Field(max_length=MAX_PACKS)
    at: datetime | None = None


@dataclass(frozen=True)
class Swapping:
    """The swap stations' reads and the pipeline their reports go to."""

    queries: SwapQueries
    submit: Submit

    async def owned(self, principal: Principal, swap_station_id: str, write: bool) -> None:
        owner = await run_in_threadpool(self.queries.owner, swap_station_id)
        if owner is None or not principal.in_scope(owner["operator_id"], owner["area_code"]):
            raise UnknownReference("swap station", swap_station_id)
        if write and principal.role is Role.REGULATOR:
            raise HTTPException(403, "swap stations report through their operator")

    async def store(self, principal: Principal, event_factory: Callable[[Source], Event]) -> Any:
        source = Source(
            adapter="api",
            operator_id=OperatorId(principal.operator_id)
            if principal.role is Role.OPERATOR and principal.operator_id
            else None,
        )
        [outcome] = await self.submit([event_factory(source)])
        if not outcome.ok:
            raise HTTPException(422, outcome.reason)
        return {"accepted": True, "duplicate": outcome.disposition.value == "duplicate"}


Context = Annotated[Swapping, Depends(services(Swapping))]
router = APIRouter(prefix="/api/v1", tags=["battery swapping"])


def swap_router(
    queries: SwapQueries, submit: Submit, authenticators: Sequence[Authenticator]
) -> APIRouter:
    return bind(router, Swapping(queries, submit), authenticators)


def _when(at: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if at is None:
        return now
    if at.tzinfo is None:
        raise HTTPException(422, "times need their UTC offset")
    if at - now > CLOCK_AHEAD_TOLERANCE:
        raise HTTPException(422, "a time ahead of our clock")
    return at.astimezone(UTC)


@router.post("/swap-stations/{swap_station_id}/status", **declared(Audience.OPERATOR))
async def status(principal: Member, swapping: Context, swap_station_id: str, body: StatusIn) -> Any:
    await swapping.owned(principal, swap_station_id, True)
    at = _when(body.at)
    return await swapping.store(
        principal,
        lambda source: SwapStationStatusChanged(
            **event_meta(new_id(), source, at, datetime.now(UTC)),
            swap_station_id=SwapStationId(swap_station_id),
            status=body.status,
            batteries_ready=body.batteries_ready,
        ),
    )


@router.post("/swap-stations/{swap_station_id}/swaps", **declared(Audience.OPERATOR))
async def swap(principal: Member, swapping: Context, swap_station_id: str, body: SwapIn) -> Any:
    """A swap order carried out (resending the same swap_id is one swap)."""
    await swapping.owned(principal, swap_station_id, True)
    at = _when(body.at)
    return await swapping.store(
        principal,
        lambda source: BatterySwapped(
            **event_meta(
                stable_id("swap", swap_station_id, body.swap_id), source, at, datetime.now(UTC)
            ),
            swap_station_id=SwapStationId(swap_station_id),
            swap_id=body.swap_id,
            vehicle_type=body.vehicle_type,
            energy_wh=body.energy_wh,
        ),
    )


@router.post("/swap-stations/{swap_station_id}/batteries", **declared(Audience.OPERATOR))
async def batteries(
    principal: Member, swapping: Context, swap_station_id: str, body: PacksIn
) -> Any:
    """The packs the station holds now, whole (a pack not listed has left)."""
    await swapping.owned(principal, swap_station_id, True)
    at = _when(body.at)
    packs = tuple(
        BatteryPack(p.pack_id, p.state, p.soh_percent, p.soc_percent, p.cycles) for p in body.packs
    )
    return await swapping.store(
        principal,
        lambda source: SwapBatteriesReported(
            **event_meta(new_id(), source, at, datetime.now(UTC)),
            swap_station_id=SwapStationId(swap_station_id),
            packs=packs,
        ),
    )


@router.get("/swap-stations/{swap_station_id}/batteries", **declared(Audience.MEMBER))
async def packs(principal: Member, swapping: Context, swap_station_id: str) -> Any:
    await swapping.owned(principal, swap_station_id, False)
    return await run_in_threadpool(swapping.queries.packs, swap_station_id)


@router.get("/supervision/swap-stations/figures", **declared(Audience.MEMBER))
async def figures(
    principal: Member,
    swapping: Context,
    area: str | None = None,
    operator: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Any:
    """Per swap station: swaps and swaps per day, uptime from its status reports, and
    its packs (ready, faulty, mean state of health, worn below 80 %)."""
    stop = (end or datetime.now(UTC)).astimezone(UTC)
    begin = (start or stop - timedelta(days=30)).astimezone(UTC)
    if begin >= stop:
        raise HTTPException(422, "start must be before end")
    if principal.role is Role.OPERATOR:
        if operator is not None and operator != principal.operator_id:
            raise HTTPException(403, "operators see their own equipment only")
        operator = principal.operator_id
    else:
        area = principal.area_within(area)
    return await run_in_threadpool(swapping.queries.figures, area, operator, begin, stop)
