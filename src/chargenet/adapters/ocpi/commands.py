"""OCPI 2.2.1 Commands, chargenet as eMSP (mod_commands.asciidoc): a driver's remote start
and stop, and unlocking a connector, at an operator that speaks OCPI (the `ChargerControl`
of protocol "ocpi").

The command goes to the operator's Commands receiver (POST {commands}/{type}); its
CommandResponse says whether it was understood (ACCEPTED, else REJECTED, NOT_SUPPORTED,
UNKNOWN_SESSION …); the charger's own answer comes later as a CommandResult POSTed to the
`response_url` we gave (§ 13.1: asynchronous). The order's outcome is that result, or
TIMEOUT when none came within the CommandResponse's `timeout` (capped by the order's).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from chargenet.adapters.ocpi.ids import route, split_global
from chargenet.adapters.ocpi.outbound import connector_local_id, evse_uid
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.wire import PeerFailed, utc_text
from chargenet.app.ocpi import OcpiChargerRow, Party, PeerStatus
from chargenet.app.orders import Failure, Order, OrderResult
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.kit.aio import wait_at_most
from chargenet.kit.ids import new_id

log = logging.getLogger(__name__)

KINDS = {
    OrderKind.REMOTE_START: "START_SESSION",
    OrderKind.REMOTE_STOP: "STOP_SESSION",
    OrderKind.UNLOCK_CONNECTOR: "UNLOCK_CONNECTOR",
}
RESULT_PATH = "commands"  # our response_url: {version_url}/commands/{TYPE}/{uid}


@dataclass
class Pending:
    """Asynchronous results awaited at our response_urls (a CommandResult, a
    ChargingProfileResult …), by the uid each response_url ends with."""

    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    def received(self, uid: str, body: dict[str, Any]) -> bool:
        """A result arrived; False when nobody waits for it."""
        future = self._waiting.get(uid)
        if future is None or future.done():
            return False
        future.set_result(body)
        return True

    async def exchange(
        self,
        party: OcpiParty,
        uid: str,
        call: tuple[str, str, str],
        what: tuple[str, str],
        timeout_s: float,
        **request: Any,
    ) -> OrderResult:
        """Send (method, url, token) with the request's json/params; the direct answer's
        `result` must be ACCEPTED, then the asynchronous result's `result` is the outcome,
        awaited for the answer's `timeout` (capped by the order's). `what` names the
        answer and the result in the order's detail (mod_commands § 13.1,
        mod_charging_profiles § 15.1: both work this way)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[uid] = future
        method, url, token = call
        response_name, result_name = what
        try:
            try:
                _, answer = await party.client.call(method, url, token, **request)
            except PeerFailed as exc:
                return OrderResult(OrderOutcome.FAILED, str(exc), failure=Failure.ERROR)
            response = answer.get("data") or {}
            if isinstance(response, list):  # some platforms wrap one object in a list
                response = response[0] if response and isinstance(response[0], dict) else {}
            result = str(response.get("result", ""))
            if result != "ACCEPTED":
                return OrderResult(OrderOutcome.REJECTED, f"{response_name} {result}", response)
            wait = min(float(response.get("timeout") or timeout_s), timeout_s)
            try:
                final = await wait_at_most(future, wait)
            except TimeoutError:
                return OrderResult(
                    OrderOutcome.TIMEOUT, f"no {result_name} within {wait:g} s", response
                )
            outcome = (
                OrderOutcome.ACCEPTED
                if final.get("result") == "ACCEPTED"
                else OrderOutcome.REJECTED
            )
            return OrderResult(outcome, f"{result_name} {final.get('result')}", final)
        finally:
            self._waiting.pop(uid, None)


def operator_receiver(
    party: OcpiParty, operator_id: str, module: str
) -> tuple[str, str, Party | None] | None:
    """The (url, token) of the module's receiver at the platform registered for the
    operator, when it has one, and the operator's own party there (the OCPI-to routing
    headers name it when that platform is a hub: transport_and_format 4.1.8.6)."""
    for peer in party.directory.peers():
        if peer.status is PeerStatus.REGISTERED and operator_id in peer.writable.values():
            url = peer.endpoint(module, "RECEIVER")
            if url is not None and peer.token_out is not None:
                cpo = next((p for p, op in peer.writable.items() if op == operator_id), None)
                return url, peer.token_out, cpo
    return None


@dataclass
class OcpiCommands:
    party: OcpiParty
    pending: Pending = field(default_factory=Pending)

    def problem(self, order: Order) -> str | None:
        if order.kind not in KINDS:
            return f"OCPI Commands cannot carry a {order.kind.value} order"
        return None

    def result_received(self, uid: str, body: dict[str, Any]) -> bool:
        """A CommandResult arrived at our response_url; False when nobody waits for it."""
        return self.pending.received(uid, body)

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        kind = KINDS.get(order.kind)
        if kind is None:
            return OrderResult(OrderOutcome.FAILED, f"not an OCPI command: {order.kind.value}")
        charger = await asyncio.to_thread(self.party.reads.charger, order.charger_id)
        if charger is None:
            return OrderResult(OrderOutcome.FAILED, f"unknown charger {order.charger_id}")
        found = await asyncio.to_thread(
            operator_receiver, self.party, charger["operator_id"], "commands"
        )
        if found is None:
            return OrderResult(
                OrderOutcome.FAILED,
                "the operator's platform has no OCPI Commands receiver registered",
                failure=Failure.NOT_CONNECTED,
            )
        url, token, cpo = found
        uid = new_id()[:36]
        identity = self.party.settings.identity
        body: dict[str, Any] = {
            "response_url": f"{identity.version_url}/{RESULT_PATH}/{kind}/{uid}"
        }
        try:
            body |= self._body(order, kind, charger)
        except LookupError as exc:
            return OrderResult(OrderOutcome.FAILED, str(exc))
        return await self.pending.exchange(
            self.party,
            uid,
            ("POST", f"{url.rstrip('/')}/{kind}", token),
            ("CommandResponse", "CommandResult"),
            timeout_s,
            json=body,
            route=route(cpo, identity.party),
        )

    def _body(self, order: Order, kind: str, charger: OcpiChargerRow) -> dict[str, Any]:
        connectors = charger["connectors"]
        target = next(
            (c for c in connectors if c["connector_id"] == order.target_id),
            connectors[0] if connectors else None,
        )
        if target is None:
            raise LookupError(f"charger {order.charger_id} has no connector")
        split = split_global(charger["station_id"])
        location = split[1] if split is not None else charger["station_id"]
        if kind == "STOP_SESSION":
            session = order.parameters.get("session_id", "")
            found = split_global(session)
            return {"session_id": found[1] if found is not None else session}
        where = {
            "location_id": location,
            "evse_uid": evse_uid(target),
            "connector_id": connector_local_id(target),
        }
        if kind == "UNLOCK_CONNECTOR":
            return where
        us = self.party.settings.identity.party
        token = {**order.parameters, **order.private}.get("id_tag", "")
        if not token:
            raise LookupError("a remote start needs the driver's token")
        contract = order.parameters.get("token_digest", "")[:12].upper()
        return {
            **where,
            "token": {
                "country_code": us.country_code,
                "party_id": us.party_id,
                "uid": token,
                "type": "APP_USER",
                "contract_id": f"{us.country_code}-{us.party_id}-{contract}",
                "issuer": "chargenet",
                "valid": True,
                "whitelist": "ALLOWED",
                "last_updated": utc_text(self.party.clock.now()),
            },
        }
