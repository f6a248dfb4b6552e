"""Many producers, one writer: everything submitted is stored, in batches, and a failing
batch fails only its own callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chargenet.app.ingest import Disposition, EventIngestor, Outcome
from chargenet.app.pipeline import IngestPipeline
from chargenet.bootstrap import Platform
from chargenet.core.events import ConnectorStatusChanged, Event
from chargenet.core.ids import ConnectorId, EventId
from chargenet.core.status import ConnectorStatus
from tests.builders import at, meta, small_world


def test_concurrent_producers_are_written_in_few_batches(platform: Platform) -> None:
    platform.ingestor.ingest(small_world())
    statuses = list(ConnectorStatus)

    async def producer(n: int) -> list[Outcome]:
        results: list[Outcome] = []
        for i in range(20):
            event = ConnectorStatusChanged(
                **meta(at(n * 100 + i)),
                connector_id=ConnectorId("C1-1-1"),
                status=statuses[(n + i) % len(statuses)],
            )
            results += await platform.pipeline.submit([event])
        return results

    async def scenario() -> list[list[Outcome]]:
        await platform.start()
        try:
            return await asyncio.gather(*(producer(n) for n in range(50)))
        finally:
            await platform.stop()

    results = asyncio.run(scenario())
    assert all(o.disposition is Disposition.ACCEPTED for rs in results for o in rs)
    assert platform.pipeline.events == 1_000
    assert platform.pipeline.batches < 500  # producers share commits
    assert platform.read.counts()["events"] == len(small_world()) + 1_000


class Flaky(EventIngestor):
    """Fails every batch containing a poisoned connector id, like a broken disk would."""

    def __init__(self, inner: EventIngestor) -> None:
        self.inner = inner

    def ingest(self, events: Sequence[Event], **kw: object) -> list[Outcome]:
        if any(getattr(e, "connector_id", "") == "poison" for e in events):
            raise OSError("disk I/O error")
        return self.inner.ingest(events)


def test_a_failing_batch_fails_its_callers_and_the_writer_carries_on(platform: Platform) -> None:
    platform.ingestor.ingest(small_world())
    pipeline = IngestPipeline(Flaky(platform.ingestor))
    good = ConnectorStatusChanged(
        **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
    )
    bad = ConnectorStatusChanged(
        **meta(at(2)), connector_id=ConnectorId("poison"), status=ConnectorStatus.AVAILABLE
    )

    async def scenario() -> tuple[str, list[Outcome]]:
        await pipeline.start()
        try:
            try:
                await pipeline.submit([bad])
                failure = "none"
            except OSError as exc:
                failure = str(exc)
            return failure, await pipeline.submit([good])
        finally:
            await pipeline.stop()

    failure, outcomes = asyncio.run(scenario())
    assert failure == "disk I/O error"
    assert [o.disposition for o in outcomes] == [Disposition.ACCEPTED]


def test_a_stopped_pipeline_starts_again(platform: Platform) -> None:
    platform.ingestor.ingest(small_world())

    async def once(minute: int) -> list[Outcome]:
        await platform.start()
        try:
            event = ConnectorStatusChanged(
                **meta(at(minute)),
                connector_id=ConnectorId("C1-1-1"),
                status=ConnectorStatus.AVAILABLE,
            )
            return await platform.pipeline.submit([event])
        finally:
            await platform.stop()

    assert [o.disposition for o in asyncio.run(once(1))] == [Disposition.ACCEPTED]
    assert [o.disposition for o in asyncio.run(once(2))] == [Disposition.ACCEPTED]


def test_a_writer_process_stores_and_this_process_publishes(sqlite_url: str) -> None:
    """With the writer in a process of its own, events are stored there and published on
    this process's bus (where the finder, alarm rules and forwarders listen)."""
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings

    platform = bootstrap(Settings(database_url=sqlite_url, ingest_writer="process"))
    platform.ingestor.ingest(small_world())

    async def scenario() -> tuple[list[Outcome], list[EventId]]:
        await platform.start()
        sub = platform.bus.subscribe()
        try:
            good = ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            )
            bad = ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("nope"), status=ConnectorStatus.CHARGING
            )
            outcomes = await platform.pipeline.submit([good, bad])
            heard = [(await asyncio.wait_for(sub.get(), 5)).event_id]
            return outcomes, heard
        finally:
            sub.close()
            await platform.stop()

    outcomes, heard = asyncio.run(scenario())
    assert [o.disposition for o in outcomes] == [Disposition.ACCEPTED, Disposition.REJECTED]
    assert heard == [outcomes[0].event_id]  # only what was accepted is published
    [row], _ = platform.read.connectors(station_id="S1", limit=1)
    assert row["reported_status"] == "charging"
    platform.close()


def test_a_writer_process_queues_deliveries_with_their_events(sqlite_url: str) -> None:
    """Deliveries attached to a submission, and those the rules make (a province's status
    push), are written by the writer process in the events' own transaction."""
    from chargenet.app.outbox import NewDelivery
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings

    settings = Settings(database_url=sqlite_url, ingest_writer="process", tcec_upstream="PROV")
    platform = bootstrap(settings)
    platform.ingestor.ingest(small_world())
    change = ConnectorStatusChanged(
        **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
    )
    attached = NewDelivery(delivery_id="D1", kind="test.x", destination="OP1", payload="{}")

    async def scenario() -> None:
        await platform.start()
        try:
            await platform.pipeline.submit([change], {change.event_id: [attached]})
        finally:
            await platform.stop()

    asyncio.run(scenario())
    queued = {(d.kind, d.destination, d.event_id) for d in platform.outbox.store.items()}
    assert ("test.x", "OP1", change.event_id) in queued
    assert ("tcec.notification_stationStatus", "PROV", change.event_id) in queued
    platform.close()
