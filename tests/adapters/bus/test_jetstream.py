"""The first JetStream intake path: stored in the stream before the sender is answered,
written to the log exactly once whatever is resent. Skipped, saying why, without NATS."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any
from unittest import mock

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from chargenet.adapters import codec
from chargenet.adapters.bus import jetstream
from chargenet.adapters.bus.jetstream import (
    KINDS,
    PARTITIONS,
    TELEMETRY,
    JetStreamIntake,
    JetStreamWriter,
    _Lane,
    decode_message,
    ensure_stream,
    event_bucket,
    hear_stored,
    relay_stored,
    subject_for,
    subscriptions_made,
)
from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.ocpp.gateway import OcppGateway
from chargenet.adapters.storage.schema import events as log
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from chargenet.core.events import EVENT_TYPES, ChargerRetired, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId, EventId
from chargenet.core.status import ConnectorStatus as S
from chargenet.kit.aio import wait_at_most
from tests.adapters.test_codec import SAMPLES
from tests.builders import T0, charger, meta, small_world
from tests.cluster_services import NATS_URL, jetstream_missing

S_TYPE = ConnectorStatusChanged.TYPE

nats = pytest.importorskip("nats", reason="nats-py is not installed (extra: cluster)")


@pytest.fixture(scope="module")
def jetstream_ready() -> None:
    why = jetstream_missing()
    if why:
        pytest.skip(why)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def statuses(n: int) -> list[Event]:
    return [
        ConnectorStatusChanged(
            **meta(T0 + timedelta(minutes=i), event_id=f"js-{uuid.uuid4().hex}"),
            connector_id=ConnectorId(f"C{1 + i % 2}-1-1"),
            status=(S.AVAILABLE, S.CHARGING)[i % 2],
        )
        for i in range(n)
    ]


def logged(platform: Platform) -> int:
    with platform.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(log)).scalar_one())


def in_the_log(platform: Platform, sent: Sequence[Event]) -> list[Event]:
    """The sent events in the order the log stored them (whichever writer stored each)."""
    by_id = {e.event_id: e for e in sent}
    with platform.store.engine.connect() as conn:
        ids = conn.execute(select(log.c.event_id).order_by(log.c.seq)).scalars()
        return [by_id[i] for i in ids if i in by_id]


def test_a_charger_keeps_one_subject_so_its_events_keep_their_order() -> None:
    a, b = statuses(2)
    assert subject_for(a) == subject_for(statuses(1)[0])  # both about C1-1-1
    assert subject_for(a).startswith("chargenet.events.") and subject_for(b) != ""


def test_each_event_is_stored_once_whatever_is_resent(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    platform.ingestor.ingest([*small_world(), charger("C2")])
    before = logged(platform)
    name = f"TEST_{uuid.uuid4().hex[:8].upper()}"
    prefix = f"test.{name.lower()}"
    sent = statuses(40)

    async def scenario() -> tuple[list[bool], list[bool], list[bool], list[Any]]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        await ensure_stream(js, name, prefix)
        try:
            intake = JetStreamIntake(js, prefix)
            first = await intake.publish(sent[:1])  # alone: a message of its own
            first += await intake.publish(sent[1:])  # together: a message for each charger
            alone = await intake.publish(sent[:1])  # a charger resends within the window
            again = await intake.publish(sent[:10])  # … several, in a message of other events
            writer = JetStreamWriter(js, platform.ingestor.ingest, "w1", prefix, batch=15)
            outcomes: list[Any] = []
            while batch := await writer.run_once(timeout_s=1.0):
                outcomes += batch
            return first, alone, again, outcomes
        finally:
            await js.delete_stream(name)
            await nc.close()

    first, alone, again, outcomes = loop.run_until_complete(scenario())
    assert first == [False] * 40 and alone == [True] and len(again) == 10
    # The stream dropped the one resent alone; the log drops what came again in a batch.
    assert sorted(o.event_id for o in outcomes if o.disposition is Disposition.ACCEPTED) == sorted(
        e.event_id for e in sent
    )
    assert logged(platform) == before + 40
    # What a second writer would see after a crash before its acks: the same events, and
    # the log answers them as duplicates.
    assert {o.disposition for o in platform.ingestor.ingest(sent[:5])} == {Disposition.DUPLICATE}
    assert logged(platform) == before + 40


def test_a_storm_of_senders_shares_few_messages_and_keeps_each_chargers_order(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    """Thousands of chargers submitting at once: what waits behind a message on its way to
    JetStream goes in the next one, so there are far fewer messages than events; each
    sender is answered once its own events are stored, and the writer stores every event
    once, each connector's in the order sent."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    sent = fleet_statuses(20)
    stored = Recording(platform)

    async def scenario() -> tuple[int, list[list[bool]]]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        name = f"TEST_{uuid.uuid4().hex[:8].upper()}"
        prefix = f"test.{name.lower()}"
        await ensure_stream(js, name, prefix)
        try:
            intake = JetStreamIntake(js, prefix, batch=8)
            # Each event its own sender, all at once (one frame each, as in a storm).
            answers = await asyncio.gather(*(intake.publish([e]) for e in sent))
            await drain(JetStreamWriter(js, stored, "w", prefix, 64, stream=name), len(sent))
            return intake.messages, answers
        finally:
            await js.delete_stream(name)
            await nc.close()

    messages, answers = loop.run_until_complete(scenario())
    assert answers == [[False]] * len(sent)
    assert len(FLEET) <= messages < len(sent) / 4  # one alone per charger's lane, then batches
    assert logged(platform) == before + len(sent)
    assert by_connector(stored.events) == by_connector(sent)


