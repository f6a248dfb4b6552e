"""Orderly charging's figures over HTTP, each caller narrowed to what it may see, on the
hand-made month of tests/orderly_world.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from chargenet.adapters.api.auth import StaticTokens
from chargenet.bootstrap import Platform
from chargenet.core.access import Principal, Role
from chargenet.core.events import MeterSampled
from chargenet.core.ids import ConnectorId
from chargenet.entrypoints.web import create_app
from tests.builders import meta
from tests.orderly_world import grid_world

TOKENS = {
    "xinzhou": Principal("xinzhou-bureau", Role.REGULATOR, area_code="140900"),
    "yuanping": Principal("yuanping-bureau", Role.REGULATOR, area_code="140981"),
    "op1": Principal("op1-staff", Role.OPERATOR, operator_id="OP1"),
}
EVENT_DAY = {"day": "2026-11-25"}


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    outcomes = platform.ingestor.ingest(grid_world())
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    app = create_app(platform, authenticators=[StaticTokens(TOKENS)])
    with TestClient(app) as test_client:
        yield test_client


def _as(client: TestClient, who: str, path: str, **params: str) -> object:
    response = client.get(
        f"/api/v1/orderly/{path}", params=params, headers={"Authorization": f"Bearer {who}"}
    )
    return response.json() if response.status_code == 200 else response.status_code


def test_each_caller_sees_the_load_of_its_own_sites(client: TestClient) -> None:
    city = _as(client, "xinzhou", "load", **EVENT_DAY)
    assert isinstance(city, dict)
    assert city["stations"] == 2 and len(city["points"]) == 96
    assert {p["limit_w"] for p in city["points"]} == {150_000}
    assert [e["dr_id"] for e in city["dr_events"]] == ["DR-25"]
    # Yuanping's bureau: its own area by default, S2 only; Xinfu's station is not its own.
    own = _as(client, "yuanping", "load", **EVENT_DAY)
    assert isinstance(own, dict)
    assert own["stations"] == 1 and own["dr_events"] == []
    assert _as(client, "yuanping", "load", area="140902", **EVENT_DAY) == 403
    assert _as(client, "yuanping", "load", station="S1", **EVENT_DAY) == 403
    assert _as(client, "op1", "load", station="S1", **EVENT_DAY) != 403
    assert _as(client, "xinzhou", "load", station="S9", **EVENT_DAY) == 404
    assert _as(client, "xinzhou", "load") == 422  # no period
    assert _as(client, "xinzhou", "load", day="2026-11-01", days="40") == 422


def test_event_performance_is_for_regulators_in_their_area(client: TestClient) -> None:
    period = {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}
    rows = _as(client, "xinzhou", "dr-events/performance", **period)
    assert isinstance(rows, list)
    assert {r["dr_id"]: r["performance_percent"] for r in rows}["DR-25"] == 133.3
    assert _as(client, "yuanping", "dr-events/performance", **period) == []
    assert _as(client, "op1", "dr-events/performance", **period) == 403
    flex = _as(client, "xinzhou", "flexibility", hours="3")
    assert isinstance(flex, dict) and len(flex["hours"]) == 3 and flex["stations"] == 2


def test_a_stations_energy_by_hour_for_those_who_may_see_it(
    client: TestClient, platform: Platform
) -> None:
    t = datetime(2026, 11, 25, 10, tzinfo=UTC)
    platform.ingestor.ingest(
        [
            MeterSampled(
                **meta(t + timedelta(minutes=m)),
                connector_id=ConnectorId(cid),
                energy_register_wh=wh,
                power_w=7_000 + m,
            )
            for cid, m, wh in [
                ("C1-1-1", 0, 1_000),
                ("C1-1-1", 20, 2_000),
                ("C1-1-1", 40, 3_500),
                ("C1-1-1", 60, 4_000),
                ("C1-1-1", 80, 4_200),
                ("C1-2-1", 30, 50_000),
                ("C1-2-1", 50, 50_900),
            ]
        ]
    )
    period = {"start": "2026-11-25T00:00:00+08:00", "end": "2026-11-26T00:00:00+08:00"}
    got = _as(client, "xinzhou", "energy", station="S1", **period)
    assert isinstance(got, dict)
    assert got["energy_wh"] == 3_000 + 900 + 200
    assert [h["energy_wh"] for h in got["hours"]] == [3_000 + 900, 200]
    # The world's own samples of that hour (power only, 20 kW, one at 10:20 as ours) count
    # among the hour's samples and in its highest power.
    first = got["connectors"]["C1-1-1"][0]
    assert (first["energy_wh"], first["max_power_w"], first["samples"]) == (3_000, 20_000, 6)
    assert _as(client, "op1", "energy", station="S1", **period) == got
    assert _as(client, "yuanping", "energy", station="S1", **period) == 403
    assert _as(client, "xinzhou", "energy", station="S9", **period) == 404
    long = {"start": "2026-10-01T00:00:00+08:00", "end": "2026-11-26T00:00:00+08:00"}
    assert _as(client, "xinzhou", "energy", station="S1", **long) == 422
