"""A charger already connected loses its connection when it loses its right to connect:
its password changed or removed, it or its station retired. Real `ocpp` library charge
points over loopback; the gateway closes with 1008 (policy violation, RFC 6455 §7.4.1)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from chargenet.adapters.bus.jetstream import hear_stored, relay_stored, subscriptions_made
from chargenet.adapters.ocpp.gateway import GatewayConfig
from chargenet.adapters.storage.engine import create_store_engine
from chargenet.adapters.storage.queries_ocpp import OcppQueries
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerRetired, ChargerUpdated, Event, StationRetired
from chargenet.core.ids import ChargerId, StationId
from chargenet.core.registry.model import EvseRecord
from chargenet.entrypoints.cli.ocpp import registry_tail_job
from chargenet.kit.aio import wait_at_most
from chargenet.kit.secrets import hash_secret
from tests.adapters.ocpp.peers import PASSWORD, boot16, boot201, connect, eventually, running
from tests.adapters.ocpp.test_gateway import _login
from tests.builders import T0, at, charger, meta, station
from tests.cluster_services import NATS_URL, jetstream_missing

SECOND = "a-second-password-for-c1-0002"


async def closed_with(cp: Any, within_s: float = 10) -> tuple[int | None, str | None]:
    """The close code and reason the gateway closed this charge point's socket with."""
    ws = cp._connection
    await wait_at_most(ws.wait_closed(), within_s)
    return ws.close_code, ws.close_reason


async def alive(cp: Any, version: str = "ocpp1.6") -> bool:
    """The charger is still served: a Heartbeat is answered on its socket."""
    heartbeat = c16.Heartbeat() if version == "ocpp1.6" else c201.Heartbeat()
    answer = await wait_at_most(cp.call(heartbeat), 5)
    return bool(answer.current_time)


def offline_reasons(platform: Platform, charger_id: str) -> list[str]:
    return [
        e["reason"]
        for e in platform.read.events(event_type="charger.presence_changed")
        if e["charger_id"] == charger_id and not e["online"]
    ]


def polling(platform: Platform) -> GatewayConfig:
    assert platform.ocpp is not None
    return replace(platform.ocpp.config, credentials_poll_s=0.1)


@pytest.mark.parametrize("change", ["changed", "removed"])
def test_a_connected_charger_is_cut_off_when_its_password_changes_or_goes(
    platform: Platform, change: str
) -> None:
    """`chargenet ocpp set-password` in this process's database: the credentials watch
    sees it; the charger that logged in with the old password is closed, and only the new
    one lets it in again. The other charger stays."""
    queries = platform.ocpp_queries
    assert queries is not None
    new = hash_secret(SECOND) if change == "changed" else None

    async def scenario() -> None:
        async with running(platform, polling(platform)) as gateway:
            async with (
                connect(gateway, "C1") as c1,
                connect(gateway, "C2", "ocpp2.0.1") as c2,
            ):
                assert (await c1.call(boot16())).status == "Accepted"
                assert (await c2.call(boot201())).status == "Accepted"
                await asyncio.to_thread(queries.set_secret, "C1", new, T0)
                code, reason = await closed_with(c1)
                assert (code, reason) == (1008, f"password {change}")
                assert await alive(c2, "ocpp2.0.1")
                assert await _login(gateway, "C1", PASSWORD) == 401
                if new is not None:
                    assert await _login(gateway, "C1", SECOND) == 101
                assert gateway.stats.revoked == 1
            await eventually(lambda: f"password {change}" in offline_reasons(platform, "C1"))

    asyncio.run(scenario())


def test_a_password_changed_by_another_process_cuts_the_charger_off(
    any_platform: Platform, migrated_database_url: str
) -> None:
    """Another process (a second engine on the same database, as the CLI's) sets the new
    password: on SQLite as on PostgreSQL (intake nodes share the table)."""
    platform = any_platform
    other = create_store_engine(migrated_database_url, writer=True)
    outside = OcppQueries(other, other)

    async def scenario() -> None:
        async with running(platform, polling(platform)) as gateway:
            async with connect(gateway, "C1") as c1:
                assert (await c1.call(boot16())).status == "Accepted"
                await asyncio.to_thread(outside.set_secret, "C1", hash_secret(SECOND), T0)
                assert await closed_with(c1) == (1008, "password changed")
            async with connect(gateway, "C1", password=SECOND) as again:
                assert (await again.call(boot16())).status == "Accepted"

    try:
        asyncio.run(scenario())
    finally:
        other.dispose()


