"""`ChargerControl` through an operator's own channel: a stop, resume or notice order as a
signed webhook (`signing.py`), for equipment whose protocol cannot carry it — OCPI 2.2.1
has no command to take an EVSE out of service, OCPP none to tell an operator of a zombie
case — or whose operator has no T/CEC link.

The message (JSON):
`{type: "order", order_id, kind, charger_id, station_id, target_kind, target_id, reason,
issued_by, issued_at, parameters, answer_url}`.
The operator answers in its HTTP response — `{"result": "accepted" | "rejected" |
"received", "message": …}` (2xx) — or later, signed, at `answer_url`
(`POST /api/v1/channel/orders/{order_id}/answer`, router.py). A 2xx without a result is
`notified`; 4xx is `failed` (asking again will not help); 5xx and transport errors are
retried within the order's time, then `timeout` — the delivery stays open for the
operator's later answer, and the latest answer is the delivery's outcome.
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
from chargenet.app.queries import StateQueries
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)

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
    def __init__(
        self,
        *,
        channels: ChannelStore,
        sealer: signing.Sealer,
        queries: StateQueries,
        clock: Clock,
        public_url: str | None = None,
        retry_interval_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._channels = channels
        self._sealer = sealer
        self._queries = queries
        self._clock = clock
        self._public_url = (public_url or "").rstrip("/")
        self._interval = retry_interval_s
        self._transport = transport

    def _channel(self, charger_id: str) -> tuple[dict[str, Any] | None, ChannelRecord | None]:
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

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        charger, channel = await asyncio.to_thread(self._channel, order.charger_id)
        if charger is None or channel is None or not channel.enabled:
            return OrderResult(OrderOutcome.FAILED, "the operator has no channel for orders")
        answer_url = self._public_url + ANSWER_PATH.format(order_id=order.order_id)
        body = json.dumps(
            {
                "type": "order",
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
                "answer_url": answer_url,
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        secret = self._sealer.open(channel.secret_sealed)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        error = "no attempt"
        async with httpx.AsyncClient(transport=self._transport) as http:
            while True:
                stamp = str(int(self._clock.now().timestamp()))
                headers = {
                    "Content-Type": "application/json",
                    signing.TIMESTAMP: stamp,
                    signing.SIGNATURE: signing.sign(secret, stamp, body),
                }
                left = deadline - loop.time()
                try:
                    response = await http.post(
                        channel.url, content=body, headers=headers, timeout=max(left, 0.1)
                    )
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    if 200 <= response.status_code < 300:
                        try:
                            answer = response.json() if response.content else None
                        except ValueError:
                            answer = None
                        return OrderResult(*outcome_of(answer))
                    if 400 <= response.status_code < 500:
                        return OrderResult(
                            OrderOutcome.FAILED,
                            f"the operator's channel refused it: HTTP {response.status_code}",
                        )
                    error = f"HTTP {response.status_code}"
                if deadline - loop.time() <= self._interval:
                    break
                await asyncio.sleep(self._interval)
        log.warning("order %s to %s not delivered: %s", order.order_id, channel.url, error)
        return OrderResult(
            OrderOutcome.TIMEOUT,
            f"not delivered ({error}); the operator may still answer at {answer_url}",
        )
