"""The monthly report: its workbook, opened with openpyxl, says what the API says."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from chargenet.adapters.reports.columns import (
    COLUMNS,
    PROGRESS_COLUMNS,
    STATUS_WORDS,
    SUPERVISION_COLUMNS,
    Column,
)
from chargenet.adapters.reports.pdf import chromium
from chargenet.app.figures import Figures, Month
from chargenet.app.ingest import Disposition
from chargenet.app.planning import pack_events
from chargenet.bootstrap import Platform
from chargenet.core.events import (
    AlarmCleared,
    AlarmRaised,
    AreaStatisticsRecorded,
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    StopOrderIssued,
    StopOrderLifted,
    TargetSet,
    ZombieDetected,
)
from chargenet.core.ids import AlarmId, AreaCode, ChargerId, ConnectorId
from chargenet.core.oversight import ZombieRule
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import Severity, TargetKind
from chargenet.entrypoints.cli.main import app
from chargenet.entrypoints.web import create_app
from tests.builders import at, charger, meta, small_world, station

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
            AreaStatisticsRecorded(
                **meta(), area_code=AreaCode("140902"), year=2024, ev_count=1_200
            ),
            TargetSet(
                **meta(),
                target_id="140902|new_public_piles|2025",
                area_code=AreaCode("140902"),
                metric="new_public_piles",
                value=Decimal(10),
                year=2025,
            ),
            TargetSet(
                **meta(),
                target_id="140981|new_public_piles|2025",
                area_code=AreaCode("140981"),
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
    # No plan governs this world's ratio: written vehicles first, 1,200 EVs to 8 piles.
    assert xinfu["evs"] == 1_200 and xinfu["public"] == 8 and xinfu["ratio"] == "150 : 1"


def test_the_print_version_and_bad_requests(client: TestClient) -> None:
    html = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "html"}
    )
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "忻府区" in html.text and "<svg" in html.text and "@page" in html.text
    assert client.get("/api/v1/reports/monthly?area=140900&month=2025-13").status_code == 422
    assert (
        client.get("/api/v1/reports/monthly?area=140900&month=2025-05&format=csv").status_code
        == 422
    )
    assert client.get("/api/v1/reports/monthly?area=999900&month=2025-05").status_code == 404


def test_the_pdf_is_the_print_version_printed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if chromium() is None:
        pytest.skip("no chromium to print with (./dev test installs it)")
    pdf = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "pdf"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert (
        (pdf.headers["content-disposition"])
        == 'attachment; filename="chargenet-monthly-140900-2025-05.pdf"'
    )
    # A server without Chromium says so and still offers the other two.
    monkeypatch.setenv("CHARGENET_CHROMIUM", "/nonexistent/chromium")
    missing = client.get("/api/v1/reports/monthly?area=140900&month=2025-05&format=pdf")
    assert missing.status_code == 503 and "Chromium" in missing.json()["detail"]


def test_the_month_defaults_to_the_last_whole_one() -> None:
    assert Month.before(date(2026, 1, 4)) == Month(2025, 12)
    assert Month.before(date(2025, 6, 30)) == Month(2025, 5)


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
    assert load_workbook(workbook).sheetnames == [
        "月报 Monthly",
        "规划进度 Planning",
        "监管 Supervision",
        "说明 Notes",
    ]
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


# --- planning's progress and supervision's month in the report (issues 6, 7) -------------

MAY = {"start": "2025-05-01T00:00:00+08:00", "end": "2025-06-01T00:00:00+08:00"}


@pytest.fixture
def supervised(world: Platform) -> Iterator[TestClient]:
    """May 2025 in Xinfu (S1 C1, S2 C2, S3 C3) and Yuanping (S4 C4): status reports, a
    fault, alarms raised and cleared (one left open from April), a zombie case, a stop
    order issued and lifted and one still in force at the month's end."""
    april = at(-60 * 24 * 10)
    world.ingestor.ingest(
        [
            *(
                ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId(c), online=True)
                for c in ("C1", "C2", "C4")
            ),
            *(
                ConnectorStatusChanged(
                    **meta(at(2)), connector_id=ConnectorId(c), status=ConnectorStatus.AVAILABLE
                )
                for c in ("C1-1-1", "C2-1-1", "C2-2-1", "C4-1-1", "C4-2-1")
            ),
            ConnectorStatusChanged(
                **meta(at(60)), connector_id=ConnectorId("C1-2-1"), status=ConnectorStatus.FAULTED
            ),
            alarm("A1", "C1-2-1", at(61)),
            alarm("A2", "C4-1-1", at(70)),
            AlarmCleared(**meta(at(200)), alarm_id=AlarmId("A2"), reason="reset"),
            alarm("A3", "C2-1-1", april),  # raised in April, still open through May
            ZombieDetected(
                **meta(at(100)),
                case_id="Z1",
                charger_id=ChargerId("C3"),
                rules=(ZombieRule.NEVER_CONNECTED,),
                since=at(0),
            ),
            StopOrderIssued(
                **meta(at(300)),
                stop_id="X1",
                target_kind=TargetKind.STATION,
                target_id="S4",
                reason="flood",
                issued_by="xinzhou",
            ),
            StopOrderLifted(**meta(at(400)), stop_id="X1", by="xinzhou", reason="dry"),
            StopOrderIssued(
                **meta(at(500)),
                stop_id="X2",
                target_kind=TargetKind.CHARGER,
                target_id="C2",
                reason="cable",
                issued_by="xinzhou",
            ),
        ]
    )
    with TestClient(create_app(world, api_tokens=["secret"])) as test_client:
        test_client.headers["Authorization"] = "Bearer secret"
        yield test_client


