"""Supervision endpoints over HTTP: who may see what, and the exports."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from chargenet.adapters.api.auth import StaticTokens
from chargenet.app.orders import Order, OrderResult
from chargenet.bootstrap import Platform
from chargenet.core.access import Principal, Role
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, ZombieDetected
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.oversight import ZombieRule
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import OrderOutcome
from chargenet.entrypoints.web import create_app
from tests.builders import at, charger, meta, operator, small_world, station

TOKENS = {
    "xinfu": Principal("xinfu-bureau", Role.REGULATOR, area_code="140902"),
    "yuanping": Principal("yuanping-bureau", Role.REGULATOR, area_code="140981"),
    "op1": Principal("op1-staff", Role.OPERATOR, operator_id="OP1"),
    "op2": Principal("op2-staff", Role.OPERATOR, operator_id="OP2"),
    "public": Principal("someone", Role.PUBLIC),
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Accepting:
    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        return OrderResult(OrderOutcome.ACCEPTED, "Accepted")


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    platform.ingestor.ingest(
        [
            *small_world(),
            operator("OP2", name="Operator Two"),
            station("S2", "OP2", lat=38.73, lon=112.71),  # in Yuanping
            charger("C9", "S2", guns=1),
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
            ),
            ConnectorStatusChanged(
                **meta(at(62)),
                connector_id=ConnectorId("C1-2-1"),
                status=ConnectorStatus.FAULTED,
                error_code="GroundFailure",
            ),
        ]
    )
    platform.orders.register("ocpp1.6", Accepting())
    app = create_app(platform, api_tokens=["admin"], authenticators=[StaticTokens(TOKENS)])
    with TestClient(app) as test_client:
        yield test_client


PERIOD = {"start": "2025-05-01T08:00:00Z", "end": "2025-05-02T08:00:00Z"}


def test_supervision_needs_a_login_and_the_right_role(client: TestClient) -> None:
    assert client.get("/api/v1/supervision/uptime").status_code == 401
    stop = {"target_kind": "station", "target_id": "S1", "reason": "hazard"}
    response = client.post("/api/v1/supervision/stop-orders", json=stop, headers=auth("op1"))
    assert response.status_code == 403


def test_each_principal_sees_its_own_area_or_operator(client: TestClient) -> None:
    def stations(token: str, **params: str) -> Any:
        response = client.get(
            "/api/v1/supervision/uptime", params={**PERIOD, **params}, headers=auth(token)
        )
        return response.json() if response.status_code == 200 else response.status_code

    assert [r["group"] for r in stations("admin")] == ["S1", "S2"]
    assert [r["group"] for r in stations("xinfu")] == ["S1"]
    assert [r["group"] for r in stations("yuanping")] == ["S2"]
    assert [r["group"] for r in stations("op2")] == ["S2"]
    assert stations("yuanping", area="140902") == 403
    assert stations("op2", operator="OP1") == 403
    history = "/api/v1/supervision/connectors/C1-2-1/history"
    assert client.get(history, params=PERIOD, headers=auth("op2")).status_code == 403
    assert client.get(history, params=PERIOD, headers=auth("yuanping")).status_code == 403
    body = client.get(history, params=PERIOD, headers=auth("op1")).json()
    # In service from its charger's first connection (08:01), not from its import (08:00).
    assert [(i["status"], i["cause"]) for i in body["intervals"]] == [
        ("offline", "no data"),  # the charger is connected, this connector has said nothing
        ("faulted", "GroundFailure"),
    ]
    assert body["intervals"][0]["start"].startswith("2025-05-01T08:01:00")


def test_uptime_exports_as_csv_and_xlsx(client: TestClient) -> None:
    params = {**PERIOD, "by": "connector", "area": "140902"}
    response = client.get(
        "/api/v1/supervision/uptime", params={**params, "format": "csv"}, headers=auth("xinfu")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["group"] for r in rows] == ["C1-1-1", "C1-2-1"]
    # C1-2-1: in service from its charger's first connection at 08:01, offline (no data)
    # until it reports a fault at 09:02, faulted to the end.
    assert float(rows[1]["faulted_hours"]) == pytest.approx(22 + 58 / 60, abs=1e-4)
    assert float(rows[1]["offline_hours"]) == pytest.approx(1 + 1 / 60, abs=1e-4)
    response = client.get(
        "/api/v1/supervision/uptime", params={**params, "format": "xlsx"}, headers=auth("xinfu")
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = list(sheet.values)
    assert values[0][:5] == ("group", "name", "unit", "ports", "connectors")
    assert [v[0] for v in values[1:]] == ["C1-1-1", "C1-2-1"]


def test_a_regulator_stops_a_station_and_lifts_the_order(client: TestClient) -> None:
    stop = {"target_kind": "station", "target_id": "S1", "reason": "smoke seen at the cabinet"}
    response = client.post("/api/v1/supervision/stop-orders", json=stop, headers=auth("xinfu"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "in_force" and [d["outcome"] for d in body["deliveries"]] == [
        "accepted"
    ]
    other = client.post(
        "/api/v1/supervision/stop-orders",
        json={**stop, "target_id": "S1"},
        headers=auth("yuanping"),
    )
    assert other.status_code == 403
    assert (
        client.get(
            f"/api/v1/supervision/stop-orders/{body['stop_id']}", headers=auth("op2")
        ).status_code
        == 403
    )
    lifted = client.post(
        f"/api/v1/supervision/stop-orders/{body['stop_id']}/lift",
        json={"reason": "cabinet inspected"},
        headers=auth("xinfu"),
    )
    assert lifted.json()["state"] == "lifted"
    listed = client.get("/api/v1/supervision/stop-orders", headers=auth("op1")).json()
    assert [s["stop_id"] for s in listed] == [body["stop_id"]]


def test_an_operator_marks_an_exclusion_on_its_own_equipment_only(client: TestClient) -> None:
    mark = {
        "target_kind": "charger",
        "target_id": "C1",
        "start": "2025-05-01T10:00:00Z",
        "end": "2025-05-01T12:00:00Z",
        "reason": "utility_outage",
        "note": "grid maintenance by the utility",
    }
    assert (
        client.post("/api/v1/supervision/exclusions", json=mark, headers=auth("op2")).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/supervision/exclusions",
            json={**mark, "reason": "bad luck"},
            headers=auth("op1"),
        ).status_code
        == 422
    )
    response = client.post("/api/v1/supervision/exclusions", json=mark, headers=auth("op1"))
    assert response.status_code == 201
    [row] = client.get(
        "/api/v1/supervision/uptime",
        params={**PERIOD, "by": "connector", "station": "S1"},
        headers=auth("op1"),
    ).json()[1:]
    assert row["group"] == "C1-2-1" and row["excluded_hours"] == 2


def test_uptime_with_an_end_ahead_counts_up_to_now(client: TestClient) -> None:
    """An `end` in the future must not count time that has not happened as if the last
    status went on (NEVI 680.116(b), PCPR reg. 7 measure time a port was in service)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    params = {
        "start": (now - timedelta(days=1)).isoformat(),
        "end": (now + timedelta(days=29)).isoformat(),
        "by": "connector",
        "area": "140902",
    }
    response = client.get("/api/v1/supervision/uptime", params=params, headers=auth("xinfu"))
    rows = {r["group"]: r for r in response.json()}
    assert rows["C1-1-1"]["hours"] == pytest.approx(24, abs=0.01)  # not 720
    assert rows["C1-1-1"]["nevi_uptime"] == 100.0


