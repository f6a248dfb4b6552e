"""Parking figures of charging bays (R39) under /api/v1/supervision/parking: regulators
their jurisdiction, operators their own stations."""

# No `from __future__ import annotations`: FastAPI reads the annotations.

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator, require
from chargenet.core.access import Audience, Principal, Role, declared

Figures = Callable[[str | None, str | None, str], list[dict[str, Any]]]


def parking_router(figures: Figures, authenticators: Sequence[Authenticator]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/supervision", tags=["supervision: parking"])
    Member = Annotated[Principal, Depends(require(authenticators, Role.OPERATOR))]

    @router.get("/parking", **declared(Audience.MEMBER))
    async def parking(
        principal: Member,
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
        return await run_in_threadpool(figures, area, operator, by)

    return router