def alarm(alarm_id: str, connector_id: str, when: datetime) -> AlarmRaised:
    return AlarmRaised(
        **meta(when),
        alarm_id=AlarmId(alarm_id),
        target_kind=TargetKind.CONNECTOR,
        target_id=connector_id,
        code="ground_fault",
        severity=Severity.CRITICAL,
    )


def sheet(body: bytes, title: str, columns: tuple[Column, ...]) -> dict[str, dict[str, object]]:
    book = load_workbook(io.BytesIO(body))
    keys = [c.key for c in columns]
    return {
        str(values[0]): dict(zip(keys, values, strict=False))
        for values in book[title].iter_rows(min_row=6, values_only=True)
        if values[0]
    }


def in_may(text: str | None) -> bool:
    return text is not None and "2025-04-30T16:00:00" <= text[:19] < "2025-05-31T16:00:00"


def open_at_may_end(opened: str, closed: str | None) -> bool:
    return opened[:19] < "2025-05-31T16:00:00" and (
        closed is None or closed[:19] >= "2025-05-31T16"
    )


def test_the_workbook_holds_planning_progress_and_supervision_as_the_apis_say(
    supervised: TestClient,
) -> None:
    client = supervised
    response = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "xlsx"}
    )
    assert response.status_code == 200

    planning = sheet(response.content, "规划进度 Planning", PROGRESS_COLUMNS)
    progress = client.get(
        "/api/v1/planning/progress", params={"area": "140900", "month": "2025-05"}
    ).json()
    assert set(planning) == {u["area_code"] for u in progress["units"]} | {"140900"}
    for unit in [*progress["units"], progress["region"]]:
        row = planning[unit["area_code"]]
        assert row["new_month"] == unit["piles"]["new_public_in_month"]
        assert row["new_ytd"] == unit["piles"]["new_public_year_to_date"]
        assert row["public"] == unit["piles"]["public_in_service"]
        target = next((t for t in unit["targets"] if t["metric"] == "new_public_piles"), None)
        assert row["target"] == (target["target"] if target else None)
        assert row["actual"] == (target["actual"] if target else None)
        assert row["status"] == (STATUS_WORDS[target["status"]] if target else None)
    assert planning["140902"]["target"] == 10 and planning["140902"]["actual"] == 4

    oversight = sheet(response.content, "监管 Supervision", SUPERVISION_COLUMNS)
    assert set(oversight) == {"140902", "140981", "140900"}
    for code, row in oversight.items():
        [uptime] = client.get(
            "/api/v1/supervision/uptime", params={"area": code, "by": "all", **MAY}
        ).json()
        assert row["nevi"] == uptime["nevi_uptime"] and row["uk"] == uptime["uk_reliability"]
        assert row["connectors"] == uptime["connectors"]
        alarms = client.get(
            "/api/v1/supervision/alarms", params={"area": code, "open_only": "false"}
        ).json()
        assert row["alarms"] == sum(in_may(a["raised_at"]) for a in alarms)
        assert row["alarms_open"] == sum(
            open_at_may_end(a["raised_at"], a["cleared_at"]) for a in alarms
        )
        cases = client.get(
            "/api/v1/supervision/zombies", params={"area": code, "open_only": "false"}
        ).json()
        assert row["zombies"] == sum(in_may(z["detected_at"]) for z in cases)
        assert row["zombies_open"] == sum(
            open_at_may_end(z["detected_at"], z["closed_at"]) for z in cases
        )
        stops = client.get("/api/v1/supervision/stop-orders", params={"area": code}).json()
        assert row["stops"] == sum(in_may(s["issued_at"]) for s in stops)
        assert row["stops_open"] == sum(
            open_at_may_end(s["issued_at"], s["lifted_at"]) for s in stops
        )
    xinfu, yuanping, city = oversight["140902"], oversight["140981"], oversight["140900"]
    assert (xinfu["alarms"], xinfu["alarms_open"], yuanping["alarms"], yuanping["alarms_open"]) == (
        1,
        2,  # A1 of May and A3 of April
        1,
        0,
    )
    assert (xinfu["zombies_open"], xinfu["stops_open"], yuanping["stops"]) == (1, 1, 1)
    assert city["alarms"] == 2 and city["stops"] == 2 and city["stops_open"] == 1
    nevi = xinfu["nevi"]
    assert isinstance(nevi, int | float) and 0 < nevi < 100 and yuanping["faulted"] == 0

    html = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "html"}
    ).text
    assert "监管 Supervision" in html and "规划进度 Planning progress" in html


