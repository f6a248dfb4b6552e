"""Each kind of user's journey through the pages, in Debian's Chromium, on a desktop and on
a 390×844 phone, against a running `chargenet demo`:

- a driver finds a place, filters, opens a station and hands off to a navigation app;
- an operator logs in, sees the cases addressed to it and reports a rectification, on a
  zombie-pile case and on a stop order, which the regulator then sees;
- a regulator opens the overview, drills down county → township → station and downloads
  the monthly report as PDF and XLSX.

Every page passes axe-core's WCAG 2.1 A/AA rules without a serious or critical violation,
and nothing is logged as an error in the browser's console (an anonymous visit asks
for no login it does not have). Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook

from tests.e2e.journeys import (
    ARGS,
    CHROMIUM,
    axe_violations,
    demo_server,
    eventually,
    finder_results_after,
    log_in,
    new_page,
    shot,
    skip_without_browser,
)

pytestmark = pytest.mark.slow
sync_api = skip_without_browser()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    running = os.environ.get("CHARGENET_E2E_URL")  # a demo already running (while developing)
    if running:
        yield running
        return
    yield from demo_server(tmp_path_factory.mktemp("journeys"))


@pytest.fixture(scope="module")
def browser(demo: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=["desktop", "phone"])
def screen(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Any, screen: str, errors: list[str]) -> Iterator[Any]:
    context, tab = new_page(browser, screen, errors)
    yield tab
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def test_a_driver_finds_a_place_filters_opens_a_station_and_navigates(
    page: Any, demo: str, screen: str
) -> None:
    page.goto(f"{demo}/")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".result")
    bar = page.locator("header.bar").bounding_box()
    assert bar["height"] <= 56  # one line, never a character a line
    if screen == "phone":
        # The list first; the map a tap away, filling the screen above the toggle.
        page.click("#viewtoggle [data-view=map]")
        box = page.locator("#map").bounding_box()
        assert box["height"] > 500 and box["width"] >= 380
        shot(page, f"finder-map-{screen}")
        page.click("#viewtoggle [data-view=list]")
        page.click("#filters-box summary")
    assert axe_violations(page) == []
    shot(page, f"finder-{screen}")

    # Place search over the registry: an area by name moves the search there.
    page.fill("#place", "原平")
    page.wait_for_selector("#place-results button.place-item")
    first = page.locator("#place-results button.place-item").first
    assert "原平" in first.inner_text()
    # The list near the city centre stays up until the search near 原平 answers: wait for
    # that answer on screen, or the filtered search below would race it.
    near = finder_results_after(page, first.click)
    assert near
    assert "原平" in page.locator("#where").inner_text()

    # Filters: DC only.
    page.check("#f-dc")
    ids = finder_results_after(page, "#filters button[type=submit]", "dc=true")
    assert ids
    for station_id in ids[:5]:
        detail = page.request.get(f"{demo}/api/v1/finder/stations/{station_id}").json()
        assert detail["fast_total"] > 0

    # A station: the facts a driver decides by, and the hand-off to navigation.
    # The live demo moves statuses while the test reads, so the figures on screen are checked
    # against the answer the page itself was given, not against a second request a moment later.
    with page.expect_response(lambda r: f"/finder/stations/{ids[0]}" in r.url) as got:
        page.locator(".result").first.click()
    station = got.value.json()
    page.wait_for_selector("#detail-name")
    assert page.locator("#detail-name").inner_text() == station["name"]
    fast = page.locator("#fast-free").inner_text()
    assert f"{station['fast_free']}/{station['fast_total']}" in fast.replace(" ", "")
    assert page.locator("#open-now").inner_text() in ("营业中", "未营业")
    plain = page.locator("#detail table tbody").inner_text()
    assert "国标" in plain or "欧标" in plain  # connectors in plain words, not gbt_dc
    amap = urlparse(page.locator("#nav-amap").get_attribute("href"))
    to = parse_qs(amap.query)["to"][0].split(",")
    assert amap.netloc == "uri.amap.com"
    assert (float(to[1]), float(to[0])) == (station["gcj02"]["lat"], station["gcj02"]["lon"])
    assert (station["gcj02"]["lat"], station["gcj02"]["lon"]) != (station["lat"], station["lon"])
    baidu = parse_qs(urlparse(page.locator("#nav-baidu").get_attribute("href")).query)
    assert baidu["coord_type"] == ["gcj02"]
    apple = parse_qs(urlparse(page.locator("#nav-apple").get_attribute("href")).query)
    assert apple["daddr"] == [f"{station['gcj02']['lat']},{station['gcj02']['lon']}"]
    if station["price"]:
        assert page.locator("#price-source").inner_text() != ""
    assert axe_violations(page) == []
    shot(page, f"finder-station-{screen}")

    # English: the operator's English name, the page's words.
    page.click("#lang")
    page.wait_for_selector("#open-now:has-text('now')")
    if station["operator_name_en"]:
        assert page.locator("#detail-operator").inner_text() == station["operator_name_en"]
    shot(page, f"finder-station-en-{screen}")


def test_a_finder_that_is_still_loading_is_waited_for_not_shown_as_an_error(
    browser: Any, demo: str
) -> None:
    """The first two searches meet a server still loading its live index (503 with
    Retry-After, as after a start): the page asks again and shows the stations."""
    errors: list[str] = []
    context, tab = new_page(browser, "desktop", errors)
    refused: list[str] = []

    def loading(route: Any) -> None:
        if len(refused) < 2:
            refused.append(route.request.url)
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body='{"detail": "the live index is loading; try again in a moment"}',
            )
        else:
            route.continue_()

    try:
        tab.route("**/api/v1/finder/nearest*", loading)
        tab.goto(f"{demo}/")
        tab.wait_for_selector(".result", timeout=30_000)
        assert len(refused) == 2
        assert tab.locator(".result").count() > 0
    finally:
        context.close()
    # Chromium logs each 503 as a failed resource; nothing else went wrong.
    assert [e for e in errors if "503" not in e] == []


def test_switching_language_before_the_panels_load_throws_nothing(
    page: Any, demo: str, errors: list[str]
) -> None:
    log_in(page, demo, "xinzhou", "demo-xinzhou", "/dashboard")
    page.goto(f"{demo}/dashboard")
    page.click("#lang")  # at once, before the panels have their data
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)
    assert page.locator("#card-piles .k").inner_text() == "Piles"
    page.goto(f"{demo}/")  # English sticks; switched back before the finder has answered
    page.click("#lang")
    page.wait_for_selector(".result")
    assert page.locator("[data-t=finder]").first.inner_text() == "找充电桩"
    assert "距离" in page.locator(".result").first.inner_text()


def test_an_operator_sees_its_cases_and_reports_a_rectification(
    page: Any, demo: str, screen: str, browser: Any
) -> None:
    log_in(page, demo, "jinbei", "demo-jinbei", "/workspace")
    loads = [0]

    def cases_and_tab() -> tuple[Any, str]:
        """The API's cases and the tab's count; the page shows what it had when it loaded,
        so it is loaded again when the demo's sweep has opened a case since."""
        if loads[0]:
            page.reload()
            page.wait_for_selector("body[data-ready='1']", timeout=90_000)
        loads[0] += 1
        cases = page.request.get(f"{demo}/api/v1/supervision/zombies", params={"limit": 500})
        return cases, page.locator("#ws-tabs [data-list=zombies]").inner_text()

    def total(cases: Any) -> int:
        return int(cases.headers["x-total-count"])

    cases, tab = eventually(cases_and_tab, lambda c: f"({total(c[0])})" in c[1], every=0)
    assert all(c["operator_id"] == "XZ-JB" for c in cases.json())
    assert f"({total(cases)})" in tab
    stations = page.request.get(
        f"{demo}/api/v1/stations", params={"operator": "XZ-JB", "limit": 1000}
    ).json()
    assert page.locator("#ws-stations tbody tr").count() == len(stations)
    assert page.locator("#ws-scorecard").inner_text() != ""
    assert axe_violations(page) == []
    shot(page, f"workspace-{screen}", full=True)

    open_case = next((c for c in cases.json() if not c.get("reported_at")), None)
    if open_case is not None:
        row = page.locator(f"#ws-list tr[data-id='{open_case['case_id']}']")
        row.locator("button[data-act=report]").click()
        row.locator("input").fill("更换了通信模块 replaced the modem")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(
            f"#ws-list tr[data-id='{open_case['case_id']}'] .badge.ok", timeout=60_000
        )
        steps = page.request.get(
            f"{demo}/api/v1/supervision/zombies/{open_case['case_id']}"
        ).json()["steps"]
        assert any(s["step"] == "reported" and "replaced the modem" in s["detail"] for s in steps)
        shot(page, f"workspace-reported-{screen}")

    _a_stop_order_rectified(page, demo, screen, browser, stations[screen == "phone"])

    def refused_and_list() -> tuple[list[dict[str, Any]], str]:
        """The API's refused data and the tab's list (loaded again if the platform has
        refused more since the page asked)."""
        if loads[0]:
            page.reload()
            page.wait_for_selector("body[data-ready='1']", timeout=90_000)
        loads[0] += 1
        page.click("#ws-tabs [data-list=refused]")
        refused = page.request.get(f"{demo}/api/v1/events/rejected", params={"limit": 200})
        return refused.json(), page.locator("#ws-list").inner_text()

    def shown(refused: list[dict[str, Any]], body: str) -> bool:
        return (len(refused) == 0 and body.strip() in ("无", "none")) or (
            bool(refused) and refused[0]["reason"] in body
        )

    loads[0] = 0
    refused, body = eventually(refused_and_list, lambda r: shown(*r), every=0)
    assert shown(refused, body)

    # A page of another role: a refusal that says where to go instead.
    page.goto(f"{demo}/dashboard")
    page.wait_for_selector("#refused h1")
    assert page.locator("#refused-home").get_attribute("href") == "/workspace"
    assert page.locator("#dash").is_hidden()
    assert axe_violations(page) == []
    shot(page, f"refused-{screen}")


