"""The ASGI application: the read API now, protocol adapters and the dashboard as they come."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from chargenet import __version__
from chargenet.adapters.api.auth import Authenticator, StaticTokens, current_principal, require
from chargenet.adapters.api.bodies import JsonBodyLimits, StorableUrls
from chargenet.adapters.api.commands import commands_router
from chargenet.adapters.api.dashboard import MapLayers
from chargenet.adapters.api.logins import SessionCookies
from chargenet.adapters.api.pages import mount_pages
from chargenet.adapters.api.planning import planning_router
from chargenet.adapters.api.routes import read_router
from chargenet.adapters.api.supervision import supervision_router
from chargenet.adapters.ocpi.forward import Forwarder
from chargenet.adapters.ocpi.opendata import open_data_router
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.pull import pull_forever
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.access import Audience, OutsideScope, Role, declared
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
    scoped_routers: Sequence[APIRouter] = (),
    map_layers: MapLayers | None = None,
    warm_up: bool = False,
) -> FastAPI:
    """Build the web application.

    `api_tokens` are admin bearer tokens; `authenticators` add other ways to log in.
    `background` jobs run for the life of the app (the demo city's activity, simulators,
    pollers, protocol servers) and are cancelled at shutdown. `routers` are mounted as
    they are (protocol endpoints, dashboard); `scoped_routers` after the caller is known
    (`request.state.principal`): they check who may see what themselves.
    `map_layers` are the boundaries and roads the dashboard's maps draw; `warm_up`
    computes the dashboard's slow figures in the background after start.
    """
    auth: list[Authenticator] = [
        StaticTokens.admins(api_tokens),
        SessionCookies(platform.accounts),
        *authenticators,
    ]
    dashboard = dashboard_parts(platform, auth, map_layers, warm_up=warm_up)
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
        # /docs is served from the package by mount_pages; FastAPI's would load a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(JsonBodyLimits)
    app.add_middleware(StorableUrls)
    app.include_router(read_router(platform.read, auth))
    app.include_router(planning_router(platform.planning, private=require(auth, Role.REGULATOR)))
    app.include_router(
        supervision_router(platform.supervision, auth, platform.settings.local_timezone)
    )
    app.include_router(commands_router(platform.orders, platform.read, auth))
    for router in scoped_routers:
        app.include_router(router, dependencies=[Depends(current_principal(auth))])
    for router in [*dashboard.routers, *routers]:
        app.include_router(router)
    mount_pages(app)
    app.state.authenticators = auth

    @app.exception_handler(OutsideScope)
    async def outside_scope(_: Request, exc: OutsideScope) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.get("/healthz", tags=["operations"], **declared(Audience.PUBLIC))
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok",
            "version": __version__,
            "ingested_events": platform.pipeline.events,
        }

    app.state.platform = platform
    app.state.finder = dashboard.index
    return app


def ocpi_parts(
    platform: Platform, party: OcpiParty | None = None
) -> tuple[list[APIRouter], list[BackgroundJob]]:
    """The OCPI party's routers (OCPI 2.2.1, open data) and jobs (pull, forwarding)."""
    ocpi = party or build_ocpi(platform)
    forwarder = Forwarder(ocpi)

    async def ocpi_pull(_: Platform) -> None:
        await pull_forever(ocpi)

    async def ocpi_forward(p: Platform) -> None:
        try:
            await forwarder.run(p.bus)
        finally:
            await ocpi.client.close()

    return [ocpi_router(ocpi), open_data_router(ocpi)], [ocpi_pull, ocpi_forward]


def protocol_parts(platform: Platform) -> dict[str, Any]:
    """The protocol adapters' routers and background jobs, as `create_app` keyword
    arguments, for `chargenet serve` and `chargenet demo`."""
    ocpi_routers, ocpi_jobs = ocpi_parts(platform)
    return {
        "routers": [platform.tcec.router(), *ocpi_routers],
        "scoped_routers": [platform.tcec.admin_router()],
        "background": [*platform.tcec.jobs(), *ocpi_jobs],
    }
