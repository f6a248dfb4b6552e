"""The pages in a real browser (Debian's Chromium driven by Playwright) against a running
`chargenet demo`: log in, switch language, click a station on the map, read a chart's
numbers against the API, supervision's figures (uptime, zombie piles, scorecards) and
planning's (plan vs actual, coverage gaps, where to build next, progress) against theirs,
issue and lift a stop order and see the station out of order on the map, acknowledge and
clear an alarm, use the finder, download the monthly report. Screenshots go to
test-artifacts/ (git-ignored)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from chargenet.kit.net import free_port
from tests.e2e.journeys import eventually, finder_results_after

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium (./dev test installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    chargenet = Path(sys.executable).with_name("chargenet")
    process = subprocess.Popen(
        [str(chargenet), "demo", "--db", f"sqlite:///{db}", "--port", str(port), "--speed", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CHARGENET_SQLITE_SYNCHRONOUS": "NORMAL"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"{base}/api/v1/finder/nearest?lat=38.4&lon=112.7", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise AssertionError(
                    f"demo exited: {process.stdout.read() if process.stdout else ''}"
                )
            time.sleep(0.5)
        else:
            raise AssertionError("the demo did not come up")
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.fixture(scope="module")
def browser(demo: str) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    context.close()
    assert errors == [], f"the page raised: {errors}"


def log_in(page: Any, base: str, user: str = "xinzhou", password: str = "demo-xinzhou") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    # As long as the page's own wait: on a loaded 2-core machine the demo's first siting
    # and scrypt log-ins share the CPU with the browser and the suite.
    page.wait_for_url("**/dashboard", timeout=90_000)
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)


def digits(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_a_login_before_the_script_has_loaded_sends_no_password_in_a_url(
    page: Any, demo: str
) -> None:
    """Until login.js handles the form, it cannot be sent: no GET with the password."""
    page.route("**/static/login.js", lambda route: route.abort())
    page.goto(f"{demo}/login")
    page.fill("#username", "xinzhou")
    page.fill("#password", "demo-xinzhou")
    assert page.locator("button[type=submit]").is_disabled()
    page.press("#password", "Enter")  # implicit submission: refused with the button disabled
    page.wait_for_timeout(500)
    assert "demo-xinzhou" not in page.url and page.url.endswith("/login")
    assert page.eval_on_selector("#login-form", "f => f.method") == "post"


def test_log_in_and_switch_language(page: Any, demo: str) -> None:
    page.goto(f"{demo}/dashboard")
    page.wait_for_url("**/login?next=/dashboard")  # anonymous: sent to the login page
    page.fill("#username", "xinzhou")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("#error:has-text('用户名或密码错误')")
    log_in(page, demo)
    assert page.locator("[data-t=overview]").inner_text() == "总览"
    assert page.locator("#card-piles .k").inner_text() == "充电桩"
    page.screenshot(path=str(ARTIFACTS / "dashboard-zh.png"), full_page=True)
    page.click("#lang")
    assert page.locator("[data-t=overview]").inner_text() == "Overview"
    assert page.locator("#card-piles .k").inner_text() == "Piles"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#card-stop_orders .k").inner_text() == "Stop orders in force"
    assert page.locator("#gaps-legend b").inner_text().startswith("Coverage gaps")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)
    page.reload()  # the choice sticks
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    assert page.locator("[data-t=overview]").inner_text() == "Overview"


def test_the_figures_and_the_chart_say_what_the_api_says(page: Any, demo: str) -> None:
    log_in(page, demo)
    overview = page.request.get(f"{demo}/api/v1/dashboard/overview").json()
    assert digits(page.locator("#card-piles .v").inner_text()) == overview["piles"]["total"]
    assert digits(page.locator("#card-public_piles .v").inner_text()) == overview["piles"]["public"]
    option = page.evaluate(
        "() => { const o = echarts.getInstanceByDom(document.getElementById('plan-chart'))"
        ".getOption(); return {x: o.xAxis[0].data, target: o.series[0].data, "
        "actual: o.series[1].data, year: document.getElementById('plan-year').value}; }"
    )
    # The chart is planning's plan vs actual: each county's new-pile target of
    # the year and what was built by then, in the order of the city's parts.
    year = int(option["year"])
    parts = page.request.get(f"{demo}/api/v1/areas", params={"parent": "140900"}).json()
    order = [p["code"] for p in parts]
    targets = page.request.get(f"{demo}/api/v1/planning/targets", params={"area": "140900"})
    rows = sorted(
        (
            r
            for r in targets.json()
            if r["metric"] == "new_public_piles"
            and r["month"] is None
            and r["year"] == year
            and r["area_code"] != "140900"
        ),
        key=lambda r: order.index(r["area_code"]),
    )
    names = {p["code"]: p["name_zh"] for p in parts}
    assert option["x"] == [names[r["area_code"]] for r in rows]
    assert option["target"] == [r["target"] for r in rows]
    assert option["actual"] == [r["actual"] for r in rows]
    # Xinzhou's 14 counties and 五台山风景区, a planning unit with its own targets
    assert len(rows) == 15 and year == 2025
    assert page.locator("#scorecards .na").count() == 0  # supervision is installed: no gap


def test_supervision_figures_are_the_apis(page: Any, demo: str) -> None:
    """Uptime, zombie piles and operator scorecards come from supervision."""
    # The scorecards the API answered the page as it loaded (it asks once per area).
    with page.expect_response(
        lambda r: "/api/v1/supervision/scorecards" in r.url, timeout=90_000
    ) as scorecards_answer:
        log_in(page, demo)
    shown = page.evaluate("window.chargenet.state.external.uptime")
    [uptime] = page.request.get(
        f"{demo}/api/v1/supervision/uptime", params={"area": "140900", "by": "all"}
    ).json()
    card = page.locator("#card-uptime .v").inner_text()
    assert card == f"{shown['nevi_uptime']:.1f}%"
    # The API answered a moment later: its 30 days have moved on by a few seconds.
    assert abs(shown["nevi_uptime"] - uptime["nevi_uptime"]) < 0.05
    assert 90 < uptime["nevi_uptime"] < 99.9  # the demo's month of history
    page.click("#list-tabs button[data-list=zombies]")

    def zombies() -> tuple[int, int, int]:
        """The API's count of open cases, the card's and the list's rows."""
        total = page.request.get(
            f"{demo}/api/v1/supervision/zombies", params={"area": "140900", "limit": 1}
        ).headers["x-total-count"]
        card = digits(page.locator("#card-zombies .v").inner_text())
        return int(total), card, page.locator("#list tbody tr").count()

    # The demo's sweep opens cases as it runs: one may open between the page's question and
    # ours; the page's 15-second refresh then catches up.
    total, card, rows = eventually(zombies, lambda z: z[1] == z[0] and z[2] == min(500, z[0]))
    assert card == total
    assert rows == min(500, total)
    # The page shows the scorecards the API answered it, in their order. The demo runs on,
    # so the API asked again a moment later may score and rank operators otherwise: the
    # answer compared is the one the page itself received.
    answer = scorecards_answer.value.json()
    fetched = page.evaluate("window.chargenet.state.external.scorecards")
    assert fetched == answer
    cards = page.request.get(
        f"{demo}/api/v1/supervision/scorecards", params={"area": "140900"}
    ).json()
    operators = page.eval_on_selector_all(
        "#scorecards tbody tr", "rows => rows.map(r => r.dataset.operator)"
    )
    assert operators == [c["operator_id"] for c in fetched] and len(operators) >= 4
    assert sorted(operators) == sorted(c["operator_id"] for c in cards)
    assert [c["rank"] for c in fetched] == sorted(c["rank"] for c in fetched)
    first = page.locator("#scorecards tbody tr").first.locator("td")
    assert abs(float(first.nth(3).inner_text()) - fetched[0]["score"]) < 0.05
    assert first.nth(2).inner_text() == "★" * fetched[0]["stars"] + "☆" * (5 - fetched[0]["stars"])
    page.locator("#scorecards").screenshot(path=str(ARTIFACTS / "dashboard-scorecards.png"))
    page.locator("#list").screenshot(path=str(ARTIFACTS / "dashboard-zombies.png"))


