"""Alarms: the lists, acknowledging and clearing."""

from typing import Any, Literal

from fastapi import APIRouter, Response

from chargenet.adapters.api.params import Offset
from chargenet.adapters.api.supervision.auth import Viewer
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
)
from chargenet.app.supervision_ports import Scope
from chargenet.core.access import Audience, declared

router = APIRouter(tags=["supervision"])


@router.get("/alarms", **declared(Audience.MEMBER))
async def alarms(
    principal: Viewer,
    supervision: Context,
    response: Response,
    area: str | None = None,
    operator: str | None = None,
    station: str | None = None,
    open_only: bool = True,
    severity: Literal["info", "warning", "major", "critical"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = "json",
) -> Any:
    scope = scope_for(principal, Scope(area, operator, station))
    rows, total = await call(supervision.queries.alarms, scope, open_only, severity, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return export(rows, format, "alarms")


@router.post("/alarms/{alarm_id}/acknowledge", **declared(Audience.MEMBER))
async def acknowledge(principal: Viewer, supervision: Context, alarm_id: str) -> Any:
    await supervision.check_row(
        principal, await call(supervision.queries.alarm, alarm_id), f"alarm {alarm_id!r}"
    )
    await supervision.service.acknowledge_alarm(alarm_id, principal.name)
    return await call(supervision.queries.alarm, alarm_id)


@router.post("/alarms/{alarm_id}/clear", **declared(Audience.MEMBER))
async def clear(principal: Viewer, supervision: Context, alarm_id: str, body: ReasonIn) -> Any:
    await supervision.check_row(
        principal, await call(supervision.queries.alarm, alarm_id), f"alarm {alarm_id!r}"
    )
    await supervision.service.clear_alarm(alarm_id, principal.name, body.reason)
    return await call(supervision.queries.alarm, alarm_id)
