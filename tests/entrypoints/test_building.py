"""While the demo city is built the port already answers: a progress page for people,
503 with Retry-After for the API and health checks; then the real application, whose
lifespan (background jobs) starts only then, and stops with the server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from chargenet.entrypoints.building import Building, Progress
from chargenet.kit.aio import wait_at_most


def test_the_port_answers_while_building_then_the_real_app_serves() -> None:
    asyncio.run(_scenario())


async def _scenario() -> None:
    go = threading.Event()
    life: list[str] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        life.append("started")
        yield
        life.append("stopped")

    async def home(_: Any) -> PlainTextResponse:
        return PlainTextResponse("the finder")

    def build(progress: Progress) -> Starlette:
        progress.phase, progress.total, progress.done = "city", 50_000, 20_000
        go.wait(60)
        return Starlette(routes=[Route("/", home), Route("/healthz", home)], lifespan=lifespan)

    app = Building(build)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await inbox.put({"type": "lifespan.startup"})
    server = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    while not sent:
        await asyncio.sleep(0.01)
    assert sent[0]["type"] == "lifespan.startup.complete"  # the port opens at once

    async def reported() -> None:
        # The build runs on a thread of its own: what it reports is on the page once it
        # has reported it (a loaded machine may run the thread's first line late).
        while app.progress.done < 20_000:
            await asyncio.sleep(0.01)

    await wait_at_most(reported(), 30)

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo")
    page = await client.get("/")
    assert page.status_code == 503
    assert "Building the demo city" in page.text and "正在建设演示城市" in page.text
    assert 'value="40"' in page.text  # 20,000 of 50,000
    assert "<script" not in page.text  # it reloads itself without a script
    health = await client.get("/healthz")
    assert health.status_code == 503 and health.headers["retry-after"] == "2"
    assert health.json()["done"] == 20_000
    assert (await client.get("/api/v1/finder/nearest")).status_code == 503
    assert life == []  # background jobs wait for the city

    go.set()

    async def served() -> None:
        while app.app is None:
            await asyncio.sleep(0.01)

    await wait_at_most(served(), 30)
    assert life == ["started"]
    answer = await client.get("/")
    assert (answer.status_code, answer.text) == (200, "the finder")

    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(server, 5)
    assert life == ["started", "stopped"]
    assert sent[-1]["type"] == "lifespan.shutdown.complete"
    await client.aclose()


def test_a_failed_build_says_so_on_the_page() -> None:
    async def scenario() -> None:
        def build(progress: Progress) -> Any:
            raise RuntimeError("disk full")

        app = Building(build)
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})

        async def send(message: dict[str, Any]) -> None:
            pass

        task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x")

        async def failed() -> None:
            while not app.progress.failed:
                await asyncio.sleep(0.01)

        await wait_at_most(failed(), 30)
        page = await client.get("/")
        assert page.status_code == 503 and "disk full" in page.text
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 5)
        await client.aclose()

    asyncio.run(scenario())
