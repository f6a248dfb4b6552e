"""Stop orders (R33): issuing, lifting, and the operator's rectification."""

from typing import Any

from fastapi import APIRouter, Response

from chargenet.adapters.api.params import Offset
from chargenet.adapters.api.supervision.auth import Regulator, Reporter, Viewer, reporter
from chargenet.adapters.api.supervision.context import (
    Context,
    Format,
    Limit,
    call,
    export,
    scope_for,
)
from chargenet.adapters.api.supervision.schemas import (
    ReasonIn,
    RectificationIn,
    StopIn,
)
from chargenet.app.supervision_ports import Scope
from chargenet.core.access import Audience, declared
from chargenet.core.supervision import TargetKind

router = APIRouter(tags=["supervision"])


@router.get("/stop-orders", **declared(Audience.MEMBER))
async def stop_orders(
    principal: Viewer,
    supervision: Context,
    response: Response,
    area: str | None = None,
    operator: str | None = None,
    in_force_only: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = "json",
) -> Any:
    scope = scope_for(principal, Scope(area, operator))
    rows, total = await call(supervision.queries.stop_orders, scope, in_force_only, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return export(rows, format, "stop-orders")


@router.get("/stop-orders/{stop_id}", **declared(Audience.MEMBER))
async def stop_order(principal: Viewer, supervision: Context, stop_id: str) -> Any:
    """A stop order with each charger's delivery and answer, and its lifting."""
    return await supervision.check_row(
        principal, await call(supervision.queries.stop_order, stop_id), f"stop order {stop_id!r}"
    )


# The event an action was recorded as: `GET /dashboard/map?after=<it>` answers once the
# live map has applied it (a page reloads the map on the change itself, not after a guess).
EVENT_HEADER = "X-Event-Id"


@router.post("/stop-orders", status_code=201, **declared(Audience.REGULATOR))
async def issue_stop(
    principal: Regulator, supervision: Context, body: StopIn, response: Response
) -> Any:
    """Order a charger or a whole station to stop and rectify (R33). OCPP chargers get
    ChangeAvailability Inoperative; operator platforms are notified. `X-Event-Id`: the
    StopOrderIssued the order was recorded as (`/dashboard/map?after=`)."""
    await supervision.check_target(principal, body.target_kind, body.target_id)
    result = await supervision.service.issue_stop(
        TargetKind(body.target_kind),
        body.target_id,
        body.reason,
        principal.name,
        body.alarm_id,
        body.timeout_s,
    )
    response.headers[EVENT_HEADER] = result["event_id"]
    return await call(supervision.queries.stop_order, result["stop_id"])


@router.post("/stop-orders/{stop_id}/lift", **declared(Audience.REGULATOR))
async def lift_stop(
    principal: Regulator, supervision: Context, stop_id: str, body: ReasonIn, response: Response
) -> Any:
    """Lift a stop order once rectified: each charger is made available again.
    `X-Event-Id`: the StopOrderLifted it was recorded as (`/dashboard/map?after=`)."""
    await supervision.check_row(
        principal, await call(supervision.queries.stop_order, stop_id), f"stop order {stop_id!r}"
    )
    result = await supervision.service.lift_stop(stop_id, principal.name, body.reason)
    response.headers[EVENT_HEADER] = result["event_id"]
    return await call(supervision.queries.stop_order, stop_id)


@router.post("/stop-orders/{stop_id}/rectification", **declared(Audience.OPERATOR))
async def report_stop_rectification(
    principal: Reporter, supervision: Context, stop_id: str, body: RectificationIn
) -> Any:
    """The operator a stop order is addressed to reports what it did to rectify. The
    order stays in force until a regulator lifts it; the stop-order lists carry the
    newest report (`rectified_at`, `rectified_by`, `rectification`)."""
    reporter(principal)
    await supervision.check_row(
        principal, await call(supervision.queries.stop_order, stop_id), f"stop order {stop_id!r}"
    )
    await supervision.service.report_stop_rectification(stop_id, body.note, principal.name)
    return await call(supervision.queries.stop_order, stop_id)
