"""The socket map and orders between nodes, on a real NATS server: a charger is reachable
through the live node that holds it last, and an order sent for it comes back with the
answer that node's charger gave. Skipped, saying why, without NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from typing import Any

import pytest

from chargenet.adapters.bus.jetstream import ClusterNames, Layout, parse_buckets, subject_for
from chargenet.adapters.bus.sockets import (
    NatsSocketMap,
    RoutedControl,
    answer_orders,
    socket_key,
)
from chargenet.app.orders import Failure, Order, OrderResult
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged
from chargenet.core.ids import ChargerId, ConnectorId, OrderId
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from tests.builders import meta
from tests.cluster_services import NATS_URL, jetstream_missing

nats = pytest.importorskip("nats", reason="nats-py is not installed (extra: cluster)")

ORDER = Order(
    order_id=OrderId("O-1"),
    kind=OrderKind.STOP,
    charger_id="CP/7 north",  # not a KV key as it is
    protocol="ocpp1.6",
    target_kind=TargetKind.CHARGER,
    target_id="CP/7 north",
    evse_no=1,
    parameters={"why": "test"},
    private={"id_tag": "secret"},
)


class Recorder:
    """A node's own OCPP control: what it was asked, and the answer it gives."""

    def __init__(self, result: OrderResult) -> None:
        self.result = result
        self.orders: list[Order] = []

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        self.orders.append(order)
        return self.result


NOT_HERE = OrderResult(OrderOutcome.FAILED, "not here", failure=Failure.NOT_CONNECTED)


@pytest.fixture(scope="module")
def jetstream_ready() -> None:
    why = jetstream_missing()
    if why:
        pytest.skip(why)


Scenario = Callable[[Any, Any, ClusterNames], Coroutine[Any, Any, None]]


def on_nats(scenario: Scenario) -> None:
    """Run a scenario under a cluster name of its own; its buckets are dropped after."""

    async def run() -> None:
        names = ClusterNames(f"t{uuid.uuid4().hex[:10]}")
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        try:
            async with asyncio.timeout(30):
                await scenario(nc, js, names)
        finally:
            for bucket in (names.sockets, names.nodes):
                with contextlib.suppress(Exception):  # never made: nothing to drop
                    await js.delete_key_value(bucket)
            await nc.close()

    asyncio.run(run())


async def nodes(js: Any, names: ClusterNames, *named: str, ttl_s: float = 15) -> AsyncIterator[Any]:
    for name in named:
        node = await NatsSocketMap(js, names, name, ttl_s).open()
        await node.beat()
        yield node


def test_a_charger_is_reachable_through_the_node_that_took_it_last(jetstream_ready: None) -> None:
    async def scenario(nc: Any, js: Any, names: ClusterNames) -> None:
        a, b, api = [n async for n in nodes(js, names, "a", "b", "api")]
        await a.held("C1")
        assert await api.node_of("C1") == "a"
        await b.held("C1")  # the charger reconnected to b before a saw its socket close
        assert await a.released("C1") is False  # a's late close: not offline
        assert await api.node_of("C1") == "b"
        assert await a.held_elsewhere(["C1", "C2"]) == {"C1"}
        assert await b.released("C1") is True
        assert await api.node_of("C1") is None

    on_nats(scenario)


def test_a_node_started_again_releases_only_the_chargers_it_still_holds(
    jetstream_ready: None,
) -> None:
    """A node knows the entries it put itself; one that restarted under the same name (or
    whose put had not returned yet) reads the map before removing anything."""

    async def scenario(nc: Any, js: Any, names: ClusterNames) -> None:
        a, b, api = [n async for n in nodes(js, names, "a", "b", "api")]
        await a.held("C1")
        await a.held("C2")
        await b.held("C2")  # C2 moved to b
        again = await NatsSocketMap(js, names, "a").open()  # a, restarted
        assert await again.released("C2") is False
        assert await again.released("C1") is True
        assert await api.node_of("C1") is None and await api.node_of("C2") == "b"
        assert await again.released("C3") is True  # never held by anyone

    on_nats(scenario)


def test_a_node_killed_without_notice_holds_no_charger_once_its_beat_expires(
    jetstream_ready: None,
) -> None:
    async def scenario(nc: Any, js: Any, names: ClusterNames) -> None:
        [a] = [n async for n in nodes(js, names, "a", ttl_s=1.0)]
        api = await NatsSocketMap(js, names, "api", ttl_s=1.0).open()
        await a.held("C1")
        assert await api.node_of("C1") == "a"
        deadline = time.monotonic() + 10  # a beats no more
        while await api.node_of("C1") is not None:
            assert time.monotonic() < deadline, "a dead node still holds its charger"
            await asyncio.sleep(0.2)

    on_nats(scenario)