def test_a_connected_charger_is_cut_off_when_it_is_retired(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway:
            async with (
                connect(gateway, "C1") as c1,
                connect(gateway, "C2", "ocpp2.0.1") as c2,
            ):
                assert (await c1.call(boot16())).status == "Accepted"
                assert (await c2.call(boot201())).status == "Accepted"
                platform.ingestor.ingest(
                    [ChargerRetired(**meta(at(5)), charger_id=ChargerId("C1"), reason="removed")]
                )
                assert await closed_with(c1) == (1008, "charger retired")
                assert await alive(c2, "ocpp2.0.1")
                assert await _login(gateway, "C1", PASSWORD) == 404
            await eventually(lambda: "charger retired" in offline_reasons(platform, "C1"))

    asyncio.run(scenario())


def test_the_chargers_of_a_retired_station_are_cut_off_and_no_other(platform: Platform) -> None:
    """C1 and C2 are at S1; C3 (OCPP 1.6) at S2 stays connected."""

    async def scenario() -> None:
        async with running(platform) as gateway:
            assert platform.ocpp_queries is not None
            platform.ingestor.ingest([station("S2"), charger("C3", "S2")])
            platform.ocpp_queries.set_secret("C3", hash_secret(PASSWORD), T0)
            async with (
                connect(gateway, "C1") as c1,
                connect(gateway, "C2", "ocpp2.0.1") as c2,
                connect(gateway, "C3") as c3,
            ):
                for cp in (c1, c3):
                    assert (await cp.call(boot16())).status == "Accepted"
                assert (await c2.call(boot201())).status == "Accepted"
                platform.ingestor.ingest(
                    [StationRetired(**meta(at(5)), station_id=StationId("S1"), reason="closed")]
                )
                assert await closed_with(c1) == (1008, "charger retired")
                assert await closed_with(c2) == (1008, "charger retired")
                assert await alive(c3)
                assert gateway.stats.revoked == 2

    asyncio.run(scenario())


def test_a_charger_whose_record_changes_otherwise_stays_connected(platform: Platform) -> None:
    """A new model name and a third EVSE (a record that matters to nobody's right to
    connect), and the station renamed: the charger keeps its connection. C2's retirement
    after them shows the gateway has looked at C1's record by then."""
    record = charger("C1").charger
    third = EvseRecord(evse_no=3, connectors=record.evses[0].connectors)
    grown = dataclasses.replace(record, model="DC120", evses=(*record.evses, third))
    updates: Sequence[Event] = [
        ChargerUpdated(**meta(at(5)), charger=grown),
        station("S1", name="Renamed station", when=at(6)),
    ]

    async def scenario() -> None:
        async with (
            running(platform) as gateway,
            connect(gateway, "C1") as c1,
            connect(gateway, "C2", "ocpp2.0.1") as c2,
        ):
            assert (await c1.call(boot16())).status == "Accepted"
            assert (await c2.call(boot201())).status == "Accepted"
            platform.ingestor.ingest(updates)
            platform.ingestor.ingest([ChargerRetired(**meta(at(7)), charger_id=ChargerId("C2"))])
            assert (await closed_with(c2))[0] == 1008
            assert await alive(c1)
            assert gateway.stats.revoked == 1
            assert gateway.links["C1"].ws.state.name == "OPEN"
            assert offline_reasons(platform, "C1") == []

    asyncio.run(scenario())


def test_an_intake_node_cuts_off_a_charger_retired_by_another_process(
    any_platform: Platform, migrated_database_url: str
) -> None:
    """Several intake nodes: the writer that stores the retirement is another process
    (here a second platform on the same database); the intake hears it through the feed
    of stored events (`hear_stored`) and closes the charger's socket."""
    why = jetstream_missing()
    if why:
        pytest.skip(why)
    nats = pytest.importorskip("nats", reason="nats-py is not installed (extra: cluster)")
    platform = any_platform
    writer = bootstrap(Settings(database_url=migrated_database_url, sqlite_synchronous="OFF"))

    async def scenario() -> None:
        subject = f"test.{uuid.uuid4().hex[:8]}.stored"
        writer_side, intake_side = await nats.connect(NATS_URL), await nats.connect(NATS_URL)
        try:
            async with running(platform) as gateway:
                await hear_stored(intake_side, subject, platform.bus.publish, gateway.HEARS)
                await subscriptions_made(intake_side)
                writer.bus.listen(relay_stored(writer_side, subject))
                async with connect(gateway, "C1") as c1:
                    assert (await c1.call(boot16())).status == "Accepted"
                    retired = ChargerRetired(**meta(at(5)), charger_id=ChargerId("C1"))
                    await asyncio.to_thread(writer.ingestor.ingest, [retired])
                    assert await closed_with(c1) == (1008, "charger retired")
        finally:
            await writer_side.close()
            await intake_side.close()

    try:
        asyncio.run(scenario())
    finally:
        writer.close()


def test_a_charger_registered_for_another_protocol_is_cut_off(platform: Platform) -> None:
    """The login check lets a charger in only with the subprotocol it is registered with:
    registered for 2.0.1 now, the charger connected with 1.6 must come back with 2.0.1."""
    moved = dataclasses.replace(charger("C1").charger, protocol="ocpp2.0.1")

    async def scenario() -> None:
        async with running(platform) as gateway:
            async with connect(gateway, "C1") as c1:
                assert (await c1.call(boot16())).status == "Accepted"
                platform.ingestor.ingest([ChargerUpdated(**meta(at(5)), charger=moved)])
                assert await closed_with(c1) == (1008, "charger registered for another protocol")
            async with connect(gateway, "C1", "ocpp2.0.1") as again:
                assert (await again.call(boot201())).status == "Accepted"

    asyncio.run(scenario())


def test_one_node_cuts_off_chargers_retired_by_another_process(
    any_platform: Platform, migrated_database_url: str
) -> None:
    """`chargenet serve` alone on its database (SQLite, or PostgreSQL without a cluster):
    another process (an import, an admin command: here a second platform on the same
    database, with no bus between them) retires C1, then C2's station. The log tail
    (CHARGENET_REGISTRY_POLL_S) hands the changes to this process's bus: each connected
    charger is closed with 1008 and refused at the door (404, its cached record dropped),
    while a change that does not matter to connecting leaves C2 connected."""
    platform = any_platform
    other = bootstrap(Settings(database_url=migrated_database_url, sqlite_synchronous="OFF"))
    grown = dataclasses.replace(charger("C2", protocol="ocpp2.0.1").charger, model="DC120")

    async def heard_by_tail(events: Sequence[Event]) -> None:
        tail = platform.registry_tail
        assert tail is not None
        rows = tail.rows
        await asyncio.to_thread(other.ingestor.ingest, events)
        await eventually(lambda: tail.rows >= rows + len(events))
        rounds = tail.rounds  # handed to the bus before the next round reads
        await eventually(lambda: tail.rounds > rounds)

    async def scenario() -> None:
        async with running(platform) as gateway:
            tail_job = asyncio.ensure_future(registry_tail_job(0.1)(platform))
            try:
                await eventually(
                    lambda: platform.registry_tail is not None and platform.registry_tail.rounds > 0
                )
                async with (
                    connect(gateway, "C1") as c1,
                    connect(gateway, "C2", "ocpp2.0.1") as c2,
                ):
                    assert (await c1.call(boot16())).status == "Accepted"
                    assert (await c2.call(boot201())).status == "Accepted"
                    retired = ChargerRetired(**meta(at(5)), charger_id=ChargerId("C1"))
                    await asyncio.to_thread(other.ingestor.ingest, [retired])
                    assert await closed_with(c1) == (1008, "charger retired")
                    assert await alive(c2, "ocpp2.0.1")
                    assert await _login(gateway, "C1", PASSWORD) == 404

                    await heard_by_tail([ChargerUpdated(**meta(at(6)), charger=grown)])
                    await eventually(lambda: not gateway._to_review and gateway._reviewer is None)
                    assert await alive(c2, "ocpp2.0.1")
                    assert gateway.links["C2"].ws.state.name == "OPEN"

                    gone = StationRetired(**meta(at(7)), station_id=StationId("S1"), reason="x")
                    await asyncio.to_thread(other.ingestor.ingest, [gone])
                    assert await closed_with(c2) == (1008, "charger retired")
                    assert await _login(gateway, "C2", PASSWORD, "ocpp2.0.1") == 404
                    assert gateway.stats.revoked == 2
            finally:
                tail_job.cancel()
                await asyncio.gather(tail_job, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        other.close()
