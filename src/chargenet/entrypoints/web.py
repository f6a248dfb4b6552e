"""The ASGI application: the read API now, protocol adapters and the dashboard as they come."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from chargenet import __version__
from chargenet.adapters.api.auth import bearer_guard, token_digest
from chargenet.adapters.api.routes import read_router
from chargenet.bootstrap import Platform

log = logging.getLogger(__name__)

BackgroundJob = Callable[[Platform], Awaitable[None]]


async def _run(job: BackgroundJob, platform: Platform) -> None:
    await job(platform)


def create_app(
    platform: Platform,
    *,
    api_tokens: Sequence[str] = (),
    background: Sequence[BackgroundJob] = (),
) -> FastAPI:
    """Build the web application. `background` jobs run for the life of the app (the demo
    city's activity, simulators, pollers) and are cancelled at shutdown."""

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
    guard = bearer_guard([token_digest(t) for t in api_tokens])
    app.include_router(read_router(platform.read, private=guard))

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok",
            "version": __version__,
            "ingested_events": platform.pipeline.events,
        }

    app.state.platform = platform
    return app
