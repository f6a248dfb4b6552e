"""The pages in a real browser (Debian's Chromium driven by Playwright) against a running
`chargenet demo`: log in, switch language, click a station on the map, read a chart's
numbers against the API, use the finder, download the monthly report. Screenshots go to
test-artifacts/ (git-ignored)."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
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
    page.wait_for_url("**/dashboard")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def digits(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


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
    plan = page.request.get(f"{demo}/api/v1/dashboard/plan").json()
    option = page.evaluate(
        "() => { const o = echarts.getInstanceByDom(document.getElementById('plan-chart'))"
        ".getOption(); return {x: o.xAxis[0].data, target: o.series[0].data, "
        "actual: o.series[1].data, year: document.getElementById('plan-year').value}; }"
    )
    year = option["year"]
    assert option["x"] == [r["name_zh"] for r in plan["rows"]]
    assert option["actual"] == [r["actual"][year] for r in plan["rows"]]
    assert option["target"] == [r["target"][year] for r in plan["rows"]]
    # Xinzhou's 14 counties and 五台山风景区, a planning unit with its own targets
    assert len(plan["rows"]) == 15
    assert page.locator("#scorecards .na").count() == 0  # supervision is installed: no gap


def test_click_a_station_on_the_map(page: Any, demo: str) -> None:
    log_in(page, demo)
    station_id = page.evaluate("Object.keys(window.chargenet.ui.markers)[0]")
    point = page.evaluate(
        """(id) => { const ui = window.chargenet.ui; const ll = ui.markers[id].getLatLng();
        ui.map.setView(ll, 17, {animate: false});
        const p = ui.map.latLngToContainerPoint(ll);
        const box = document.getElementById('dash-map').getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y}; }""",
        station_id,
    )
    page.wait_for_timeout(300)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#station-name")
    detail = page.request.get(f"{demo}/api/v1/finder/stations/{station_id}").json()
    assert page.locator("#station-name").inner_text() == detail["name"]
    assert page.locator("#station-panel tbody tr").count() == detail["total"]
    page.screenshot(path=str(ARTIFACTS / "dashboard-station.png"))


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
    with page.expect_response(lambda r: "min_power_kw=100" in r.url):
        page.click("#filters button[type=submit]")
    page.wait_for_timeout(200)
    ids = page.eval_on_selector_all(".result", "els => els.map(e => e.dataset.station)")
    for station_id in ids[:5]:
        station = httpx.get(f"{demo}/api/v1/finder/stations/{station_id}").json()
        assert station["max_power_w"] >= 100_000
    page.locator(".result").first.click()
    page.wait_for_selector("#detail-name")
    assert page.locator("#detail table tbody tr").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "finder-station.png"))


def test_the_dashboard_offers_the_monthly_report(page: Any, demo: str) -> None:
    log_in(page, demo)
    page.fill("#report-month", "2025-05")
    page.dispatch_event("#report-month", "change")
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