def test_an_order_for_a_charger_on_another_node_comes_back_with_its_answer(
    jetstream_ready: None,
) -> None:
    answered = OrderResult(
        OrderOutcome.ACCEPTED, '{"status": "Accepted"}', {"status": "Accepted"}, None, "S-9"
    )

    async def scenario(nc: Any, js: Any, names: ClusterNames) -> None:
        a, api = [n async for n in nodes(js, names, "a", "api")]
        on_a, on_api = Recorder(answered), Recorder(NOT_HERE)
        subscription = await answer_orders(nc, names, "a", on_a)
        routed = RoutedControl(on_api, api, nc, names)
        await a.held(ORDER.charger_id)
        assert await routed.execute(ORDER, 5) == answered
        assert on_a.orders == [ORDER] and on_api.orders == []
        await subscription.unsubscribe()  # a is gone, its beat not yet expired
        gone = await routed.execute(ORDER, 5)
        assert (gone.outcome, gone.failure) == (OrderOutcome.FAILED, Failure.NOT_CONNECTED)
        await a.released(ORDER.charger_id)
        assert await routed.execute(ORDER, 5) == NOT_HERE  # nobody holds it: tried here

    on_nats(scenario)


def test_a_charger_and_its_connectors_share_one_subject() -> None:
    status = ConnectorStatusChanged(
        **meta(), connector_id=ConnectorId("CP-7-2-1"), status=ConnectorStatus.AVAILABLE
    )
    presence = ChargerPresenceChanged(
        **meta(), charger_id=ChargerId("CP-7"), online=True, reason="connected"
    )
    assert subject_for(status) == subject_for(presence)
    assert socket_key("CP-7") == "CP-7" and socket_key("CP/7") != socket_key("CP.7")


def test_writers_name_their_buckets() -> None:
    assert parse_buckets("") == list(range(64))
    assert parse_buckets("0-2,5") == [0, 1, 2, 5]
    with pytest.raises(ValueError, match="0–63"):
        parse_buckets("60-64")


def test_writers_take_whole_partitions_of_the_buckets() -> None:
    eight = Layout(8)
    assert eight.partitions_of(range(32)) == [0, 1, 2, 3]
    assert Layout(64).partitions_of([5, 9]) == [5, 9]  # the first layout: a bucket each
    with pytest.raises(ValueError, match="buckets 0-7 are one"):
        eight.partitions_of(range(4, 32))  # a partition's buckets would go to two writers
    with pytest.raises(ValueError, match="divide 64"):
        Layout(6)
    # Subjects of every layout are told apart, the first layout's as they were.
    assert eight.subject("x.events", 3) == "x.events.p8.3"
    assert Layout(64).subject("x.events", 3) == "x.events.3"
    assert Layout.of_subject("x.events", "x.events.p8.3") == (eight, 3)
    assert Layout.of_subject("x.events", "x.events.17") == (Layout(64), 17)
    assert Layout.of_subject("x.events", "x.events.p8.9") is None


def test_a_charger_slow_to_answer_holds_up_no_other_chargers_order(jetstream_ready: None) -> None:
    class Slow(Recorder):
        entered, released = asyncio.Event(), asyncio.Event()

        async def execute(self, order: Order, timeout_s: float) -> OrderResult:
            if order.charger_id == "slow":
                self.entered.set()
                await self.released.wait()
            return await super().execute(order, timeout_s)

    async def scenario(nc: Any, js: Any, names: ClusterNames) -> None:
        a, api = [n async for n in nodes(js, names, "a", "api")]
        on_a = Slow(OrderResult(OrderOutcome.ACCEPTED, "ok"))
        await answer_orders(nc, names, "a", on_a)
        routed = RoutedControl(Recorder(NOT_HERE), api, nc, names)
        for charger in ("slow", "fast"):
            await a.held(charger)
        slow = asyncio.create_task(routed.execute(replace(ORDER, charger_id="slow"), 5))
        await on_a.entered.wait()  # a is waiting for the slow charger's answer
        fast = await routed.execute(replace(ORDER, charger_id="fast"), 5)
        assert fast.outcome is OrderOutcome.ACCEPTED and not slow.done()
        on_a.released.set()
        assert (await slow).outcome is OrderOutcome.ACCEPTED

    on_nats(scenario)
