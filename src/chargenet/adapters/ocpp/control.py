"""Orders → OCPP CALLs to the charger, and its answer back (the `ChargerControl` of the
ocpp1.6 and ocpp2.0.1 protocols). docs/ocpp.md has the table:

- stop / resume → ChangeAvailability Inoperative / Operative (1.6 connector 0, 2.0.1 no
  evse: the whole charger)
- reset → Reset (1.6 Soft/Hard, 2.0.1 OnIdle/Immediate)
- remote_start / remote_stop → RemoteStart/StopTransaction (2.0.1 RequestStart/Stop…)
- set / clear_charging_limit → Set/ClearChargingProfile (the whole charger's max profile,
  or TxDefaultProfile on one connector)
- get / change_configuration → Get/ChangeConfiguration (2.0.1 Get/SetVariables with keys
  "Component.Variable")
- get / set_variables → 2.0.1 Get/SetVariables (components with EVSE, instances, attribute
  types)
- unlock_connector → UnlockConnector; trigger_message → TriggerMessage
- set_session_profile → SetChargingProfile TxProfile on the session's transaction (the
  schedule orderly charging planned for it); get_composite_schedule → GetCompositeSchedule
- send_local_list → SendLocalList (Full): every card and VIN of the platform's drivers with
  its status and expiry, so that the charger authorises them while offline (1.6 Local
  Auth List Management profile; 2.0.1 D01). The list is read when the order is sent.

Every CALL is checked against the version's official request schema before it is sent
(or recorded, through `problem`): what a strict charger would refuse is refused here,
with the schema's own reason.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from chargenet.adapters.ocpp.auth import local_list_entries
from chargenet.adapters.ocpp.gateway import OcppGateway
from chargenet.adapters.ocpp.link import CallFailed
from chargenet.adapters.ocpp.model import V16, V201, SchemaMissing, payload_type
from chargenet.adapters.ocpp.values import wire_time
from chargenet.adapters.ocpp.wire import as_plain
from chargenet.app.orders import Failure, Order, OrderInvalid, OrderResult, schedule_periods
from chargenet.core.drivers import TokenState
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.kit.ids import stable_id

log = logging.getLogger(__name__)

LIMIT_PROFILE_ID = 7_201  # chargenet's own profile: setting it again replaces it
LIMIT_STACK_LEVEL = 9
SESSION_PROFILE_ID = 7_202  # one per EVSE: a new plan replaces the last (1.6 §5.16.2, K01.FR.05)
SESSION_STACK_LEVEL = 1
MAX_SCHEDULE_PERIODS = 24  # what chargers commonly accept (1.6 ChargingScheduleMaxPeriods)
OK_STATUSES = frozenset({"Accepted", "Scheduled", "RebootRequired", "Unlocked"})
MAX_VARIABLES = 50  # per Get/SetVariables order


LocalList = Callable[[], Sequence[tuple[str, TokenState]]]


class OcppControl:
    def __init__(self, gateway: OcppGateway, local_list: LocalList | None = None) -> None:
        self.gateway = gateway
        self.local_list: LocalList = local_list or (lambda: ())

    def _entries(self, order: Order) -> Sequence[tuple[str, TokenState]]:
        return self.local_list() if order.kind is OrderKind.SEND_LOCAL_LIST else ()

    def problem(self, order: Order) -> str | None:
        """Why the order cannot become a CALL in the charger's version (None: it can)."""
        if order.protocol not in (V16, V201):
            return f"not an OCPP charger ({order.protocol})"
        try:
            request(order, order.protocol, wire_time(self.gateway.clock.now()), ())
        except OrderInvalid as exc:
            return str(exc)
        return None

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        link = self.gateway.links.get(order.charger_id)
        if link is None:
            return OrderResult(
                OrderOutcome.FAILED, "charger is not connected", failure=Failure.NOT_CONNECTED
            )
        try:
            now = self.gateway.clock.now()
            entries = local_list_entries(self._entries(order), link.version, now)
            action, payload = request(order, link.version, wire_time(now), entries)
        except OrderInvalid as exc:
            return OrderResult(OrderOutcome.FAILED, str(exc), failure=Failure.ERROR)
        try:
            answer = await link.call(action, payload, timeout_s)
        except TimeoutError:
            self.gateway.call_failed(link)
            return OrderResult(OrderOutcome.TIMEOUT, f"{action}: no answer within {timeout_s:g} s")
        except CallFailed as exc:
            lost = "connection closed" in str(exc)
            if not lost:
                self.gateway.call_failed(link)
            failure = Failure.CONNECTION_LOST if lost else Failure.ERROR
            return OrderResult(OrderOutcome.FAILED, f"{action}: {exc}", failure=failure)
        link.call_failures = 0
        return verdict(action, as_plain(answer))


