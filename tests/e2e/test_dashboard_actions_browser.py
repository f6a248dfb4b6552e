"""After an action the dashboard's map shows what it changed, however far behind the bus
the live index is, without waiting for the 15-second refresh: in a real browser, against
a platform whose index hears every event LAG_S late (as under a storm) and a page whose
periodic refresh is switched off, so that only the action's own reload can show it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from chargenet.adapters.bus.memory import Subscription
from chargenet.app.accounts import PasswordHasher
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.access import Role
from chargenet.core.events import ConnectorStatusChanged, Event
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus
from tests.builders import at, meta, small_world
from tests.e2e.journeys import ARGS, CHROMIUM, serving, skip_without_browser

pytestmark = pytest.mark.slow
sync_api = skip_without_browser()

PASSWORD = "correct horse"
LAG_S = 2.0  # far beyond the 0.3 s the page used to wait; well within the server's 5 s
REFRESH_MS = 15000  # dashboard.js's periodic refresh, switched off below


class Late:
    """A bus subscription LAG_S behind: the first event of a batch is handed on LAG_S after
    it arrived, with what arrived meanwhile (the index takes a batch at a time)."""

    def __init__(self, inner: Subscription) -> None:
        self.inner = inner
        self.dropped = 0  # a handful of events: the bus drops none

    async def get(self) -> Event:
        event = await self.inner.get()
        await asyncio.sleep(LAG_S)
        return event

    def get_nowait(self) -> Event | None:
        return self.inner.get_nowait()

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("late") / "chargenet.db"
    platform: Platform = bootstrap(Settings(database_url=f"sqlite:///{db}"))
    platform.accounts.hasher = PasswordHasher(n=2**10, r=8, p=1)
    platform.accounts.add_user("xinfu", PASSWORD, Role.REGULATOR, area_code="140902")
    platform.ingestor.ingest(
        [
            *small_world(),
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
    subscribe = platform.bus.subscribe
    platform.bus.subscribe = lambda *a, **kw: Late(subscribe(*a, **kw))  # type: ignore[method-assign,assignment]
    with serving(platform) as base:
        yield base
    platform.close()


@pytest.fixture
def page(site: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        # No periodic refresh: what the map shows after an action is the action's doing.
        tab.add_init_script(
            "const every = window.setInterval; window.setInterval = (f, ms, ...a) =>"
            f" ms === {REFRESH_MS} ? 0 : every(f, ms, ...a);"
        )
        yield tab
        browser.close()
        assert errors == [], f"the page raised: {errors}"


def marker_state(page: Any) -> str:
    return str(page.evaluate("window.chargenet.ui.markers.S1.state"))


def test_the_map_shows_a_stop_order_and_its_lifting_once_the_index_has_them(
    page: Any, site: str
) -> None:
    from tests.e2e.test_dashboard_browser import click_station, log_in

    log_in(page, site, "xinfu", PASSWORD)
    page.wait_for_function("() => window.chargenet.ui.markers?.S1 !== undefined")
    before = marker_state(page)  # offline: nothing has said the charger is connected
    assert before != "stopped"
    click_station(page, "S1")
    page.select_option("#stop-target", "station:S1")
    page.fill("#stop-reason", "积水，停用")
    page.click("#stop-issue")
    # No refresh will come: only the action's own reload can show this.
    page.wait_for_function(
        "() => window.chargenet.ui.markers.S1.state === 'stopped'", timeout=20_000
    )
    page.wait_for_selector("#station-panel .badge.stop")

    stop_id = page.evaluate("window.chargenet.state.lists.orders[0].stop_id")
    page.click("#list-tabs button[data-list=orders]")
    acts = page.locator(f"#list .acts[data-for='{stop_id}']")
    acts.locator("button[data-act=lift]").click()
    acts.locator("input.reason").fill("已排水")
    acts.locator("button[data-act=lift-go]").click()
    page.wait_for_function(
        "(was) => window.chargenet.ui.markers.S1.state === was", arg=before, timeout=20_000
    )
    # the station's panel is drawn again right after the map, from the same index
    page.wait_for_selector("#station-panel .badge.stop", state="detached", timeout=20_000)
