"""What the journey tests share: a running `chargenet demo`, Debian's Chromium driven by
Playwright, the two screens people use (a desktop and a 390×844 phone), an accessibility
check with axe-core (served from the package's vendored libraries) and screenshots in
test-artifacts/."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from chargenet.kit.net import free_port
from tests.adapters.ocpi.spec import LiveServer

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
SCREENS: dict[str, dict[str, object]] = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# axe-core's impact levels that fail a page (WCAG 2.x A and AA rules).
FAILING_IMPACTS = ("serious", "critical")
T = TypeVar("T")


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """The web app on a free local port, in a thread, for as long as the block runs."""
    server = LiveServer(app)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def start_demo(db: Path, port: int) -> subprocess.Popen[str]:
    chargenet = Path(sys.executable).with_name("chargenet")
    return subprocess.Popen(
        [str(chargenet), "demo", "--db", f"sqlite:///{db}", "--port", str(port), "--speed", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CHARGENET_SQLITE_SYNCHRONOUS": "NORMAL"},
    )


def wait_until_ready(base: str, process: subprocess.Popen[str], seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/finder/nearest?lat=38.4&lon=112.7", timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"demo exited: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.5)
    raise AssertionError("the demo did not come up")


def demo_server(tmp: Path) -> Generator[str, None, None]:
    port = free_port()
    process = start_demo(tmp / "demo.db", port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=30)


@contextmanager
def serving(platform: Any) -> Iterator[str]:
    """The platform's web app on a free port in this process (uvicorn in a thread)."""
    from chargenet.entrypoints.web import create_app

    with serve(create_app(platform)) as base:
        yield base


def new_page(browser: Any, screen: str, errors: list[str]) -> tuple[Any, Any]:
    context = browser.new_context(locale="zh-CN", **SCREENS[screen])
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on(
        "console",
        lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None,
    )
    return context, page


def log_in(page: Any, base: str, user: str, password: str, lands: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    # As long as the page's own wait: on a loaded 2-core machine the demo's first siting
    # and scrypt log-ins share the CPU with the browser and the suite.
    page.wait_for_url(f"**{lands}", timeout=90_000)
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations'], "
        "runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]


def shot(page: Any, name: str, full: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def skip_without_browser() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium (./dev test installs it)", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


def finder_results_after(
    page: Any, action: str | Callable[[], object], query: str = ""
) -> list[str]:
    """Do `action` (a selector to click, or a function), wait for the finder's answer whose
    URL holds `query` and then for the list on screen to be that answer (the list it
    replaces stays up until the answer renders); return the station ids in the order shown."""
    with page.expect_response(lambda r: "/finder/nearest" in r.url and query in r.url) as got:
        if callable(action):
            action()
        else:
            page.click(action)
    ids = [s["station_id"] for s in got.value.json()]
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('.result')]"
        ".map(e => e.dataset.station)) === JSON.stringify(ids)",
        arg=ids,
    )
    return ids


def eventually(
    read: Callable[[], T], done: Callable[[T], bool], seconds: float = 60, every: float = 0.5
) -> T:
    """`read()`'s first answer of which `done` holds, or its last one after `seconds` (the
    caller's assertion then says what is wrong). For what the live demo or a page's own
    refresh settles a moment later: asked at once, it may still show the moment before."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)
