"""A cluster under faults: `chargenet serve --role intake|writer|api` as real processes on
one PostgreSQL database and one NATS JetStream, `ocpp`-library chargers sending under
load. What a charger was answered is in the log exactly once, whichever process is killed
with -9 meanwhile; an order reaches a charger on whichever node it is connected to.
Skipped, saying which, without PostgreSQL or NATS JetStream. Each test is bounded in time;
every process is killed and the run's stream and buckets dropped, pass or fail."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
from nats.js.errors import KeyNotFoundError

from benchmarks.cluster.harness import (
    Cluster,
    Node,
    Sent,
    cluster,
    register_fleet,
    run_charger,
    stored_meters,
)
from chargenet.adapters.bus.jetstream import ClusterNames, bucket_of
from chargenet.adapters.bus.sockets import socket_key
from tests.cluster_services import NATS_URL, jetstream_missing

pytestmark = pytest.mark.postgres

CHARGERS = 6
MESSAGES = 60
BOUND_S = 120  # the whole scenario, beyond which the test fails rather than hangs


@pytest.fixture
def running(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Cluster, list[str]]]:
    why = jetstream_missing()  # (postgres_url skips, saying so, without PostgreSQL)
    if why:
        pytest.skip(why)
    ids = register_fleet(postgres_url, CHARGERS, "K")
    with cluster(postgres_url, NATS_URL, tmp_path) as made:
        yield made, ids


async def socket_holder(made: Cluster, charger_id: str) -> str | None:
    """The node the cluster's socket map says holds the charger's WebSocket."""
    client = await nats.connect(made.nats_url)
    try:
        bucket = await client.jetstream().key_value(ClusterNames(made.name).sockets)
        try:
            entry = await bucket.get(socket_key(charger_id))
        except KeyNotFoundError:
            return None
        return entry.value.decode() if entry.value else None
    finally:
        await client.close()


def urls(*nodes: Node) -> list[str]:
    return [f"ws://127.0.0.1:{n.port}/ocpp" for n in nodes]


def every_ack_stored_once(made: Cluster, sent: list[Sent], within_s: float = 60) -> None:
    """Wait for the writer to catch up; then each acknowledged meter value is in the log
    once, nothing else of this fleet is, and each charger's are in the order it sent them."""
    acked = [a for s in sent for a in s.acked]
    deadline = time.monotonic() + within_s
    while True:
        logged = stored_meters(made.database_url, "K")
        if len(logged) >= len(acked) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    stored = Counter(logged)
    assert len(acked) == CHARGERS * MESSAGES
    missing = [a for a in acked if stored[a] == 0]
    twice = {k: v for k, v in stored.items() if v > 1}
    assert not missing, f"{len(missing)} acknowledged but not stored, e.g. {missing[:3]}"
    assert not twice, f"stored more than once: {list(twice.items())[:3]}"
    assert set(stored) == set(acked)
    for s in sent:  # one connector's events applied in the order they were sent
        connector = s.acked[0][0]
        assert [a for a in logged if a[0] == connector] == s.acked


@dataclass
class Loaded:
    """What the chargers sent, and how many acknowledgements there were when the fault
    began and when it was over (it fell in the middle of the load if `over` is short of
    the total)."""

    sent: list[Sent]
    began: int
    over: int


async def load(
    ids: list[str],
    targets: list[str],
    fault: Callable[[], object],
    after: int,
    pause_s: float = 0.01,
) -> Loaded:
    """Every charger sends MESSAGES meter values (half start on each target); once `after`
    are acknowledged in all, `fault()` runs (in a thread: it kills and starts processes)."""
    sent = [Sent() for _ in ids]
    chargers = [
        asyncio.create_task(run_charger(i, targets, MESSAGES, s, first=k, pause_s=pause_s))
        for k, (i, s) in enumerate(zip(ids, sent, strict=True))
    ]
    async with asyncio.timeout(BOUND_S):
        while sum(len(s.acked) for s in sent) < after:
            await asyncio.sleep(0.02)
        began = sum(len(s.acked) for s in sent)
        await asyncio.to_thread(fault)
        over = sum(len(s.acked) for s in sent)
        await asyncio.gather(*chargers)
    return Loaded(sent, began, over)


