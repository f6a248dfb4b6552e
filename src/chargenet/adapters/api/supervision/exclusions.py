"""Outage exclusions (NEVI) and stations' public hours (R39)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response

from chargenet.adapters.api.supervision.auth import Regulator, Viewer
from chargenet.adapters.api.supervision.context import (
    Context,
    call,
)
from chargenet.adapters.api.supervision.schemas import (
    ExclusionIn,
    PublicHoursIn,
)
from chargenet.core.access import Audience, Role, declared
from chargenet.core.registry.public_hours import problems as public_hours_problems
from chargenet.core.supervision import TargetKind

router = APIRouter(tags=["supervision"])


@router.post("/exclusions", status_code=201, **declared(Audience.MEMBER))
async def exclude(
    principal: Viewer, supervision: Context, body: Annotated[ExclusionIn, Body()]
) -> Any:
    """Mark outage time of a connector, charger or station as excluded (NEVI), with a
    reason code. Operators mark their own; regulators any in their area."""
    await supervision.check_target(principal, body.target_kind, body.target_id)
    exclusion_id = await supervision.service.exclude(
        TargetKind(body.target_kind),
        body.target_id,
        supervision.instant(body.start, body.start),
        supervision.instant(body.end, body.end),
        body.reason,
        body.note,
        principal.name,
    )
    return {"exclusion_id": exclusion_id}


@router.delete("/exclusions/{exclusion_id}", status_code=204, **declared(Audience.REGULATOR))
async def withdraw(principal: Regulator, supervision: Context, exclusion_id: str) -> Response:
    await supervision.check_row(
        principal,
        await call(supervision.queries.exclusion, exclusion_id),
        f"exclusion {exclusion_id!r}",
    )
    await supervision.service.withdraw_exclusion(exclusion_id, principal.name)
    return Response(status_code=204)


# --- public hours (R39) ---------------------------------------------------------------


@router.put("/stations/{station_id}/public-hours", **declared(Audience.MEMBER))
async def set_public_hours(
    principal: Viewer, supervision: Context, station_id: str, body: Annotated[PublicHoursIn, Body()]
) -> Any:
    """When an institution's own station is open to the public (e.g. after work and at
    weekends). Its operator sets its own; regulators those in their area. The finder
    shows the hours and whether it is open now; uptime counts public service in them."""
    await supervision.check_target(principal, "station", station_id)
    if body.hours.strip() and (wrong := public_hours_problems(body.hours)):
        raise HTTPException(422, "; ".join(wrong))
    operator_id = principal.operator_id if principal.role is Role.OPERATOR else None
    await supervision.service.set_public_hours(
        station_id, body.hours, body.note, principal.name, operator_id
    )
    return {"station_id": station_id, "public_hours": body.hours.strip() or None}
