"""A status PATCH reads what it needs about the EVSE (owner, Location, connectors in service)
from the node's memory, not the database: what is held must be forgotten as soon as the
EVSE changes, whether the change was stored by this node (its bus) or by another node of
a cluster (the stored-event feed). Else a PATCH after an EVSE lost a connector still sets
the lost connector's status, and one after the EVSE was removed is taken as if it were in
service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chargenet.adapters.bus.jetstream import hear_stored, relay_stored, subscriptions_made
from chargenet.adapters.ocpi.lookups import EvseLookups
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.adapters.storage.schema import chargers, connector_live, connectors
from chargenet.app.ingest import Disposition, Outcome
from chargenet.app.ocpi import EvseConnectorsRow
from chargenet.bootstrap import Platform, bootstrap, build_ocpi
from chargenet.config import Settings
from chargenet.core.events import ChargerRetired, Event, Source, event_meta
from chargenet.core.ids import ChargerId
from chargenet.entrypoints.cluster import heard_here, relayed_unless_heard
from chargenet.entrypoints.web import create_app
from chargenet.kit.aio import wait_at_most
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import CPO, auth, ts
from tests.builders import T0, small_world
from tests.cluster_services import NATS_URL, jetstream_missing

LOC = "/ocpi/2.2.1/receiver/locations/CN/XZP/LOC1"
E1 = "CN*XZP*E1"


@dataclass
class Node:
    platform: Platform
    ocpi: OcpiParty
    client: TestClient

    def send(self, method: str, path: str, body: object, token: str) -> dict[str, Any]:
        r = self.client.request(method, path, json=body, headers=auth(token))
        return {"http": r.status_code, **r.json()}


def node(platform: Platform) -> Iterator[Node]:
    ocpi = build_ocpi(platform)
    app = create_app(platform, routers=[ocpi_router(ocpi)])
    with TestClient(app) as client:
        yield Node(platform, ocpi, client)
    ocpi.directory.dispose()


@pytest.fixture
def a(platform: Platform) -> Iterator[Node]:
    platform.ingestor.ingest(small_world())
    yield from node(platform)


@pytest.fixture
def token(a: Node) -> str:
    return spec.registered_peer(a.ocpi, "CN*XZP", CPO, "OP1")


def statuses(platform: Platform) -> dict[str, tuple[str | None, bool]]:
    """Every connector of E1: (status, retired), retired ones included."""
    with platform.store.engine.connect() as conn:
        rows = conn.execute(
            select(connectors.c.connector_id, connector_live.c.status, connectors.c.retired_at)
            .outerjoin(connector_live, connector_live.c.connector_id == connectors.c.connector_id)
            .where(connectors.c.charger_id == E1)
        ).all()
    return {r[0]: (r[1], r[2] is not None) for r in rows}


def e1_retired(platform: Platform) -> bool:
    with platform.store.engine.connect() as conn:
        found = conn.execute(select(chargers.c.retired_at).where(chargers.c.charger_id == E1))
        return found.scalar_one() is not None


def two_connectors_held(a: Node, token: str) -> None:
    """E1 with two connectors, and a status PATCH that leaves its facts in memory."""
    body = spec.location(evses=[spec.evse("E1", "AVAILABLE", connectors=2)])
    assert a.send("PUT", LOC, body, token)["status_code"] == 1000
    reply = a.send("PATCH", f"{LOC}/E1", {"status": "CHARGING", "last_updated": ts(1)}, token)
    assert reply["status_code"] == 1000
    assert a.ocpi.receiver.evses.cached(E1) is not None
    assert statuses(a.platform) == {
        "CN*XZP*E1*1": ("charging", False),
        "CN*XZP*E1*2": ("charging", False),
    }


def test_an_evse_put_again_with_fewer_connectors_is_what_the_next_patch_sees(
    a: Node, token: str
) -> None:
    two_connectors_held(a, token)
    again = spec.evse("E1", "AVAILABLE", minutes=2, connectors=1)
    assert a.send("PUT", f"{LOC}/E1", again, token)["status_code"] == 1000

    reply = a.send("PATCH", f"{LOC}/E1", {"status": "OUTOFORDER", "last_updated": ts(3)}, token)

    assert reply["status_code"] == 1000
    held = statuses(a.platform)
    assert held["CN*XZP*E1*1"] == ("faulted", False)
    assert held["CN*XZP*E1*2"][1] is True  # retired by the PUT
    assert held["CN*XZP*E1*2"][0] != "faulted"  # and not touched by the PATCH


def test_an_evse_retired_by_another_writer_of_this_node_is_seen_retired_by_the_next_patch(
    a: Node, token: str
) -> None:
    two_connectors_held(a, token)
    # Retired by someone else than the receiver (an administrator, the registry import):
    # the receiver hears it only from the bus.
    retired = ChargerRetired(
        **event_meta("retire-e1", Source(adapter="admin"), T0.replace(minute=2)),
        charger_id=ChargerId(E1),
    )
    a.platform.ingestor.ingest([retired])
    assert e1_retired(a.platform)
    assert a.ocpi.receiver.evses.cached(E1) is None

    reply = a.send("PATCH", f"{LOC}/E1", {"status": "AVAILABLE", "last_updated": ts(3)}, token)

    # As with nothing held, the PATCH reads the EVSE again and finds it retired (REMOVED):
    # refused, and nothing changes; a PUT of the whole EVSE is how it comes back.
    assert reply["status_code"] == 2001 and "REMOVED" in reply["status_message"]
    assert e1_retired(a.platform)
    assert statuses(a.platform)["CN*XZP*E1*1"] == ("charging", True)
    again = spec.evse("E1", "AVAILABLE", minutes=4, connectors=2)
    assert a.send("PUT", f"{LOC}/E1", again, token)["status_code"] == 1000
    assert not e1_retired(a.platform)
    assert statuses(a.platform)["CN*XZP*E1*1"] == ("available", False)


class StoredLater:
    """A way in that answers before the store has the events, as an intake's JetStream
    pipeline does (`JetStreamPipeline`): the test stores them (`write`), and the bus then
    tells the receiver, as the stored-event feed would."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self.held: list[Event] = []

    async def submit(self, events: Sequence[Event]) -> list[Outcome]:
        self.held.extend(events)
        return [Outcome(e.event_id, Disposition.ACCEPTED) for e in events]

    def write(self) -> None:
        held, self.held = self.held, []
        if held:
            self._platform.ingestor.ingest(held)


