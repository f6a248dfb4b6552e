"""Every order and its outcome end up in the log, whatever happens to the delivery."""

from __future__ import annotations

import asyncio

from chargenet.app.orders import Order, OrderResult
from chargenet.bootstrap import Platform
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from tests.builders import small_world


class Accepting:
    def __init__(self) -> None:
        self.seen: list[Order] = []

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        self.seen.append(order)
        return OrderResult(OrderOutcome.ACCEPTED, "Accepted")


class Silent:
    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


def stop(order_id: str, protocol: str | None = "ocpp1.6") -> Order:
    return Order(
        order_id=OrderId(order_id),
        kind=OrderKind.STOP,
        charger_id="C1",
        protocol=protocol,
        target_kind=TargetKind.CHARGER,
        target_id="C1",
        reason="over-temperature",
        issued_by="regulator",
    )


def outcomes(platform: Platform) -> dict[str, str]:
    return {
        e["order_id"]: e["outcome"]
        for e in platform.read.events(event_type="order.acknowledged", limit=100)
    }


def test_orders_are_delivered_by_protocol_and_every_outcome_is_kept(platform: Platform) -> None:
    platform.ingestor.ingest(small_world())
    accepting = Accepting()
    platform.orders.register("ocpp1.6", accepting)
    platform.orders.register("ocpi", Silent())

    async def scenario() -> list[OrderResult]:
        await platform.start()
        try:
            return [
                await platform.orders.issue(stop("O1")),
                await platform.orders.issue(stop("O2", protocol="ocpi"), timeout_s=0.05),
                await platform.orders.issue(stop("O3", protocol="tcec")),
            ]
        finally:
            await platform.stop()

    results = asyncio.run(scenario())
    assert [r.outcome for r in results] == [
        OrderOutcome.ACCEPTED,
        OrderOutcome.TIMEOUT,
        OrderOutcome.FAILED,
    ]
    assert [o.order_id for o in accepting.seen] == ["O1"]
    assert outcomes(platform) == {"O1": "accepted", "O2": "timeout", "O3": "failed"}