GAP_KINDS = {"area_distance", "zone_distance", "area_presence", "area_minimum", "road_spacing"}


def test_coverage_gaps_and_sites_on_the_map_are_plannings(page: Any, demo: str) -> None:
    log_in(page, demo)
    year = page.evaluate("window.chargenet.state.year")
    gaps = page.request.get(
        f"{demo}/api/v1/planning/gaps", params={"area": "140900", "year": year, "limit": 2000}
    ).json()
    expected = sorted(
        (round(lat, 5), round(lon, 5), rule["rule_id"])
        for rule in gaps["gaps"]
        if rule["kind"] in GAP_KINDS
        for s in rule["shortfalls"]
        for lat, lon in (s["positions"] or ([[s["lat"], s["lon"]]] if s["lat"] is not None else []))
    )
    drawn = page.evaluate(
        "window.chargenet.ui.gapMarkers.map(m => [m.gap.lat, m.gap.lon, m.gap.rule])"
    )
    assert sorted((round(a, 5), round(b, 5), r) for a, b, r in drawn) == expected
    assert len(expected) > 50  # villages too far, townships without piles, city points
    # Every gap lies in Xinzhou (Liuzhou's expressway is not Xinzhou's gap).
    assert all(37.5 < lat < 40 and 110.5 < lon < 114 for lat, lon, _ in expected)
    siting = page.request.get(
        f"{demo}/api/v1/planning/siting", params={"area": "140900", "year": year}
    ).json()
    sites = page.evaluate("window.chargenet.ui.siteMarkers.map(m => m.site.id)")
    assert sorted(sites) == sorted(s["id"] for s in siting["sites"]) and sites
    assert page.locator("#gaps-legend").inner_text().startswith(f"覆盖缺口 {year}")
    page.locator("#dash-map").screenshot(path=str(ARTIFACTS / "dashboard-gaps.png"))


