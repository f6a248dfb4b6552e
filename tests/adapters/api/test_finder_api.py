"""The finder over HTTP: nearest stations with live status, station detail, GCJ-02 input."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chargenet.bootstrap import Platform
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.registry.model import Access
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app
from chargenet.kit.geo import wgs84_to_gcj02
from tests.builders import at, charger, meta, small_world, station


@pytest.fixture(scope="module")
def client(module_platform: Platform) -> Iterator[TestClient]:
    """One app for the module: its tests only read."""
    platform = module_platform
    platform.ingestor.ingest(
        [
            *small_world(),
            station("S2", lat=38.45, lon=112.75),
            charger("C2", "S2", dc=False, power_w=7_000),
            station("HOME", lat=38.4051, lon=112.7471, access=Access.PRIVATE),
            charger("CH", "HOME"),
            *[
                ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId(c), online=True)
                for c in ("C1", "C2", "CH")
            ],
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            ),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.FAULTED
            ),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C2-1-1"), status=ConnectorStatus.AVAILABLE
            ),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("CH-1-1"), status=ConnectorStatus.AVAILABLE
            ),
        ]
    )
    with TestClient(create_app(platform)) as test_client:
        deadline = time.monotonic() + 5
        while client_status(test_client) == 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        yield test_client


def client_status(client: TestClient) -> int:
    return client.get("/api/v1/finder/nearest", params={"lat": 38.4, "lon": 112.7}).status_code


def test_nearest_stations_with_live_status_nearest_first(client: TestClient) -> None:
    body = client.get("/api/v1/finder/nearest", params={"lat": 38.405, "lon": 112.747}).json()
    assert [s["station_id"] for s in body] == ["S1", "S2"]  # never the private HOME
    s1 = body[0]
    assert s1["distance_m"] < 10 and s1["available"] == 0 and s1["total"] == 2
    assert {c["status"] for c in s1["connectors"]} == {"charging", "faulted"}
    assert s1["price"] is None  # no tariff and no priced session yet


def test_available_now_and_dc_filters(client: TestClient) -> None:
    free = client.get(
        "/api/v1/finder/nearest", params={"lat": 38.405, "lon": 112.747, "available": "true"}
    ).json()
    assert [s["station_id"] for s in free] == ["S2"]
    fast_free = client.get(
        "/api/v1/finder/nearest",
        params={"lat": 38.405, "lon": 112.747, "available": "true", "dc": "true"},
    ).json()
    assert fast_free == []
    strong = client.get(
        "/api/v1/finder/nearest", params={"lat": 38.405, "lon": 112.747, "min_power_kw": 50}
    ).json()
    assert [s["station_id"] for s in strong] == ["S1"]


def test_a_point_in_gcj02_is_converted_first(client: TestClient) -> None:
    lat, lon = wgs84_to_gcj02(38.45, 112.75)
    body = client.get(
        "/api/v1/finder/nearest", params={"lat": lat, "lon": lon, "datum": "GCJ02", "limit": 1}
    ).json()
    assert body[0]["station_id"] == "S2" and body[0]["distance_m"] < 5


def test_station_detail_lists_every_connector(client: TestClient) -> None:
    body = client.get("/api/v1/finder/stations/S2").json()
    assert body["connectors"][0]["power_type"] == "ac" and body["available"] == 1
    assert client.get("/api/v1/finder/stations/HOME").status_code == 404
    assert client.get("/api/v1/finder/nearest", params={"lat": 99, "lon": 0}).status_code == 422