def test_no_sender_is_answered_when_the_stream_does_not_take_its_events(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop
) -> None:
    sent = statuses(30)

    async def scenario() -> list[Any]:
        nc = await nats.connect(NATS_URL)
        try:
            intake = JetStreamIntake(nc.jetstream(), f"test.nostream{uuid.uuid4().hex[:8]}")
            return await asyncio.gather(
                *(intake.publish([e]) for e in sent), return_exceptions=True
            )
        finally:
            await nc.close()

    answers = loop.run_until_complete(scenario())
    assert all(isinstance(a, Exception) for a in answers)


def test_what_a_writer_stored_reaches_the_bus_of_another_process(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop
) -> None:
    retired = ChargerRetired(
        **meta(T0, event_id=f"js-{uuid.uuid4().hex}"), charger_id=ChargerId("C3")
    )
    # More than one message's worth (256 KB of events a message), and a registry change
    # between statuses: relayed on two subjects, heard in the order stored.
    sent = [*statuses(600), retired, *statuses(700)]
    assert sum(len(codec.encode(e)) for e in sent) > 256 * 1024

    async def scenario() -> list[Event]:
        subject = f"test.{uuid.uuid4().hex[:8]}.stored"
        writer_side, api_side = await nats.connect(NATS_URL), await nats.connect(NATS_URL)
        bus = MemoryBus()
        heard = bus.subscribe()
        try:
            await hear_stored(api_side, subject, bus.publish)
            await subscriptions_made(api_side)
            tell = relay_stored(writer_side, subject)
            await asyncio.to_thread(tell, sent)  # as a writer's bus calls it, on its thread
            async with asyncio.timeout(10):
                return [await heard.get() for _ in sent]
        finally:
            await writer_side.close()
            await api_side.close()

    assert loop.run_until_complete(scenario()) == sent


def _until_two() -> tuple[list[list[Event]], asyncio.Event, Callable[[Sequence[Event]], None]]:
    """What a bus listener is handed, each call's events; set once it has been called twice."""
    heard: list[list[Event]] = []
    both = asyncio.Event()

    def publish(events: Sequence[Event]) -> None:
        heard.append(list(events))
        if len(heard) == 2:
            both.set()

    return heard, both, publish


def test_an_intake_hears_only_the_registry_changes_its_gateway_reads(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop
) -> None:
    retired, updated = (
        ChargerRetired(**meta(T0, event_id=f"js-{uuid.uuid4().hex}"), charger_id=ChargerId(c))
        for c in ("C1", "C2")
    )
    sent = [*statuses(3), retired, *statuses(2)]

    async def scenario() -> list[list[Event]]:
        subject = f"test.{uuid.uuid4().hex[:8]}.stored"
        writer_side, intake_side = await nats.connect(NATS_URL), await nats.connect(NATS_URL)
        heard, both, publish = _until_two()

        try:
            await hear_stored(intake_side, subject, publish, OcppGateway.HEARS)
            await subscriptions_made(intake_side)
            tell = relay_stored(writer_side, subject)
            await asyncio.to_thread(tell, sent)
            await asyncio.to_thread(tell, statuses(4))
            await asyncio.to_thread(tell, [updated])
            await wait_at_most(both.wait(), 10)
            await asyncio.sleep(0.2)  # nothing more comes
            return heard
        finally:
            await writer_side.close()
            await intake_side.close()

    # The statuses are relayed only on the subject of everything, which the intake does not
    # hear.
    assert loop.run_until_complete(scenario()) == [[retired], [updated]]


