"""Logins, roles and scopes over HTTP: 401 for anonymous calls to non-public endpoints,
403 outside the role or the jurisdiction, and reads narrowed to what the caller may see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chargenet.app.accounts import PasswordHasher
from chargenet.bootstrap import Platform
from chargenet.core.access import Role
from chargenet.core.events import AlarmRaised, ConnectorStatusChanged, SessionStarted
from chargenet.core.ids import AlarmId, ConnectorId, SessionId
from chargenet.core.registry.model import Access
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import Severity, TargetKind
from chargenet.entrypoints.web import create_app
from tests.builders import at, charger, meta, operator, small_world, station

PASSWORD = "correct horse"


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    platform.accounts.hasher = PasswordHasher(n=2**10, r=8, p=1)
    platform.ingestor.ingest(
        [
            *small_world(),  # public S1 of OP1 in Xinfu District (140902)
            operator("OP2", name="Fleet Two"),
            station("S3", "OP2", lat=38.73, lon=112.71, access=Access.DEDICATED),  # Yuanping
            charger("C3", "S3"),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C3-1-1"), status=ConnectorStatus.AVAILABLE
            ),
            SessionStarted(
                **meta(at(2)), session_id=SessionId("T1"), connector_id=ConnectorId("C1-1-1")
            ),
            SessionStarted(
                **meta(at(2)), session_id=SessionId("T3"), connector_id=ConnectorId("C3-1-1")
            ),
            AlarmRaised(
                **meta(at(3)),
                alarm_id=AlarmId("A3"),
                target_kind=TargetKind.CHARGER,
                target_id="C3",
                code="HighTemperature",
                severity=Severity.MAJOR,
            ),
        ]
    )
    for name, role, op, area in (
        ("admin", Role.ADMIN, None, None),
        ("xinzhou", Role.REGULATOR, None, "140900"),
        ("xinfu", Role.REGULATOR, None, "140902"),
        ("op2", Role.OPERATOR, "OP2", None),
    ):
        platform.accounts.add_user(name, PASSWORD, role, operator_id=op, area_code=area)
    with TestClient(create_app(platform, api_tokens=["secret"])) as test_client:
        yield test_client


def login(client: TestClient, name: str) -> str:
    response = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def test_login_sets_a_strict_http_only_session_cookie(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "xinfu", "password": PASSWORD})
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("chargenet_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/v1/auth/me").json()["area_code"] == "140902"


def test_wrong_password_is_401_and_me_needs_a_session(client: TestClient) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "xinfu", "password": "nope"})
    assert wrong.status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401


def test_state_changing_calls_on_a_cookie_need_the_csrf_token(client: TestClient) -> None:
    csrf = login(client, "xinzhou")
    assert client.post("/api/v1/auth/logout").status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200  # still logged in
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/dashboard/overview").status_code == 401


def test_the_dashboard_refuses_anonymous_operators_and_foreign_areas(client: TestClient) -> None:
    assert client.get("/api/v1/dashboard/overview?area=140900").status_code == 401
    login(client, "op2")
    assert client.get("/api/v1/dashboard/overview?area=140900").status_code == 403
    login(client, "xinfu")
    assert client.get("/api/v1/dashboard/overview").json()["area"]["code"] == "140902"
    assert client.get("/api/v1/dashboard/overview?area=140900").status_code == 403
    assert client.get("/api/v1/dashboard/plan?area=140981").status_code == 403
    assert client.get("/api/v1/reports/monthly?area=140900&month=2025-05").status_code == 403


def test_anonymous_callers_see_public_sites_only(client: TestClient) -> None:
    assert [s["station_id"] for s in client.get("/api/v1/stations").json()] == ["S1"]
    assert client.get("/api/v1/stations/S3").status_code == 404
    connectors = client.get("/api/v1/connectors").json()
    assert {c["station_id"] for c in connectors} == {"S1"}
    detail = client.get("/api/v1/stations/S1").json()
    assert detail["chargers"][0]["serial_number"] is None
    assert client.get("/api/v1/chargers").status_code == 401
    assert client.get("/api/v1/sessions").status_code == 401
    assert client.get("/api/v1/events").status_code == 401


def test_an_operator_sees_its_own_private_sites_and_sessions(client: TestClient) -> None:
    login(client, "op2")
    stations = {s["station_id"] for s in client.get("/api/v1/stations").json()}
    assert stations == {"S1", "S3"}  # public ones and its own
    assert [c["charger_id"] for c in client.get("/api/v1/chargers").json()] == ["C3"]
    assert client.get("/api/v1/chargers/C1").status_code == 404
    assert [s["session_id"] for s in client.get("/api/v1/sessions").json()] == ["T3"]
    events = client.get("/api/v1/events").json()
    assert events == []  # the test events came from no operator's platform


def test_a_regulator_reads_its_jurisdiction(client: TestClient) -> None:
    login(client, "xinfu")
    assert {s["station_id"] for s in client.get("/api/v1/stations").json()} == {"S1"}
    assert [s["session_id"] for s in client.get("/api/v1/sessions").json()] == ["T1"]
    assert client.get("/api/v1/events").status_code == 403  # the log is platform-wide
    login(client, "xinzhou")
    assert {s["station_id"] for s in client.get("/api/v1/stations").json()} == {"S1", "S3"}
    assert {s["session_id"] for s in client.get("/api/v1/sessions").json()} == {"T1", "T3"}


def test_bearer_tokens_still_work_and_need_no_csrf(client: TestClient) -> None:
    headers = {"Authorization": "Bearer secret"}
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    assert client.get("/api/v1/dashboard/overview?area=140900", headers=headers).status_code == 200


def test_alarm_lists_and_counts_stay_in_the_jurisdiction(client: TestClient) -> None:
    login(client, "xinfu")
    assert client.get("/api/v1/dashboard/alarms").json() == []
    assert client.get("/api/v1/dashboard/overview").json()["open_alarms"] == 0
    login(client, "xinzhou")
    alarms = client.get("/api/v1/dashboard/alarms")
    assert [a["alarm_id"] for a in alarms.json()] == ["A3"] and alarms.headers[
        "x-total-count"
    ] == "1"
    assert client.get("/api/v1/dashboard/overview").json()["open_alarms"] == 1


def test_planning_for_regulators_keeps_to_their_jurisdiction(client: TestClient) -> None:
    login(client, "xinfu")  # a regulator of Xinfu District (140902)
    refused = [
        "/api/v1/planning/progress?area=450200&month=2025-05",
        "/api/v1/planning/progress?area=140900&month=2025-05",  # the city above it
        "/api/v1/planning/siting?area=450200&year=2025",
        "/api/v1/planning/siting?area=140981&year=2025",
    ]
    assert {url: client.get(url).status_code for url in refused} == dict.fromkeys(refused, 403)
    own = client.get("/api/v1/planning/progress?area=140902&month=2025-05")
    assert own.status_code == 200, own.text
