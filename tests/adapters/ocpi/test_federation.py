"""R37: a city chargenet forwards its stations, live status, sessions and charge records to
its province — another chargenet — over OCPI, and the province sees them live. Two whole
instances on loopback ports, each with its own database."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargenet.app.ocpi import Party, PeerKind
from chargenet.core.events import (
    ChargeDetailRecorded,
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId
from chargenet.core.money import Money
from chargenet.core.status import ConnectorStatus
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import (
    CPO,
    Instance,
    auth,
    location,
    registered_peer,
    start_instance,
    wait_for,
)
from tests.builders import at, charger, meta, operator, small_world, station


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Instance]:
    instance = start_instance(tmp_path / "province.db", "CN*SXP", "山西省充电设施监管平台")
    yield instance
    instance.stop()


@pytest.fixture
def city(tmp_path: Path) -> Iterator[Instance]:
    instance = start_city(tmp_path / "city.db")
    yield instance
    instance.stop()


def start_city(path: Path, port: int | None = None, world: bool = True) -> Instance:
    instance = start_instance(path, "CN*XZC", "忻州市充电设施监管平台", port=port)
    if not world:
        return instance
    instance.ingest(
        [
            *small_world(),
            operator("OP2", name="五台山新能源"),
            station("S2", "OP2", lat=38.73, lon=112.71),
            charger("C2", "S2", guns=1),
            # Both OCPP chargers are connected (else the city shows them offline: UNKNOWN).
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C2"), online=True),
        ]
    )
    return instance


def connect(city: Instance, province: Instance) -> None:
    """The province's administrator issues token A for the city; the city registers."""
    token_a = province.ocpi.registration.issue_token_a("xinzhou", PeerKind.PLATFORM, "忻州市")

    city.run(
        city.ocpi.registration.connect(
            f"{province.base_url}/ocpi/versions",
            token_a,
            kind=PeerKind.UPSTREAM,
            peer_id="shanxi",
            name="山西省",
        )
    )
    wait_for(lambda: province.platform.read.stations()[1] == 2, what="the first full push")


def statuses(province: Instance) -> dict[str, str]:
    rows, _ = province.platform.read.connectors(limit=1000)
    return {r["connector_id"]: r["status"] for r in rows}


