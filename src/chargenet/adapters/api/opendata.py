"""Open data: the public, unauthenticated feed of every public charger — where it is, what
it offers (power, connector types), its live status and its ad-hoc price — in the spirit
of EU AFIR Art. 20 and US NEVI 23 CFR 680.116(c). Rate-limited per client address.

    GET /open-data/v1              what the feed holds, licence, links
    GET /open-data/v1/sites        static data + prices (paged; updated_since=…)
    GET /open-data/v1/status       dynamic data: every connector's status (since=…)

Positions are WGS-84; times UTC; power W; prices decimal strings with their currency.
The rows come from a `Feed` the composition root gives (the OCPI adapter's, which names
EVSEs and statuses as OCPI does: adapters/ocpi/opendata.py).
"""

# No `from __future__ import annotations`: FastAPI reads the parameters' annotations.

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from chargenet.adapters.api.binding import bind, services
from chargenet.core.access import Audience, declared
from chargenet.core.errors import Invalid
from chargenet.kit.bounds import StoredInt

LICENCE = "CC0-1.0"
MAX_PAGE = 500


class Limiter(Protocol):
    capacity: int

    def take(self, client: str) -> tuple[bool, int, float]: ...


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled evenly."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = max(per_minute, 1)
        self._rate = self.capacity / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the next request is allowed)."""
        now = self._clock()
        tokens, stamp = self._buckets.get(client, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - stamp) * self._rate)
        if len(self._buckets) > 100_000:
            self._buckets.clear()  # bounded memory under a flood of addresses
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return False, 0, (1 - tokens) / self._rate
        self._buckets[client] = (tokens - 1, now)
        return True, int(tokens - 1), 0.0


class Feed(Protocol):
    """The feed's rows, blocking (they read the database). A time that does not parse is
    `Invalid`, its message naming the parameter."""

    def sites(
        self, updated_since: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Public stations in service changed since, a page of them, and how many there are."""
        ...

    def status(
        self, since: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Connectors of public stations changed since, a page of them, and how many."""
        ...


@dataclass(frozen=True)
class OpenData:
    name: str
    """Whose feed it is (the platform's name)."""
    limiter: Limiter
    feed: Feed


Context = Annotated[OpenData, Depends(services(OpenData))]
router = APIRouter(prefix="/open-data/v1", tags=["open data"])


def open_data_router(open_data: OpenData) -> APIRouter:
    # Public: no route asks who calls, so no log-ins are bound (a token is ignored, as ever).
    return bind(router, open_data, ())


async def _limited(
    request: Request,
    limiter: Limiter,
    work: Callable[[], Awaitable[tuple[Any, dict[str, str]]]],
) -> Response:
    client = request.client.host if request.client else "unknown"
    allowed, remaining, wait = limiter.take(client)
    headers = {
        "X-RateLimit-Limit": f"{limiter.capacity};w=60",
        "X-RateLimit-Remaining": str(remaining),
        "Access-Control-Allow-Origin": "*",
    }
    if not allowed:
        headers["Retry-After"] = str(math.ceil(wait))
        return JSONResponse(
            {"detail": f"rate limit: {limiter.capacity} requests a minute per client"},
            status_code=429,
            headers=headers,
        )
    try:
        body, extra = await work()
    except Invalid as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400, headers=headers)
    return JSONResponse(body, headers={**headers, **extra})


@router.get("", **declared(Audience.PUBLIC))
async def index(request: Request, data: Context) -> Response:
    """What the feed holds and under which terms."""

    async def work() -> tuple[Any, dict[str, str]]:
        return {
            "name": f"{data.name} open charging data",
            "licence": LICENCE,
            "coordinates": "WGS-84",
            "times": "UTC (ISO 8601)",
            "rate_limit_per_minute": data.limiter.capacity,
            "links": {"sites": "/open-data/v1/sites", "status": "/open-data/v1/status"},
        }, {}

    return await _limited(request, data.limiter, work)


@router.get("/sites", **declared(Audience.PUBLIC))
async def sites(
    request: Request,
    data: Context,
    updated_since: Annotated[str | None, Query(description="UTC; only sites changed since")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: StoredInt = 0,
) -> Response:
    """Public stations in service: position, operator, connectors, power, status, price."""

    async def work() -> tuple[Any, dict[str, str]]:
        rows, total = await asyncio.to_thread(data.feed.sites, updated_since, offset, limit)
        return rows, {"X-Total-Count": str(total)}

    return await _limited(request, data.limiter, work)


@router.get("/status", **declared(Audience.PUBLIC))
async def status(
    request: Request,
    data: Context,
    since: Annotated[str | None, Query(description="UTC; only connectors changed since")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: StoredInt = 0,
) -> Response:
    """Live status of every connector of a public station."""

    async def work() -> tuple[Any, dict[str, str]]:
        rows, total = await asyncio.to_thread(data.feed.status, since, offset, limit)
        return rows, {"X-Total-Count": str(total)}

    return await _limited(request, data.limiter, work)
