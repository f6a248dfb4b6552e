"""The regulator dashboard's figures over HTTP: the trends' valley share is orderly
charging's own figure, and uptime and scorecards are answered from a cache that follows
their inputs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from chargenet.bootstrap import Platform
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app
from tests.builders import at, meta, small_world

LOCAL = ZoneInfo("Asia/Shanghai")
ADMIN = {"Authorization": "Bearer admin"}


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    platform.ingestor.ingest(
        [
            *small_world(),
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
            ),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.AVAILABLE
            ),
        ]
    )
    with TestClient(create_app(platform, api_tokens=["admin"])) as test_client:
        yield test_client


def _session(sid: str, connector: str, start: datetime, hours: float, wh: int) -> list[Any]:
    end = start + timedelta(hours=hours)
    return [
        SessionStarted(
            **meta(start),
            session_id=SessionId(sid),
            connector_id=ConnectorId(connector),
            meter_start_wh=0,
        ),
        SessionEnded(**meta(end), session_id=SessionId(sid), meter_stop_wh=wh),
    ]


def test_the_trends_show_each_months_valley_share_as_orderly_charging_counts_it(
    client: TestClient, platform: Platform
) -> None:
    today = datetime.now(LOCAL)
    last_month_end = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first = (last_month_end - timedelta(days=1)).replace(day=1)
    night, morning = first.replace(day=5, hour=2), first.replace(day=5, hour=9)
    outcomes = platform.ingestor.ingest(
        [*_session("N1", "C1-1-1", night, 2, 20_000), *_session("M1", "C1-2-1", morning, 1, 10_000)]
    )
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    trends = client.get(
        "/api/v1/dashboard/trends", params={"area": "140900", "months": 3}, headers=ADMIN
    ).json()
    by_month = {p["month"]: p for p in trends["points"]}
    orderly = client.get(
        "/api/v1/orderly/valley-share",
        params={"start": first.isoformat(), "end": last_month_end.isoformat(), "area": "140900"},
        headers=ADMIN,
    ).json()
    assert orderly["valley_share"] == pytest.approx(20 / 30, abs=1e-3)
    assert by_month[f"{first:%Y-%m}"]["valley_share"] == orderly["valley_share"]
    # a month without charging has no share (not 0 %)
    before = (first - timedelta(days=1)).replace(day=1)
    assert by_month[f"{before:%Y-%m}"]["valley_share"] is None


def test_uptime_and_scorecards_are_kept_until_a_report_about_their_period_arrives(
    client: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = platform.supervision
    measured: list[Any] = []
    real = service.measure

    def counting(*a: Any, **k: Any) -> Any:
        measured.append(a)
        return real(*a, **k)

    monkeypatch.setattr(service, "measure", counting)
    period = {"start": at(0).isoformat(), "end": at(24 * 60).isoformat()}

    def figures() -> tuple[Any, Any]:
        uptime = client.get(
            "/api/v1/supervision/uptime", params={**period, "by": "all"}, headers=ADMIN
        )
        cards = client.get("/api/v1/supervision/scorecards", params=period, headers=ADMIN)
        assert uptime.status_code == cards.status_code == 200
        return uptime.json(), cards.json()

    first = figures()
    assert len(measured) == 2  # computed once each
    assert figures() == first
    assert len(measured) == 2  # the second regulator reads the kept answers
    # a report from after the period changes nothing in it: still kept
    later = datetime.now(UTC)
    platform.ingestor.ingest(
        [
            ConnectorStatusChanged(
                **meta(later), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.CHARGING
            )
        ]
    )
    assert figures() == first and len(measured) == 2
    # a late report about the period (a fault at its middle) is counted at once
    platform.ingestor.ingest(
        [
            ConnectorStatusChanged(
                **meta(at(12 * 60)),
                connector_id=ConnectorId("C1-2-1"),
                status=ConnectorStatus.FAULTED,
            )
        ]
    )
    uptime, cards = figures()
    assert len(measured) == 4
    assert uptime[0]["nevi_uptime"] < first[0][0]["nevi_uptime"]
    assert cards[0]["values"]["uptime"] < first[1][0]["values"]["uptime"]