@pytest.mark.parametrize("stored", ["before the read", "during the read", "after the read"])
def test_a_patch_between_the_submit_of_a_change_and_its_storing_leaves_nothing_stale_held(
    a: Node, token: str, monkeypatch: pytest.MonkeyPatch, stored: str
) -> None:
    """The receiver forgets the EVSE once the change is submitted, which may be before the
    store has it: a PATCH in that window reads the old row. Whenever the store then takes
    the change (and says so), nothing read of the old row stays held past it."""
    two_connectors_held(a, token)
    stream = StoredLater(a.platform)
    receiver = a.ocpi.receiver
    monkeypatch.setattr(receiver, "_submit_events", stream.submit)
    again = spec.evse("E1", "AVAILABLE", minutes=2, connectors=1)
    assert a.send("PUT", f"{LOC}/E1", again, token)["status_code"] == 1000
    assert len(statuses(a.platform)) == 2 and not statuses(a.platform)["CN*XZP*E1*2"][1]

    real = receiver.evses._read

    def read(charger_id: str) -> EvseConnectorsRow | None:
        found = real(charger_id)
        if stored == "during the read":
            stream.write()  # stored, and heard, after this read had the old row
        return found

    monkeypatch.setattr(receiver.evses, "_read", read)
    if stored == "before the read":
        stream.write()
    body = {"status": "CHARGING", "last_updated": ts(3)}
    assert a.send("PATCH", f"{LOC}/E1", body, token)["status_code"] == 1000
    stream.write()  # "after the read", and the PATCH's own statuses in every case

    held = receiver.evses.cached(E1)
    assert held is None or held["connector_ids"] == ["CN*XZP*E1*1"]
    body = {"status": "OUTOFORDER", "last_updated": ts(4)}
    assert a.send("PATCH", f"{LOC}/E1", body, token)["status_code"] == 1000
    stream.write()
    now = statuses(a.platform)
    assert now["CN*XZP*E1*1"] == ("faulted", False)
    assert now["CN*XZP*E1*2"][1] is True and now["CN*XZP*E1*2"][0] != "faulted"


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_an_evse_put_again_on_another_node_is_heard_through_the_stored_event_feed(
    a: Node, token: str, loop: asyncio.AbstractEventLoop
) -> None:
    why = jetstream_missing()
    if why:
        pytest.skip(why)
    import nats

    two_connectors_held(a, token)
    # Node B: another process on the same database, its own bus; the two hear each other
    # as api nodes do (entrypoints/cluster.api_job).
    b_platform = bootstrap(Settings(database_url=a.platform.settings.database_url))
    subject = f"test.{uuid.uuid4().hex[:8]}.stored"

    async def connect() -> tuple[Any, Any]:
        return await nats.connect(NATS_URL), await nats.connect(NATS_URL)

    a_side, b_side = loop.run_until_complete(connect())

    async def wire() -> None:
        for nc, bus, name in ((a_side, a.platform.bus, "a"), (b_side, b_platform.bus, "b")):
            await hear_stored(nc, subject, heard_here(bus.publish), own=name)
            bus.listen(relayed_unless_heard(relay_stored(nc, subject, name)))
            await subscriptions_made(nc)

    try:
        loop.run_until_complete(wire())
        for b in node(b_platform):
            again = spec.evse("E1", "AVAILABLE", minutes=2, connectors=1)
            assert b.send("PUT", f"{LOC}/E1", again, token)["status_code"] == 1000

        async def forgotten() -> None:
            while a.ocpi.receiver.evses.cached(E1) is not None:
                await asyncio.sleep(0.01)

        loop.run_until_complete(wait_at_most(forgotten(), 10))
        body = {"status": "OUTOFORDER", "last_updated": ts(3)}
        assert a.send("PATCH", f"{LOC}/E1", body, token)["status_code"] == 1000
        held = statuses(a.platform)
        assert held["CN*XZP*E1*1"] == ("faulted", False)
        assert held["CN*XZP*E1*2"][1] is True and held["CN*XZP*E1*2"][0] != "faulted"
    finally:

        async def close() -> None:
            await a_side.close()
            await b_side.close()

        loop.run_until_complete(close())
        b_platform.close()


