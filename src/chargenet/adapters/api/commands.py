"""Commands to a charger under /api/v1/chargers/{id}/commands: reset, unlock a connector,
trigger a message, read and change its configuration (OCPP 1.6 Get/ChangeConfiguration,
2.0.1 Get/SetVariables), read the schedule it will follow (GetCompositeSchedule: what
orderly charging's profiles and any others add up to). The answer is the charger's own.
2.0.1 Get/SetVariables), send it the platform's local authorisation list (SendLocalList:
the drivers' cards and VINs, for authorising offline). The answer is the charger's own.

Who may: an admin, any charger; an operator, its own chargers; a regulator acts on chargers
through stop orders (docs/supervision.md), not these commands (403). Each command is
recorded (`order.issued`) and so is its answer, a timeout or a failure
(`order.acknowledged`); the call returns once the charger answered or the time is up:

- 200 the charger answered: `outcome` accepted or rejected, `answer` as it sent it;
- 409 the charger is not connected; 502 it went away or answered with an error;
  504 no answer within `timeout_s` — each with the same body;
- 422 a command its protocol cannot carry (nothing is sent or recorded).
"""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Member, bind, services
from chargenet.app.orders import Failure, Order, OrderService
from chargenet.app.queries import ChargerRow, StateQueries
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.drivers import TokenState, authorise
from chargenet.core.errors import UnknownReference
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from chargenet.kit.ids import new_id

Timeout = Annotated[float, Field(gt=0, le=300, description="Seconds to wait for the answer")]
Reason = Annotated[str, Field(max_length=1000, description="Why (kept with the command)")]
EvseNo = Annotated[int, Field(ge=1, le=64)]
ConnectorNo = Annotated[int, Field(ge=1, le=8)]
Name = Annotated[str, Field(min_length=1, max_length=50)]


class ResetIn(BaseModel):
    command: Literal["reset"]
    hard: bool = Field(default=False, description="1.6 Hard / 2.0.1 Immediate (else Soft / OnIdle)")
    evse_no: EvseNo | None = Field(default=None, description="2.0.1: reset one EVSE only")
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class UnlockIn(BaseModel):
    command: Literal["unlock_connector"]
    evse_no: EvseNo = Field(description="1.6 connectorId; 2.0.1 evseId")
    connector_no: ConnectorNo = 1
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class TriggerIn(BaseModel):
    command: Literal["trigger_message"]
    message: Name = Field(
        description="The message to send now: BootNotification, Heartbeat, MeterValues, "
        "StatusNotification, FirmwareStatusNotification, 1.6 DiagnosticsStatusNotification, "
        "2.0.1 LogStatusNotification, TransactionEvent …"
    )
    evse_no: EvseNo | None = None
    connector_no: ConnectorNo | None = None
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class GetConfigurationIn(BaseModel):
    command: Literal["get_configuration"]
    keys: list[Name] = Field(default_factory=list, max_length=100, description="none: all")
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class ChangeConfigurationIn(BaseModel):
    command: Literal["change_configuration"]
    key: Name
    value: str = Field(max_length=500)
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class VariableIn(BaseModel):
    component: Name
    variable: Name
    component_instance: Name | None = None
    variable_instance: Name | None = None
    evse_no: int | None = Field(default=None, ge=0, le=64)
    connector_no: ConnectorNo | None = None
    attribute_type: Literal["Actual", "Target", "MinSet", "MaxSet"] | None = None


class SetVariableIn(VariableIn):
    value: str = Field(max_length=1000)


class GetVariablesIn(BaseModel):
    command: Literal["get_variables"]
    variables: list[VariableIn] = Field(min_length=1, max_length=50)
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class SetVariablesIn(BaseModel):
    command: Literal["set_variables"]
    variables: list[SetVariableIn] = Field(min_length=1, max_length=50)
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class CompositeScheduleIn(BaseModel):
    command: Literal["get_composite_schedule"]
    evse_no: int = Field(default=0, ge=0, le=64, description="0: the whole charger")
    duration_s: int = Field(default=86_400, ge=60, le=7 * 86_400)
    unit: Literal["W", "A"] = "W"
    session_id: str | None = Field(
        default=None,
        max_length=64,
        description="at an OCPI operator's EVSE: the session whose ActiveChargingProfile",
    )
    reason: Reason = ""
    timeout_s: Timeout = 30.0


class SendLocalListIn(BaseModel):
    command: Literal["send_local_list"]
    list_version: int = Field(
        default=1, ge=1, le=2_000_000_000, description="the list's version, as the charger keeps it"
    )
    reason: Reason = ""
    timeout_s: Timeout = 30.0


CommandIn = Annotated[
    ResetIn
    | SendLocalListIn
    | UnlockIn
    | TriggerIn
    | GetConfigurationIn
    | ChangeConfigurationIn
    | GetVariablesIn
    | SetVariablesIn
    | CompositeScheduleIn,
    Field(discriminator="command"),
]


