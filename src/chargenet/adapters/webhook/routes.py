"""The operator's later answer to an order sent through its channel, signed with the same
secret: `POST /api/v1/channel/orders/{order_id}/answer` with headers
`X-Chargenet-Operator`, `X-Chargenet-Timestamp`, `X-Chargenet-Signature` and body
`{"result": "accepted" | "rejected" | "received", "message": …}`. The answer is recorded
as the delivery's outcome (`order.acknowledged`); a stop order whose operator accepts
later is then in force."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from chargenet.adapters.webhook import signing
from chargenet.adapters.webhook.control import ANSWER_PATH, KIND, outcome_of
from chargenet.app.channels import ChannelStore
from chargenet.app.outbox import DeliveryStore
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.access import Audience, declared
from chargenet.core.events import OrderAcknowledged, Source, event_meta
from chargenet.core.ids import OperatorId, OrderId
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_id

MAX_ANSWER = 16 * 1024


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def channel_router(
    *,
    channels: ChannelStore,
    sealer: signing.Sealer,
    pipeline: IngestPipeline,
    clock: Clock,
    deliveries: DeliveryStore | None = None,
) -> APIRouter:
    router = APIRouter(tags=["operators' channels"])

    @router.post(ANSWER_PATH, **declared(Audience.PARTNER))
    async def answer(order_id: str, request: Request) -> Any:
        """An operator's answer to an order sent through its channel (signed)."""
        body = await request.body()
        if len(body) > MAX_ANSWER:
            return _refuse(413, "answer too large")
        operator_id = request.headers.get(signing.OPERATOR, "")
        channel = await run_in_threadpool(channels.channel, operator_id) if operator_id else None
        if channel is None:
            return _refuse(401, f"{signing.OPERATOR} names no operator with a channel")
        secret = await run_in_threadpool(sealer.open, channel.secret_sealed)
        problem = signing.problem(
            secret,
            request.headers.get(signing.TIMESTAMP),
            body,
            request.headers.get(signing.SIGNATURE),
            clock.now(),
        )
        if problem:
            return _refuse(401, problem)
        owner = await run_in_threadpool(channels.order_operator, order_id)
        if owner != operator_id:  # unknown, or another operator's: the same answer
            return _refuse(404, f"no order {order_id} of operator {operator_id}")
        try:
            parsed = json.loads(body)
        except ValueError:
            return _refuse(422, "the answer is not JSON")
        if not isinstance(parsed, dict) or str(parsed.get("result", "")).lower() not in (
            "accepted",
            "rejected",
            "received",
        ):
            return _refuse(422, 'result must be "accepted", "rejected" or "received"')
        outcome, message = outcome_of(parsed)
        stamp = request.headers.get(signing.TIMESTAMP, "")
        event = OrderAcknowledged(
            **event_meta(
                stable_id("channel", operator_id, order_id, stamp, outcome.value),
                Source(adapter="channel", operator_id=OperatorId(operator_id)),
                clock.now(),
            ),
            order_id=OrderId(order_id),
            outcome=outcome,
            detail=f"answered through the operator's channel: {message}".strip(": "),
        )
        [result] = await pipeline.submit([event])
        if not result.ok:
            return _refuse(422, result.reason)
        if deliveries is not None:  # the outbox stops resending what has been answered
            answer_text = json.dumps(parsed, ensure_ascii=False, sort_keys=True)
            await run_in_threadpool(deliveries.answered, KIND, order_id, clock.now(), answer_text)
        return {"order_id": order_id, "outcome": outcome.value}

    return router
