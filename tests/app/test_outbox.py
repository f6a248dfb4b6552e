"""The durable outbox: a delivery exists exactly when the event that causes it is in the
log, is resent with growing intervals, and is never sent again by a rebuild."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chargenet.app.outbox import Backoff, DeliveryRecord, NewDelivery, OutboxWorker, Sent
from chargenet.bootstrap import Platform
from chargenet.core.events import ConnectorStatusChanged
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.kit.clock import FixedClock
from tests.builders import T0, meta, small_world
from tests.fakes import FakeDeliveryStore


def status(event_id: str, connector: str = "C1-1-1") -> ConnectorStatusChanged:
    return ConnectorStatusChanged(
        **meta(T0, event_id=event_id),
        connector_id=ConnectorId(connector),
        status=ConnectorStatus.CHARGING,
    )


def notice(delivery_id: str) -> NewDelivery:
    return NewDelivery(
        delivery_id=delivery_id, kind="test.notice", destination="OP1", payload="{}", ref="r"
    )


def test_a_delivery_is_stored_only_with_an_event_that_is_accepted(any_platform: Platform) -> None:
    platform = any_platform
    platform.ingestor.ingest(small_world())
    ingest = platform.ingestor.ingest
    ingest([status("S1")], deliveries={"S1": [notice("D1")]})
    # The same event again is a duplicate: what it would cause is not queued a second time.
    ingest([status("S1")], deliveries={"S1": [notice("D2")]})
    # An event the store refuses (an unknown connector) causes nothing.
    [refused] = ingest([status("S2", "NOPE")], deliveries={"S2": [notice("D3")]})
    assert not refused.ok
    items = platform.outbox.store.items()
    assert [(d.delivery_id, d.event_id, d.state) for d in items] == [("D1", "S1", "pending")]

    platform.store.rebuild()  # replaying the log resends nothing
    assert [d.delivery_id for d in platform.outbox.store.items()] == ["D1"]


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[str] = []

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        self.sent.append(delivery.delivery_id)
        if len(self.sent) <= self.failures:
            return Sent(False, error="HTTP 503")
        return Sent(True, answer='{"ok": true}')


@pytest.mark.unit
def test_failed_attempts_wait_twice_as_long_each_time_and_then_deliver() -> None:
    store = FakeDeliveryStore()
    store.enqueue("S1", T0, [notice("D1")])
    clock = FixedClock(T0)
    worker = OutboxWorker(store, clock, Backoff(base_s=10, max_s=25, attempts=5))
    sender = Flaky(failures=3)
    settled: list[tuple[str, bool]] = []

    async def told(record: DeliveryRecord, sent: Sent) -> None:
        settled.append((record.delivery_id, sent.ok))

    worker.register("test.", sender, told)

    async def scenario() -> list[float]:
        waits = []
        for _ in range(4):
            assert await worker.run_once() == 1
            if settled:
                break
            [pending] = store.items()
            waits.append((pending.next_attempt_at - clock.now()).total_seconds())
            assert await worker.run_once() == 0  # not due before its time
            clock.set(pending.next_attempt_at)
        return waits

    assert asyncio.run(scenario()) == [10.0, 20.0, 25.0]  # base, doubled, capped
    assert sender.sent == ["D1"] * 4 and settled == [("D1", True)]
    [done] = store.items()
    assert (done.state, done.attempts, done.answer) == ("delivered", 4, '{"ok": true}')


@pytest.mark.unit
def test_a_delivery_is_given_up_after_its_attempts() -> None:
    store = FakeDeliveryStore()
    store.enqueue("S1", T0, [notice("D1")])
    clock = FixedClock(T0)
    worker = OutboxWorker(store, clock, Backoff(base_s=1, attempts=3))
    settled: list[Sent] = []

    async def told(record: DeliveryRecord, sent: Sent) -> None:
        settled.append(sent)

    worker.register("test.", Flaky(failures=100), told)

    async def scenario() -> None:
        for _ in range(5):
            await worker.run_once()
            clock.set(clock.now() + timedelta(hours=1))

    asyncio.run(scenario())
    [gone] = store.items()
    assert (gone.state, gone.attempts, gone.last_error) == ("failed", 3, "HTTP 503")
    assert [s.ok for s in settled] == [False]


def test_a_leased_delivery_is_not_taken_by_another_round(any_platform: Platform) -> None:
    """Two rounds (or two processes on one database) never send one delivery at once; a
    delivery its caller attempts itself is not the worker's until the hold is over."""
    platform = any_platform
    store = platform.outbox.store
    platform.ingestor.ingest(small_world())
    held = NewDelivery(
        delivery_id="H1", kind="test.notice", destination="OP1", payload="{}", held=True
    )
    platform.ingestor.ingest(
        [status("S1"), status("S2", "C1-2-1")],
        deliveries={"S1": [notice("D1")], "S2": [held]},
    )
    lease = T0 + timedelta(minutes=5)
    assert [d.delivery_id for d in store.claim_due(T0, lease, 10)] == ["D1"]
    assert store.claim_due(T0, lease, 10) == []  # leased by the first round
    assert store.claim("D1", T0, lease) is None  # nor can a caller take it now
    [h] = [d for d in store.items() if d.delivery_id == "H1"]
    assert h.next_attempt_at > T0  # held for its caller
    assert store.claim("H1", T0, lease) is not None
    assert store.claim("H1", T0, lease) is None


@pytest.mark.unit
def test_a_push_of_current_state_with_a_later_one_waiting_is_not_sent() -> None:
    """After an outage one connector's backlog of changes is one push (the sender sends
    the current status); settled deliveries are forgotten after the keeping time."""
    store = FakeDeliveryStore()
    for n in range(3):
        store.enqueue(f"S{n}", T0, [notice(f"D{n}")])  # all about ref "r", to OP1
    clock = FixedClock(T0)
    worker = OutboxWorker(store, clock, keep_s=86400)
    sender = Flaky(failures=0)
    worker.register("test.", sender)
    worker.register("test.", latest_only=True)
    assert asyncio.run(worker.run_once()) == 3
    assert sender.sent == ["D2"]
    answers = {d.delivery_id: d.answer for d in store.items()}
    assert answers == {
        "D0": '{"superseded": true}',
        "D1": '{"superseded": true}',
        "D2": '{"ok": true}',
    }

    clock.set(T0 + timedelta(days=2))
    store.enqueue("S9", T0, [notice("D9")])
    worker.register("test.", Flaky(failures=100))
    asyncio.run(worker.run_once())  # prunes first: D0–D2 finished two days ago
    assert [(d.delivery_id, d.state) for d in store.items()] == [("D9", "pending")]
