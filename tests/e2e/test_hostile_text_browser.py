"""Names, addresses and operator names are shown as text and run nothing, in a real browser.

Station and operator names arrive from imports, OCPI and T/CEC 102 pushes: anyone who can
register a station can choose its name. Here the names carry markup that would run script
if a page put them into its HTML unescaped; the finder (list, station detail, language
switch, map tooltip) and the dashboard's station panel must show them letter for letter and
never run them, and every page carries a Content-Security-Policy that forbids inline script.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargenet.app.accounts import PasswordHasher
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.access import Role
from chargenet.core.events import ConnectorStatusChanged
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus
from tests.builders import areas, at, charger, meta, operator, station
from tests.e2e.journeys import serving

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium (./dev test installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

NAME = '<img src=x onerror="window.__xss=1">站'
NAME_EN = "<img src=y onerror=\"window.__xss='en'\">Station"
ADDRESS = '"><svg onload="window.__xss=2">街'
OPERATOR = '<b onmouseover="window.__xss=3">运营商</b>'
PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("hostile") / "chargenet.db"
    platform: Platform = bootstrap(Settings(database_url=f"sqlite:///{db}"))
    platform.accounts.hasher = PasswordHasher(n=2**10, r=8, p=1)
    platform.accounts.add_user("xinfu", PASSWORD, Role.REGULATOR, area_code="140902")
    platform.ingestor.ingest(
        [
            *areas(),
            operator(name=OPERATOR, name_en=OPERATOR),
            station(name=NAME, name_en=NAME_EN, address=ADDRESS),
            charger(),
            *(
                ConnectorStatusChanged(
                    **meta(at(n)),
                    connector_id=ConnectorId(f"C1-{n}-1"),
                    status=ConnectorStatus.AVAILABLE,
                )
                for n in (1, 2)
            ),
        ]
    )
    with serving(platform) as base:
        yield base
    platform.close()


@pytest.fixture
def page(site: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        yield tab
        browser.close()


def _ran(page: Any) -> Any:
    return page.evaluate("window.__xss")


def test_the_finder_shows_hostile_names_as_text(page: Any, site: str) -> None:
    page.goto(f"{site}/")
    page.wait_for_selector(".result h3")
    assert NAME in page.locator(".result h3").first.inner_text()
    assert OPERATOR in page.locator(".result .meta").nth(1).inner_text()
    page.locator(".result").first.click()
    page.wait_for_selector("#detail-name")
    assert page.locator("#detail-name").inner_text() == NAME
    assert ADDRESS in page.locator("#detail dl").inner_text()
    _open_tooltips(page)  # the map dot's tooltip carries the name too
    assert NAME in page.locator(".leaflet-tooltip").first.inner_text()
    page.click("#lang")  # English: the English name, rendered again
    page.click("#back")
    page.wait_for_selector(".result h3")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert NAME_EN in page.locator(".result h3").first.inner_text()
    _open_tooltips(page)
    assert NAME_EN in " ".join(page.locator(".leaflet-tooltip").all_inner_texts())
    page.wait_for_timeout(300)
    assert _ran(page) is None


def _open_tooltips(page: Any) -> None:
    page.evaluate("window.chargenet.markers.eachLayer((m) => m.openTooltip())")


def test_the_dashboard_station_panel_shows_hostile_names_as_text(page: Any, site: str) -> None:
    from tests.e2e.test_dashboard_browser import click_station, log_in

    log_in(page, site, "xinfu", PASSWORD)
    page.wait_for_function("Object.keys(window.chargenet.ui.markers ?? {}).length > 0")
    click_station(page, "S1")
    assert page.locator("#station-name").inner_text() == NAME
    assert OPERATOR in page.locator("#station-panel").inner_text()
    page.wait_for_timeout(300)
    assert _ran(page) is None


def test_every_page_forbids_inline_script(site: str) -> None:
    for path in ("/", "/login", "/dashboard", "/static/finder.js", "/api/v1/overview"):
        policy = httpx.get(f"{site}{path}").headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives.get("script-src") == "'self'", (path, policy)
        assert directives.get("object-src") == "'none'", path