def test_an_operator_reports_a_rectification_on_its_own_case(
    client: TestClient, platform: Platform
) -> None:
    platform.ingestor.ingest(
        [
            ZombieDetected(
                **meta(at(100)),
                case_id="Z1",
                charger_id=ChargerId("C1"),
                rules=(ZombieRule.LONG_DOWN,),
                since=at(0),
                evidence="down for 40 days",
            )
        ]
    )
    url = "/api/v1/supervision/zombies/Z1/rectification"
    note = {"note": "replaced the power module"}
    assert client.post(url, json=note, headers=auth("op2")).status_code == 403  # not its own
    assert client.post(url, json=note, headers=auth("xinfu")).status_code == 403  # closes
    assert client.post(url, json={"note": ""}, headers=auth("op1")).status_code == 422
    answer = client.post(url, json=note, headers=auth("op1"))
    assert answer.status_code == 200
    assert answer.json()["stage"] != "closed"  # the case stays open for the rules to close
    [step] = [s for s in answer.json()["steps"] if s["step"] == "reported"]
    assert step["detail"] == "op1-staff: replaced the power module"
    [case] = client.get("/api/v1/supervision/zombies", headers=auth("xinfu")).json()
    assert case["reported_at"] is not None  # the regulator's list shows it
    closed = client.post(
        "/api/v1/supervision/zombies/Z1/close", json={"outcome": "dismissed"}, headers=auth("xinfu")
    )
    assert closed.status_code == 200
    assert client.post(url, json=note, headers=auth("op1")).status_code == 409


