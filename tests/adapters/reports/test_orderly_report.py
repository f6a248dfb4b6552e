"""The monthly report's orderly-charging sheets on a world with known answers
(tests/orderly_world.py): valley share per area and operator, peak load per area and
station, and each demand-response event's requested and measured shed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from chargenet.adapters.reports.columns import (
    DR_COLUMNS,
    OPERATOR_VALLEY_COLUMNS,
    PEAK_AREA_COLUMNS,
    PEAK_SITE_COLUMNS,
    VALLEY_COLUMNS,
    Column,
)
from chargenet.adapters.reports.pdf import chromium
from chargenet.bootstrap import Platform
from chargenet.entrypoints.web import create_app
from tests.orderly_world import grid_world

NOVEMBER = {"area": "140900", "month": "2026-11"}


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    outcomes = platform.ingestor.ingest(grid_world())
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    with TestClient(create_app(platform, api_tokens=["secret"])) as test_client:
        test_client.headers["Authorization"] = "Bearer secret"
        yield test_client


def tables(sheet: Any, *shapes: tuple[Column, ...]) -> list[dict[str, dict[str, Any]]]:
    """The stacked tables of a sheet, each as {first cell: {column key: value}}."""
    out: list[dict[str, dict[str, Any]]] = []
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True)]
    shape = iter(shapes)
    columns: tuple[Column, ...] | None = None
    for values in rows:
        first = values[0]
        if first and isinstance(first, str) and "\n" in first:  # a header: "代码\nCode"
            columns = next(shape)
            out.append({})
        elif columns is not None and first is not None and values[1] is not None:
            out[-1][str(first)] = dict(zip([c.key for c in columns], values, strict=False))
    return out


def test_the_workbook_holds_valley_share_peaks_and_demand_response(client: TestClient) -> None:
    response = client.get("/api/v1/reports/monthly", params={**NOVEMBER, "format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    valley, operators = tables(book["谷电 Valley share"], VALLEY_COLUMNS, OPERATOR_VALLEY_COLUMNS)
    assert valley["140902"]["share"] == 100.0  # the night session at S1
    assert valley["140981"]["share"] == 0.0  # the morning one at S2
    assert valley["140900"]["energy"] == 30 and valley["140900"]["share"] == pytest.approx(66.7)
    assert operators["OP1"]["sessions"] == 2
    areas, sites = tables(book["负荷 Peak load"], PEAK_AREA_COLUMNS, PEAK_SITE_COLUMNS)
    assert areas["140902"]["peak"] == 100.0 and areas["140981"]["peak"] == 40.0
    assert areas["140900"]["peak"] == 140.0  # together, on the 18th
    assert areas["140900"]["at"] == "2026-11-18 18:00"
    assert (sites["S1"]["peak"], sites["S1"]["limit"], sites["S1"]["percent"]) == (
        100.0,
        100.0,
        100.0,
    )
    assert (sites["S2"]["peak"], sites["S2"]["percent"]) == (40.0, 80.0)
    [events] = tables(book["需求响应 DR"], DR_COLUMNS)
    event = events["evening peak DR-25"]
    assert event["start"] == "2026-11-25 18:00" and event["share"] == 30
    assert (event["target"], event["baseline"], event["measured"]) == (30.0, 60.0, 20.0)
    assert (event["requested"], event["shed"], event["performance"]) == (30.0, 40.0, 133.3)


def test_the_print_version_and_the_pdf_carry_the_same_sections(client: TestClient) -> None:
    page = client.get("/api/v1/reports/monthly", params={**NOVEMBER, "format": "html"}).text
    for heading in ("谷电 Valley share", "负荷 Peak load", "需求响应 DR", "Shed measured kW"):
        assert heading in page
    assert "133.3" in page and "2026-11-25 18:00" in page
    if chromium() is None:
        pytest.skip("no chromium to print with")
    pdf = client.get("/api/v1/reports/monthly", params={**NOVEMBER, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.content.count(b"/Type /Page") >= 4  # the orderly sheets begin new pages
