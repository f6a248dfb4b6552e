"""The in-process bus never blocks the writer; a slow subscriber loses its oldest events."""

from __future__ import annotations

import asyncio

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.core.events import ConnectorStatusChanged, Event
from chargenet.core.ids import ConnectorId, EventId
from chargenet.core.status import ConnectorStatus
from tests.builders import meta


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