def verdict(action: str, answer: dict[str, Any]) -> OrderResult:
    """The order's outcome from the charger's answer; the answer itself is the detail."""
    detail = json.dumps(answer, ensure_ascii=False, sort_keys=True)[:2000]
    if action in ("GetConfiguration", "GetVariables"):
        return OrderResult(OrderOutcome.ACCEPTED, detail, answer)
    if action == "SetVariables":
        statuses = {r.get("attributeStatus") for r in answer.get("setVariableResult", [])}
        ok = bool(statuses) and statuses <= OK_STATUSES
        return OrderResult(OrderOutcome.ACCEPTED if ok else OrderOutcome.REJECTED, detail, answer)
    status = answer.get("status")
    return OrderResult(
        OrderOutcome.ACCEPTED if status in OK_STATUSES else OrderOutcome.REJECTED, detail, answer
    )


def _int(order: Order, name: str) -> int | None:
    value = order.parameters.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise OrderInvalid(f"parameter {name} must be an integer, got {value!r}") from None


def _transaction(order: Order) -> str:
    tx = order.parameters.get("transaction_id")
    if tx is None:
        session = order.parameters.get("session_id", "")
        prefix = f"{order.charger_id}:"
        if not session.startswith(prefix):
            raise OrderInvalid(
                f"{order.kind.value} needs transaction_id or a session_id of this charger"
            )
        tx = session[len(prefix) :]
    return tx


def _keys(order: Order) -> list[str]:
    return [k.strip() for k in order.parameters.get("keys", "").split(",") if k.strip()]


def _component_variable(key: str) -> dict[str, Any]:
    component, _, variable = key.rpartition(".")
    if not component or not variable:
        raise OrderInvalid(f"2.0.1 configuration keys are Component.Variable, got {key!r}")
    return {"component": {"name": component}, "variable": {"name": variable}}


def request(
    order: Order, version: str, now: str, entries: Sequence[dict[str, Any]] = ()
) -> tuple[str, dict[str, Any]]:
    """(action, payload) of an order in the charger's OCPP version, checked against the
    version's request schema. `entries`: a local list's entries in the version's words."""
    if order.private:
        order = dataclasses.replace(order, parameters={**order.parameters, **order.private})
    action, payload = _request(order, version, now, entries)
    try:
        msgspec.convert(payload, payload_type(version, action, False))
    except SchemaMissing:
        raise OrderInvalid(f"OCPP {version[4:]} has no {action}") from None
    except msgspec.ValidationError as exc:
        raise OrderInvalid(f"{action}: {exc}") from None
    return action, payload


