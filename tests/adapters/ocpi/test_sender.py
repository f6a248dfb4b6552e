"""The senders: every charger (OCPP ones included) as OCPI Locations, paged with Link,
X-Total-Count and X-Limit, filtered by date_from/date_to on last_updated; Sessions, CDRs
and Tariffs likewise; an operator sees only its own sessions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.app.ocpi import Party, PeerKind
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import CPO, auth, ts
from tests.builders import at, charger, meta, operator, small_world, station

SENDER = "/ocpi/2.2.1/sender"


@pytest.fixture
def world(any_platform: Platform) -> Iterator[tuple[TestClient, OcpiParty, dict[str, str]]]:
    events = [*small_world(), operator("OP2", name="Operator Two")]
    for n in range(2, 8):
        events.append(station(f"S{n}", "OP2" if n % 2 else "OP1", when=at(n), lat=38.4 + n / 100))
    events += [
        charger("C2", "S2", guns=1, power_w=7000, dc=False),
        ChargerPresenceChanged(**meta(at(10)), charger_id=ChargerId("C1"), online=True),
        ConnectorStatusChanged(
            **meta(at(11)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.OCCUPIED
        ),
        ConnectorStatusChanged(
            **meta(at(11)), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.FAULTED
        ),
        SessionStarted(
            **meta(at(12)),
            session_id=SessionId("TX1"),
            connector_id=ConnectorId("C1-1-1"),
            meter_start_wh=1000,
        ),
        SessionEnded(**meta(at(40)), session_id=SessionId("TX1"), meter_stop_wh=21_000),
        SessionStarted(
            **meta(at(13)),
            session_id=SessionId("TX2"),
            connector_id=ConnectorId("C2-1-1"),
            meter_start_wh=0,
        ),
    ]
    platform = any_platform  # SQLite and PostgreSQL: the senders' SQL runs on both
    platform.ingestor.ingest(events)
    ocpi = build_ocpi(platform)
    tokens = {
        "platform": spec.registered_peer(ocpi, "province", None, None, PeerKind.UPSTREAM),
        "op2": spec.registered_peer(ocpi, "CN*ABC", Party("CN", "ABC"), "OP2"),
        "op1": spec.registered_peer(ocpi, "CN*XZP", CPO, "OP1"),
    }
    with TestClient(create_app(platform, routers=[ocpi_router(ocpi)])) as client:
        yield client, ocpi, tokens
    ocpi.directory.dispose()


def test_locations_page_with_link_total_and_limit(
    world: tuple[TestClient, OcpiParty, dict[str, str]],
) -> None:
    client, _, tokens = world
    first = client.get(f"{SENDER}/locations", params={"limit": 3}, headers=auth(tokens["platform"]))
    assert first.status_code == 200 and first.json()["status_code"] == 1000
    assert first.headers["x-total-count"] == "7" and int(first.headers["x-limit"]) >= 3
    ids = [loc["id"] for loc in first.json()["data"]]
    link = first.headers["link"]
    pages = 1
    while link:
        url = link.split(";")[0].strip("<> ")
        assert 'rel="next"' in link
        parts = urlsplit(url)
        page = client.get(f"{parts.path}?{parts.query}", headers=auth(tokens["platform"]))
        ids += [loc["id"] for loc in page.json()["data"]]
        link = page.headers.get("link", "")
        pages += 1
    assert pages == 3 and sorted(ids) == [f"S{n}" for n in range(1, 8)]


def test_ocpp_chargers_appear_with_their_status_mapped(
    world: tuple[TestClient, OcpiParty, dict[str, str]],
) -> None:
    client, _, tokens = world
    data = client.get(f"{SENDER}/locations/S1", headers=auth(tokens["platform"])).json()["data"]
    assert data["coordinates"] == {"latitude": "38.405000", "longitude": "112.747000"}
    assert data["time_zone"] == "Asia/Shanghai" and data["country"] == "CHN"
    statuses = {e["uid"]: e["status"] for e in data["evses"]}
    # Occupied (plugged in, idle) is CHARGING in OCPI's words; faulted is OUTOFORDER.
    assert statuses == {"C1-1": "CHARGING", "C1-2": "OUTOFORDER"}
    connector = data["evses"][0]["connectors"][0]
    assert connector["standard"] == "GBT_DC" and connector["power_type"] == "DC"
    assert connector["max_electric_power"] == 60_000
    # A charger that never said a word is UNKNOWN (OCPI's "offline").
    s2 = client.get(f"{SENDER}/locations/S2", headers=auth(tokens["platform"])).json()["data"]
    assert [e["status"] for e in s2["evses"]] == ["UNKNOWN"]
    assert s2["evses"][0]["connectors"][0]["power_type"] == "AC_1_PHASE"


def test_date_from_and_date_to_select_by_last_updated(
    world: tuple[TestClient, OcpiParty, dict[str, str]],
) -> None:
    client, _, tokens = world
    # S1's last_updated is its newest status (minute 11); S3..S7 changed at minutes 3..7.
    got = client.get(
        f"{SENDER}/locations",
        params={"date_from": ts(5), "date_to": ts(11)},
        headers=auth(tokens["platform"]),
    )
    assert sorted(loc["id"] for loc in got.json()["data"]) == ["S5", "S6", "S7"]
    later = client.get(
        f"{SENDER}/locations", params={"date_from": ts(11)}, headers=auth(tokens["platform"])
    )
    assert [loc["id"] for loc in later.json()["data"]] == ["S1"]
    bad = client.get(
        f"{SENDER}/locations", params={"date_from": "yesterday"}, headers=auth(tokens["platform"])
    )
    assert bad.json()["status_code"] == 2001


def test_sessions_are_sent_and_an_operator_sees_only_its_own(
    world: tuple[TestClient, OcpiParty, dict[str, str]],
) -> None:
    client, _, tokens = world
    everything = client.get(f"{SENDER}/sessions", headers=auth(tokens["platform"])).json()["data"]
    by_id = {s["id"]: s for s in everything}
    assert set(by_id) == {"TX1", "TX2"}
    assert by_id["TX1"]["status"] == "COMPLETED" and by_id["TX1"]["kwh"] == 20.0
    assert by_id["TX1"]["location_id"] == "S1" and by_id["TX1"]["evse_uid"] == "C1-1"
    assert by_id["TX2"]["status"] == "ACTIVE"
    # C2 stands at S2, which belongs to OP1; OP2's platform sees neither session.
    assert client.get(f"{SENDER}/sessions", headers=auth(tokens["op2"])).json()["data"] == []
    assert len(client.get(f"{SENDER}/sessions", headers=auth(tokens["op1"])).json()["data"]) == 2
    op2_locations = client.get(f"{SENDER}/locations", headers=auth(tokens["op2"])).json()["data"]
    assert sorted(loc["id"] for loc in op2_locations) == ["S3", "S5", "S7"]


def _crawl(
    client: TestClient, token: str, first: dict[str, str], between: Any = None
) -> tuple[list[str], set[str]]:
    """Follow rel="next" from the first page; `between` runs after the first page."""
    reply = client.get(f"{SENDER}/locations", params=first, headers=auth(token))
    ids = [loc["id"] for loc in reply.json()["data"]]
    totals = {reply.headers["x-total-count"]}
    if between is not None:
        between(ids)
    link = reply.headers.get("link", "")
    while link:
        parts = urlsplit(link.split(";")[0].strip("<> "))
        reply = client.get(f"{parts.path}?{parts.query}", headers=auth(token))
        ids += [loc["id"] for loc in reply.json()["data"]]
        totals.add(reply.headers["x-total-count"])
        link = reply.headers.get("link", "")
    return ids, totals


@pytest.mark.parametrize("window", [{}, {"date_from": ts(-60)}], ids=["all", "date_from"])
def test_paging_misses_nothing_while_a_location_changes(
    world: tuple[TestClient, OcpiParty, dict[str, str]], window: dict[str, str]
) -> None:
    """4.1.4.1: the sequence of objects must not change while a client crawls the pages. A
    status PATCH on a Location already read must not push the unread ones back a page."""
    client, _, tokens = world
    receiver = "/ocpi/2.2.1/receiver/locations/CN/XZP"
    for n in range(1, 9):  # P1..P8, older than the world's stations S1..S7
        evse = spec.evse(f"P{n}-E1", minutes=-30 + n)
        body = spec.location(f"P{n}", minutes=-30 + n, evses=[evse])
        assert client.put(f"{receiver}/P{n}", json=body, headers=auth(tokens["op1"])).is_success

    def change_first(ids: list[str]) -> None:
        assert ids == ["P1", "P2"]
        patch = {"status": "CHARGING", "last_updated": ts(50)}
        reply = client.patch(f"{receiver}/P1/P1-E1", json=patch, headers=auth(tokens["op1"]))
        assert reply.json()["status_code"] == 1000

    ids, totals = _crawl(client, tokens["op1"], {"limit": "2", **window}, change_first)
    expected = {f"P{n}" for n in range(1, 9)} | {"S1", "S2", "S4", "S6"}  # OP1's own
    assert totals == {str(len(expected))}  # X-Total-Count did not move
    assert sorted(ids) == sorted(expected), ids  # each once, none missed
