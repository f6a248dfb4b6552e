"""Orders from the platform to equipment, and their answers.

An order is recorded (OrderIssued), handed to the controller of the charger's protocol —
the OCPP gateway sends it to the charger; operator-platform adapters (OCPI, T/CEC) notify
the operator — and its outcome recorded (OrderAcknowledged), whatever it is: accepted,
rejected, timeout, failed. Every order and outcome stays in the log.

A controller that can say what to send without sending it (`QueuedControl`: an operator's
channel, a T/CEC partner) has its orders go through the durable outbox (app/outbox.py):
the delivery is stored with the OrderIssued event, attempted at once for the caller's
answer, and resent with backoff until the operator answers — across restarts; the final
answer is then recorded as another OrderAcknowledged (the latest answer counts).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from chargenet.app.outbox import DeliveryRecord, NewDelivery, OutboxWorker, Sender, Sent
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.errors import Invalid
from chargenet.core.events import OrderAcknowledged, OrderIssued, Source, event_meta
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id, stable_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Order:
    """An order addressed to one charger (the controller resolves connectors itself)."""

    order_id: OrderId
    kind: OrderKind
    charger_id: str
    protocol: str | None  # the charger's protocol: picks the controller
    target_kind: TargetKind
    target_id: str
    evse_no: int | None = None
    connector_no: int | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    issued_by: str = ""
    # What the controller sends but the log never keeps (a driver's token on a remote start).
    private: Mapping[str, str] = field(default_factory=dict)


class OrderInvalid(Invalid):
    """An order its charger's protocol cannot carry (no such command, a bad parameter)."""


class Failure(StrEnum):
    """Why an order could not be delivered or answered (with outcome FAILED)."""

    NOT_CONNECTED = "not_connected"  # the charger has no live connection
    CONNECTION_LOST = "connection_lost"  # it went away before it answered
    ERROR = "error"  # it answered with an error, or with what its protocol does not allow


@dataclass(frozen=True, slots=True)
class OrderResult:
    outcome: OrderOutcome
    detail: str = ""
    answer: Mapping[str, Any] | None = None  # the equipment's own answer, when it gave one
    failure: Failure | None = None
    session_id: str | None = None  # the session a remote start opened, when the answer names it


def schedule_periods(order: Order) -> list[tuple[int, float]]:
    """A session profile order's `schedule` parameter, "start_s:limit,start_s:limit,…"
    (limits in the order's `unit`, W or A per phase; starts in seconds from the profile's
    start, the first at 0, increasing), as (start_s, limit) pairs. Limits are what the
    charger may draw: OCPP 1.6/2.0.1 and OCPI 2.2.1 profiles say nothing of discharge."""
    periods: list[tuple[int, float]] = []
    for part in order.parameters.get("schedule", "").split(","):
        start, _, limit = part.strip().partition(":")
        try:
            period = (int(start), round(float(limit), 1))
        except ValueError:
            raise OrderInvalid(f"schedule period {part!r} is not start_s:limit") from None
        if period[0] < 0 or period[1] < 0:
            raise OrderInvalid("schedule periods are not negative (no discharge)")
        periods.append(period)
    if not periods or periods[0][0] != 0:
        raise OrderInvalid("a schedule starts with a period at 0")
    if any(b[0] <= a[0] for a, b in itertools.pairwise(periods)):
        raise OrderInvalid("schedule periods start in increasing order")
    if order.parameters.get("unit", "W") not in ("W", "A"):
        raise OrderInvalid("unit is W or A")
    return periods


class ChargerControl(Protocol):
    """Delivers orders for chargers of some protocols (registered per protocol)."""

    async def execute(self, order: Order, timeout_s: float) -> OrderResult: ...


@runtime_checkable
class CheckingControl(Protocol):
    """A controller that can tell, before anything is sent or recorded, why an order cannot
    be carried to the charger (the protocol has no such command, a parameter is wrong)."""

    def problem(self, order: Order) -> str | None: ...


@runtime_checkable
class QueuedControl(Protocol):
    """A controller whose orders go through the durable outbox: it says what to deliver
    (`delivery`, of its `kind`; may read the store; None: this order is not queued but
    executed) and what an answer means."""

    kind: str

    def delivery(self, order: Order) -> NewDelivery | None: ...

    def outcome(self, sent: Sent) -> OrderResult:
        """The order's outcome from a delivered answer (`sent.ok`) or a permanent refusal."""
        ...