def _request(
    order: Order, version: str, now: str, entries: Sequence[dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    kind = order.kind
    evse = order.evse_no
    v16 = version == V16
    if kind in (OrderKind.STOP, OrderKind.RESUME):
        state = "Inoperative" if kind is OrderKind.STOP else "Operative"
        if v16:
            return "ChangeAvailability", {"connectorId": evse or 0, "type": state}
        payload: dict[str, Any] = {"operationalStatus": state}
        if evse:
            payload["evse"] = {"id": evse}
            if order.connector_no:
                payload["evse"]["connectorId"] = order.connector_no
        return "ChangeAvailability", payload
    if kind is OrderKind.RESET:
        hard = order.parameters.get("type", "").lower() in ("hard", "immediate")
        if v16:
            return "Reset", {"type": "Hard" if hard else "Soft"}
        payload = {"type": "Immediate" if hard else "OnIdle"}
        if evse:
            payload["evseId"] = evse
        return "Reset", payload
    if kind is OrderKind.REMOTE_START:
        token = order.parameters.get("id_tag") or order.parameters.get("id_token") or "CHARGENET"
        if v16:
            payload = {"idTag": token[:20]}
            if evse:
                payload["connectorId"] = evse
            return "RemoteStartTransaction", payload
        payload = {
            "idToken": {"idToken": token[:36], "type": "Central"},
            "remoteStartId": _int(order, "remote_start_id")
            or int(stable_id("remote-start", order.order_id)[:7], 16),
        }
        if evse:
            payload["evseId"] = evse
        return "RequestStartTransaction", payload
    if kind is OrderKind.REMOTE_STOP:
        tx = _transaction(order)
        if v16:
            try:
                return "RemoteStopTransaction", {"transactionId": int(tx)}
            except ValueError:
                raise OrderInvalid(f"1.6 transaction ids are integers, got {tx!r}") from None
        return "RequestStopTransaction", {"transactionId": tx[:36]}
    if kind is OrderKind.SET_CHARGING_LIMIT:
        return _limit(order, v16, now)
    if kind is OrderKind.CLEAR_CHARGING_LIMIT:
        if order.parameters.get("session_id"):
            # A session's TxProfile ends with its transaction (1.6 §3.13.1: deleted when
            # the transaction stops; 2.0.1 K01): nothing to clear, and id 7201 is the
            # connector's limit, not the session's.
            raise OrderInvalid("an OCPP session profile ends with its transaction")
        if v16:
            return "ClearChargingProfile", {"id": LIMIT_PROFILE_ID}
        return "ClearChargingProfile", {"chargingProfileId": LIMIT_PROFILE_ID}
    if kind is OrderKind.GET_CONFIGURATION:
        keys = _keys(order)
        if v16:
            return "GetConfiguration", ({"key": keys} if keys else {})
        if not keys:
            raise OrderInvalid("get_configuration on 2.0.1 needs keys (Component.Variable,…)")
        return "GetVariables", {"getVariableData": [_component_variable(k) for k in keys]}
    if kind is OrderKind.CHANGE_CONFIGURATION:
        key, value = order.parameters.get("key"), order.parameters.get("value")
        if not key or value is None:
            raise OrderInvalid("change_configuration needs key and value")
        if v16:
            return "ChangeConfiguration", {"key": key[:50], "value": value[:500]}
        return "SetVariables", {
            "setVariableData": [{"attributeValue": value[:1000], **_component_variable(key)}]
        }
    if kind is OrderKind.GET_VARIABLES:
        if v16:
            raise OrderInvalid("get_variables is OCPP 2.0.1; a 1.6 charger has get_configuration")
        return "GetVariables", {
            "getVariableData": [
                {**_variable(item), **_attribute(item)} for item in _variables(order)
            ]
        }
    if kind is OrderKind.SET_VARIABLES:
        if v16:
            raise OrderInvalid(
                "set_variables is OCPP 2.0.1; a 1.6 charger has change_configuration"
            )
        data = []
        for item in _variables(order):
            value = item.get("value")
            if not isinstance(value, str):
                raise OrderInvalid("set_variables needs a value (text) for every variable")
            data.append({"attributeValue": value, **_variable(item), **_attribute(item)})
        return "SetVariables", {"setVariableData": data}
    if kind is OrderKind.UNLOCK_CONNECTOR:
        if not evse:
            raise OrderInvalid("unlock_connector needs the connector's evse_no")
        if v16:
            return "UnlockConnector", {"connectorId": evse}
        return "UnlockConnector", {"evseId": evse, "connectorId": order.connector_no or 1}
    if kind is OrderKind.TRIGGER_MESSAGE:
        message = order.parameters.get("message", "")
        if not message:
            raise OrderInvalid("trigger_message needs the message to trigger")
        payload = {"requestedMessage": message}
        if evse:
            if v16:
                payload["connectorId"] = evse
            else:
                payload["evse"] = {"id": evse}
                if order.connector_no:
                    payload["evse"]["connectorId"] = order.connector_no
        return "TriggerMessage", payload
    if kind is OrderKind.SET_SESSION_PROFILE:
        return _session_profile(order, v16, now)
    if kind is OrderKind.GET_COMPOSITE_SCHEDULE:
        duration = _int(order, "duration_s") or 86_400
        unit = order.parameters.get("unit", "W")
        if unit not in ("W", "A"):
            raise OrderInvalid("unit is W or A")
        if v16:
            return "GetCompositeSchedule", {
                "connectorId": evse or 0,
                "duration": duration,
                "chargingRateUnit": unit,
            }
        return "GetCompositeSchedule", {
            "evseId": evse or 0,
            "duration": duration,
            "chargingRateUnit": unit,
        }
    if kind is OrderKind.SEND_LOCAL_LIST:
        version_no = _int(order, "list_version") or 1
        if version_no < 1:
            raise OrderInvalid("a local list's version is ≥ 1")
        if v16:
            payload = {"listVersion": version_no, "updateType": "Full"}
        else:
            payload = {"versionNumber": version_no, "updateType": "Full"}
        if entries:
            # A Full update without entries empties the charger's list; the 2.0.1 schema
            # allows no empty array (minItems 1), so the field is left out.
            payload["localAuthorizationList"] = list(entries)
        return "SendLocalList", payload
    raise OrderInvalid(f"{kind.value} is not an OCPP order")


def _schedule(order: Order) -> list[dict[str, Any]]:
    """The order's schedule as OCPP periods (`numberPhases` on each where given)."""
    phases = _int(order, "phases")
    periods: list[dict[str, Any]] = [
        {"startPeriod": start, "limit": limit} for start, limit in schedule_periods(order)
    ]
    if phases:
        for period in periods:
            period["numberPhases"] = phases
    return periods[:MAX_SCHEDULE_PERIODS]


def _session_profile(order: Order, v16: bool, now: str) -> tuple[str, dict[str, Any]]:
    """A TxProfile for the session's transaction: OCPP 1.6 §3.13.4 (a TxProfile needs a
    transactionId and a connector), 2.0.1 K01.FR.03 (the same on an EVSE)."""
    evse = order.evse_no
    if not evse:
        raise OrderInvalid("set_session_profile needs the session's evse_no")
    unit = order.parameters.get("unit", "W")
    if unit not in ("W", "A"):
        raise OrderInvalid("unit is W or A")
    periods = _schedule(order)
    tx = _transaction(order)
    if v16:
        try:
            tx_id: int | str = int(tx)
        except ValueError:
            raise OrderInvalid(f"1.6 transaction ids are integers, got {tx!r}") from None
        return "SetChargingProfile", {
            "connectorId": evse,
            "csChargingProfiles": {
                "chargingProfileId": SESSION_PROFILE_ID,
                "transactionId": tx_id,
                "stackLevel": SESSION_STACK_LEVEL,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": now,
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": periods,
                },
            },
        }
    return "SetChargingProfile", {
        "evseId": evse,
        "chargingProfile": {
            "id": SESSION_PROFILE_ID,
            "stackLevel": SESSION_STACK_LEVEL,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "transactionId": tx[:36],
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": now,
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": periods,
                }
            ],
        },
    }


