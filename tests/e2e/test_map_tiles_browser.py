"""A deployer's own map tiles under the finder's and the dashboard's maps: the pages ask
the configured tile server for tiles, and the Content-Security-Policy admits that host
and no other (the same setting decides both)."""

from __future__ import annotations

import base64
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
from chargenet.entrypoints.web import create_app
from tests.builders import small_world
from tests.e2e.journeys import ARGS, serve

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium (./dev test installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

TILES = "http://{s}.tiles.example.test/base/{z}/{x}/{y}.png"
PASSWORD = "correct horse"
# a 1×1 transparent PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("tiles") / "chargenet.db"
    settings = Settings(
        database_url=f"sqlite:///{db}", map_tile_url=TILES, map_tile_attribution="© Example"
    )
    platform: Platform = bootstrap(settings)
    platform.accounts.hasher = PasswordHasher(n=2**10, r=8, p=1)
    platform.accounts.add_user("xinfu", PASSWORD, Role.REGULATOR, area_code="140902")
    platform.ingestor.ingest(small_world())
    with serve(create_app(platform)) as base:
        yield base
    platform.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _tiles_asked(page: Any) -> list[str]:
    """Serve every request to the tile host from here, and say which were made."""
    asked: list[str] = []

    def tile(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PNG)

    page.route("http://*.tiles.example.test/**", tile)
    return asked


def test_the_policy_admits_the_configured_tile_host_and_no_other(site: str) -> None:
    for path in ("/", "/dashboard", "/api/v1/overview"):
        policy = httpx.get(f"{site}{path}").headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["img-src"] == "'self' data: blob: http://*.tiles.example.test"
    config = httpx.get(f"{site}/api/v1/ui/config").json()
    assert config["map_tiles"] == {"url": TILES, "attribution": "© Example"}


def test_the_finder_draws_the_configured_tiles_and_may_load_no_other_images(
    browser: Any, site: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    asked = _tiles_asked(page)
    elsewhere: list[str] = []
    page.route("http://elsewhere.example.test/**", lambda r: elsewhere.append(r.request.url))
    page.goto(f"{site}/")
    page.wait_for_selector(".leaflet-tile-loaded")
    assert asked and all("/base/" in url for url in asked)
    assert "© Example" in page.locator(".leaflet-control-attribution").inner_text()
    blocked = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation",
                (e) => resolve(e.blockedURI), { once: true });
            const img = new Image();
            img.src = "http://elsewhere.example.test/x.png";
            document.body.append(img);
        })"""
    )
    assert blocked.startswith("http://elsewhere.example.test")
    assert elsewhere == []  # refused by the browser before any request left it


def test_the_dashboard_map_draws_the_configured_tiles(browser: Any, site: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    asked = _tiles_asked(page)
    page.goto(f"{site}/login")
    page.fill("#username", "xinfu")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard", timeout=90_000)
    page.wait_for_selector("#dash-map .leaflet-tile-loaded")
    assert asked
