"""Open data: the public, unauthenticated feed of every public charger — where it is, what
it offers (power, connector types), its live status and its ad-hoc price — in the spirit
of EU AFIR Art. 20 and US NEVI 23 CFR 680.116(c). Rate-limited per client address.

    GET /open-data/v1              what the feed holds, licence, links
    GET /open-data/v1/sites        static data + prices (paged; updated_since=…)
    GET /open-data/v1/status       dynamic data: every connector's status (since=…)

Positions are WGS-84; times UTC; power W; prices decimal strings with their currency.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from itertools import groupby
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from chargenet.adapters.ocpi import outbound, vocab
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.status import evse_status, to_ocpi
from chargenet.adapters.ocpi.wire import OcpiError, parse_time, utc_text
from chargenet.app.ocpi import OcpiConnectorRow, OcpiLocationRow, TariffPriceRow
from chargenet.core.access import Audience, declared
from chargenet.core.status import ConnectorStatus
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


def _money(value: Any) -> str | None:
    return None if value is None else format(value, "f")


def _price(connector: OcpiConnectorRow, prices: dict[str, TariffPriceRow]) -> dict[str, Any] | None:
    known = [prices[t] for t in connector["tariff_ids"] if t in prices]
    if not known:
        return None
    chosen = next((t for t in known if t["kind"] == "AD_HOC_PAYMENT"), known[0])
    return {
        "tariff_id": chosen["tariff_id"],
        "currency": chosen["currency"],
        "energy_per_kwh": _money(chosen["energy_per_kwh"]),
        "per_session": _money(chosen["per_session"]),
        "time_per_hour": _money(chosen["time_per_hour"]),
        "parking_per_hour": _money(chosen["parking_per_hour"]),
        "text": chosen["alt_text"] or None,
    }


def site(row: OcpiLocationRow, prices: dict[str, TariffPriceRow]) -> dict[str, Any]:
    evses = []
    active = [
        c for c in row["connectors"] if c["retired_at"] is None and c["charger_retired_at"] is None
    ]
    for (charger_id, evse_no), group in groupby(
        active, key=lambda c: (c["charger_id"], c["evse_no"])
    ):
        connectors = list(group)
        evses.append(
            {
                "evse_id": outbound.evse_uid(connectors[0]),
                "charger_id": charger_id,
                "evse_no": evse_no,
                "status": evse_status([ConnectorStatus(c["status"]) for c in connectors]),
                "connectors": [
                    {
                        "connector_id": c["connector_id"],
                        "standard": c["standard"],
                        "ocpi_standard": vocab.standard_out(c["standard"], c["power_type"]),
                        "power_type": c["power_type"],
                        "max_power_w": c["max_power_w"],
                        "status": c["status"],
                        "ocpi_status": to_ocpi(ConnectorStatus(c["status"])),
                        "price": _price(c, prices),
                    }
                    for c in connectors
                ],
            }
        )
    return {
        "station_id": row["station_id"],
        "name": row["name"],
        "operator": {"id": row["operator_id"], "name": row["operator_name"]},
        "address": row["address"],
        "city": row["city_name"],
        "area_code": row["area_code"],
        "lat": row["lat"],
        "lon": row["lon"],
        "opening_hours": row["opening_hours"],
        "category": row["category"],
        "last_updated": utc_text(row["last_updated"]),
        "evses": evses,
    }


def open_data_router(p: OcpiParty) -> APIRouter:
    router = APIRouter(prefix="/open-data/v1", tags=["open data"])
    limiter: Limiter = p.limiter or RateLimiter(p.settings.open_data_per_minute)
    reads = p.reads

    async def limited(
        request: Request, work: Callable[[], Awaitable[tuple[Any, dict[str, str]]]]
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
        except OcpiError as exc:
            return JSONResponse({"detail": exc.message}, status_code=400, headers=headers)
        return JSONResponse(body, headers={**headers, **extra})

    @router.get("", **declared(Audience.PUBLIC))
    async def index(request: Request) -> Response:
        """What the feed holds and under which terms."""

        async def work() -> tuple[Any, dict[str, str]]:
            return {
                "name": f"{p.settings.identity.name} open charging data",
                "licence": LICENCE,
                "coordinates": "WGS-84",
                "times": "UTC (ISO 8601)",
                "rate_limit_per_minute": limiter.capacity,
                "links": {"sites": "/open-data/v1/sites", "status": "/open-data/v1/status"},
            }, {}

        return await limited(request, work)

    @router.get("/sites", **declared(Audience.PUBLIC))
    async def sites(
        request: Request,
        updated_since: Annotated[
            str | None, Query(description="UTC; only sites changed since")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: StoredInt = 0,
    ) -> Response:
        """Public stations in service: position, operator, connectors, power, status, price."""

        async def work() -> tuple[Any, dict[str, str]]:
            since = parse_time(updated_since, "updated_since") if updated_since else None
            rows, total = await asyncio.to_thread(
                reads.locations,
                date_from=since,
                public_only=True,
                include_retired=False,
                offset=offset,
                limit=limit,
            )
            tariff_ids = sorted({t for r in rows for c in r["connectors"] for t in c["tariff_ids"]})
            prices = await asyncio.to_thread(reads.tariff_prices, tariff_ids)
            return [site(r, prices) for r in rows], {"X-Total-Count": str(total)}

        return await limited(request, work)

    @router.get("/status", **declared(Audience.PUBLIC))
    async def status(
        request: Request,
        since: Annotated[
            str | None, Query(description="UTC; only connectors changed since")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        offset: StoredInt = 0,
    ) -> Response:
        """Live status of every connector of a public station."""

        async def work() -> tuple[Any, dict[str, str]]:
            when = parse_time(since, "since") if since else None
            rows, total = await asyncio.to_thread(
                reads.live_status, since=when, offset=offset, limit=limit
            )
            body = [
                {
                    "connector_id": r["connector_id"],
                    "station_id": r["station_id"],
                    "charger_id": r["charger_id"],
                    "status": r["status"],
                    "ocpi_status": to_ocpi(ConnectorStatus(r["status"])),
                    "since": utc_text(r["status_since"]) if r["status_since"] else None,
                }
                for r in rows
            ]
            return body, {"X-Total-Count": str(total)}

        return await limited(request, work)

    return router
