"""The API documentation in a real browser (Debian's Chromium driven by Playwright): /docs
draws every operation from the package's own Swagger UI, and the browser asks no host but
chargenet's for anything (the page must work on a network without internet)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from chargenet.adapters.api.pages import DOCS_FILES, assets_present
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.web import create_app
from tests.adapters.ocpi.spec import LiveServer

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium (./dev test installs it)", allow_module_level=True)
if not assets_present(DOCS_FILES):
    pytest.skip("Swagger UI not installed (./dev setup copies it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    platform = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'chargenet.db'}", sqlite_synchronous="OFF")
    )
    server = LiveServer(create_app(platform))
    server.start()
    yield server.url
    server.stop()
    platform.close()


def test_the_docs_render_from_the_package_alone(base_url: str) -> None:
    hosts: set[str] = set()
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page: Any = browser.new_page()
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base_url}/docs")
        page.wait_for_selector(".opblock", timeout=60_000)
        drawn = page.locator(".opblock-summary-path").all_inner_texts()
        browser.close()
    assert "/api/v1/areas" in drawn and "/api/v1/overview" in drawn
    assert hosts == {urlsplit(base_url).netloc}
    assert errors == []
