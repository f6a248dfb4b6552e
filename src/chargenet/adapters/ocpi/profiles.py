"""OCPI 2.2.1 ChargingProfiles, chargenet as the Sender (the Smart Charging Service
Provider of mod_charging_profiles § "The CPO delegated Smart Charging to SCSP"; the
operator's platform is the Receiver): orderly charging's limit for a session at an
operator's EVSE, the EVSE's ActiveChargingProfile, and clearing the limit.

- set_session_profile → PUT {chargingprofiles}/{session_id} with a SetChargingProfile
  (the ChargingProfile and our response_url);
- get_composite_schedule with a session → GET {chargingprofiles}/{session_id}?duration=
  &response_url= (the ActiveChargingProfile);
- clear_charging_limit with a session → DELETE {chargingprofiles}/{session_id}
  ?response_url= (when the session has ended).

Each gets a ChargingProfileResponse at once (ACCEPTED, NOT_SUPPORTED, REJECTED,
TOO_OFTEN, UNKNOWN_SESSION, with a timeout) and, when ACCEPTED, the Charge Point's
ChargingProfileResult / ActiveChargingProfileResult / ClearProfileResult later, POSTed to
the response_url (§ 15.2: asynchronous, like Commands). The order's outcome is that result
(recorded with it as `order.acknowledged`), or TIMEOUT when none came within the
response's timeout.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from chargenet.adapters.ocpi.commands import OcpiCommands, Pending, operator_receiver
from chargenet.adapters.ocpi.ids import route, split_global
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.wire import utc_text
from chargenet.app.orders import (
    Failure,
    Order,
    OrderInvalid,
    OrderResult,
    schedule_periods,
)
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.kit.ids import new_id

MODULE = "chargingprofiles"  # the module identifier in version details
RESULT_PATH = "chargingprofiles"  # our response_url: {version_url}/chargingprofiles/{kind}/{uid}
# Result kinds, the last segment but one of our response_urls (OCPI leaves the URL to us).
RESULT_KINDS = {
    OrderKind.SET_SESSION_PROFILE: ("chargingprofile", "ChargingProfileResult"),
    OrderKind.GET_COMPOSITE_SCHEDULE: ("activechargingprofile", "ActiveChargingProfileResult"),
    OrderKind.CLEAR_CHARGING_LIMIT: ("clearprofile", "ClearProfileResult"),
}
RECEIVERS_TTL_S = 30.0  # how long which operators have a receiver is trusted


def session_local_id(order: Order) -> str:
    """The session's id at the operator's platform (ours are CC*PID*id)."""
    session = order.parameters.get("session_id", "")
    found = split_global(session)
    return found[1] if found is not None else session


def charging_profile(order: Order, start: str) -> dict[str, Any]:
    """The order's schedule as an OCPI ChargingProfile (§ 16.3), absolute from `start`.
    A limit in A is per phase (§ 16.2: ChargingRateUnit A), as the order has it."""
    return {
        "start_date_time": start,
        "charging_rate_unit": order.parameters.get("unit", "W"),
        "charging_profile_period": [
            {"start_period": at, "limit": limit} for at, limit in schedule_periods(order)
        ],
    }


@dataclass
class OcpiChargingProfiles:
    party: OcpiParty
    pending: Pending = field(default_factory=Pending)
    _receivers: tuple[float, dict[str, str]] = (0.0, {})  # charger → operator, cached
    _operators: tuple[float, set[str]] = (0.0, set())

    def problem(self, order: Order) -> str | None:
        if order.kind not in RESULT_KINDS:
            return f"OCPI ChargingProfiles cannot carry a {order.kind.value} order"
        if not order.parameters.get("session_id"):
            return "OCPI ChargingProfiles act on a session: name it (session_id)"
        if order.kind is OrderKind.SET_SESSION_PROFILE:
            try:
                schedule_periods(order)
            except OrderInvalid as exc:
                return str(exc)
        if not self._has_receiver(order.charger_id):
            return "the operator's platform has no OCPI ChargingProfiles receiver registered"
        return None

    def _has_receiver(self, charger_id: str) -> bool:
        """Whether the charger's operator has a ChargingProfiles receiver (cached: the
        planner asks for every session of every re-plan)."""
        now = time.monotonic()
        if now - self._operators[0] > RECEIVERS_TTL_S:
            operators = {
                op
                for peer in self.party.directory.peers()
                if peer.endpoint(MODULE, "RECEIVER") is not None
                for op in peer.writable.values()
            }
            self._operators = (now, operators)
            self._receivers = (now, {})
        known = self._receivers[1]
        if charger_id not in known:
            charger = self.party.reads.charger(charger_id)
            known[charger_id] = "" if charger is None else str(charger["operator_id"])
        return known[charger_id] in self._operators[1]

    def result_received(self, uid: str, body: dict[str, Any]) -> bool:
        """A result arrived at our response_url; False when nobody waits for it."""
        return self.pending.received(uid, body)

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        kinds = RESULT_KINDS.get(order.kind)
        if kinds is None:
            return OrderResult(OrderOutcome.FAILED, f"not an OCPI profile order: {order.kind}")
        charger = await asyncio.to_thread(self.party.reads.charger, order.charger_id)
        found = None
        if charger is not None:
            found = await asyncio.to_thread(
                operator_receiver, self.party, charger["operator_id"], MODULE
            )
        if found is None:
            return OrderResult(
                OrderOutcome.FAILED,
                "the operator's platform has no OCPI ChargingProfiles receiver registered",
                failure=Failure.NOT_CONNECTED,
            )
        url, token, cpo = found
        uid = new_id()[:36]
        kind, result_name = kinds
        response_url = f"{self.party.settings.identity.version_url}/{RESULT_PATH}/{kind}/{uid}"
        target = f"{url.rstrip('/')}/{session_local_id(order)}"
        request: dict[str, Any]
        if order.kind is OrderKind.SET_SESSION_PROFILE:
            try:
                profile = charging_profile(order, utc_text(self.party.clock.now()))
            except OrderInvalid as exc:
                return OrderResult(OrderOutcome.FAILED, str(exc), failure=Failure.ERROR)
            method = "PUT"
            request = {"json": {"charging_profile": profile, "response_url": response_url}}
        elif order.kind is OrderKind.GET_COMPOSITE_SCHEDULE:
            duration = order.parameters.get("duration_s") or "900"
            method = "GET"
            request = {"params": {"duration": duration, "response_url": response_url}}
        else:
            method = "DELETE"
            request = {"params": {"response_url": response_url}}
        return await self.pending.exchange(
            self.party,
            uid,
            (method, target, token),
            ("ChargingProfileResponse", result_name),
            timeout_s,
            route=route(cpo, self.party.settings.identity.party),
            **request,
        )


@dataclass
class OcpiControl:
    """The `ChargerControl` of protocol "ocpi": ChargingProfiles for a session's limit,
    Commands for everything else (starts, stops, unlocking; they say what they refuse)."""

    commands: OcpiCommands
    profiles: OcpiChargingProfiles

    def _for(self, order: Order) -> OcpiCommands | OcpiChargingProfiles:
        return self.profiles if order.kind in RESULT_KINDS else self.commands

    def problem(self, order: Order) -> str | None:
        return self._for(order).problem(order)

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        return await self._for(order).execute(order, timeout_s)