class OrderService:
    def __init__(
        self,
        pipeline: IngestPipeline,
        clock: Clock,
        controls: Mapping[str | None, ChargerControl] | None = None,
        default_timeout_s: float = 30.0,
        outbox: OutboxWorker | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._clock = clock
        self.controls: dict[str | None, ChargerControl] = dict(controls or {})
        self._timeout = default_timeout_s
        self.outbox = outbox
        # The operator's own channel (a signed webhook), for orders and notices the
        # charger's protocol cannot carry (OCPI 2.2.1 has no such command; OCPP no notices).
        self.fallback: ChargerControl | None = None

    def register(self, protocol: str | None, control: ChargerControl) -> None:
        self.controls[protocol] = control

    def queue_through(self, control: QueuedControl, sender: Sender) -> None:
        """Send `control`'s deliveries with `sender`; record what their resends settle."""
        assert self.outbox is not None, "an OrderService without an outbox queues nothing"

        async def settled(record: DeliveryRecord, sent: Sent) -> None:
            await self._settled(control, record, sent)

        self.outbox.register(control.kind, sender, settled)

    @staticmethod
    def _problem(control: ChargerControl, order: Order) -> str | None:
        return control.problem(order) if isinstance(control, CheckingControl) else None

    def control_for(self, order: Order) -> ChargerControl | None:
        """The protocol's controller when it can carry the order, else the operator's
        channel when that can, else the protocol's (which will say why not)."""
        control = self.controls.get(order.protocol)
        if control is not None and self._problem(control, order) is None:
            return control
        if self.fallback is not None and self._problem(self.fallback, order) is None:
            return self.fallback
        return control

    def check(self, order: Order) -> str | None:
        """Why this order cannot be carried (None: it can be issued)."""
        control = self.control_for(order)
        if control is None:
            return f"no controller for protocol {order.protocol!r} and no channel to its operator"
        problem = self._problem(control, order)
        if problem is not None and control is not self.fallback:
            # say why the operator's channel could not carry it either, where it could have
            behind = None if self.fallback is None else self._problem(self.fallback, order)
            if behind is not None and "has no channel" in behind:
                return f"{problem}, and no channel to its operator"
        return problem

    async def issue(self, order: Order, timeout_s: float | None = None) -> OrderResult:
        """Record the order, deliver it, record and return the outcome."""
        source = Source(adapter="orders")
        issued = OrderIssued(
            **event_meta(new_id(), source, self._clock.now()),
            order_id=order.order_id,
            kind=order.kind,
            target_kind=order.target_kind,
            target_id=order.target_id,
            reason=order.reason,
            issued_by=order.issued_by,
            parameters=tuple(sorted(order.parameters.items())),
        )
        control = self.control_for(order)
        problem = await asyncio.to_thread(self.check, order)
        queued = None
        if isinstance(control, QueuedControl) and problem is None and self.outbox is not None:
            try:
                queued = await asyncio.to_thread(control.delivery, order)
            except Exception as exc:  # the order and why it failed must still be logged
                log.exception("order %s could not be queued", order.order_id)
                problem = f"{type(exc).__name__}: {exc}"
        attached = None if queued is None else {issued.event_id: [queued]}
        [recorded] = await self._pipeline.submit([issued], attached)
        if not recorded.ok:
            return OrderResult(OrderOutcome.FAILED, recorded.reason)
        timeout = timeout_s if timeout_s is not None else self._timeout
        answered_at = None
        if control is None or problem is not None:
            result = OrderResult(OrderOutcome.FAILED, problem or "no controller")
        elif queued is not None:
            assert isinstance(control, QueuedControl)
            result = await self._first_attempt(control, queued, timeout)
            # As of the attempt, before any resend: a resend's answer is always later.
            answered_at = self._clock.now()
        else:
            try:
                # The controller should answer TIMEOUT itself; this is the backstop.
                grace = timeout + min(5.0, timeout)
                result = await wait_at_most(control.execute(order, timeout), grace)
            except TimeoutError:
                result = OrderResult(OrderOutcome.TIMEOUT, f"no answer within {timeout:g} s")
            except Exception as exc:  # a controller bug must not lose the order's outcome
                log.exception("order %s failed", order.order_id)
                result = OrderResult(OrderOutcome.FAILED, f"{type(exc).__name__}: {exc}")
        await self._acknowledge(new_id(), order.order_id, result, answered_at)
        return result

    async def _acknowledge(
        self,
        event_id: str,
        order_id: OrderId,
        result: OrderResult,
        at: datetime | None = None,
    ) -> None:
        when = at or self._clock.now()
        await self._pipeline.submit(
            [
                OrderAcknowledged(
                    **event_meta(event_id, Source(adapter="orders"), when),
                    order_id=order_id,
                    outcome=result.outcome,
                    detail=result.detail,
                    answer=None
                    if result.answer is None
                    else json.dumps(result.answer, ensure_ascii=False, sort_keys=True),
                )
            ]
        )

    async def _first_attempt(
        self, control: QueuedControl, queued: NewDelivery, timeout_s: float
    ) -> OrderResult:
        assert self.outbox is not None
        sent = await self.outbox.attempt_now(queued.delivery_id, timeout_s)
        if sent is not None and (sent.ok or sent.permanent):
            return control.outcome(sent)
        error = "another round holds it" if sent is None else sent.error
        return OrderResult(
            OrderOutcome.TIMEOUT,
            f"not delivered yet ({error}); the outbox resends it with growing intervals "
            f"until the operator answers (delivery {queued.delivery_id})",
        )

    async def _settled(self, control: QueuedControl, record: DeliveryRecord, sent: Sent) -> None:
        """A queued order reached the operator after resending (or was given up)."""
        result = (
            control.outcome(sent)
            if sent.ok or sent.permanent
            else OrderResult(
                OrderOutcome.FAILED, f"given up after {record.attempts + 1} attempts: {sent.error}"
            )
        )
        detail = f"{result.detail} (after resending, delivery {record.delivery_id})".strip()
        await self._acknowledge(
            stable_id("order-settled", record.delivery_id),
            OrderId(record.ref),
            OrderResult(result.outcome, detail, result.answer),
        )