def _row(station_id: str = "S1") -> EvseConnectorsRow:
    return EvseConnectorsRow(
        operator_id="OP1", station_id=station_id, retired_at=None, as_of=T0, connector_ids=["1"]
    )


def test_the_lookups_are_bounded_and_a_read_overtaken_by_a_change_is_not_kept() -> None:
    lookups = EvseLookups(lambda charger_id: _row(), size=3)
    for n in range(5):
        lookups.read(f"E{n}")
    assert len(lookups) == 3 and lookups.cached("E0") is None and lookups.cached("E4")

    def read_while_retired(charger_id: str) -> EvseConnectorsRow:
        racing.forget(charger_id)  # the retirement is stored while the row is read
        return _row()

    racing = EvseLookups(read_while_retired)
    assert racing.read("E9") is not None  # this request's answer
    assert racing.cached("E9") is None  # not kept for the next one

    lookups.forget_station("S1")
    assert len(lookups) == 0


def test_what_is_held_is_read_again_after_its_max_age() -> None:
    """A change no bus brought (the stored feed lost it, another process wrote it) is seen
    once what is held is old enough, not never."""
    now = [0.0]
    rows = {"E1": _row()}
    lookups = EvseLookups(rows.get, max_age_s=60.0, clock=lambda: now[0])
    assert lookups.read("E1") == _row()
    rows["E1"] = EvseConnectorsRow(**{**_row(), "connector_ids": []})  # no news of it
    now[0] = 59.0
    assert lookups.cached("E1") == _row()  # within its age: from memory
    now[0] = 61.0
    assert lookups.cached("E1") is None  # too old: the caller reads again
    assert lookups.read("E1") == rows["E1"]
    assert lookups.cached("E1") == rows["E1"]