def _order(charger: ChargerRow, body: Any, by: str) -> Order:
    """The command as an order (parameters are text, as the log keeps them)."""
    params: dict[str, str] = {}
    evse, connector = getattr(body, "evse_no", None), getattr(body, "connector_no", None)
    if isinstance(body, ResetIn):
        params["type"] = "hard" if body.hard else "soft"
    elif isinstance(body, TriggerIn):
        params["message"] = body.message
    elif isinstance(body, GetConfigurationIn):
        params["keys"] = ",".join(body.keys)
    elif isinstance(body, SendLocalListIn):
        params["list_version"] = str(body.list_version)
    elif isinstance(body, ChangeConfigurationIn):
        params.update(key=body.key, value=body.value)
    elif isinstance(body, CompositeScheduleIn):
        params.update(duration_s=str(body.duration_s), unit=body.unit)
        if body.session_id:
            params["session_id"] = body.session_id
    elif isinstance(body, GetVariablesIn | SetVariablesIn):
        params["variables"] = json.dumps(
            [v.model_dump(exclude_none=True) for v in body.variables], ensure_ascii=False
        )
    return Order(
        order_id=OrderId(new_id()),
        kind=OrderKind(body.command),
        charger_id=charger["charger_id"],
        protocol=charger["protocol"],
        target_kind=TargetKind.CHARGER,
        target_id=charger["charger_id"],
        evse_no=evse,
        connector_no=connector,
        parameters=params,
        reason=body.reason,
        issued_by=by,
    )


_STATUS = {
    Failure.NOT_CONNECTED: 409,
    Failure.CONNECTION_LOST: 502,
    Failure.ERROR: 502,
}


LocalList = Callable[[], Sequence[tuple[str, TokenState]]]


@dataclass(frozen=True)
class Commands:
    """The order service and the registry; `local_list` and `now` when the platform keeps
    drivers' tokens (settlement), for the chargers' local authorisation lists."""

    orders: OrderService
    queries: StateQueries
    local_list: LocalList | None = None
    now: Callable[[], datetime] | None = None

    async def own_charger(self, charger_id: str, principal: Principal, what: str) -> ChargerRow:
        """The charger, if the caller may act on it: admins any, an operator its own;
        regulators act through stop orders."""
        if principal.role is Role.REGULATOR:
            raise HTTPException(
                403, "regulators act on chargers through stop orders, not maintenance commands"
            )
        charger = await run_in_threadpool(self.queries.charger, charger_id, principal)
        if charger is None:
            raise UnknownReference("charger", charger_id)
        if principal.role is Role.OPERATOR and charger["operator_id"] != principal.operator_id:
            raise HTTPException(403, f"operators {what} their own chargers only")
        return charger


Context = Annotated[Commands, Depends(services(Commands))]
router = APIRouter(prefix="/api/v1", tags=["commands"])


def commands_router(
    orders: OrderService,
    queries: StateQueries,
    authenticators: Sequence[Authenticator],
    local_list: LocalList | None = None,
    now: Callable[[], datetime] | None = None,
) -> APIRouter:
    return bind(router, Commands(orders, queries, local_list, now), authenticators)


@router.get("/chargers/{charger_id}/local-list", **declared(Audience.OPERATOR))
async def read_local_list(charger_id: str, principal: Member, commands: Context) -> Any:
    """The local authorisation list send_local_list gives this charger: the drivers'
    cards and VINs in the clear, with the status each has now. Admins, and the
    charger's own operator (it can read its charger's list anyway); no one else."""
    await commands.own_charger(charger_id, principal, "read the lists of")
    if commands.local_list is None or commands.now is None:
        return []
    at = commands.now()
    entries = await run_in_threadpool(commands.local_list)
    return [
        {
            "uid": uid,
            "kind": state.kind.value,
            "status": authorise(state, at).status.value,
            "expires_at": state.expires_at.isoformat() if state.expires_at else None,
        }
        for uid, state in entries
    ]


@router.post("/chargers/{charger_id}/commands", **declared(Audience.OPERATOR))
async def command(
    charger_id: str,
    principal: Member,
    commands: Context,
    body: Annotated[CommandIn, Body()],
) -> Any:
    """Send a command to a connected charger and return its answer (module docstring:
    roles, status codes)."""
    charger = await commands.own_charger(charger_id, principal, "command")
    order = _order(charger, body, principal.name)
    problem = commands.orders.check(order)
    if problem is not None:
        raise HTTPException(422, problem)
    result = await commands.orders.issue(order, timeout_s=body.timeout_s)
    out = {
        "order_id": order.order_id,
        "charger_id": charger_id,
        "command": body.command,
        "outcome": result.outcome.value,
        "detail": result.detail,
        "answer": result.answer,
    }
    if result.outcome is OrderOutcome.TIMEOUT:
        return JSONResponse(out, status_code=504)
    if result.outcome is OrderOutcome.FAILED:
        status = _STATUS[result.failure] if result.failure is not None else 502
        return JSONResponse(out, status_code=status)
    return out
