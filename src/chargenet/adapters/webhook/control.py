"""Orders through an operator's own channel: a stop, resume or notice order as a signed
webhook (`signing.py`), for equipment whose protocol cannot carry it — OCPI 2.2.1 has no
command to take an EVSE out of service, OCPP none to tell an operator of a zombie case —
or whose operator has no T/CEC link.

`WebhookControl` is a `QueuedControl`: the order's delivery is stored with the order in
the durable outbox (app/outbox.py) and `WebhookSender` sends it, resending with growing
intervals until the operator's platform takes it, across restarts.

The message (JSON):
`{type: "order", delivery_id, order_id, kind, charger_id, station_id, target_kind,
target_id, reason, issued_by, issued_at, parameters, answer_url}`, with the header
`X-Chargenet-Delivery: <delivery_id>`: a resend carries the same id, so the operator
processes each delivery once whatever the network did.
The operator answers in its HTTP response — `{"result": "accepted" | "rejected" |
"received", "message": …}` (2xx) — or later, signed, at `answer_url`
(`POST /api/v1/channel/orders/{order_id}/answer`, routes.py). A 2xx without a result is
`notified`; 4xx is `failed` (asking again will not help); 5xx and transport errors are
resent — the order's outcome is `timeout` until then, and the latest answer is the
delivery's outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx

from chargenet.adapters.webhook import signing
from chargenet.app.channels import ChannelRecord, ChannelStore
from chargenet.app.orders import Order, OrderResult
from chargenet.app.outbox import DeliveryRecord, NewDelivery, Sent
from chargenet.app.queries import ChargerRow, StateQueries
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_id

log = logging.getLogger(__name__)

KIND = "webhook.order"
KINDS = frozenset({OrderKind.STOP, OrderKind.RESUME, OrderKind.NOTICE})
ANSWER_PATH = "/api/v1/channel/orders/{order_id}/answer"
_RESULTS = {
    "accepted": OrderOutcome.ACCEPTED,
    "rejected": OrderOutcome.REJECTED,
    "received": OrderOutcome.NOTIFIED,
}


def outcome_of(answer: Any) -> tuple[OrderOutcome, str]:
    if not isinstance(answer, dict):
        return OrderOutcome.NOTIFIED, "the operator acknowledged the order"
    message = str(answer.get("message") or "")[:500]
    result = _RESULTS.get(str(answer.get("result", "")).lower())
    if result is None:
        return OrderOutcome.NOTIFIED, message or "the operator acknowledged the order"
    return result, message


class WebhookControl:
    kind = KIND

    def __init__(
        self,
        *,
        channels: ChannelStore,
        queries: StateQueries,
        clock: Clock,
        public_url: str | None = None,
    ) -> None:
        self._channels = channels
        self._queries = queries
        self._clock = clock
        self._public_url = (public_url or "").rstrip("/")

    def _channel(self, charger_id: str) -> tuple[ChargerRow | None, ChannelRecord | None]:
        charger = self._queries.charger(charger_id)
        if charger is None:
            return None, None
        return charger, self._channels.channel(charger["operator_id"])

    def problem(self, order: Order) -> str | None:
        if order.kind not in KINDS:
            return f"an operator's channel carries stop, resume and notice orders, not {order.kind}"
        charger, channel = self._channel(order.charger_id)
        if charger is None:
            return f"unknown charger {order.charger_id}"
        if channel is None or not channel.enabled:
            return f"operator {charger['operator_id']} has no channel for orders"
        return None

    def delivery(self, order: Order) -> NewDelivery:
        charger, _ = self._channel(order.charger_id)
        if charger is None:
            raise ValueError(f"unknown charger {order.charger_id}")
        delivery_id = stable_id(KIND, order.order_id)
        body = {
            "type": "order",
            "delivery_id": delivery_id,
            "order_id": order.order_id,
            "kind": order.kind.value,
            "charger_id": order.charger_id,
            "station_id": charger.get("station_id"),
            "target_kind": order.target_kind.value,
            "target_id": order.target_id,
            "reason": order.reason,
            "issued_by": order.issued_by,
            "issued_at": self._clock.now().isoformat(),
            "parameters": dict(order.parameters),
            "answer_url": self._public_url + ANSWER_PATH.format(order_id=order.order_id),
        }
        return NewDelivery(
            delivery_id=delivery_id,
            kind=KIND,
            destination=charger["operator_id"],
            payload=json.dumps(body, ensure_ascii=False, sort_keys=True),
            ref=order.order_id,
            held=True,
        )

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        """Reached only without an outbox: a channel's orders are queued (OrderService)."""
        return OrderResult(OrderOutcome.FAILED, "an operator's channel needs the outbox")

    def outcome(self, sent: Sent) -> OrderResult:
        if not sent.ok:
            return OrderResult(OrderOutcome.FAILED, sent.error)
        try:
            answer = json.loads(sent.answer) if sent.answer else None
        except ValueError:
            answer = None
        return OrderResult(*outcome_of(answer))


class WebhookSender:
    """Sends `webhook.*` deliveries to the destination operator's channel, signed afresh
    for each attempt (the timestamp is inside what is signed)."""

    def __init__(
        self,
        *,
        channels: ChannelStore,
        sealer: signing.Sealer,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._channels = channels
        self._sealer = sealer
        self._clock = clock
        self._transport = transport

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        channel = await asyncio.to_thread(self._channels.channel, delivery.destination)
        if channel is None or not channel.enabled:
            return Sent(False, error="the operator has no channel for orders", permanent=True)
        body = delivery.payload.encode()
        stamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            signing.DELIVERY: delivery.delivery_id,
            signing.TIMESTAMP: stamp,
            signing.SIGNATURE: signing.sign(self._sealer.open(channel.secret_sealed), stamp, body),
        }
        try:
            async with httpx.AsyncClient(transport=self._transport) as http:
                response = await http.post(
                    channel.url, content=body, headers=headers, timeout=timeout_s
                )
        except httpx.HTTPError as exc:
            return Sent(False, error=f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= response.status_code < 300:
            return Sent(True, answer=response.text or None)
        # 4xx: asking again will not help (a refused signature, an unknown path).
        if 400 <= response.status_code < 500:
            refused = f"the operator's channel refused it: HTTP {response.status_code}"
            return Sent(False, error=refused, permanent=True)
        return Sent(False, error=f"HTTP {response.status_code}")
