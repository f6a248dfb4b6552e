"""Ordered queues of the durable outbox, and several workers on one database: each
delivery is sent once, a queue's deliveries one after another in the order they were made,
and a failed head holds its queue back until it goes through."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from chargenet.app.outbox import Backoff, DeliveryRecord, NewDelivery, OutboxWorker, Sent
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.kit.clock import FixedClock, SystemClock
from tests.builders import T0


def item(n: int, queue: str = "", ref: str | None = None) -> NewDelivery:
    return NewDelivery(
        delivery_id=f"D{n:04d}",
        kind="test.push",
        destination=queue or "anyone",
        payload="{}",
        ref=ref if ref is not None else f"obj{n}",
        queue=queue,
    )


class Recorder:
    """Records what was sent, by whom, and whether two sends of one queue overlapped."""

    def __init__(self, name: str, log: list[tuple[str, str]], busy: dict[str, int]) -> None:
        self.name = name
        self.log = log
        self.busy = busy
        self.overlaps = 0

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        if delivery.queue:
            self.busy[delivery.queue] += 1
            if self.busy[delivery.queue] > 1:
                self.overlaps += 1
        try:
            await asyncio.sleep(0.002)  # the partner takes a moment: let the other worker in
            self.log.append((self.name, delivery.delivery_id))
        finally:
            if delivery.queue:
                self.busy[delivery.queue] -= 1
        return Sent(True)


def test_two_workers_on_one_database_send_each_delivery_once_and_queues_in_order(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, sqlite_synchronous="OFF")
    first, second = bootstrap(settings), bootstrap(settings)
    try:
        queues = [f"ocpi:P{q}" for q in range(4)]
        items = [item(n, queues[n % 5] if n % 5 < 4 else "") for n in range(200)]
        first.outbox.store.add(items, SystemClock().now())
        log: list[tuple[str, str]] = []
        busy: dict[str, int] = defaultdict(int)
        recorders = []
        workers = []
        for name, platform in (("first", first), ("second", second)):
            worker = OutboxWorker(platform.outbox.store, SystemClock())
            recorder = Recorder(name, log, busy)
            worker.register("test.", recorder)
            workers.append(worker)
            recorders.append(recorder)

        async def until_all_sent() -> None:
            async def rounds(worker: OutboxWorker) -> None:
                while len(log) < len(items):
                    await worker.run_once(limit=10)
                    await asyncio.sleep(0)

            await asyncio.gather(*(rounds(w) for w in workers))

        asyncio.run(until_all_sent())
        sent = [d for _, d in log]
        assert sorted(sent) == sorted(i.delivery_id for i in items)  # each once
        assert {who for who, _ in log} == {"first", "second"}  # both took a share
        for queue in queues:
            made = [i.delivery_id for i in items if i.queue == queue]
            assert [d for d in sent if d in set(made)] == made  # in the order made
        assert sum(r.overlaps for r in recorders) == 0
        assert {d.state for d in first.outbox.store.items(limit=500)} == {"delivered"}
    finally:
        first.close()
        second.close()


class Down:
    """A partner that is away until told otherwise."""

    def __init__(self) -> None:
        self.down = True
        self.received: list[str] = []

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        if self.down:
            return Sent(False, error="connection refused")
        self.received.append(delivery.delivery_id)
        return Sent(True)


def test_a_failed_head_holds_its_queue_back_and_the_partner_gets_everything_in_order(
    any_platform: Platform,
) -> None:
    store = any_platform.outbox.store
    clock = FixedClock(T0)
    store.add([item(n, "ocpi:P") for n in range(6)], T0)
    worker = OutboxWorker(store, clock, Backoff(base_s=10, max_s=10, attempts=100))
    partner = Down()
    worker.register("test.", partner)

    async def scenario() -> None:
        # The head fails: the rest of its queue is not tried.
        assert await worker.run_once() == 1
        assert await worker.run_once() == 0  # the head backs off, its queue waits
        # Due next: the head's retry, not the tail given back at once.
        assert store.next_due() == T0 + timedelta(seconds=10)
        partner.down = False
        clock.advance(timedelta(seconds=10))
        # A round takes at most five of a queue (all sent within the lease); the next
        # round the rest.
        assert await worker.run_once() == 5
        assert await worker.run_once() == 1

    asyncio.run(scenario())
    assert partner.received == [f"D{n:04d}" for n in range(6)]
    failed_once = [d for d in store.items() if d.delivery_id == "D0000"]
    assert failed_once[0].attempts == 2 and failed_once[0].state == "delivered"


def test_a_superseded_push_in_a_queue_is_settled_without_sending(
    any_platform: Platform,
) -> None:
    store = any_platform.outbox.store
    store.add(
        [item(1, "ocpi:P", ref="C1"), item(2, "ocpi:P", ref="C2"), item(3, "ocpi:P", ref="C1")], T0
    )
    worker = OutboxWorker(store, FixedClock(T0))
    partner = Down()
    partner.down = False
    worker.register("test.", partner, latest_only=True)
    asyncio.run(worker.run_once())
    assert partner.received == ["D0002", "D0003"]


def test_a_worker_that_dies_holding_a_queue_leaves_it_to_another_after_the_lease(
    any_platform: Platform,
) -> None:
    store = any_platform.outbox.store
    store.add([item(n, "ocpi:P") for n in range(3)], T0)
    # A worker claims the queue and dies before sending anything.
    claimed = store.claim_due(T0, T0 + timedelta(seconds=60), 100)
    assert [d.delivery_id for d in claimed] == ["D0000", "D0001", "D0002"]
    clock = FixedClock(T0 + timedelta(seconds=30))
    worker = OutboxWorker(store, clock)
    partner = Down()
    partner.down = False
    worker.register("test.", partner)
    with contextlib.suppress(Exception):
        assert asyncio.run(worker.run_once()) == 0  # still leased
    clock.advance(timedelta(seconds=31))
    assert asyncio.run(worker.run_once()) == 3
    assert partner.received == ["D0000", "D0001", "D0002"]


def test_a_stalled_queue_keeps_one_waiting_push_per_object(any_platform: Platform) -> None:
    store = any_platform.outbox.store
    # A partner away while two connectors change twenty times each behind a station's push.
    backlog = [item(n, "ocpi:P", ref=f"C{n % 2}") for n in range(1, 41)]
    store.add([item(0, "ocpi:P", ref="S1"), *backlog], T0)
    worker = OutboxWorker(store, FixedClock(T0), Backoff(base_s=10, attempts=100))
    partner = Down()
    worker.register("test.", partner, latest_only=True)
    assert asyncio.run(worker.run_once(limit=5)) == 1  # the head fails
    waiting = store.items(state="pending", limit=100)
    # The failed head and each connector's latest change: the rest would be settled
    # unsent on reaching them, and is now.
    assert sorted(d.delivery_id for d in waiting) == ["D0000", "D0039", "D0040"]


_DYING = textwrap.dedent(
    """
    import asyncio, sys
    from chargenet.app.outbox import NewDelivery, OutboxWorker
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings
    from chargenet.core.events import ConnectorStatusChanged
    from chargenet.core.status import ConnectorStatus
    from chargenet.kit.clock import SystemClock
    from tests.builders import T0, meta, small_world

    platform = bootstrap(Settings(database_url=sys.argv[1]))
    platform.ingestor.ingest(small_world())
    changes = [
        ConnectorStatusChanged(
            **meta(T0, event_id=f"E{n}"), connector_id="C1-1-1", status=ConnectorStatus.CHARGING
        )
        for n in range(4)
    ]
    # Each push is queued in its change's own transaction.
    platform.ingestor.ingest(changes, deliveries={
        c.event_id: [NewDelivery(f"D{n:04d}", "test.push", "P", "{}", f"obj{n}", queue="ocpi:P")]
        for n, c in enumerate(changes)
    })

    class Hangs:
        async def send(self, delivery, timeout_s):
            print("sending", delivery.delivery_id, flush=True)
            await asyncio.Event().wait()  # the partner never answers; the process is killed

    worker = OutboxWorker(platform.outbox.store, SystemClock())
    worker.register("test.", Hangs())
    asyncio.run(worker.run_once())
    """
)


def test_a_process_killed_while_sending_leaves_its_queue_to_a_new_one_on_the_same_database(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'chargenet.db'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    dying = subprocess.Popen(
        [sys.executable, "-c", _DYING, url], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert dying.stdout is not None
        assert dying.stdout.readline().split() == ["sending", "D0000"]
    finally:
        dying.send_signal(signal.SIGKILL)
        dying.wait()
        if dying.stdout is not None:
            dying.stdout.close()
    again = bootstrap(Settings(database_url=url, sqlite_synchronous="OFF"))
    try:
        store = again.outbox.store
        assert [d.state for d in store.items()] == ["pending"] * 4
        now = SystemClock().now()
        clock = FixedClock(now)
        worker = OutboxWorker(store, clock)
        partner = Down()
        partner.down = False
        worker.register("test.", partner)
        assert asyncio.run(worker.run_once()) == 0  # still leased to the dead process
        clock.advance(timedelta(seconds=61))  # its lease has run out
        assert asyncio.run(worker.run_once()) == 4
        assert partner.received == ["D0000", "D0001", "D0002", "D0003"]
    finally:
        again.close()
