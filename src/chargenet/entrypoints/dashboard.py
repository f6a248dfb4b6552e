"""Wiring of the web dashboard, the finder and the reports into the web app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.dashboard import MapLayers, ReportUnavailable, dashboard_router
from chargenet.adapters.api.finder import OperatorFacts, finder_router
from chargenet.adapters.api.logins import login_router
from chargenet.adapters.reports.monthly import render_monthly
from chargenet.adapters.reports.pdf import PdfUnavailable
from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.adapters.storage.queries_monthly import MonthlyReads
from chargenet.app.figures import Figures, Month
from chargenet.app.finder import LiveIndex
from chargenet.app.finder_feed import follow
from chargenet.app.monthly import MonthlyOrderly, MonthlySupervision, PlanningProgress
from chargenet.app.queries import AreaRow
from chargenet.app.trends import Trends
from chargenet.bootstrap import Platform
from chargenet.core.areas import AreaLevel
from chargenet.core.errors import UnknownReference

log = logging.getLogger(__name__)
WARM_UP_AFTER_S = 3.0


@dataclass
class DashboardParts:
    routers: list[APIRouter]
    index: LiveIndex
    figures: Figures
    jobs: list[Callable[[Platform], Awaitable[None]]]


def report_sources(
    platform: Platform,
) -> tuple[PlanningProgress, MonthlySupervision, MonthlyOrderly]:
    """What the monthly report takes from planning, supervision and orderly charging (for
    the dashboard's download and `chargenet report monthly` alike)."""
    counts = MonthlyReads(platform.store.read_engine, platform.read)
    zone = platform.settings.local_timezone
    return (
        PlanningProgress(platform.planning),
        MonthlySupervision(platform.supervision, counts, zone),
        MonthlyOrderly(platform.orderly_figures, zone),
    )


def dashboard_parts(
    platform: Platform,
    authenticators: Sequence[Authenticator],
    layers: MapLayers | None = None,
    *,
    secure_cookies: bool | None = None,
    warm_up: bool = False,
) -> DashboardParts:
    """`warm_up`: compute each city's trends and coverage gaps in the background
    after start, so that the first regulator to open the dashboard waits for none of them
    (they stay cached until their inputs change)."""
    index = LiveIndex(platform.settings.local_timezone)
    queries = DashboardQueries(platform.store.read_engine, platform.read)
    figures = Figures(
        platform.read, platform.clock, platform.settings.local_timezone, platform.planning
    )
    names: dict[str, Any] = {"at": 0, "names": {}}

    def operator_facts() -> dict[str, OperatorFacts]:
        # A small table that rarely changes: re-read it every few minutes at most.
        now = platform.clock.now().timestamp()
        if now - names["at"] > 300:
            rows, _ = platform.read.operators(limit=100_000)
            names["names"] = {
                r["operator_id"]: OperatorFacts(
                    name=r["name"],
                    name_en=r.get("name_en"),
                    service_phone=r.get("service_phone"),
                )
                for r in rows
            }
            names["at"] = now
        result: dict[str, OperatorFacts] = names["names"]
        return result

    def find_areas(text: str, limit: int) -> list[AreaRow]:
        rows, _ = platform.read.areas(query=text, limit=limit)
        return rows

    progress, supervision, grid = report_sources(platform)

    def valley_share(start: datetime, end: datetime, area: str) -> float | None:
        # Orderly charging's own figure (the API's /orderly/valley-share), not a second count.
        try:
            share = platform.orderly.valley_share(start, end, area, None)["valley_share"]
        except UnknownReference:  # no grid time-of-use periods configured
            return None
        return None if share is None else float(share)

    trends = Trends(figures, supervision, valley_share)

    def render(area: str, month: Month, fmt: str) -> tuple[bytes, str, str]:
        zone = platform.settings.local_timezone
        try:
            return render_monthly(figures, area, month, fmt, zone, progress, supervision, grid)
        except PdfUnavailable as exc:
            raise ReportUnavailable(str(exc)) from exc

    async def live_index(p: Platform) -> None:
        await follow(index, queries, p.bus.subscribe, p.clock)

    live_index.__name__ = "finder_index"

    async def warm_caches(p: Platform) -> None:
        await asyncio.sleep(WARM_UP_AFTER_S)  # the live index and the first pages first
        cities, _ = p.read.areas(level=AreaLevel.CITY, limit=1000)
        year = figures.today().year
        for city in cities:
            for work in (
                lambda code=city["code"]: trends.trend(code, 12),
                lambda code=city["code"]: p.planning.coverage(code, year),
                # Not siting: HiGHS holds the interpreter for the whole solve (up to its
                # time limit), which would freeze the live platform; it is computed when
                # first asked for and cached until its inputs change.
            ):
                try:
                    await _in_a_daemon_thread(work)
                except Exception:  # a city without a plan or data: nothing to keep
                    log.debug("warming the caches of %s", city["code"], exc_info=True)

    warm_caches.__name__ = "dashboard_warm_up"
    routers = [
        login_router(platform.accounts, authenticators, secure_cookies=secure_cookies),
        finder_router(index, authenticators, operator_facts, find_areas),
        dashboard_router(
            figures,
            index,
            queries,
            authenticators,
            layers or MapLayers(),
            render_report=render,
            zone=platform.settings.local_timezone,
            currency=platform.settings.currency,
            trends=trends.trend,
            tiles=_tiles(platform),
        ),
    ]
    jobs: list[Callable[[Platform], Awaitable[None]]] = [live_index]
    if warm_up:
        jobs.append(warm_caches)
    return DashboardParts(routers=routers, index=index, figures=figures, jobs=jobs)


def _tiles(platform: Platform) -> dict[str, str] | None:
    """The deployer's base map for the pages' maps (None: drawn from data alone)."""
    settings = platform.settings
    if not settings.map_tile_url:
        return None
    return {"url": settings.map_tile_url, "attribution": settings.map_tile_attribution}


async def _in_a_daemon_thread(work: Callable[[], object]) -> None:
    """Run `work` off the event loop in a thread a shutdown does not wait for: a cache
    being warmed (a city's trends take seconds) must not hold up a SIGTERM."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[BaseException | None] = loop.create_future()

    def settle(outcome: BaseException | None) -> None:
        if not done.done():
            done.set_result(outcome)

    def run() -> None:
        outcome: BaseException | None = None
        try:
            work()
        except Exception as exc:
            outcome = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="dashboard-warm-up", daemon=True).start()
    outcome = await done
    if outcome is not None:
        raise outcome