def test_a_month_without_any_status_report_leaves_uptime_blank(supervised: TestClient) -> None:
    body = supervised.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-03", "format": "xlsx"}
    ).content
    oversight = sheet(body, "监管 Supervision", SUPERVISION_COLUMNS)
    assert oversight["140902"]["nevi"] is None  # not 0 %: nothing was known
    assert oversight["140902"]["alarms"] == 0


# --- what the printed report says, as its reader reads it ---------------------------------

XINZHOU_RATIO = """
[pack]
id = "test-xinzhou"
region = "140900"
title = "a small plan written the Xinzhou way"
version = 2023-09-06

[metrics.evs_per_public_pile]
kind = "ratio"
notation = "1:N"
numerator = { counted = "evs", basis = "stock" }
denominator = { counted = "piles", access = ["public"], basis = "stock" }
comparator = "at_most"
definition = "EVs ÷ public piles"
written_as = "公共充电桩数量与电动汽车比例不低于1:8"

[[targets]]
area = "140902"
metric = "evs_per_public_pile"
year = 2025
value = 6
source = "002 三年行动计划 二、1"
"""


class _Tables(HTMLParser):
    """Every table of a page: rows of cell texts (header cells included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "span" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_table(text: str, n: int, columns: tuple[Column, ...]) -> dict[str, dict[str, str]]:
    """The page's n-th table as {area code: {column key: the cell's text}}, and its
    headers under "headers"."""
    parser = _Tables()
    parser.feed(text)
    head, *rows = parser.tables[n]
    keys = [c.key for c in columns]
    out = {row[0]: dict(zip(keys, row, strict=True)) for row in rows if row}
    return {**out, "headers": dict(zip(keys, head, strict=True))}


def test_the_printed_report_reads_as_the_plan_writes(world: Platform, client: TestClient) -> None:
    """Seed 002 三年行动计划 一: "全市建成公共充电桩数量与电动汽车比例不低于1:8" — the plan
    writes piles first, so the report writes 1 : 150, not 150 : 1. Years print as years,
    flags in words, and a row never says "on track" and "On track: no" at once."""
    outcomes = world.ingestor.ingest(pack_events(XINZHOU_RATIO, NOON), atomic=True)
    assert {o.disposition for o in outcomes} == {Disposition.ACCEPTED}
    text = client.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "html"}
    ).text
    main = html_table(text, 0, COLUMNS)
    progress = html_table(text, 1, PROGRESS_COLUMNS)
    xinfu = main["140902"]
    assert xinfu["ev_year"] == "2024"  # a year, not "2,024"
    assert xinfu["ratio"] == "1 : 150"  # 1,200 EVs to 8 public piles, piles first
    row = progress["140902"]
    assert row["status"] == "按计划 on track"  # 4 of the year's 10 new piles by May
    assert row["on_track"] == "需关注 needs attention"  # …but the ratio is behind
    assert "on track" not in progress["headers"]["on_track"].lower()
    assert row["flags"] == "滞后 behind: 车桩比(公共) public piles to EVs"
    assert not re.search(r"(behind|coverage|forecast_short):[a-z_]", text)  # no raw codes
    assert progress["140900"]["on_track"] != "—"  # the city row says it too
    overview = client.get("/api/v1/dashboard/overview", params={"area": "140902"}).json()
    assert overview["ev_per_public_pile_written"].startswith("1 : ")
    assert overview["ratio_notation"] == "1:N"


def test_a_may_ratio_divides_by_the_vehicle_stock_known_in_may(world: Platform) -> None:
    """Seed 002 三年行动计划 二、1: "全市14个县（市、区）公共充电桩与电动汽车桩车比分别达到1:8、
    1:7和1:6" over year-end stocks ("截至2022年底 … 新能源电动汽车保有量12407辆"). With an
    end-2025 figure already recorded, May 2025's sheet still divides end-2024's EVs, and
    says which year end it took."""
    world.ingestor.ingest(
        [AreaStatisticsRecorded(**meta(), area_code=AreaCode("140902"), year=2025, ev_count=9_000)]
    )
    figures = Figures(world.read, world.clock)
    may = figures.month("140900", Month(2025, 5))
    xinfu = next(r for r in may["rows"] if r["code"] == "140902")
    assert (xinfu["ev_count"], xinfu["ev_year"]) == (1_200, 2024)
    assert xinfu["ev_per_public_pile"] == 150.0  # 1,200 ÷ 8, not 9,000 ÷ 8
    assert xinfu["ev_method"] == "latest_year_end"
    december = figures.month("140900", Month(2025, 12))
    assert next(r for r in december["rows"] if r["code"] == "140902")["ev_year"] == 2025


def test_the_overview_of_an_area_on_a_past_day_counts_that_area_on_that_day(
    client: TestClient,
) -> None:
    """Seed 002 四、（二）: "各县（市、区）… 于每月3日前将上月 … 工作落实情况报送" — a county's
    figures at the end of last month. On 30 April 2025 Xinfu had one station (S2, four
    piles); live status is not kept by day, so a past day has none to show."""
    april = client.get("/api/v1/overview", params={"area": "140902", "on": "2025-04-30"}).json()
    assert april["counts"] == {"stations": 1, "chargers": 1, "connectors": 4, "swap_stations": 0}
    assert april["piles"]["total"] == 4 and april["status"] is None
    assert (april["area"], april["on"]) == ("140902", "2025-04-30")
    today = client.get("/api/v1/overview", params={"area": "140902"}).json()
    assert today["counts"]["stations"] == 3 and "events" not in today["counts"]
    assert sum(today["status"].values()) == today["counts"]["connectors"] == 8
    platform = client.get("/api/v1/overview").json()
    assert platform["counts"]["stations"] == 4 and platform["counts"]["events"] > 0


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.slow
def test_area_names_print_on_one_line(supervised: TestClient) -> None:
    """R16: the county report is printed and read on paper. In a real browser, on A4
    landscape, every area's name stays on one line in every table (not a character a
    line)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    text = supervised.get(
        "/api/v1/reports/monthly", params={"area": "140900", "month": "2025-05", "format": "html"}
    ).text
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1123, "height": 794})  # A4 landscape, 96 dpi
        page.emulate_media(media="print")
        page.set_content(text)
        lines = page.evaluate(
            """() => [...document.querySelectorAll("table:not(.notes) tbody tr")].flatMap((tr) =>
                [...tr.cells].slice(0, 3).map((td) => {
                    const range = document.createRange();
                    range.selectNodeContents(td);
                    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                    return [td.textContent, tops.size];
                }))"""
        )
        overflow = page.evaluate(
            """() => [...document.querySelectorAll("table")].map(
                (t) => t.getBoundingClientRect().width - document.body.clientWidth)"""
        )
        browser.close()
    names = [name for name, _ in lines]
    assert "忻府区" in names and "忻州市 合计" in names
    assert [(name, n) for name, n in lines if n > 1] == []
    assert max(overflow) <= 1  # and every table still fits the page's width