def test_the_telemetry_relayed_apart_is_of_types_that_exist() -> None:
    assert set(EVENT_TYPES) >= TELEMETRY
    assert TELEMETRY.isdisjoint(OcppGateway.HEARS)


@pytest.mark.parametrize("kinds", [OcppGateway.HEARS, None], ids=["intake", "api"])
def test_a_node_hears_a_writer_of_before_the_kinds_header(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop, kinds: frozenset[str] | None
) -> None:
    """During an upgrade a writer that relays everything on one subject, saying nothing of
    what its messages carry, is still heard: an intake's gateway hears of a retired
    charger (not of the statuses), an api node's bus of everything."""
    retired = ChargerRetired(
        **meta(T0, event_id=f"js-{uuid.uuid4().hex}"), charger_id=ChargerId("C1")
    )
    sent = [*statuses(2), retired]

    async def scenario() -> list[Event]:
        subject = f"test.{uuid.uuid4().hex[:8]}.stored"
        writer_side, node_side = await nats.connect(NATS_URL), await nats.connect(NATS_URL)
        heard: asyncio.Queue[list[Event]] = asyncio.Queue()
        try:
            await hear_stored(node_side, subject, lambda e: heard.put_nowait(list(e)), kinds)
            await subscriptions_made(node_side)
            # An older writer's message: the events as (type, version, event), no headers.
            payload = msgspec.json.encode(
                [(e.TYPE, e.VERSION, msgspec.Raw(codec.encode(e))) for e in sent]
            )
            await writer_side.publish(subject, payload)
            return await wait_at_most(heard.get(), 10)
        finally:
            await writer_side.close()
            await node_side.close()

    assert loop.run_until_complete(scenario()) == ([retired] if kinds else sent)


def test_an_intake_skips_unread_what_names_none_of_its_kinds_and_reads_a_writer_of_before(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop
) -> None:
    retired = ChargerRetired(
        **meta(T0, event_id=f"js-{uuid.uuid4().hex}"), charger_id=ChargerId("C1")
    )
    before = msgspec.json.encode(
        [(e.TYPE, e.VERSION, msgspec.Raw(codec.encode(e))) for e in [*statuses(1), retired]]
    )

    async def scenario() -> list[list[Event]]:
        subject = f"test.{uuid.uuid4().hex[:8]}.stored"
        writer_side, intake_side = await nats.connect(NATS_URL), await nats.connect(NATS_URL)
        heard, both, publish = _until_two()

        try:
            await hear_stored(intake_side, subject, publish, OcppGateway.HEARS)
            await subscriptions_made(intake_side)
            # Named as statuses only: not read (this body could not be).
            await writer_side.publish(subject, b"not json", headers={KINDS: S_TYPE})
            # No header (a writer of before): read through.
            await writer_side.publish(subject, before)
            await wait_at_most(both.wait(), 10)
            return heard
        finally:
            await writer_side.close()
            await intake_side.close()

    assert loop.run_until_complete(scenario()) == [[], [retired]]


# --- several writers on NATS 2.9: a durable consumer per bucket -----------------------------

FLEET = [f"W{k}" for k in range(24)]  # chargers whose buckets fall on both halves


def fleet_statuses(per_charger: int) -> list[Event]:
    """`per_charger` status changes of each fleet charger's connector, interleaved."""
    return [
        ConnectorStatusChanged(
            **meta(T0 + timedelta(minutes=n), event_id=f"js-{uuid.uuid4().hex}"),
            connector_id=ConnectorId(f"{c}-1-1"),
            status=(S.AVAILABLE, S.CHARGING)[n % 2],
        )
        for n in range(per_charger)
        for c in FLEET
    ]


def by_connector(events: list[Event]) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for e in events:
        seen.setdefault(e.connector_id, []).append(e.event_id)  # type: ignore[attr-defined]
    return seen