def _variables(order: Order) -> list[dict[str, Any]]:
    """The variables of a Get/SetVariables order: JSON in the parameter `variables`, a list
    of {component, variable, value?, component_instance?, variable_instance?, evse_no?,
    connector_no?, attribute_type?}."""
    try:
        items = json.loads(order.parameters.get("variables", ""))
    except ValueError:
        raise OrderInvalid("variables must be a JSON list") from None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_VARIABLES:
        raise OrderInvalid(f"variables must be a list of 1..{MAX_VARIABLES}")
    if not all(isinstance(i, dict) for i in items):
        raise OrderInvalid("each variable is an object")
    return items


def _variable(item: dict[str, Any]) -> dict[str, Any]:
    component: dict[str, Any] = {"name": item.get("component")}
    variable: dict[str, Any] = {"name": item.get("variable")}
    if item.get("component_instance"):
        component["instance"] = item["component_instance"]
    if item.get("variable_instance"):
        variable["instance"] = item["variable_instance"]
    if item.get("evse_no") is not None:
        component["evse"] = {"id": item["evse_no"]}
        if item.get("connector_no") is not None:
            component["evse"]["connectorId"] = item["connector_no"]
    return {"component": component, "variable": variable}


def _attribute(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("attribute_type")
    return {"attributeType": kind} if kind else {}


def _limit(order: Order, v16: bool, now: str) -> tuple[str, dict[str, Any]]:
    watts, amps = _int(order, "limit_w"), _int(order, "limit_a")
    if (watts is None) == (amps is None):
        raise OrderInvalid("set_charging_limit needs exactly one of limit_w, limit_a")
    unit, limit = ("W", watts) if watts is not None else ("A", amps)
    assert limit is not None
    if limit < 0:
        raise OrderInvalid("a charging limit cannot be negative")
    evse = order.evse_no or 0
    period = [{"startPeriod": 0, "limit": limit}]
    if v16:
        return "SetChargingProfile", {
            "connectorId": evse,
            "csChargingProfiles": {
                "chargingProfileId": LIMIT_PROFILE_ID,
                "stackLevel": LIMIT_STACK_LEVEL,
                "chargingProfilePurpose": "TxDefaultProfile" if evse else "ChargePointMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": now,
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": period,
                },
            },
        }
    return "SetChargingProfile", {
        "evseId": evse,
        "chargingProfile": {
            "id": LIMIT_PROFILE_ID,
            "stackLevel": LIMIT_STACK_LEVEL,
            "chargingProfilePurpose": "TxDefaultProfile" if evse else "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": now,
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": period,
                }
            ],
        },
    }