def _a_stop_order_rectified(
    page: Any, demo: str, screen: str, browser: Any, station: dict[str, Any]
) -> None:
    """A regulator stops one of the operator's stations; the operator reports from its
    workspace what it did; the regulator sees the report on the order, then lifts it."""
    regulator = browser.new_context(locale="zh-CN")
    login = {"username": "xinzhou", "password": "demo-xinzhou"}
    assert regulator.request.post(f"{demo}/api/v1/auth/login", data=login).ok
    csrf = {"X-CSRF-Token": next(c["value"] for c in regulator.cookies() if "csrf" in c["name"])}
    stop = regulator.request.post(
        f"{demo}/api/v1/supervision/stop-orders",
        data={"target_kind": "station", "target_id": station["station_id"], "reason": "线缆破损"},
        headers=csrf,
    ).json()
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)
    page.click("#ws-tabs [data-list=orders]")
    row = page.locator(f"#ws-list tr[data-id='{stop['stop_id']}']")
    row.locator("button[data-act=report]").click()
    row.locator("input").fill("更换了充电线缆 replaced the cable")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#ws-list tr[data-id='{stop['stop_id']}'] .badge.ok", timeout=60_000)
    assert axe_violations(page) == []
    shot(page, f"workspace-stop-reported-{screen}")

    seen = regulator.request.get(f"{demo}/api/v1/supervision/stop-orders/{stop['stop_id']}")
    assert seen.json()["rectification"] == "更换了充电线缆 replaced the cable"
    assert seen.json()["lifted_at"] is None  # still in force: the regulator decides
    if screen == "desktop":  # and on the dashboard's stop-order list
        dashboard = regulator.new_page()
        dashboard.goto(f"{demo}/dashboard")
        dashboard.wait_for_selector("body[data-ready='1']", timeout=90_000)
        dashboard.click("#list-tabs button[data-list=orders]")
        reported = dashboard.locator(f"#list .acts[data-for='{stop['stop_id']}']")
        assert "replaced the cable" in reported.locator("xpath=ancestor::tr").inner_text()
    lifted = regulator.request.post(
        f"{demo}/api/v1/supervision/stop-orders/{stop['stop_id']}/lift",
        data={"reason": "复查合格"},
        headers=csrf,
    )
    assert lifted.ok
    regulator.close()