class Recording:
    """A writer's way into the platform's store that remembers what reached it (the two
    writers of a test share one SQLite platform: one store call at a time)."""

    lock = threading.Lock()

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.events: list[Event] = []

    def __call__(self, events: list[Event]) -> list[Any]:
        with self.lock:
            self.events += events
            return self.platform.ingestor.ingest(events)


@contextlib.asynccontextmanager
async def stream_of(sent: list[Event]) -> AsyncIterator[tuple[Any, Any, str, str]]:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    name = f"TEST_{uuid.uuid4().hex[:8].upper()}"
    prefix = f"test.{name.lower()}"
    await ensure_stream(js, name, prefix)
    try:
        await JetStreamIntake(js, prefix).publish(sent)
        yield nc, js, name, prefix
    finally:
        await js.delete_stream(name)
        await nc.close()


async def drain(writer: JetStreamWriter, total: int) -> None:
    """Rounds of the writer until it has stored `total` events (a round can come back empty
    while events wait: an answer later than its timeout on a loaded machine), at most 30 s
    (after what a stopped writer left, its acknowledgement time and margin)."""

    async def rounds() -> None:
        while writer.events < total:
            await writer.run_once(timeout_s=0.5)

    await wait_at_most(rounds(), 30)
    await writer.close()


async def drain_between(writers: Sequence[JetStreamWriter], total: int) -> None:
    """Rounds of each writer until they have stored `total` events between them."""

    async def rounds(writer: JetStreamWriter) -> None:
        while sum(w.events for w in writers) < total:
            await writer.run_once(timeout_s=0.5)
        await writer.close()

    await asyncio.gather(*(rounds(w) for w in writers))