def test_chargers_on_a_killed_intake_node_move_to_the_other_and_nothing_acked_is_lost(
    running: tuple[Cluster, list[str]],
) -> None:
    made, ids = running
    a, b = made.intake("a"), made.intake("b")
    made.writer()
    sent = asyncio.run(load(ids, urls(a, b), a.kill9, after=CHARGERS * MESSAGES // 3)).sent
    moved = [s for s in sent if s.nodes[0] == urls(a)[0]]
    assert moved and all(s.nodes[-1] == urls(b)[0] for s in moved)
    every_ack_stored_once(made, sent)


def test_a_writer_killed_and_restarted_loses_nothing_and_stores_nothing_twice(
    running: tuple[Cluster, list[str]],
) -> None:
    made, ids = running
    a, b = made.intake("a"), made.intake("b")
    writer = made.writer()

    def crash() -> None:
        writer.kill9()
        time.sleep(1.0)  # chargers keep being answered: the stream holds their events
        made.restart(writer, "writer: buckets")

    sent = asyncio.run(load(ids, urls(a, b), crash, after=CHARGERS * MESSAGES // 3)).sent
    every_ack_stored_once(made, sent)


def test_two_writers_split_the_buckets_and_one_killed_and_restarted_loses_nothing(
    running: tuple[Cluster, list[str]],
) -> None:
    made, ids = running
    assert {bucket_of(i) < 32 for i in ids} == {True, False}  # both writers have chargers
    a, b = made.intake("a"), made.intake("b")
    low = made.writer("low", buckets="0-31")
    made.writer("high", buckets="32-63")

    def crash() -> None:
        low.kill9()  # the other writer keeps storing its half meanwhile
        time.sleep(1.0)
        made.restart(low, "writer: buckets")

    sent = asyncio.run(load(ids, urls(a, b), crash, after=CHARGERS * MESSAGES // 3)).sent
    every_ack_stored_once(made, sent)


def test_an_order_from_the_api_node_reaches_a_charger_that_moved_nodes(
    running: tuple[Cluster, list[str]],
) -> None:
    made, ids = running
    a, b = made.intake("a"), made.intake("b")
    made.writer()
    api = made.api()
    target = ids[0]

    async def scenario() -> tuple[Sent, httpx.Response]:
        sent, hold = Sent(), asyncio.Event()
        charger = asyncio.create_task(run_charger(target, urls(a, b), 3, sent, hold=hold))
        async with asyncio.timeout(BOUND_S):
            while len(sent.acked) < 3:
                await asyncio.sleep(0.05)
            on_a = await socket_holder(made, target)
            await asyncio.to_thread(a.kill9)  # its charger reconnects to b
            while len(sent.nodes) < 2:
                await asyncio.sleep(0.05)
            # b records the socket beside the charger's first frames, not before them
            while await socket_holder(made, target) in (None, on_a):
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{api.port}",
                headers={"Authorization": f"Bearer {made.token}"},
                timeout=30,
            ) as http:
                answer = await http.post(
                    "/api/v1/supervision/stop-orders",
                    json={
                        "target_kind": "charger",
                        "target_id": target,
                        "reason": "cluster test",
                        "timeout_s": 10,
                    },
                )
            hold.set()
            await charger
        return sent, answer

    sent, answer = asyncio.run(scenario())
    assert sent.nodes == urls(a, b)
    assert answer.status_code == 201, answer.text
    assert sent.orders == [{"action": "ChangeAvailability", "type": "Inoperative"}]
    [delivery] = answer.json()["deliveries"]
    assert (delivery["charger_id"], delivery["outcome"]) == (target, "accepted")
    assert '"Accepted"' in delivery["detail"]  # the charger's own answer
