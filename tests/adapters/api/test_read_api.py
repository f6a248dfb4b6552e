"""The read API over real HTTP semantics (ASGI), on a real store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chargenet.bootstrap import Platform
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app
from tests.builders import at, meta, small_world, station


@pytest.fixture(scope="module")
def client(module_platform: Platform) -> Iterator[TestClient]:
    """One app for the module: its tests only read."""
    platform = module_platform
    platform.ingestor.ingest(
        [
            *small_world(),
            station("S2", lat=38.73, lon=112.71),
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            ),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.FAULTED
            ),
        ]
    )
    with TestClient(create_app(platform, api_tokens=["secret"])) as test_client:
        yield test_client


def test_area_detail_counts_piles_and_live_status(client: TestClient) -> None:
    body = client.get("/api/v1/areas/140902").json()
    assert body["name_zh"] == "忻府区"
    assert [a["code"] for a in body["ancestors"]] == ["140000", "140900"]
    assert body["piles"]["total"] == 2 and body["piles"]["fast"] == 2
    assert body["status"]["charging"] == 1 and body["status"]["faulted"] == 1


def test_lists_page_and_say_the_total(client: TestClient) -> None:
    response = client.get("/api/v1/areas", params={"parent": "140900", "limit": 1})
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "2"
    assert len(response.json()) == 1
    stations = client.get("/api/v1/stations", params={"area": "140981"}).json()
    assert [s["station_id"] for s in stations] == ["S2"]


def test_station_detail_shows_each_connectors_live_status(client: TestClient) -> None:
    body = client.get("/api/v1/stations/S1").json()
    statuses = {c["connector_id"]: c["status"] for c in body["chargers"][0]["connectors"]}
    assert statuses == {"C1-1-1": "charging", "C1-2-1": "faulted"}


def test_connectors_filter_by_effective_status(client: TestClient) -> None:
    rows = client.get("/api/v1/connectors", params={"status": "charging"}).json()
    assert [r["connector_id"] for r in rows] == ["C1-1-1"]
    assert client.get("/api/v1/connectors", params={"status": "nonsense"}).status_code == 422


def test_unknown_ids_are_404_with_the_id_named(client: TestClient) -> None:
    response = client.get("/api/v1/stations/NOPE")
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown station 'NOPE'"
    assert client.get("/api/v1/stations", params={"area": "XX"}).status_code == 404


def test_the_event_log_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/events").status_code == 401
    wrong = client.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = client.get(
        "/api/v1/events",
        headers={"Authorization": "Bearer secret"},
        params={"type": "connector.status_changed"},
    )
    assert ok.status_code == 200
    assert [e["status"] for e in ok.json()] == ["charging", "faulted"]
    after = ok.json()[0]["seq"]
    rest = client.get(
        "/api/v1/events",
        headers={"Authorization": "Bearer secret"},
        params={"after_seq": after, "type": "connector.status_changed"},
    ).json()
    assert [e["status"] for e in rest] == ["faulted"]


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/stations/{station_id}" in spec["paths"]
    assert client.get("/docs").status_code == 200