def test_two_writers_on_disjoint_buckets_store_everything_once_in_order(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    sent = fleet_statuses(15)
    low, high = Recording(platform), Recording(platform)

    async def scenario() -> None:
        async with stream_of(sent) as (_, js, name, prefix):
            writers = [
                JetStreamWriter(js, low, "w", prefix, 40, stream=name, buckets=range(32)),
                JetStreamWriter(js, high, "w", prefix, 40, stream=name, buckets=range(32, 64)),
            ]
            await wait_at_most(drain_between(writers, len(sent)), 60)  # side by side

    loop.run_until_complete(scenario())
    assert logged(platform) == before + len(sent)  # every event once
    assert sorted(e.event_id for e in low.events + high.events) == sorted(e.event_id for e in sent)
    # Each writer had only its own buckets, both had some, and each connector's events
    # reached the store in the order its charger sent them.
    buckets = {w: {event_bucket(e) for e in w.events} for w in (low, high)}
    assert buckets[low] and max(buckets[low]) < 32 <= min(buckets[high])
    stored = by_connector(low.events) | by_connector(high.events)
    assert stored == by_connector(sent)


def test_a_writer_restarted_on_its_buckets_takes_up_what_the_dead_one_left(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    """The dead writer's messages come again once its acknowledgement time is over, before
    the newer ones of their partitions: a pull made the moment that time was over got the
    newer ones first (1 in 15 on a loaded machine: the server's expiry timer runs late)."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    sent = fleet_statuses(8)
    later = Recording(platform)

    async def scenario() -> None:
        async with stream_of([]) as (_, js, name, prefix):
            intake = JetStreamIntake(js, prefix)
            for n in range(0, len(sent), len(FLEET)):  # each partition a message each time
                await intake.publish(sent[n : n + len(FLEET)])
            # A writer that took each partition's first message, then died before storing or
            # acknowledging them.
            dead_nc = await nats.connect(NATS_URL)
            dead = JetStreamWriter(
                dead_nc.jetstream(), later, "w", prefix, 64, stream=name, ack_wait_s=1.0
            )
            feeds = await dead._subscribe()
            taken = len(await feeds.take(30, share=1))  # every partition's answer
            await dead_nc.close()
            assert taken == PARTITIONS and not later.events
            # Its successor on the same buckets: waits out the acknowledgement time, then
            # has everything, the dead one's round first.
            successor = JetStreamWriter(js, later, "w", prefix, 64, stream=name, ack_wait_s=1.0)
            await drain(successor, len(sent))

    loop.run_until_complete(scenario())
    assert logged(platform) == before + len(sent)
    assert by_connector(later.events) == by_connector(sent)


def test_an_earlier_writers_consumer_of_every_bucket_is_retired_without_loss(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    from nats.js.api import AckPolicy, ConsumerConfig

    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    sent = fleet_statuses(4)
    writer_in = Recording(platform)

    async def scenario() -> list[str]:
        async with stream_of(sent) as (_, js, name, prefix):
            await js.add_consumer(
                name,
                ConsumerConfig(
                    durable_name="writer-0-63",
                    ack_policy=AckPolicy.EXPLICIT,
                    filter_subject=f"{prefix}.>",
                ),
            )
            await drain(JetStreamWriter(js, writer_in, "w", prefix, 64, stream=name), len(sent))
            return [c.name for c in await js.consumers_info(name)]

    consumers = loop.run_until_complete(scenario())
    assert "writer-0-63" not in consumers and len(consumers) == PARTITIONS
    assert logged(platform) == before + len(sent)
    assert by_connector(writer_in.events) == by_connector(sent)


def test_a_writer_killed_between_rounds_leaves_its_successor_everything_at_once(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    """A writer that stored and acknowledged what it took, then died: nothing of its is
    waiting for an acknowledgement time, so what is published after its successor started
    all reaches the successor at once, in order."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    first, then = fleet_statuses(2), fleet_statuses(4)
    stored = Recording(platform)

    async def scenario() -> None:
        async with stream_of(first) as (_, js, name, prefix):
            dead_nc = await nats.connect(NATS_URL)
            dead = JetStreamWriter(dead_nc.jetstream(), stored, "w", prefix, 64, stream=name)
            while await dead.run_once(timeout_s=0.5):  # stores and acknowledges the first
                pass
            await dead_nc.close()
            successor = JetStreamWriter(js, stored, "w", prefix, 64, stream=name, ack_wait_s=60)
            await successor.subscribe()
            await JetStreamIntake(js, prefix).publish(then)
            async with asyncio.timeout(20):  # far less than the acknowledgement time
                while len(stored.events) < len(first) + len(then):
                    await successor.run_once(timeout_s=0.5)
            await successor.close()

    loop.run_until_complete(scenario())
    assert logged(platform) == before + len(first) + len(then)
    assert by_connector(stored.events) == by_connector(first + then)


def test_a_busy_writer_asks_its_quiet_buckets_only_at_a_sweep(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    """Asking every partition each round cost a request and an answer each however few
    had anything: while events come for one charger, a round asks that charger's
    partition, and the others only at a sweep (every `sweep_s`, and after a round that
    found nothing); an event for a quiet one is stored at the next sweep."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    busy = [e for e in fleet_statuses(30) if e.connector_id == f"{FLEET[0]}-1-1"]  # type: ignore[attr-defined]
    quiet = next(e for e in fleet_statuses(1) if subject_for(e) != subject_for(busy[0]))
    stored = Recording(platform)

    async def scenario() -> tuple[int, int]:
        async with stream_of(busy[:1]) as (_, js, name, prefix):
            writer = JetStreamWriter(js, stored, "w", prefix, 64, stream=name, sweep_s=0.5)
            await writer.run_once(timeout_s=2.0)  # the first round asks every bucket
            intake = JetStreamIntake(js, prefix)
            started = time.perf_counter()
            found_nothing = 0
            for event in busy[1:]:
                await intake.publish([event])
                # A pull sent just after the publish was acknowledged may be answered with
                # nothing yet (seen on a loaded machine), or later than the round's timeout:
                # that round finds nothing, and the writer sweeps at its next one.
                if not await writer.run_once(timeout_s=2.0):
                    found_nothing += 1
            rounds = len(busy) - 1
            asked = writer.requests - PARTITIONS
            sweeps = int((time.perf_counter() - started) / 0.5) + 1 + found_nothing
            await intake.publish([quiet])
            async with asyncio.timeout(30):
                while quiet not in stored.events:
                    await writer.run_once(timeout_s=2.0)
            await writer.close()
            return asked, rounds + PARTITIONS * sweeps

    asked, at_most = loop.run_until_complete(scenario())
    assert asked <= at_most  # the busy bucket each round, every bucket only at a sweep
    assert by_connector(stored.events)[busy[0].connector_id] == [e.event_id for e in busy]  # type: ignore[attr-defined]


def test_a_round_the_store_refused_is_stored_again_before_anything_newer(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    sent = fleet_statuses(6)
    stored = Recording(platform)
    refused: list[int] = []

    def ingest(events: list[Event]) -> list[Any]:
        if not refused:
            refused.append(len(events))
            raise ConnectionError("the database went away")
        return stored(events)

    async def scenario() -> None:
        async with stream_of(sent[:48]) as (_, js, name, prefix):
            writer = JetStreamWriter(js, ingest, "w", prefix, 500, stream=name)
            with pytest.raises(ConnectionError):
                await writer.run_once(timeout_s=1.0)
            await JetStreamIntake(js, prefix).publish(sent[48:])  # newer, while it failed
            await asyncio.sleep(0.2)  # … and already with the writer
            await drain(writer, len(sent))

    loop.run_until_complete(scenario())
    assert refused and logged(platform) == before + len(sent)
    assert by_connector(stored.events) == by_connector(sent)


def test_an_idle_writer_is_woken_by_the_next_event_rather_than_its_pause(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    """A writer that found nothing for a while pauses longer between rounds (up to its
    timeout), yet an event published meanwhile ends the pause at once."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    event = fleet_statuses(1)[0]
    stored = Recording(platform)

    async def scenario() -> float:
        async with stream_of([]) as (_, js, name, prefix):
            writer = JetStreamWriter(js, stored, "w", prefix, 64, stream=name)
            for _ in range(7):  # pauses of 0.05, then 0.1, 0.2, … s: the next is 3 s
                assert await writer.run_once(timeout_s=3.0) == []
            pausing = asyncio.ensure_future(writer.run_once(timeout_s=3.0))
            started = time.perf_counter()
            await JetStreamIntake(js, prefix).publish([event])
            assert await wait_at_most(pausing, 2.0) == []  # woken, well before its 3 s
            woken = time.perf_counter() - started
            outcomes = await writer.run_once(timeout_s=3.0)
            await writer.close()
            assert [o.event_id for o in outcomes] == [event.event_id]
            return woken

    assert loop.run_until_complete(scenario()) < 2.0
    assert stored.events == [event]


# --- partitions: fewer subjects, each message many events; upgrading drains the old -----


def test_fewer_partitions_make_each_stream_message_carry_more_events(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop
) -> None:
    """The same burst from the fleet's 24 chargers, published on 64 subjects and on 4:
    on 4, each message carries several times the events (NATS and the writer pay per
    message), and a charger's events still share one subject."""
    sent = fleet_statuses(5)

    async def messages(partitions: int) -> int:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        name = f"TEST_{uuid.uuid4().hex[:8].upper()}"
        prefix = f"test.{name.lower()}"
        await ensure_stream(js, name, prefix)
        try:
            intake = JetStreamIntake(js, prefix, partitions=partitions)
            await intake.publish(sent)
            return intake.messages
        finally:
            await js.delete_stream(name)
            await nc.close()

    wide, narrow = loop.run_until_complete(messages(64)), loop.run_until_complete(messages(4))
    assert narrow <= wide / 3
    for e in sent:
        assert subject_for(e, "p", 4) == subject_for(sent[0], "p", 4) or (
            event_bucket(e) * 4 // 64 != event_bucket(sent[0]) * 4 // 64
        )


def test_an_upgraded_writer_drains_the_earlier_layouts_events_first_in_order(
    jetstream_ready: None,
    platform: Platform,
    loop: asyncio.AbstractEventLoop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Events still in the stream on the subjects of 64 buckets (published before the
    upgrade, the old writer stopped with some taken and not acknowledged), then newer ones
    on the default partitions: the new writer stores the old ones first, so each connector's events
    reach the store in the order they were sent, every one once; it then drops the old
    layout's consumers."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    old, new = fleet_statuses(4), fleet_statuses(6)
    stored = Recording(platform)

    async def scenario() -> list[str]:
        async with stream_of([]) as (_, js, name, prefix):
            await JetStreamIntake(js, prefix, partitions=64).publish(old)
            # The old writer: took a round, died before storing it.
            dead_nc = await nats.connect(NATS_URL)
            dead = JetStreamWriter(
                dead_nc.jetstream(),
                stored,
                "w",
                prefix,
                64,
                stream=name,
                partitions=64,
                ack_wait_s=1.0,
            )
            feeds = await dead._subscribe()
            # Every bucket's answer (a loaded machine may take longer than a round's usual
            # half second to give the 64 of them).
            assert await feeds.take(30)
            await dead_nc.close()
            await JetStreamIntake(js, prefix).publish(new)
            writer = JetStreamWriter(js, stored, "w", prefix, 64, stream=name, ack_wait_s=1.0)
            async with asyncio.timeout(30):
                while len(stored.events) < len(old) + len(new):
                    await writer.run_once(timeout_s=0.5)
                await writer.run_once(timeout_s=0.5)  # finds the old layout drained
            await writer.close()
            return [c.name for c in await js.consumers_info(name)]

    consumers = loop.run_until_complete(scenario())
    assert logged(platform) == before + len(old) + len(new)
    assert by_connector(stored.events) == by_connector(old + new)
    assert sorted(consumers) == sorted(f"w-p{PARTITIONS}-{k}" for k in range(PARTITIONS))
    # Each older subject's messages counted against its own consumer's answer (a subject
    # of 64 buckets ends in its bucket, not in the number of its consumer here).
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_two_writers_drain_an_older_layout_spanning_both_before_their_partitions(
    jetstream_ready: None, platform: Platform, loop: asyncio.AbstractEventLoop
) -> None:
    """From 2 partitions to 8, writers on buckets 0-15 and 16-63: the older partition of
    buckets 0-31 is drained by the first writer, and the second takes none of its new
    partitions (16-31 among them) before that one is empty."""
    platform.ingestor.ingest([*small_world(), *(charger(c) for c in FLEET)])
    before = logged(platform)
    old, new = fleet_statuses(5), fleet_statuses(5)
    low, high = Recording(platform), Recording(platform)

    async def scenario() -> None:
        async with stream_of([]) as (_, js, name, prefix):
            await JetStreamIntake(js, prefix, partitions=2).publish(old)
            await JetStreamIntake(js, prefix, partitions=8).publish(new)
            writers = [
                JetStreamWriter(
                    js, low, "w", prefix, 40, stream=name, buckets=range(16), partitions=8
                ),
                JetStreamWriter(
                    js, high, "w", prefix, 40, stream=name, buckets=range(16, 64), partitions=8
                ),
            ]
            # Not `drain`: the second writer's rounds are empty while the first still
            # drains the older partition, and an empty round would end its drain early.
            await wait_at_most(drain_between(writers, len(old) + len(new)), 60)

    loop.run_until_complete(scenario())
    assert logged(platform) == before + len(old) + len(new)
    assert by_connector(low.events + high.events) == by_connector(old + new)  # each once
    assert any(16 <= event_bucket(e) < 32 for e in high.events)  # the span's later half
    # In the log, each connector's events in the order sent: of the span's later half, the
    # first writer's older ones before the second's newer ones.
    assert by_connector(in_the_log(platform, old + new)) == by_connector(old + new)


def test_a_rounds_acknowledgements_go_in_one_buffer_or_each_by_its_public_ack() -> None:
    """nats-py's client as known: one buffer of PUBs to the replies, in order, and the
    flusher woken. A client lacking one of the internals used (another nats-py): every
    message acknowledged by its own `ack`, none lost to an AttributeError after the round
    was stored."""
    from chargenet.adapters.bus.jetstream import _ack_all

    class Message:
        def __init__(self, reply: str) -> None:
            self.reply = reply
            self.acked = 0

        async def ack(self) -> None:
            self.acked += 1

    class Known:
        def __init__(self) -> None:
            self.sent: list[bytes] = []
            self.flushed = 0
            self._flush_queue: asyncio.Queue[Any] = asyncio.Queue()

        async def _send_command(self, cmd: bytes) -> None:
            self.sent.append(cmd)

        async def _flush_pending(self) -> None:
            self.flushed += 1

    class Other:  # queues commands, but flushes in a way of its own
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        async def _send_command(self, cmd: bytes) -> None:
            self.sent.append(cmd)

    async def scenario() -> None:
        known, messages = Known(), [Message("r.1"), Message("r.2")]
        await _ack_all(known, messages)
        assert known.sent == [b"PUB r.1 0\r\n\r\nPUB r.2 0\r\n\r\n"] and known.flushed == 1
        assert [m.acked for m in messages] == [0, 0]

        other, messages = Other(), [Message("r.1"), Message("r.2")]
        await _ack_all(other, messages)
        assert other.sent == [] and [m.acked for m in messages] == [1, 1]

    asyncio.run(scenario())


class _NoConnection:
    """A JetStream context without a server: `_take` neither publishes nor waits."""

    _nc = None


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, len(SAMPLES) - 1), st.booleans()), min_size=1, max_size=40
    ),
    batch=st.integers(1, 70),
    limit=st.integers(1, 20_000),
)
def test_a_lanes_message_is_cut_and_encoded_as_each_event_taken_alone_would_be(
    picks: list[tuple[int, bool]], batch: int, limit: int
) -> None:
    """`_take` encodes a batch in one call and `_take_each` event by event (the cut by
    bytes found by their sizes): the same events, the same futures, the same bytes, each
    message of the lane, whatever the limit on bytes or events and whichever senders
    have gone (their futures done)."""
    loop = asyncio.new_event_loop()
    try:
        intakes = [JetStreamIntake(_NoConnection(), batch=batch) for _ in range(2)]
        lanes = [_Lane(), _Lane()]
        for index, gone in picks:
            future: asyncio.Future[bool] = loop.create_future()
            if gone:
                future.set_result(False)
            for lane in lanes:
                lane.waiting.append((SAMPLES[index], future))
        with mock.patch.object(jetstream, "_BATCH_BYTES", limit):
            while any(not f.done() for lane in lanes for _, f in lane.waiting):
                whole = intakes[0]._take(lanes[0])
                each = intakes[1]._take_each(lanes[1])
                assert [e for e, _ in whole[0]] == [e for e, _ in each[0]]
                assert [f for _, f in whole[0]] == [f for _, f in each[0]]
                assert whole[1] == each[1]
                # (a gone sender's event may be dropped sooner by one: never published)
                assert [w for w in lanes[0].waiting if not w[1].done()] == [
                    w for w in lanes[1].waiting if not w[1].done()
                ]
    finally:
        loop.close()


