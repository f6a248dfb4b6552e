"""What a request may carry, checked before FastAPI parses it: the JSON API's bodies, and
the text of every URL.

FastAPI reads a whole body into memory, however long, and hands it to `json.loads`: a
document a thousand levels deep fails there (400), and one a little shallower parses and
then exhausts the stack of whatever walks it next (validation, error rendering: 500).
This middleware reads each body under /api/ up to `max_bytes` (413 past that, without
holding more) and refuses one nested deeper than `max_depth` (400), both with a `detail`
like FastAPI's own errors; whatever passes is handed on unchanged.

`StorableUrls` refuses (400) a path or query string that carries a character no backend
can store (NUL, other control characters; core/text.py): ids and filters from the URL go
into SQL as they are, and PostgreSQL answers such text with an error, not with a row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargenet.core.text import storable_text
from chargenet.kit.bounds import MAX_DEPTH, DocumentRefused, nesting_problem, read_capped

log = logging.getLogger(__name__)

# The API's bodies are small (a login, a note of at most 1,000 characters): 64 KiB leaves
# ample room and keeps the depth scan of the largest one to milliseconds.
MAX_BODY = 64 * 1024
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class JsonBodyLimits:
    """ASGI middleware: size and depth limits on request bodies under `prefix`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str = "/api/",
        max_bytes: int = MAX_BODY,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _BODYLESS
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        disconnected = False

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal disconnected
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    return
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return

        length = _header(scope, b"content-length")
        try:
            body = await read_capped(chunks(), self.max_bytes, length)
            problem = nesting_problem(body, self.max_depth)
        except DocumentRefused as exc:
            await _refuse(scope, send, 413, str(exc))
            return
        if disconnected:
            return
        if problem:
            await _refuse(scope, send, 400, f"the body is {problem}")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class StorableUrls:
    """ASGI middleware: 400 for a URL whose path or query holds unstorable characters.
    Protocols with error formats of their own (`exempt`: OCPI, T/CEC 102) check theirs."""

    def __init__(self, app: ASGIApp, *, exempt: tuple[str, ...] = ("/ocpi/", "/tcec/")) -> None:
        self.app = app
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.exempt):
            query = unquote(bytes(scope.get("query_string", b"")).decode("latin-1"))
            for part, text in (("path", scope["path"]), ("query", query)):
                if storable_text(text) != text:
                    detail = f"the {part} of the URL carries a control character"
                    await _refuse(scope, send, 400, detail)
                    return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _refuse(scope: Scope, send: Send, status: int, detail: str) -> None:
    log.warning("refused %s %s: %s", scope["method"], scope["path"], detail)
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 413:
        # The rest of the body was not read: the connection cannot carry another request.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
