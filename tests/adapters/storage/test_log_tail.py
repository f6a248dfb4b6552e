"""Registry changes another process writes into the log reach this process's bus once
(adapters/storage/log_tail.py): on SQLite and on PostgreSQL, and this process's own
events, which its bus had first, are not handed on again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chargenet.adapters.storage.log_tail import LogTail
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerRetired, Event, StationRetired
from chargenet.core.ids import ChargerId, StationId
from chargenet.core.registry.changes import CHARGER_RECORD_CHANGES
from chargenet.entrypoints.cli.ocpp import registry_tail_job
from chargenet.kit.aio import wait_at_most
from tests.builders import at, charger, meta, small_world, station


def test_what_another_process_writes_is_heard_once_and_ours_not_again(
    any_platform: Platform, migrated_database_url: str
) -> None:
    platform = any_platform
    platform.ingestor.ingest([*small_world(), station("S2"), charger("C3", "S2")])
    other = bootstrap(Settings(database_url=migrated_database_url, sqlite_synchronous="OFF"))
    heard: list[Event] = []

    def listen(events: Sequence[Event]) -> None:
        heard.extend(e for e in events if type(e) in CHARGER_RECORD_CHANGES)

    platform.bus.listen(listen)
    theirs = [
        ChargerRetired(**meta(at(5)), charger_id=ChargerId("C1"), reason="removed"),
        StationRetired(**meta(at(6)), station_id=StationId("S2"), reason="closed"),
    ]
    ours = charger("C2", when=at(7))

    async def scenario() -> None:
        tail_job = asyncio.ensure_future(registry_tail_job(0.05)(platform))
        try:
            await wait_at_most(_until(lambda: platform.registry_tail is not None), 5)
            tail = platform.registry_tail
            assert tail is not None
            await wait_at_most(_until(lambda: tail.rounds >= 1), 5)
            await asyncio.to_thread(other.ingestor.ingest, theirs)
            await asyncio.to_thread(platform.ingestor.ingest, [ours])
            await wait_at_most(_until(lambda: len(heard) >= 3), 10)
            # Several rounds more: on PostgreSQL the recent rows are read again.
            rounds = tail.rounds
            await wait_at_most(_until(lambda: tail.rounds >= rounds + 5), 10)
        finally:
            tail_job.cancel()
            await asyncio.gather(tail_job, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        other.close()
    assert sorted(e.event_id for e in heard) == sorted(e.event_id for e in [*theirs, ours])


def test_what_the_log_held_before_the_tail_started_is_not_read(
    any_platform: Platform,
) -> None:
    platform = any_platform
    platform.ingestor.ingest(
        [*small_world(), ChargerRetired(**meta(at(5)), charger_id=ChargerId("C1"))]
    )
    tail = LogTail(platform.store.read_engine, CHARGER_RECORD_CHANGES)
    tail.start()
    assert tail.read() == []
    platform.ingestor.ingest(
        [StationRetired(**meta(at(6)), station_id=StationId("S1"), reason="closed")]
    )
    assert [e.TYPE for e in tail.read()] == [StationRetired.TYPE]
    assert tail.read() == []


async def _until(check: object) -> None:
    assert callable(check)
    while not check():
        await asyncio.sleep(0.02)
