"""The public charger finder: nearest stations with a connector that suits, answered from
the live index (app/finder.py), not from the database; and place search (areas of the
registry, stations by name or address) to move the search point."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Anyone, bind, services
from chargenet.app.finder import Filters, LiveIndex, ParkingFee, StationEntry
from chargenet.app.queries import AreaRow
from chargenet.core.access import Audience, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.registry import public_hours
from chargenet.core.registry.model import PowerType
from chargenet.kit.geo import to_wgs84, wgs84_to_gcj02


class OperatorFacts(TypedDict):
    name: str
    name_en: str | None
    service_phone: str | None


class PriceOut(BaseModel):
    per_kwh: str = Field(description="Decimal string, energy and service together")
    currency: str
    source: str = Field(
        description="tariff (the operator's published price) or observed (the average of "
        "the station's sessions of the last 30 days that carry a cost)"
    )


class ParkingOut(BaseModel):
    source: str = Field(
        description="ocpi_tariff (a PARKING_TIME price of a tariff named at the station's "
        "connectors) or tcec (the operator's fee text, T/CEC ParkFee)"
    )
    per_hour: str | None = Field(default=None, description="Decimal string, per hour")
    currency: str | None = None
    text: str = Field(default="", description="The operator's words, as published")


class Point(BaseModel):
    lat: float
    lon: float


class FinderConnector(BaseModel):
    connector_id: str
    charger_id: str
    status: str = Field(description="Effective live status")
    stopped: bool = Field(
        default=False, description="Out of service by a regulator's stop order (R33)"
    )
    power_type: str
    standard: str
    max_power_w: int


class FinderStation(BaseModel):
    station_id: str
    name: str
    name_en: str | None
    address: str | None
    operator_id: str
    operator_name: str | None
    operator_name_en: str | None = None
    service_phone: str | None = Field(default=None, description="The operator's service line")
    lat: float = Field(description="WGS-84")
    lon: float = Field(description="WGS-84")
    gcj02: Point = Field(
        description="The position in GCJ-02, the datum of Chinese map apps (高德, 百度 with "
        "coord_type=gcj02, Apple Maps in China): what a navigation hand-off passes"
    )
    distance_m: int | None = None
    access: str
    category: str
    opening_hours: str
    public_hours: str | None = Field(
        default=None,
        description="When the station is open to the public (R39), e.g. 'Mo-Fr 18:00-08:00; "
        "Sa-Su 00:00-24:00'; None: its access alone",
    )
    public_hours_label: dict[str, str] | None = Field(
        default=None,
        description="What a driver reads, by language: {'en': 'open to the public "
        "18:00–08:00', 'zh': '对外开放 18:00–08:00'}",
    )
    open_now: bool = Field(
        default=True, description="Open to the public now (local time of the platform)"
    )
    area_code: str | None
    available: int = Field(description="Connectors available now")
    total: int
    fast_free: int = Field(default=0, description="DC (fast) connectors available now")
    fast_total: int = Field(default=0, description="DC (fast) connectors")
    slow_free: int = Field(default=0, description="AC (slow) connectors available now")
    slow_total: int = Field(default=0, description="AC (slow) connectors")
    max_power_w: int
    status: dict[str, int]
    connectors: list[FinderConnector] = Field(
        description="In /nearest: the connectors that pass the filters; in detail: all"
    )
    price: PriceOut | None = None
    parking: ParkingOut | None = Field(
        default=None, description="The published parking fee; null: not published (unknown)"
    )


@dataclass(frozen=True)
class Finder:
    """The live index; `operators`: operator facts by id (cached by the caller);
    `areas(text, limit)`: areas of the registry whose name holds the text, for place
    search."""

    index: LiveIndex
    operators: Callable[[], dict[str, OperatorFacts]]
    areas: Callable[[str, int], list[AreaRow]] | None = None

    def ready(self) -> None:
        if not self.index.loaded:
            raise HTTPException(
                status_code=503,
                detail="the live index is loading; try again in a moment",
                headers={"Retry-After": "2"},
            )

    def out(
        self,
        station: StationEntry,
        connectors: Sequence[tuple[Any, Any]] | None,
        distance_m: float | None,
    ) -> dict[str, Any]:
        pairs = connectors
        if pairs is None:
            pairs = [(c, self.index.status(c)) for c in station.connectors]
        status = self.index.summary(station)
        hours = station.public_hours
        price = self.index.price(station.station_id, datetime.now(UTC))
        operator = self.operators().get(station.operator_id)
        g_lat, g_lon = wgs84_to_gcj02(station.lat, station.lon)
        free = {PowerType.DC: 0, PowerType.AC: 0}
        kinds = {PowerType.DC: 0, PowerType.AC: 0}
        for connector in station.connectors:
            kind = PowerType.DC if connector.power_type is PowerType.DC else PowerType.AC
            kinds[kind] += 1
            if self.index.status(connector).value == "available":
                free[kind] += 1
        return {
            "station_id": station.station_id,
            "name": station.name,
            "name_en": station.name_en,
            "address": station.address,
            "operator_id": station.operator_id,
            "operator_name": operator["name"] if operator else None,
            "operator_name_en": operator["name_en"] if operator else None,
            "service_phone": operator["service_phone"] if operator else None,
            "lat": station.lat,
            "lon": station.lon,
            "gcj02": {"lat": round(g_lat, 6), "lon": round(g_lon, 6)},
            "distance_m": round(distance_m) if distance_m is not None else None,
            "access": station.access.value,
            "category": station.category,
            "opening_hours": station.opening_hours,
            "public_hours": hours.text if hours else None,
            "public_hours_label": (
                {"en": public_hours.label(hours, "en"), "zh": public_hours.label(hours, "zh")}
                if hours
                else None
            ),
            "open_now": self.index.open_now(station),
            "area_code": station.area_code,
            "available": status["available"],
            "total": len(station.connectors),
            "fast_free": free[PowerType.DC],
            "fast_total": kinds[PowerType.DC],
            "slow_free": free[PowerType.AC],
            "slow_total": kinds[PowerType.AC],
            "max_power_w": max((c.max_power_w for c in station.connectors), default=0),
            "status": status,
            "connectors": [
                {
                    "connector_id": c.connector_id,
                    "charger_id": c.charger_id,
                    "status": s.value,
                    "stopped": self.index.stopped(c.charger_id),
                    "power_type": c.power_type.value,
                    "standard": c.standard,
                    "max_power_w": c.max_power_w,
                }
                for c, s in pairs
            ],
            "price": (
                {"per_kwh": str(price.per_kwh), "currency": price.currency, "source": price.source}
                if price
                else None
            ),
            "parking": _parking(self.index.parking.get(station.station_id)),
        }


Context = Annotated[Finder, Depends(services(Finder))]
router = APIRouter(prefix="/api/v1/finder", tags=["finder"])


def finder_router(
    index: LiveIndex,
    authenticators: Sequence[Authenticator],
    operators: Callable[[], dict[str, OperatorFacts]],
    areas: Callable[[str, int], list[AreaRow]] | None = None,
) -> APIRouter:
    return bind(router, Finder(index, operators, areas), authenticators)


@router.get("/nearest", response_model=list[FinderStation], **declared(Audience.PUBLIC))
async def nearest(
    finder: Context,
    viewer: Anyone,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    radius_km: Annotated[float, Query(gt=0, le=300)] = 50,
    available: Annotated[
        bool,
        Query(description="Only connectors free now, at stations open to the public now"),
    ] = False,
    open_now: Annotated[
        bool,
        Query(description="Only stations open to the public now (their public hours, R39)"),
    ] = False,
    dc: Annotated[bool, Query(description="Only DC (fast) connectors")] = False,
    min_power_kw: Annotated[float, Query(ge=0, le=4000)] = 0,
    operator: str | None = None,
    standard: Annotated[str | None, Query(description="e.g. gbt_dc, ccs2")] = None,
    datum: Annotated[str, Query(description="WGS84 (default) or GCJ02")] = "WGS84",
) -> Any:
    """The nearest stations with at least one connector that passes every filter,
    nearest first. Answered from live state: statuses are those of this moment."""
    finder.ready()
    try:
        lat, lon = to_wgs84(lat, lon, datum)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    filters = Filters(
        open_now=open_now,
        available_now=available,
        dc_only=dc,
        min_power_w=round(min_power_kw * 1000),
        operator_id=operator or None,
        standard=standard or None,
    )
    hits = finder.index.nearest(
        lat, lon, filters, limit=limit, radius_m=radius_km * 1000, viewer=viewer
    )
    return [finder.out(h.station, h.connectors, h.distance_m) for h in hits]


@router.get("/places", **declared(Audience.PUBLIC))
async def places(
    finder: Context,
    viewer: Anyone,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Words to look for")],
    limit: Annotated[int, Query(ge=1, le=50)] = 8,
) -> Any:
    """Place search for the finder: areas of the registry whose Chinese or English name
    holds `q` (with their position, to move the search there) and stations whose name,
    address or id does (those the caller may see)."""
    finder.ready()
    found_areas = (
        await run_in_threadpool(finder.areas, q, limit) if finder.areas is not None else []
    )
    stations = [
        {
            "station_id": s.station_id,
            "name": s.name,
            "name_en": s.name_en,
            "address": s.address,
            "lat": s.lat,
            "lon": s.lon,
        }
        for s in finder.index.search(q, viewer, limit=limit)
    ]
    return {"areas": found_areas, "stations": stations}


@router.get("/stations/{station_id}", response_model=FinderStation, **declared(Audience.PUBLIC))
async def station(finder: Context, viewer: Anyone, station_id: str) -> Any:
    """One station with every connector's live status."""
    finder.ready()
    found = finder.index.stations.get(station_id)
    if found is None or not finder.index.visible(found, viewer):
        raise UnknownReference("station", station_id)
    return finder.out(found, None, None)


def _parking(fee: ParkingFee | None) -> dict[str, Any] | None:
    if fee is None:
        return None
    per_hour = None if fee.per_hour is None else str(fee.per_hour)
    return {"source": fee.source, "per_hour": per_hour, "currency": fee.currency, "text": fee.text}