def click_station(page: Any, station_id: str) -> None:
    """Zoom the map to a station's dot and click it, as a person would; return once the
    panel shows that station (not merely a panel: it may show the one clicked before)."""
    point = page.evaluate(
        """(id) => { const ui = window.chargenet.ui; const ll = ui.markers[id].getLatLng();
        ui.map.setView(ll, 17, {animate: false});
        const p = ui.map.latLngToContainerPoint(ll);
        return {x: p.x, y: p.y}; }""",
        station_id,
    )
    # A position within the map, not on the screen: the page may scroll or shift (a panel
    # re-rendered by the refresh above it) between the question and the click.
    page.locator("#dash-map").click(position=point)
    page.wait_for_selector(
        f"#station-panel #stop-target option[value='station:{station_id}']", state="attached"
    )


def test_click_a_station_on_the_map(page: Any, demo: str) -> None:
    log_in(page, demo)
    station_id = page.evaluate("Object.keys(window.chargenet.ui.markers)[0]")
    click_station(page, station_id)
    detail = page.request.get(f"{demo}/api/v1/finder/stations/{station_id}").json()
    assert page.locator("#station-name").inner_text() == detail["name"]
    assert page.locator("#station-panel tbody tr").count() == detail["total"]
    page.screenshot(path=str(ARTIFACTS / "dashboard-station.png"))


def test_a_stop_order_from_the_dashboard_takes_a_station_out_of_order(page: Any, demo: str) -> None:
    log_in(page, demo)
    station_id = page.evaluate(
        "Object.entries(window.chargenet.ui.markers).find(([, m]) => m.state === 'available')[0]"
    )
    click_station(page, station_id)
    # The session cookie alone changes nothing: the page must echo its CSRF token.
    order = {"target_kind": "station", "target_id": station_id, "reason": "forged"}
    forged = page.request.post(f"{demo}/api/v1/supervision/stop-orders", data=order)
    assert forged.status == 403
    page.click("#stop-issue")
    assert page.inner_text("#stop-msg") == "请填写原因"  # a stop order needs a reason
    page.select_option("#stop-target", f"station:{station_id}")
    page.fill("#stop-reason", "充电柜冒烟，停用检查")
    page.click("#stop-issue")
    # The order waits for the chargers' answers; the map then asks the live index to have
    # applied the order first (test_dashboard_actions_browser.py holds the index back).
    page.wait_for_function(
        "(id) => window.chargenet.ui.markers[id].state === 'stopped'",
        arg=station_id,
        timeout=60_000,
    )
    page.wait_for_selector("#station-panel .badge.stop")
    [stop] = [
        s
        for s in page.request.get(
            f"{demo}/api/v1/supervision/stop-orders", params={"in_force_only": "true"}
        ).json()
        if s["target_id"] == station_id
    ]
    assert stop["reason"] == "充电柜冒烟，停用检查" and stop["issued_by"] == "xinzhou"
    assert stop["state"] == "in_force"  # the demo's chargers obey
    # The finder's live index follows the event bus a moment behind the order.
    held = {("unavailable", True)}
    detail = eventually(
        lambda: page.request.get(f"{demo}/api/v1/finder/stations/{station_id}").json(),
        lambda d: {(c["status"], c["stopped"]) for c in d["connectors"]} == held,
    )
    assert {(c["status"], c["stopped"]) for c in detail["connectors"]} == held
    connectors = eventually(
        lambda: page.request.get(
            f"{demo}/api/v1/connectors", params={"station": station_id}
        ).json(),
        lambda cs: {c["status"] for c in cs} == {"unavailable"},
    )
    assert {c["status"] for c in connectors} == {"unavailable"}
    assert digits(page.locator("#card-stop_orders .v").inner_text()) >= 1
    legend = page.locator("#legend [data-state=stopped]").inner_text()
    assert legend.startswith("停止令停运") and digits(legend) >= 1
    page.evaluate(  # back out to see the station among its neighbours
        "(id) => { window.chargenet.ui.map.setView(window.chargenet.ui.markers[id].getLatLng(),"
        " 12, {animate: false}); }",
        station_id,
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "dashboard-stop-order.png"))

    page.click("#list-tabs button[data-list=orders]")
    acts = page.locator(f"#list .acts[data-for='{stop['stop_id']}']")
    acts.locator("button[data-act=lift]").click()
    acts.locator("input.reason").fill("已整改并复查")
    page.locator("#list").screenshot(path=str(ARTIFACTS / "dashboard-lift.png"))
    acts.locator("button[data-act=lift-go]").click()
    page.wait_for_function(
        "(id) => window.chargenet.ui.markers[id].state !== 'stopped'",
        arg=station_id,
        timeout=60_000,
    )
    lifted = page.request.get(f"{demo}/api/v1/supervision/stop-orders/{stop['stop_id']}").json()
    assert lifted["state"] == "lifted" and lifted["lift_reason"] == "已整改并复查"
    detail = eventually(
        lambda: page.request.get(f"{demo}/api/v1/finder/stations/{station_id}").json(),
        lambda d: not any(c["stopped"] for c in d["connectors"]),
    )
    assert not any(c["stopped"] for c in detail["connectors"])