def test_an_event_that_cannot_be_encoded_fails_its_sender_alone() -> None:
    """A lane holding an event msgspec cannot encode (a lone surrogate in its text): that
    event's sender is told, and the events before and after it in the lane still go out in
    one message. Raised out of the lane, the events taken before it waited for ever."""
    loop = asyncio.new_event_loop()
    try:
        status = next(e for e in SAMPLES if isinstance(e, ConnectorStatusChanged))
        good = [dataclasses.replace(status, event_id=EventId(f"ok-{n}")) for n in range(4)]
        bad = dataclasses.replace(status, event_id=EventId("bad"), info="\ud800")
        lane = _Lane()
        futures: dict[str, asyncio.Future[bool]] = {}
        for event in [*good[:2], bad, *good[2:]]:
            futures[event.event_id] = loop.create_future()
            lane.waiting.append((event, futures[event.event_id]))
        taken, payload = JetStreamIntake(_NoConnection(), batch=10)._take(lane)
        assert [e for e, _ in taken] == good
        assert decode_message({jetstream.BATCH: str(len(good))}, payload) == good
        assert isinstance(futures["bad"].exception(), UnicodeEncodeError)
        assert not lane.waiting
    finally:
        loop.close()


class _RefusingJetStream:
    """A JetStream context whose first `refusals` stream creations fail with `err_code`."""

    def __init__(self, refusals: int, err_code: int) -> None:
        self.refusals = refusals
        self.err_code = err_code
        self.asked: list[Any] = []

    async def add_stream(self, config: Any) -> None:
        self.asked.append(config)
        if len(self.asked) <= self.refusals:
            raise nats.js.errors.ServerError(
                code=500, description="error creating store for stream", err_code=self.err_code
            )


def test_a_stream_refused_while_the_servers_last_one_was_deleted_is_made_again(
    loop: asyncio.AbstractEventLoop,
) -> None:
    """NATS 2.9 removes its directory of streams with the last stream: one created at that
    moment from another connection is refused ("error creating store for stream"), which
    failed a test run side by side with another; asked again, it is made. Any other
    refusal is the caller's at once."""
    racing = _RefusingJetStream(refusals=2, err_code=10049)
    loop.run_until_complete(ensure_stream(racing, "S", "s"))
    assert len(racing.asked) == 3 and racing.asked[-1].name == "S"

    broken = _RefusingJetStream(refusals=1, err_code=10058)
    with pytest.raises(nats.js.errors.ServerError):
        loop.run_until_complete(ensure_stream(broken, "S", "s"))
    assert len(broken.asked) == 1