def test_city_stations_status_sessions_and_records_reach_the_province(
    city: Instance, province: Instance
) -> None:
    connect(city, province)
    # Each city operator is an operator of the province, owning its stations.
    operators = {r["operator_id"]: r["name"] for r in province.platform.read.operators()[0]}
    assert sorted(operators.values()) == ["Operator One", "五台山新能源"]
    stations, _ = province.platform.read.stations()
    assert {s["operator_id"] for s in stations} == set(operators)

    # Live: a status change in the city shows in the province.
    city.ingest(
        [
            ConnectorStatusChanged(
                **meta(at(30)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            )
        ]
    )
    key = next(c for c in statuses(province) if c.endswith("C1-1*1"))
    wait_for(lambda: statuses(province)[key] == "charging", what="live status")
    # A charger that stops talking to the city shows offline (OCPI UNKNOWN) in the province.
    city.ingest(
        [
            ConnectorStatusChanged(
                **meta(at(30)), connector_id=ConnectorId("C2-1-1"), status=ConnectorStatus.AVAILABLE
            )
        ]
    )
    c2 = next(c for c in statuses(province) if c.endswith("C2-1*1"))
    wait_for(lambda: statuses(province)[c2] == "available", what="C2 available upstream")
    city.ingest([ChargerPresenceChanged(**meta(at(32)), charger_id=ChargerId("C2"), online=False)])
    wait_for(lambda: statuses(province)[c2] == "offline", what="offline upstream")

    # A session and its charge record.
    city.ingest(
        [
            SessionStarted(
                **meta(at(31)),
                session_id=SessionId("TX9"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=100,
            ),
            SessionEnded(**meta(at(70)), session_id=SessionId("TX9"), meter_stop_wh=25_100),
        ]
    )
    sessions = wait_for(
        lambda: [s for s in province.platform.read.sessions()[0] if s["state"] == "completed"],
        what="session",
    )
    assert sessions[0]["energy_wh"] == 25_000 and sessions[0]["session_id"].endswith("*TX9")
    city.ingest(
        [
            ChargeDetailRecorded(
                **meta(at(71)),
                cdr_id="CDR-TX9",
                connector_id=ConnectorId("C1-1-1"),
                session_id=SessionId("TX9"),
                started_at=at(31),
                ended_at=at(70),
                energy_wh=25_000,
                cost=Money(Decimal("30.00")),
            )
        ]
    )
    wait_for(lambda: province.ocpi.reads.cdrs()[1] == 1, what="charge record")
    record = province.ocpi.reads.cdrs()[0][0]
    assert record["energy_wh"] == 25_000 and record["cost_amount"] == Decimal("30")
    assert record["session_id"] == sessions[0]["session_id"]


def test_forwarding_retries_while_the_province_is_away(city: Instance, province: Instance) -> None:
    connect(city, province)
    province.switch.down = True
    city.ingest(
        [
            ConnectorStatusChanged(
                **meta(at(40)), connector_id=ConnectorId("C2-1-1"), status=ConnectorStatus.FAULTED
            )
        ]
    )
    wait_for(lambda: city.ocpi.forward_stats.failures > 0, what="a failed push")
    assert "faulted" not in statuses(province).values()
    province.switch.down = False
    key = next(c for c in statuses(province) if c.endswith("C2-1*1"))
    wait_for(lambda: statuses(province)[key] == "faulted", timeout=15, what="the retried push")


def test_the_province_refuses_what_the_city_may_not_write(
    city: Instance, province: Instance
) -> None:
    connect(city, province)
    peer = city.ocpi.directory.peer("shanxi")
    assert peer is not None and peer.token_out
    # The city registered CPO roles for its own operators only: any other party is refused.
    url = f"{province.base_url}/ocpi/2.2.1/receiver/locations/CN/ZZZ/X1"
    body = location("X1", owner=Party("CN", "ZZZ"))
    reply = httpx.put(url, json=body, headers=auth(peer.token_out))
    assert reply.status_code == 403 and reply.json()["status_code"] == 2001
    assert province.platform.read.stations()[1] == 2


def test_an_operators_objects_reach_the_province_as_the_operator_pushed_them(
    city: Instance, province: Instance
) -> None:
    """An INVALID session stays INVALID upstream, its auth_method stays the operator's, and
    a tethered connector stays CABLE: the city forwards what the operator stated."""
    connect(city, province)
    cpo_token = registered_peer(city.ocpi, "CN*XZP", CPO, "OP1")
    receiver = f"{city.base_url}/ocpi/2.2.1/receiver"
    evse = {**spec.evse("E1", "AVAILABLE"), "physical_reference": "7号桩"}
    evse["connectors"][0]["format"] = "SOCKET"  # a DC socket: chargenet would say CABLE
    body = location("LOC9", evses=[evse], postal_code="034000")
    assert httpx.put(f"{receiver}/locations/CN/XZP/LOC9", json=body, headers=auth(cpo_token))
    session = {**spec.session("S9", "INVALID", kwh=0.0, minutes=3), "location_id": "LOC9"}
    session["end_date_time"] = spec.ts(3)
    reply = httpx.put(f"{receiver}/sessions/CN/XZP/S9", json=session, headers=auth(cpo_token))
    assert reply.json()["status_code"] == 1000, reply.text

    reader = registered_peer(province.ocpi, "reader", None, None, PeerKind.UPSTREAM)
    sender = f"{province.base_url}/ocpi/2.2.1/sender"

    def upstream(path: str) -> list[dict[str, Any]]:
        got = httpx.get(f"{sender}/{path}", headers=auth(reader)).json()
        return list(got.get("data") or [])

    [forwarded] = wait_for(lambda: upstream("sessions"), what="the session upstream")
    assert forwarded["status"] == "INVALID" and forwarded["auth_method"] == "WHITELIST"
    assert forwarded["cdr_token"]["type"] == "RFID"
    loc9 = wait_for(
        lambda: [loc for loc in upstream("locations") if loc["id"] == "LOC9"], what="LOC9"
    )[0]
    assert loc9["postal_code"] == "034000" and loc9["city"] == "忻州市"
    [up_evse] = loc9["evses"]
    assert up_evse["physical_reference"] == "7号桩" and up_evse["evse_id"] == "CN*XZP*EE1"
    assert up_evse["connectors"][0]["format"] == "SOCKET"


class Routed:
    """The province's front door: notes each request's OCPI routing headers."""

    NAMES = ("ocpi-to-country-code", "ocpi-to-party-id", "ocpi-from-country-code")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, tuple[str | None, ...]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            names = (*self.NAMES, "ocpi-from-party-id")
            self.seen.append((scope["method"], scope["path"], tuple(headers.get(n) for n in names)))
        await self.app(scope, receive, send)


def test_an_operators_platform_reaches_the_province_through_the_city_as_a_hub(
    city: Instance, province: Instance
) -> None:
    """Two OCPI parties through the hub: an operator's platform (CN*XZP) pushes a Location
    to the city; the city, a hub, forwards it to the province (CN*SXP) with the routing
    headers of party to party via a hub. The city's credentials name it HUB only; the
    province learns the operators behind it from the city's HubClientInfo."""
    routed = Routed(province.switch.app)
    province.switch.app = routed
    cpo_token = registered_peer(city.ocpi, "CN*XZP", CPO, "OP1")
    connect(city, province)

    peer = province.ocpi.directory.peer("xinzhou")
    assert peer is not None
    assert [(r["role"], r["party_id"]) for r in peer.roles] == [("HUB", "XZC")]
    reader = registered_peer(city.ocpi, "reader", None, None, PeerKind.UPSTREAM)
    url = f"{city.base_url}/ocpi/2.2.1/hubclientinfo"
    infos = httpx.get(url, headers=auth(reader)).json()["data"]
    assert {(i["party_id"], i["role"], i["status"]) for i in infos} >= {("XZP", "CPO", "CONNECTED")}
    assert len(infos) == 2 and {i["role"] for i in infos} == {"CPO"}
    first = httpx.get(url, params={"limit": 1}, headers=auth(reader))
    assert len(first.json()["data"]) == 1 and 'rel="next"' in first.headers["link"]
    assert set(peer.writable) == {Party(i["country_code"], i["party_id"]) for i in infos}

    body = location("LOC9", evses=[spec.evse("E1", "AVAILABLE")])
    receiver = f"{city.base_url}/ocpi/2.2.1/receiver"
    assert httpx.put(f"{receiver}/locations/CN/XZP/LOC9", json=body, headers=auth(cpo_token))

    def forwarded() -> list[tuple[str | None, ...]]:
        return [h for m, path, h in routed.seen if path.endswith("/locations/CN/XZP/LOC9")]

    assert wait_for(forwarded, what="LOC9 at the province")[0] == ("CN", "SXP", "CN", "XZP")
    # Configuration modules are not routed (4.1.8.2).
    credentials = [h for _, path, h in routed.seen if path.endswith("/credentials")]
    assert credentials and all(h == (None,) * 4 for h in credentials)
    names = {r["operator_id"]: r["name"] for r in province.platform.read.operators()[0]}
    assert names["CN*XZP"] == "Operator One"  # named by its Locations


def _session_and_record() -> list[Any]:
    return [
        SessionStarted(
            **meta(at(31)),
            session_id=SessionId("TX9"),
            connector_id=ConnectorId("C1-1-1"),
            meter_start_wh=100,
        ),
        SessionEnded(**meta(at(70)), session_id=SessionId("TX9"), meter_stop_wh=25_100),
        ChargeDetailRecorded(
            **meta(at(71)),
            cdr_id="CDR-TX9",
            connector_id=ConnectorId("C1-1-1"),
            session_id=SessionId("TX9"),
            started_at=at(31),
            ended_at=at(70),
            energy_wh=25_000,
            cost=Money(Decimal("30.00")),
        ),
    ]


def test_the_province_gets_everything_it_missed_while_away_in_the_order_it_happened(
    city: Instance, province: Instance
) -> None:
    connect(city, province)
    routed = Routed(province.switch.app)
    province.switch.app = routed
    province.switch.down = True

    def charging(status: ConnectorStatus, minute: int) -> ConnectorStatusChanged:
        return ConnectorStatusChanged(
            **meta(at(minute)), connector_id=ConnectorId("C1-1-1"), status=status
        )

    city.ingest([charging(ConnectorStatus.CHARGING, 30)])
    city.ingest(_session_and_record())
    city.ingest([charging(ConnectorStatus.AVAILABLE, 72)])
    wait_for(lambda: city.ocpi.forward_stats.failures > 0, what="a failed push")
    province.switch.down = False
    wait_for(lambda: province.ocpi.reads.cdrs()[1] == 1, timeout=15, what="the record")
    key = next(c for c in statuses(province) if c.endswith("C1-1*1"))
    wait_for(lambda: statuses(province)[key] == "available", what="the latest status")
    pushes = [
        (method, path.split("/receiver/")[1].split("/")[0])
        for method, path, _ in routed.seen
        if "/receiver/" in path and method in ("PUT", "PATCH", "POST")
    ]
    # The session's start and end are one push of its latest state, as are the two status
    # changes: each where its latest change was made.
    assert pushes == [("PUT", "sessions"), ("POST", "cdrs"), ("PATCH", "locations")]
    [session] = province.platform.read.sessions()[0]
    assert session["state"] == "completed"


def test_a_new_city_process_on_the_same_database_sends_what_the_stopped_one_left(
    tmp_path: Path, province: Instance
) -> None:
    city = start_city(tmp_path / "city.db")
    port = city.server.port
    try:
        connect(city, province)
        province.switch.down = True
        city.ingest(_session_and_record())
        wait_for(lambda: city.ocpi.forward_stats.failures > 0, what="a failed push")
    finally:
        city.stop()  # the process is gone; its pushes are rows in its database
    assert province.platform.read.sessions()[1] == 0
    province.switch.down = False
    again = start_city(tmp_path / "city.db", port=port, world=False)
    try:
        # A push the old process was sending when it stopped stays leased to it for the
        # outbox's lease (60 s) before the new process takes it.
        wait_for(lambda: province.ocpi.reads.cdrs()[1] == 1, timeout=75, what="the record")
        [session] = province.platform.read.sessions()[0]
        assert session["state"] == "completed" and session["energy_wh"] == 25_000
    finally:
        again.stop()
