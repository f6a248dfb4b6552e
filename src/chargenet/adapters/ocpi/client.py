"""Calling other OCPI parties (httpx): discovery, writes and paged reads. Every call carries
`Authorization: Token <base64>`, a fresh X-Request-ID and an X-Correlation-ID (OCPI 2.2.1
4.2; the pages of one list read share one); anything but HTTP 2xx with status_code 1000 is
a `PeerFailed` naming what went wrong and both ids, so the other side can find the call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from chargenet.adapters.ocpi.wire import (
    CORRELATION_ID,
    REQUEST_ID,
    VERSION,
    PeerFailed,
    Route,
    authorization,
    message_id,
    next_link,
    routing_headers,
)


class OcpiClient:
    """One connection pool per event loop: a pool belongs to the loop that opened it (the CLI
    and tests run registration on a loop of their own, the server on another)."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self._timeout = timeout_s
        self._pools: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    @property
    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            for old in [lp for lp in self._pools if lp.is_closed()]:
                del self._pools[old]
            pool = self._pools[loop] = httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=True
            )
        return pool

    async def close(self) -> None:
        """Close this loop's pool."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.aclose()

    async def call(
        self,
        method: str,
        url: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        correlation_id: str | None = None,
        route: Route | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        request_id = message_id()
        correlation_id = correlation_id or message_id()
        said = f"{method} {url} (X-Request-ID {request_id}, X-Correlation-ID {correlation_id})"
        try:
            response = await self._http.request(
                method,
                url,
                json=json,
                params=params,
                headers={
                    "Authorization": authorization(token),
                    REQUEST_ID: request_id,
                    CORRELATION_ID: correlation_id,
                    **routing_headers(route),
                },
            )
        except httpx.HTTPError as exc:
            raise PeerFailed(f"{said}: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise PeerFailed(f"{said}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(body, dict):
            raise PeerFailed(f"{said}: HTTP {response.status_code}, not an OCPI response")
        status = body.get("status_code")
        if response.status_code >= 300 or status != 1000:
            raise PeerFailed(
                f"{said}: HTTP {response.status_code}, OCPI {status}:"
                f" {body.get('status_message') or body.get('detail') or ''}",
                status if isinstance(status, int) else None,
                response.status_code,
            )
        return response, body

    async def relay(
        self,
        method: str,
        url: str,
        token: str,
        *,
        content: bytes | None,
        params: Sequence[tuple[str, str]],
        headers: dict[str, str],
    ) -> httpx.Response:
        """A request passed on as a hub does (transport_and_format 4.1.8): the body as it
        came, the answer whatever it is; transport errors are httpx's own."""
        return await self._http.request(
            method,
            url,
            content=content,
            params=tuple(params) or None,
            headers={
                "Authorization": authorization(token),
                "Content-Type": "application/json",
                **headers,
            },
        )

    async def discover(self, versions_url: str, token: str) -> tuple[str, list[dict[str, Any]]]:
        """(version details URL, endpoints) of the party's 2.2.1 interface."""
        _, body = await self.call("GET", versions_url, token)
        versions = body.get("data") or []
        url = next((v.get("url") for v in versions if v.get("version") == VERSION), None)
        if not url:
            raise PeerFailed(f"{versions_url} offers no OCPI {VERSION}")
        _, details = await self.call("GET", url, token)
        endpoints = (details.get("data") or {}).get("endpoints") or []
        return str(url), [dict(e) for e in endpoints]

    async def pages(
        self,
        url: str,
        token: str,
        params: dict[str, str],
        limit: int = 100,
        route: Route | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a sender's list, following `Link: rel="next"` (or offsets when a
        party sends no Link)."""
        query: dict[str, str] | None = {**params, "limit": str(limit), "offset": "0"}
        next_url = url
        offset = 0
        correlation_id = message_id()
        while True:
            response, body = await self.call(
                "GET", next_url, token, params=query, correlation_id=correlation_id, route=route
            )
            data = body.get("data") or []
            yield list(data)
            link = next_link(response.headers.get("link"))
            total = response.headers.get("x-total-count")
            offset += len(data)
            if link:
                next_url, query = link, None
            elif data and total is not None and offset < int(total):
                query = {**params, "limit": str(limit), "offset": str(offset)}
            else:
                return