def test_the_evchart_and_uk_filings_download_within_the_callers_reach(client: TestClient) -> None:
    response = client.get(
        "/api/v1/supervision/uptime/nevi/evchart",
        params={"year": 2025, "quarter": 2},
        headers=auth("xinfu"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        outages = list(
            csv.DictReader(
                io.StringIO(archive.read("evchart-2025-q2-outage.csv").decode("utf-8-sig"))
            )
        )
        stations = archive.read("evchart-2025-q2-station.csv").decode("utf-8-sig")
    # From the charger's connection at 08:01, no data until each connector's first report:
    # C1-1-1 a minute; C1-2-1 then faulted for good, one outage to now.
    first, second = outages
    assert (first["port_id"], first["outage_id"], first["outage_duration"]) == (
        "C1-1",
        "2025-05-01T08:01:00Z",
        "1.00",
    )
    assert (second["port_id"], second["outage_id"]) == ("C1-2", "2025-05-01T08:01:00Z")
    assert "S1" in stations and "S2" not in stations  # S2 is in Yuanping
    response = client.get(
        "/api/v1/supervision/uptime/nevi/evchart",
        params={"year": 2025, "quarter": 2, "format": "json", "area": "140902"},
        headers=auth("yuanping"),
    )
    assert response.status_code == 403
    response = client.get(
        "/api/v1/supervision/uptime/uk/annual-report",
        params={"year": 2025, "format": "json"},
        headers=auth("op1"),
    )
    report = response.json()["report"]
    assert [(r["operator_id"], r["rapid_charge_points"]) for r in report] == [("OP1", 1)]
    response = client.get(
        "/api/v1/supervision/uptime/uk/annual-report", params={"year": 2025}, headers=auth("op1")
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["report", "charge_points", "basis"]


def test_public_hours_are_set_by_their_operator_or_regulator_and_shown_in_the_finder(
    client: TestClient,
) -> None:
    url = "/api/v1/supervision/stations/S1/public-hours"
    body = {"hours": "Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00", "note": "机关错时开放"}
    assert client.put(url, json=body, headers=auth("op2")).status_code == 403
    assert client.put(url, json=body, headers=auth("yuanping")).status_code == 403
    wrong = client.put(url, json={"hours": "evenings"}, headers=auth("op1"))
    assert wrong.status_code == 422 and "Mo-Fr 18:00-08:00" in wrong.json()["detail"]
    assert client.put(url, json=body, headers=auth("xinfu")).status_code == 200
    for _ in range(100):  # the finder's index follows the bus
        shown = client.get("/api/v1/finder/stations/S1").json()
        if shown["public_hours"]:
            break
        time.sleep(0.02)
    assert shown["public_hours_label"] == {
        "en": "open to the public Mon–Fri 18:00–08:00; Sat–Sun all day",
        "zh": "对外开放 周一至周五 18:00–08:00；周六至周日 全天",
    }
    assert isinstance(shown["open_now"], bool)
    assert client.put(url, json={"hours": ""}, headers=auth("op1")).status_code == 200


def test_an_operator_reports_a_rectification_on_a_stop_order_addressed_to_it(
    client: TestClient,
) -> None:
    issued = client.post(
        "/api/v1/supervision/stop-orders",
        json={"target_kind": "station", "target_id": "S1", "reason": "exposed wiring"},
        headers=auth("xinfu"),
    )
    assert issued.status_code in (200, 201), issued.text
    stop_id = issued.json()["stop_id"]
    url = f"/api/v1/supervision/stop-orders/{stop_id}/rectification"
    note = {"note": "wiring enclosed, inspected by an electrician"}
    assert client.post(url, json=note, headers=auth("op2")).status_code == 403  # not its own
    assert client.post(url, json=note, headers=auth("xinfu")).status_code == 403  # lifts
    assert client.post(url, json={"note": ""}, headers=auth("op1")).status_code == 422
    answer = client.post(url, json=note, headers=auth("op1"))
    assert answer.status_code == 200, answer.text
    order = answer.json()
    assert order["lifted_at"] is None  # still in force: a regulator lifts it
    assert order["rectification"] == note["note"] and order["rectified_by"] == "op1-staff"
    [seen] = client.get("/api/v1/supervision/stop-orders", headers=auth("xinfu")).json()
    assert seen["rectified_at"] is not None and seen["rectification"] == note["note"]
    lifted = client.post(
        f"/api/v1/supervision/stop-orders/{stop_id}/lift",
        json={"reason": "checked on site"},
        headers=auth("xinfu"),
    )
    assert lifted.status_code == 200
    assert client.post(url, json=note, headers=auth("op1")).status_code == 409
