"""The first JetStream intake path: stored in the stream before the sender is answered,
written to the log exactly once whatever is resent. Skipped, saying why, without NATS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from chargenet.adapters.bus.jetstream import (
    JetStreamIntake,
    JetStreamWriter,
    ensure_stream,
    hear_stored,
    relay_stored,
    subject_for,
)
from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.storage.schema import events as log
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from chargenet.core.events import ConnectorStatusChanged, Event
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus as S
from tests.builders import T0, charger, meta, small_world
from tests.cluster_services import NATS_URL, jetstream_missing

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

    async def scenario() -> tuple[list[bool], list[bool], list[Any]]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        await ensure_stream(js, name, prefix)
        try:
            intake = JetStreamIntake(js, prefix)
            first = await intake.publish(sent)
            again = await intake.publish(sent[:10])  # a charger resends within the window
            writer = JetStreamWriter(js, platform.ingestor.ingest, "w1", prefix, batch=15)
            outcomes: list[Any] = []
            while batch := await writer.run_once(timeout_s=1.0):
                outcomes += batch
            return first, again, outcomes
        finally:
            await js.delete_stream(name)
            await nc.close()

    first, again, outcomes = loop.run_until_complete(scenario())
    assert first == [False] * 40 and again == [True] * 10
    assert [o.disposition for o in outcomes] == [Disposition.ACCEPTED] * 40
    assert logged(platform) == before + 40
    # What a second writer would see after a crash before its acks: the same events, and
    # the log answers them as duplicates.
    assert {o.disposition for o in platform.ingestor.ingest(sent[:5])} == {Disposition.DUPLICATE}
    assert logged(platform) == before + 40


def test_what_a_writer_stored_reaches_the_bus_of_another_process(
    jetstream_ready: None, loop: asyncio.AbstractEventLoop
) -> None:
    sent = statuses(450)  # more than one message's worth

    async def scenario() -> list[Event]:
        subject = f"test.{uuid.uuid4().hex[:8]}.stored"
        writer_side, api_side = await nats.connect(NATS_URL), await nats.connect(NATS_URL)
        bus = MemoryBus()
        heard = bus.subscribe()
        try:
            await hear_stored(api_side, subject, bus.publish)
            await api_side.flush()
            tell = relay_stored(writer_side, subject)
            await asyncio.to_thread(tell, sent)  # as a writer's bus calls it, on its thread
            async with asyncio.timeout(10):
                return [await heard.get() for _ in sent]
        finally:
            await writer_side.close()
            await api_side.close()

    assert loop.run_until_complete(scenario()) == sent