def test_a_regulator_acknowledges_and_clears_an_alarm(page: Any, demo: str) -> None:
    def alarms() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = page.request.get(
            f"{demo}/api/v1/supervision/alarms", params={"area": "140900", "open_only": "false"}
        ).json()
        return rows

    log_in(page, demo)
    deadline = time.monotonic() + 150  # the live city raises ground faults, over-heating …
    while not any(a["acknowledged_at"] is None and a["cleared_at"] is None for a in alarms()):
        assert time.monotonic() < deadline, "the demo raised no alarm"
        time.sleep(3)
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    # The newest: the one least likely to be repaired (and cleared) while we look at it.
    alarm_id = page.evaluate(
        "window.chargenet.state.lists.alarms.find(a => !a.acknowledged_at).alarm_id"
    )
    acts = page.locator(f"#list .acts[data-for='{alarm_id}']")
    acts.locator("button[data-act=ack]").click()
    page.wait_for_selector(f"#list .acts[data-for='{alarm_id}'] >> text=已确认")
    [row] = [a for a in alarms() if a["alarm_id"] == alarm_id]
    assert row["acknowledged_by"] == "xinzhou"
    acts.locator("button[data-act=clear]").click()
    acts.locator("input.reason").fill("现场检查无异常")
    page.locator("#list").screenshot(path=str(ARTIFACTS / "dashboard-alarms.png"))
    acts.locator("button[data-act=clear-go]").click()
    page.wait_for_selector(f"#list .acts[data-for='{alarm_id}']", state="detached")
    [row] = [a for a in alarms() if a["alarm_id"] == alarm_id]
    assert row["cleared_at"] is not None and row["clear_reason"] == "现场检查无异常 (xinzhou)"


def test_the_finder(page: Any, demo: str) -> None:
    page.goto(f"{demo}/")
    page.wait_for_selector(".result")
    first = page.locator(".result").first.get_attribute("data-station")
    api = httpx.get(
        f"{demo}/api/v1/finder/nearest",
        params={"lat": 38.4165, "lon": 112.734, "limit": 15, "radius_km": 100},
    ).json()
    assert first == api[0]["station_id"]
    page.screenshot(path=str(ARTIFACTS / "finder.png"))
    page.check("#f-available")
    page.check("#f-dc")
    page.fill("#f-power", "100")
    ids = finder_results_after(page, "#filters button[type=submit]", "min_power_kw=100")
    for station_id in ids[:5]:
        station = httpx.get(f"{demo}/api/v1/finder/stations/{station_id}").json()
        assert station["max_power_w"] >= 100_000
    page.locator(".result").first.click()
    page.wait_for_selector("#detail-name")
    assert page.locator("#detail table tbody tr").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "finder-station.png"))