def test_a_regulator_drills_down_and_downloads_the_report(
    page: Any, demo: str, screen: str
) -> None:
    log_in(page, demo, "xinzhou", "demo-xinzhou", "/dashboard")
    trend = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('trend-chart'))"
        ".getOption().xAxis[0].data"
    )
    assert len(trend) == 12 and trend[-1].endswith("*")  # this month, still running
    api = page.request.get(f"{demo}/api/v1/dashboard/trends", params={"months": 12}).json()
    piles = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('trend-chart'))"
        ".getOption().series[1].data"
    )
    assert piles == [p["piles"]["total"] for p in api["points"]]
    with page.expect_response(lambda r: "/dashboard/trends" in r.url and "months=6" in r.url):
        page.select_option("#trend-range", "6")
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.getElementById('trend-chart'))"
        ".getOption().xAxis[0].data.length === 6"
    )
    assert axe_violations(page) == []
    shot(page, f"overview-{screen}", full=screen == "desktop")

    # County (clicked on the map, coloured by its target's progress) → township → station.
    colours = page.evaluate(
        "() => { const out = []; window.chargenet.ui.base.boundaryLayer.eachLayer(l => "
        "out.push([l.feature.properties.code, l.options.fillColor])); return out; }"
    )
    assert len({c for _, c in colours}) > 1
    county = "140902"
    page.evaluate(
        "code => { window.chargenet.ui.base.boundaryLayer.eachLayer(l => { "
        "if (l.feature.properties.code === code) l.fire('click'); }); }",
        county,
    )
    page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=90_000)
    assert page.locator("#area").input_value() == county
    overview = page.request.get(f"{demo}/api/v1/dashboard/overview?area={county}").json()
    shown = int(re.sub(r"[^\d]", "", page.locator("#card-piles .v").inner_text()))
    assert shown == overview["piles"]["total"]  # the whole screen is the county's now
    page.wait_for_function("() => window.chargenet.ui.townships.getLayers().length > 0")
    page.evaluate("() => { window.chargenet.ui.townships.getLayers()[0].fire('click'); }")
    page.wait_for_selector("#township-name")
    if page.locator("#station-panel button[data-station]").count():
        page.locator("#station-panel button[data-station]").first.click()
        page.wait_for_selector("#station-name")
    shot(page, f"drilldown-{screen}")

    # The monthly report, last month by default: PDF and Excel.
    month = page.locator("#report-month").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}", month)
    pdf_url = page.locator("#report-pdf").get_attribute("href")
    pdf = page.request.get(f"{demo}{pdf_url}", timeout=120_000)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    xlsx = page.request.get(f"{demo}{page.locator('#report-xlsx').get_attribute('href')}")
    assert xlsx.status == 200
    book = load_workbook(io.BytesIO(xlsx.body()))
    assert len(book.sheetnames) >= 3


def test_every_page_passes_the_accessibility_check(page: Any, demo: str) -> None:
    # Each page as it is once drawn: the header has asked who is there (an anonymous
    # visitor gets the log-in link) and the finder has its results.
    for path, drawn in (("/", "body[data-ready='1']"), ("/login", "button[type=submit]:enabled")):
        page.goto(f"{demo}{path}")
        page.wait_for_selector("header.bar #login:not([hidden])")
        page.wait_for_selector(drawn)
        assert axe_violations(page) == [], path
    log_in(page, demo, "admin", "demo-admin", "/dashboard")
    assert axe_violations(page) == [], "/dashboard"
    page.goto(f"{demo}/workspace")  # an admin is not an operator: refused, politely
    page.wait_for_selector("#refused h1")
    assert axe_violations(page) == [], "/workspace refused"
