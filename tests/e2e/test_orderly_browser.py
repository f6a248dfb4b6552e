"""The dashboard's orderly-charging panel in a real browser (Debian's Chromium driven by
Playwright) on a world with a known limit and demand-response event
(tests/orderly_world.py): Xinzhou's load against its 150 kW limit on 25 November 2026,
the event on S1 shaded and its 30 kW limit drawn, the valley share; one station's
curve; the flexibility forecast; Chinese and English."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chargenet.app.accounts import PasswordHasher
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.access import Role
from tests.e2e.journeys import ARGS, CHROMIUM, serving, shot
from tests.e2e.test_dashboard_browser import log_in
from tests.orderly_world import grid_world

pytestmark = pytest.mark.slow
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium (./dev test installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "correct horse"
CHART = "window.echarts.getInstanceByDom(document.getElementById('{}')).getOption()"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("orderly") / "chargenet.db"
    platform: Platform = bootstrap(Settings(database_url=f"sqlite:///{db}"))
    platform.accounts.hasher = PasswordHasher(n=2**10, r=8, p=1)
    platform.accounts.add_user("xinzhou", PASSWORD, Role.REGULATOR, area_code="140900")
    outcomes = platform.ingestor.ingest(grid_world())
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    with serving(platform) as base:
        yield base
    platform.close()


@pytest.fixture
def page(site: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        yield tab
        browser.close()


def _until(page: Any, expression: str, seconds: float = 60) -> None:
    """Poll with evaluate: wait_for_function's polling evaluates strings, which the pages'
    Content-Security-Policy (no unsafe-eval) refuses. A deadline in seconds, not a count
    of polls: each evaluate takes its own time on a loaded machine."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(100)


def _loaded(page: Any) -> Any:
    _until(page, "window.chargenetOrderly?.load?.points?.length > 0")
    return page.evaluate(CHART.format("orderly-chart"))


def test_the_panel_draws_load_limit_and_the_event_in_both_languages(page: Any, site: str) -> None:
    page.goto(f"{site}/login")  # the day comes from the address: the world's event day
    page.evaluate("localStorage.setItem('chargenet.lang', 'zh')")
    log_in(page, site, "xinzhou", PASSWORD)
    page.goto(f"{site}/dashboard?area=140900&orderly_day=2026-11-25")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    option = _loaded(page)
    load, limit, dr_limit = option["series"]
    assert [s["name"] for s in option["series"]] == ["负荷", "限额", "需求响应限额"]
    assert len(load["data"]) == 97  # a day of quarter hours, held to its end
    assert {v for _, v in limit["data"]} == {150.0}  # S1 100 kW + S2 50 kW
    # 18:00-19:00 local: S1 drew 20 kW under the event's 30 kW; S2 kept its 50 kW.
    during = [v for _, v in dr_limit["data"] if v is not None]
    assert during == [80.0] * 5  # four quarters, held to 19:00
    assert max(v for _, v in load["data"]) == 20.0
    [[begin, end]] = load["markArea"]["data"]
    assert end["xAxis"].startswith("2026-11-25T11:00")
    assert begin["name"] == "需求响应 30%" and begin["xAxis"].startswith("2026-11-25T10:00")
    note = page.locator("#orderly-note").inner_text()
    assert "谷电占比" in note and "最大负荷 20 kW" in note
    assert page.locator("#orderly-panel h2").inner_text().startswith("有序充电")
    page.locator("#orderly-panel").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # the charts' drawing animation
    shot(page, "orderly-zh")

    # One station: its own limit.
    page.select_option("#orderly-site", "S1")
    _until(page, "window.chargenetOrderly.load?.station_id === 'S1'")
    station = page.evaluate(CHART.format("orderly-chart"))
    assert {v for _, v in station["series"][1]["data"]} == {100.0}
    assert [v for _, v in station["series"][2]["data"] if v is not None] == [30.0] * 5

    # English: the same figures, other words.
    page.click("#lang")
    _until(page, "document.documentElement.lang === 'en'")
    english = page.evaluate(CHART.format("orderly-chart"))
    assert [s["name"] for s in english["series"]] == ["Load", "Limit", "Demand-response limit"]
    assert english["series"][0]["markArea"]["data"][0][0]["name"] == "Demand response 30%"
    assert page.locator("#orderly-panel h2").inner_text().startswith("Orderly charging")
    assert "Valley share" in page.locator("#orderly-note").inner_text()
    flex = page.evaluate(CHART.format("flex-chart"))
    assert flex["title"][0]["text"] == "Flexible load ahead"
    assert len(flex["xAxis"][0]["data"]) == 12
    page.locator("#orderly-panel").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    shot(page, "orderly-en")


def test_a_regulator_calls_a_demand_response_event_on_a_station_from_the_panel(
    page: Any, site: str
) -> None:
    page.goto(f"{site}/login")
    page.evaluate("localStorage.setItem('chargenet.lang', 'zh')")
    log_in(page, site, "xinzhou", PASSWORD)
    page.goto(f"{site}/dashboard?area=140900")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    _until(page, "window.chargenetOrderly?.load !== undefined")
    assert page.locator("#dr-scope").inner_text() == "范围：全区域受管站"
    page.select_option("#orderly-site", "S1")
    _until(page, "window.chargenetOrderly.load?.station_id === 'S1'")
    assert page.locator("#dr-scope").inner_text() == "范围：所选充电站"

    # Without a reason nothing is sent.
    page.click("#dr-call")
    assert page.locator("#dr-msg").inner_text() == "请填写原因"

    # Local wall time (Asia/Shanghai) in the form; the API gets the instant in UTC.
    page.fill("#dr-start", "2031-07-01T18:00")
    page.fill("#dr-end", "2031-07-01T19:30")
    page.fill("#dr-share", "30")
    page.fill("#dr-reason", "电网晚高峰调峰")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/orderly/dr-events")) as sent:
        page.click("#dr-call")
    assert sent.value.post_data_json == {
        "scope": "station",
        "scope_id": "S1",
        "start": "2031-07-01T10:00:00.000Z",
        "end": "2031-07-01T11:30:00.000Z",
        "share": 0.3,
        "reason": "电网晚高峰调峰",
    }
    _until(page, "document.getElementById('dr-msg').textContent.startsWith('已下达需求响应')")

    # The event is on the station's record: its day shows the lower limit and the shading.
    page.fill("#orderly-day", "2031-07-01")
    page.dispatch_event("#orderly-day", "change")
    _until(page, "window.chargenetOrderly.load?.dr_events?.length === 1")
    [event] = page.evaluate("window.chargenetOrderly.load.dr_events")
    assert event["share"] == 0.3
    option = page.evaluate(CHART.format("orderly-chart"))
    assert [v for _, v in option["series"][2]["data"] if v is not None] == [30.0] * 7

    # What the API refuses, the panel says, with the API's reason.
    page.fill("#dr-share", "150")
    page.click("#dr-call")
    _until(page, "document.getElementById('dr-msg').textContent.startsWith('操作失败')")
    assert "1" in page.locator("#dr-msg").inner_text()  # "… less than or equal to 1"
