"""chargenet pushing to partner platforms through the durable outbox (app/outbox.py).

Deliveries of kind `tcec.<endpoint>` go to the partner named as destination in the
standard envelope (`client.py`: token, AES-128-CBC, HMAC-MD5; a new envelope per attempt,
the receiver recognises a resend by the payload's own ids).

City → province (R37, 纵向贯通): each connector status report accepted from any intake
causes a `notification_stationStatus` (T/CEC 102 Part 3, 接口 "设备状态变化推送") to every
upstream partner. The delivery names the connector only; the sender reads its effective
status when it sends, so a delivery resent after a delay, or caused by a late report the
recency rule did not make current, never pushes a status older than what chargenet holds
(ConnectorStatusInfo carries no time of its own for the receiver to order by).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chargenet.adapters.tcec import uplink
from chargenet.adapters.tcec.client import Clients, PartnerError
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.partners import partner_of_id
from chargenet.app.outbox import DeliveryRecord, DeliveryRule, NewDelivery, Sent
from chargenet.app.queries import StateQueries
from chargenet.core.events import ConnectorStatusChanged, Event
from chargenet.kit.ids import stable_id

TCEC_KINDS = "tcec."
STATUS_PUSH = TCEC_KINDS + "notification_stationStatus"

# Answers that will not change by asking again: given up at once instead of resent.
PERMANENT = frozenset({Ret.SIGNATURE, Ret.PARAMETERS, Ret.BUSINESS})


def status_pushes(upstream: frozenset[str]) -> DeliveryRule:
    """The rule: a status report → one push per upstream partner (not back to the partner
    that reported it)."""

    def rule(event: Event) -> list[NewDelivery]:
        if not upstream or not isinstance(event, ConnectorStatusChanged):
            return []
        origin = partner_of_id(event.connector_id)
        return [
            NewDelivery(
                delivery_id=stable_id(STATUS_PUSH, partner, event.event_id),
                kind=STATUS_PUSH,
                destination=partner,
                payload=json.dumps({"ConnectorID": event.connector_id}),
                ref=event.connector_id,
            )
            for partner in sorted(upstream)
            if partner != origin
        ]

    return rule


class TcecSender:
    def __init__(self, clients: Clients, queries: StateQueries) -> None:
        self._clients = clients
        self._queries = queries

    async def _body(self, delivery: DeliveryRecord) -> Any:
        payload = json.loads(delivery.payload)
        if delivery.kind != STATUS_PUSH:
            return payload
        row = await asyncio.to_thread(self._queries.connector, payload["ConnectorID"])
        if row is None:
            return None
        return {"ConnectorStatusInfo": uplink.connector_status(row)}

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        body = await self._body(delivery)
        if body is None:
            return Sent(False, error="nothing to push: the connector is unknown", permanent=True)
        endpoint = delivery.kind.removeprefix(TCEC_KINDS)
        client = self._clients.for_partner(delivery.destination)
        try:
            answer = await client.call(endpoint, body, dict[str, Any], timeout=timeout_s)
        except PartnerError as exc:
            return Sent(False, error=str(exc), permanent=exc.ret in PERMANENT)
        return Sent(True, answer=json.dumps(answer, ensure_ascii=False, sort_keys=True))
