"""The in-process bus never blocks the writer; a slow subscriber loses its oldest events."""

from __future__ import annotations

import asyncio

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.core.events import ChargerRetired, ConnectorStatusChanged, Event, StationRetired
from chargenet.core.ids import ChargerId, ConnectorId, EventId, StationId
from chargenet.core.registry.changes import CHARGER_RECORD_CHANGES
from chargenet.core.status import ConnectorStatus
from tests.builders import at, meta, station


def status(n: int) -> Event:
    return ConnectorStatusChanged(
        **meta(event_id=f"e{n}"),
        connector_id=ConnectorId("C1-1-1"),
        status=ConnectorStatus.AVAILABLE,
    )


def test_subscribers_receive_events_published_from_another_thread() -> None:
    bus = MemoryBus()

    async def scenario() -> list[str]:
        sub = bus.subscribe()
        await asyncio.to_thread(bus.publish, [status(1), status(2)])
        return [(await sub.get()).event_id for _ in range(2)]

    assert asyncio.run(scenario()) == ["e1", "e2"]


def test_a_subscriber_that_falls_behind_loses_the_oldest_and_is_told() -> None:
    bus = MemoryBus()

    async def scenario() -> tuple[list[EventId], int]:
        sub = bus.subscribe(maxsize=3)
        bus.publish([status(n) for n in range(10)])
        await asyncio.sleep(0)  # let the loop deliver
        got = []
        while (event := sub.get_nowait()) is not None:
            got.append(event.event_id)
        return got, sub.dropped

    got, dropped = asyncio.run(scenario())
    assert got == ["e7", "e8", "e9"]
    assert dropped == 7


def test_a_failing_listener_does_not_stop_the_others() -> None:
    bus = MemoryBus()
    seen: list[str] = []

    def broken(events: object) -> None:
        raise RuntimeError("boom")

    bus.listen(broken)
    bus.listen(lambda events: seen.extend(e.event_id for e in events))
    bus.publish([status(1)])
    assert seen == ["e1"]


def test_a_registry_change_read_from_the_log_reaches_listeners_once_whichever_way_first() -> None:
    """The log tail may read this process's own event back before or after its publish
    (commit, then publish): either way the listeners hear it once. Other kinds are not
    tracked, and another process's event (no publish here) is heard once."""
    bus = MemoryBus()
    heard: list[str] = []
    bus.listen(lambda events: heard.extend(e.event_id for e in events))
    bus.track(CHARGER_RECORD_CHANGES)
    before = ChargerRetired(**meta(at(1)), charger_id=ChargerId("C1"))
    after = ChargerRetired(**meta(at(2)), charger_id=ChargerId("C2"))
    theirs = StationRetired(**meta(at(3)), station_id=StationId("S2"), reason="closed")
    other_kind = station("S3", when=at(4))
    bus.publish([before, other_kind])
    assert bus.publish_heard([before, theirs]) == 1
    assert bus.publish_heard([after]) == 1
    bus.publish([after, other_kind])
    assert sorted(heard) == sorted(
        e.event_id for e in (before, other_kind, theirs, after, other_kind)
    )
