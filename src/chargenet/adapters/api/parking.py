"""Parking figures of charging bays (R39) under /api/v1/supervision/parking: regulators
their jurisdiction, operators their own stations."""

# No `from __future__ import annotations`: FastAPI reads the annotations.

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Member, bind, services
from chargenet.app.supervision_ports import ParkingFiguresRow
from chargenet.core.access import Audience, Role, declared

Figures = Callable[[str | None, str | None, str], list[ParkingFiguresRow]]


@dataclass(frozen=True)
class Parking:
    figures: Figures


Context = Annotated[Parking, Depends(services(Parking))]
router = APIRouter(prefix="/api/v1/supervision", tags=["supervision: parking"])


def parking_router(figures: Figures, authenticators: Sequence[Authenticator]) -> APIRouter:
    return bind(router, Parking(figures), authenticators)


@router.get("/parking", **declared(Audience.MEMBER))
async def parking(
    principal: Member,
    parking: Context,
    area: str | None = None,
    operator: str | None = None,
    by: Literal["station", "operator", "province", "city", "county"] = "station",
) -> Any:
    """Bays reporting occupancy (T/CEC ParkStatus/LockStatus, sensors), occupied, and
    occupied while their connector is free (a vehicle not charging)."""
    if principal.role is Role.OPERATOR:
        if operator is not None and operator != principal.operator_id:
            raise HTTPException(403, "operators see their own equipment only")
        operator = principal.operator_id
    else:
        area = principal.area_within(area)
    return await run_in_threadpool(parking.figures, area, operator, by)
