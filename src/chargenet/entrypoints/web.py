"""The ASGI application: the read API now, protocol adapters and the dashboard as they come."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from chargenet import __version__
from chargenet.adapters.api.auth import Authenticator, StaticTokens
from chargenet.adapters.api.dashboard import MapLayers
from chargenet.adapters.api.logins import SessionCookies
from chargenet.adapters.api.pages import mount_pages
from chargenet.adapters.api.routes import read_router
from chargenet.bootstrap import Platform
from chargenet.entrypoints.dashboard import dashboard_parts

log = logging.getLogger(__name__)

BackgroundJob = Callable[[Platform], Awaitable[None]]


async def _run(job: BackgroundJob, platform: Platform) -> None:
    await job(platform)


def create_app(
    platform: Platform,
    *,
    api_tokens: Sequence[str] = (),
    authenticators: Sequence[Authenticator] = (),
    background: Sequence[BackgroundJob] = (),
    routers: Sequence[APIRouter] = (),
    map_layers: MapLayers | None = None,
) -> FastAPI:
    """Build the web application.

    `api_tokens` are admin bearer tokens; `authenticators` add other ways to log in.
    `background` jobs run for the life of the app (the demo city's activity, simulators,
    pollers, protocol servers) and are cancelled at shutdown. `routers` are mounted as
    they are (protocol endpoints, dashboard). `map_layers` are the boundaries and roads
    the dashboard's maps draw.
    """
    auth: list[Authenticator] = [
        StaticTokens.admins(api_tokens),
        SessionCookies(platform.accounts),
        *authenticators,
    ]
    dashboard = dashboard_parts(platform, auth, map_layers)
    background = [*background, *dashboard.jobs]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(_run(job, platform), name=getattr(job, "__name__", "job"))
            for job in background
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("background job %s failed", task.get_name())
            await platform.stop()

    app = FastAPI(
        title="chargenet",
        version=__version__,
        description=(
            "Supervision and service platform for EV charging and battery swapping. "
            "Times are UTC (ISO 8601), energy in Wh, power in W, money as decimal strings."
        ),
        lifespan=lifespan,
    )
    app.include_router(read_router(platform.read, auth))
    for router in [*dashboard.routers, *routers]:
        app.include_router(router)
    mount_pages(app)
    app.state.authenticators = auth

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok",
            "version": __version__,
            "ingested_events": platform.pipeline.events,
        }

    app.state.platform = platform
    app.state.finder = dashboard.index
    return app
