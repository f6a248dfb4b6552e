"""The public open-data feed: no login, public stations only, static and live data with the
ad-hoc price, and a rate limit per client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from chargenet.adapters.api.opendata import RateLimiter
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.registry.model import Access
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app, open_data
from tests.builders import at, charger, meta, small_world, station


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    platform.ingestor.ingest(
        [
            *small_world(),
            station("DEPOT", access=Access.DEDICATED, name="公交场站"),
            charger("C9", "DEPOT", guns=1),
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            ),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.AVAILABLE
            ),
        ]
    )
    platform.settings = replace(platform.settings, open_data_per_minute=8)
    ocpi = build_ocpi(platform)
    with TestClient(create_app(platform, routers=[open_data(ocpi)])) as test_client:
        yield test_client
    ocpi.directory.dispose()


def test_public_sites_with_position_power_connectors_and_status(client: TestClient) -> None:
    response = client.get("/open-data/v1/sites")
    assert response.status_code == 200 and response.headers["x-total-count"] == "1"
    (site,) = response.json()  # the dedicated bus depot is not public
    assert site["station_id"] == "S1" and (site["lat"], site["lon"]) == (38.405, 112.747)
    assert site["operator"] == {"id": "OP1", "name": "Operator One"}
    connectors = [c for e in site["evses"] for c in e["connectors"]]
    assert {(c["connector_id"], c["status"], c["ocpi_status"]) for c in connectors} == {
        ("C1-1-1", "charging", "CHARGING"),
        ("C1-2-1", "available", "AVAILABLE"),
    }
    assert {c["max_power_w"] for c in connectors} == {60_000}
    assert {c["ocpi_standard"] for c in connectors} == {"GBT_DC"}
    assert response.headers["access-control-allow-origin"] == "*"


def test_live_status_since(client: TestClient) -> None:
    everything = client.get("/open-data/v1/status").json()
    assert {r["connector_id"]: r["status"] for r in everything} == {
        "C1-1-1": "charging",
        "C1-2-1": "available",
    }
    assert client.get("/open-data/v1/status", params={"since": "2025-05-01T09:00:00Z"}).json() == []
    bad = client.get("/open-data/v1/status", params={"since": "soon"})
    assert bad.status_code == 400 and "since" in bad.json()["detail"]


def test_rate_limited_per_client(client: TestClient) -> None:
    codes = [client.get("/open-data/v1").status_code for _ in range(10)]
    assert codes[:8] == [200] * 8 and codes[8:] == [429, 429]
    limited = client.get("/open-data/v1/sites")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a")[0] for _ in range(60))
    assert limiter.take("a")[0] is False and limiter.take("b")[0] is True
    now[0] += 2.0  # one request a second comes back
    assert [limiter.take("a")[0] for _ in range(3)] == [True, True, False]
