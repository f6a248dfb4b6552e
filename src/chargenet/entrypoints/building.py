"""An ASGI application that answers at once while the real one is still being built.

`chargenet demo` on a fresh database spends a minute building the demo city. Meanwhile the
port answers: pages get a "building the demo city" page with a progress bar that reloads
itself (no script: the Content-Security-Policy of the real pages applies here too), the
API and `/healthz` answer 503 with `Retry-After` and the progress as JSON, so scripts that
wait for 200 keep waiting. When the build is done, the real application's lifespan is
started (its background jobs run from then on) and every request goes to it.

Only the standard library and the ASGI types: this module is imported before anything
heavy so that the port opens within a second."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from chargenet.kit.aio import wait_at_most

log = logging.getLogger(__name__)

ASGIApp = Callable[..., Any]


@dataclass
class Progress:
    """What the build has done: a phase and, when known, items done of a total."""

    phase: str = "starting"
    done: int = 0
    total: int = 0
    failed: str | None = None

    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


PHASES = {
    "starting": ("正在启动", "Starting"),
    "database": ("正在准备数据库", "Preparing the database"),
    "city": ("正在建设演示城市", "Building the demo city"),
    "history": ("正在写入近 35 天的历史", "Writing the last 35 days of history"),
    "services": ("正在启动服务", "Starting the services"),
    "ready": ("就绪", "Ready"),
}

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="2">
<title>chargenet · {title_en}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", system-ui, sans-serif; background: #f5f7f9; color: #1d2733;
  margin: 0; display: grid; place-items: center; min-height: 100vh; }}
main {{ background: #fff; border: 1px solid #d9dee4; border-radius: 8px; padding: 24px 28px;
  width: min(92vw, 460px); }}
h1 {{ font-size: 18px; margin: 0 0 4px; }} p {{ color: #4a5866; margin: 4px 0; }}
progress {{ width: 100%; height: 14px; margin: 14px 0 6px; }}
</style></head>
<body><main>
<h1>{title_zh} · {title_en}</h1>
<p>{phase_zh} · {phase_en}</p>
<progress max="100" value="{percent}" aria-label="{phase_en}">{percent}%</progress>
<p>{detail}</p>
<p>本页每 2 秒刷新，完成后自动显示找桩页面。 This page reloads every 2 s and shows the
charger finder once the city is ready.</p>
</main></body></html>
"""


class Building:
    """Serves the progress until `build()` (run in a thread) returns the real app, then
    runs that app's lifespan and hands every request to it."""

    def __init__(
        self, build: Callable[[Progress], ASGIApp], title: tuple[str, str] | None = None
    ) -> None:
        self.build = build
        self.progress = Progress()
        self.title = title or ("正在建设演示城市", "Building the demo city")
        self.app: ASGIApp | None = None
        self._lifespan: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[dict[str, Any]] | None = None
        self._starter: asyncio.Task[None] | None = None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._own_lifespan(receive, send)
            return
        if self.app is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await self._answer(scope, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later

    # --- while building -------------------------------------------------------------------
    async def _answer(self, scope: MutableMapping[str, Any], send: Any) -> None:
        path: str = scope.get("path", "/")
        p = self.progress
        percent = round(100 * p.fraction()) if p.total else 0
        phase_zh, phase_en = PHASES.get(p.phase, (p.phase, p.phase))
        if p.failed:
            phase_zh, phase_en = "启动失败", "Start-up failed"
        wants_page = path in ("/", "/dashboard", "/login") or not (
            path.startswith(("/api/", "/ocpi/", "/open-data/", "/tcec/", "/static/"))
            or path == "/healthz"
        )
        if wants_page:
            detail = p.failed or (f"{p.done:,} / {p.total:,}" if p.total else "")
            body = PAGE.format(
                title_zh=self.title[0],
                title_en=self.title[1],
                phase_zh=phase_zh,
                phase_en=phase_en,
                percent=percent,
                detail=html.escape(detail),
            ).encode()
            media = b"text/html; charset=utf-8"
        else:
            body = json.dumps(
                {
                    "detail": f"{self.title[1].lower()}: {phase_en.lower()}",
                    "phase": p.phase,
                    "done": p.done,
                    "total": p.total,
                    "failed": p.failed,
                }
            ).encode()
            media = b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"2"),
                    (b"cache-control", b"no-store"),
                    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    # --- lifespan ---------------------------------------------------------------------------
    async def _own_lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._starter = asyncio.create_task(self._start(), name="build")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._starter is not None and not self._starter.done():
                    self._starter.cancel()
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[ASGIApp] = loop.create_future()

        def work() -> None:
            try:
                app = self.build(self.progress)
            except BaseException as exc:  # reported on the page and in the log
                log.exception("building failed")
                self.progress.failed = f"{type(exc).__name__}: {exc}"
                loop.call_soon_threadsafe(_settle, done, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, done, app, None)

        # A daemon thread: Ctrl-C during the build ends the process at once.
        threading.Thread(target=work, name="build", daemon=True).start()
        try:
            app = await done
        except BaseException:
            return
        self.progress.phase = "services"
        await self._start_app(app)
        self.app = app
        self.progress.phase = "ready"

    async def _start_app(self, app: ASGIApp) -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete" and not started.done():
                started.set_result(None)
            elif message["type"] == "lifespan.startup.failed" and not started.done():
                started.set_exception(RuntimeError(message.get("message", "start-up failed")))

        await inbox.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._inbox = inbox
        self._lifespan = asyncio.create_task(app(scope, inbox.get, send), name="app-lifespan")
        await started

    async def _stop(self) -> None:
        if self._lifespan is None or self._inbox is None:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        try:
            await wait_at_most(self._lifespan, 30)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("the application did not stop within 30 s")


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
