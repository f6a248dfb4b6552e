"""The monthly report: its workbook, opened with openpyxl, says what the API says."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from chargenet.adapters.reports.columns import COLUMNS
from chargenet.app.figures import Figures, Month
from chargenet.bootstrap import Platform
from chargenet.core.events import AreaStatisticsRecorded, TargetSet
from chargenet.entrypoints.cli.main import app
from chargenet.entrypoints.web import create_app
from tests.builders import charger, meta, small_world, station

NOON = datetime(2025, 6, 1, 4, tzinfo=UTC)


@pytest.fixture
def world(platform: Platform) -> Platform:
    platform.ingestor.ingest(
        [
            *small_world(),  # S1: 2 DC piles in Xinfu, registered 2025-05-01, no commissioning day
            station("S2", lat=38.41, lon=112.75, commissioned_on=date(2024, 11, 2)),
            charger("C2", "S2", guns=4),
            station("S3", lat=38.42, lon=112.76, commissioned_on=date(2025, 5, 20)),
            charger("C3", "S3", guns=2, dc=False, power_w=7_000),
            station("S4", lat=38.73, lon=112.71, commissioned_on=date(2025, 3, 3)),
            charger("C4", "S4", guns=6),  # Yuanping
            AreaStatisticsRecorded(**meta(), area_code="140902", year=2024, ev_count=1_200),
            TargetSet(
                **meta(),
                target_id="140902|new_public_piles|2025",
                area_code="140902",
                metric="new_public_piles",
                value=Decimal(10),
                year=2025,
            ),
            TargetSet(
                **meta(),
                target_id="140981|new_public_piles|2025",
                area_code="140981",
                metric="new_public_piles",
                value=Decimal(4),
                year=2025,
            ),
        ]
    )
    return platform


@pytest.fixture
def client(world: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(world, api_tokens=["secret"])) as test_client:
        test_client.headers["Authorization"] = "Bearer secret"
        yield test_client


def sheet_rows(body: bytes) -> dict[str, dict[str, object]]:
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    keys = [c.key for c in COLUMNS]
    out = {}
    for values in sheet.iter_rows(min_row=6, values_only=True):
        if values[0]:
            out[str(values[0])] = dict(zip(keys, values, strict=False))
    return out


def test_the_workbook_counts_what_the_api_counts(client: TestClient) -> None:
    response = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = sheet_rows(response.content)
    assert set(rows) == {"140902", "140981", "140900"}
    for code in rows:
        end = client.get("/api/v1/overview", params={"area": code, "on": "2025-05-31"}).json()
        before = client.get("/api/v1/overview", params={"area": code, "on": "2025-04-30"}).json()
        year = client.get("/api/v1/overview", params={"area": code, "on": "2024-12-31"}).json()
        row = rows[code]
        assert row["piles"] == end["piles"]["total"]
        assert row["public"] == end["piles"]["public"]
        assert row["fast"] == end["piles"]["fast"]
        assert row["new"] == end["piles"]["total"] - before["piles"]["total"]
        assert row["ytd_public"] == end["piles"]["public"] - year["piles"]["public"]
    xinfu, yuanping, city = rows["140902"], rows["140981"], rows["140900"]
    assert (xinfu["new"], xinfu["ytd_public"], xinfu["target"]) == (4, 4, 10)  # S1 and S3
    assert xinfu["done"] == 40.0
    assert (yuanping["ytd_public"], yuanping["target"], yuanping["done"]) == (6, 4, 150.0)
    assert city["target"] == 14  # the counties' targets add up
    assert xinfu["evs"] == 1_200 and xinfu["ratio"] == round(1_200 / xinfu["public"], 1)


def test_the_print_version_and_bad_requests(client: TestClient) -> None:
    html = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "html"}
    )
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "忻府区" in html.text and "<svg" in html.text and "@page" in html.text
    assert client.get("/api/v1/reports/monthly?area=140900&month=2025-13").status_code == 422
    assert (
        client.get("/api/v1/reports/monthly?area=140900&month=2025-05&format=pdf").status_code
        == 422
    )
    assert client.get("/api/v1/reports/monthly?area=999900&month=2025-05").status_code == 404


def test_the_report_command_writes_both_files(world: Platform, tmp_path: Path) -> None:
    world.close()
    result = CliRunner().invoke(
        app,
        [
            "report",
            "monthly",
            "--area",
            "140900",
            "--month",
            "2025-05",
            "--out",
            str(tmp_path),
            "--db",
            world.settings.database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    workbook = tmp_path / "chargenet-monthly-140900-2025-05.xlsx"
    assert sheet_rows(workbook.read_bytes())["140981"]["piles"] == 6
    assert (tmp_path / "chargenet-monthly-140900-2025-05.html").is_file()


def test_a_month_not_yet_over_is_counted_up_to_today(world: Platform) -> None:
    figures = Figures(world.read, world.clock)
    today = figures.today()
    data = figures.month("140900", Month(today.year, today.month))
    assert data["complete"] is False and data["as_of"] == today.isoformat()
    assert data["total"]["piles"]["total"] == world.read.pile_count(area_code="140900").total


def test_plan_vs_actual_counts_new_piles_per_county_as_the_target_does(
    client: TestClient,
) -> None:
    plan = client.get("/api/v1/dashboard/plan", params={"area": "140900"}).json()
    assert plan["metric"] == "new_public_piles" and plan["years"] == [2025]
    rows = {r["code"]: r for r in plan["rows"]}
    assert rows["140981"]["target"] == {"2025": 4.0}
    for code, row in rows.items():
        end = client.get("/api/v1/overview", params={"area": code, "on": "2025-12-31"}).json()
        start = client.get("/api/v1/overview", params={"area": code, "on": "2024-12-31"}).json()
        assert row["actual"]["2025"] == end["piles"]["public"] - start["piles"]["public"]
    assert rows["140902"]["actual"]["2025"] == 4 and rows["140981"]["actual"]["2025"] == 6