def test_the_dashboard_offers_the_monthly_report(page: Any, demo: str) -> None:
    log_in(page, demo)
    page.select_option("#report-month", "2025-05")
    assert page.locator("#report-month option:checked").inner_text() == "2025年5月"
    with page.expect_download() as download:
        page.click("#report-xlsx")
    body = Path(download.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=6, values_only=True) if r[0]}
    assert len(rows) == 16  # 14 counties, 五台山风景区 (a planning unit) and the city
    for code in ("140902", "140981", "140900"):
        on = page.request.get(
            f"{demo}/api/v1/overview", params={"area": code, "on": "2025-05-31"}
        ).json()
        assert rows[code][3] == on["piles"]["total"] and rows[code][4] == on["piles"]["public"]
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == [
        "月报 Monthly",
        "规划进度 Planning",
        "监管 Supervision",
        "说明 Notes",
    ]
    # The progress panel shows planning's report of the chosen month.
    progress = page.request.get(
        f"{demo}/api/v1/planning/progress", params={"area": "140900", "month": "2025-05"}
    ).json()
    page.wait_for_function(
        "document.getElementById('progress-note').textContent.includes('2025-06')"
    )
    for unit in progress["units"]:
        cells = page.locator(f"#progress tr[data-area='{unit['area_code']}'] td")
        assert digits(cells.nth(1).inner_text()) == unit["piles"]["new_public_in_month"]
        assert digits(cells.nth(5).inner_text()) == unit["piles"]["public_in_service"]
    page.locator("#progress").screenshot(path=str(ARTIFACTS / "dashboard-progress.png"))


def test_saved_scenarios_side_by_side_show_the_apis_figures(page: Any, demo: str) -> None:
    """A regulator ticks three saved scenarios, compares them, and reads each one's
    sites, ports, money, coverage per year and unmet demand in its own column: the
    figures the comparison API answered, in Chinese and in English."""
    log_in(page, demo)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "chargenet_csrf")
    saved: dict[str, dict[str, object]] = {
        "base": {},
        "fast-growth": {"growth": 0.5},
        "tight-money": {"money_budget": "2000000"},
    }
    for name, values in saved.items():
        body = {"name": name, "area": "140900", "year": 2025, "time_limit": 10, **values}
        answer = page.request.post(
            f"{demo}/api/v1/planning/scenarios", data=body, headers={"X-CSRF-Token": csrf}
        )
        assert answer.status == 201, answer.text()
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.locator("#scenarios").scroll_into_view_if_needed()
    assert page.locator("#scenarios [data-t=cmp_title]").inner_text() == "规划方案对比"
    go = page.locator("#scenario-compare-go")
    for name in saved:
        page.check(f"#scenario-pick input[value='{name}']")
    assert go.is_enabled()
    with page.expect_response(
        lambda r: "/api/v1/planning/scenarios/compare" in r.url, timeout=300_000
    ) as answered:
        go.click()
    rows = answered.value.json()
    assert answered.value.status == 200 and [r["scenario"] for r in rows] == list(saved)
    page.wait_for_selector("#scenario-compare", timeout=30_000)
    heads = page.locator("#scenario-compare thead th").all_inner_texts()
    assert heads == ["指标", *saved]

    def cells(figure: str) -> list[str]:
        texts: list[str] = page.locator(
            f"#scenario-compare tr[data-figure='{figure}'] td"
        ).all_inner_texts()
        return texts

    for figure in ("sites", "upgraded_stations", "ports_ac", "ports_dc", "ports_ultra"):
        assert [digits(c) for c in cells(figure)[1:]] == [r[figure] for r in rows], figure
    for figure in ("capex", "opex_year", "total_cost", "uncovered"):
        assert [digits(c) for c in cells(figure)[1:]] == [round(r[figure]) for r in rows], figure
    for figure in ("demand_kwh_day", "unmet_kwh_day"):
        shown = [float(c.replace(",", "")) for c in cells(figure)[1:]]
        assert shown == [round(r[figure], 1) for r in rows], figure
    years = sorted({k for r in rows for k in r if k.startswith("coverage_")})
    assert years, "the phased plans give coverage by year"
    for figure in years:
        assert cells(figure)[0] == f"行政村覆盖率 {figure[9:]}"
        assert cells(figure)[1:] == [
            "—" if r.get(figure) is None else f"{100 * r[figure]:.1f}%" for r in rows
        ]
    # The money a scenario was allowed shows in what it plans: the tight one spends less.
    assert rows[2]["total_cost"] <= rows[0]["total_cost"]
    assert cells("sites")[0] == "新建站点"
    page.screenshot(path=str(ARTIFACTS / "dashboard-scenarios-zh.png"), full_page=True)
    page.click("#lang")
    assert cells("sites")[0] == "New sites"
    assert cells("unmet_kwh_day")[0] == "Unmet demand (kWh a day)"
    assert [digits(c) for c in cells("total_cost")[1:]] == [round(r["total_cost"]) for r in rows]
    href = page.locator("#scenario-xlsx").get_attribute("href")
    assert "format=xlsx" in href and href.count("names=") == 3
