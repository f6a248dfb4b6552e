"""Orders for the demo city's chargers (protocol "demo"): a stop order makes a charger's
connectors unavailable, and the live city keeps them so until a RESUME."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from chargenet.app.orders import Order, OrderResult
from chargenet.app.queries import StateQueries
from chargenet.core.events import ConnectorStatusChanged, Event, event_meta
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.demo.live import SOURCE, LiveCity
from chargenet.kit.ids import new_id


@dataclass
class Holds:
    """Chargers held out of service by an order, shared by the controller and the city."""

    chargers: set[ChargerId] = field(default_factory=set)
    city: LiveCity | None = None  # set once the live city has loaded


class DemoControl:
    """The ChargerControl of protocol "demo"."""

    def __init__(
        self,
        holds: Holds,
        read: StateQueries,
        submit: Callable[[list[Event]], Awaitable[object]],
        now: Callable[[], datetime],
    ) -> None:
        self.holds = holds
        self._read = read
        self._submit = submit
        self._now = now

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        charger_id = ChargerId(order.charger_id)
        if order.kind is OrderKind.NOTICE:  # the demo operator reads its notices
            return OrderResult(OrderOutcome.NOTIFIED, "noted by the demo operator")
        if order.kind is OrderKind.STOP:
            self.holds.chargers.add(charger_id)
            events = self._set(charger_id, ConnectorStatus.UNAVAILABLE, order)
        elif order.kind is OrderKind.RESUME:
            self.holds.chargers.discard(charger_id)
            events = self._set(charger_id, ConnectorStatus.AVAILABLE, order)
        else:
            return OrderResult(OrderOutcome.REJECTED, f"the demo does not do {order.kind}")
        if not events:
            return OrderResult(OrderOutcome.REJECTED, f"unknown charger {charger_id}")
        await self._submit(events)
        return OrderResult(OrderOutcome.ACCEPTED, "Accepted")

    def _set(self, charger_id: ChargerId, status: ConnectorStatus, order: Order) -> list[Event]:
        info = f"{order.kind.value} order {order.parameters.get('stop_order', order.order_id)}"
        if self.holds.city is not None:
            return self.holds.city.set_charger(charger_id, status, info)
        rows, _ = self._read.connectors(charger_ids=[charger_id], limit=1000)
        return [
            ConnectorStatusChanged(
                **event_meta(new_id(), SOURCE, self._now()),
                connector_id=ConnectorId(r["connector_id"]),
                status=status,
                info=info,
            )
            for r in rows
        ]
