"""Areas and their yearly statistics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from chargenet.adapters.storage.projections._sql import fetch_row, upsert
from chargenet.adapters.storage.schema import area_statistics, areas
from chargenet.core.areas import AreaLevel
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import AreaRegistered, AreaStatisticsRecorded, Event

_CHAIN_LEVELS = (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP)


def _apply_area(conn: Connection, event: AreaRegistered) -> None:
    chain: dict[str, str | None] = {f"{lvl.value}_code": None for lvl in _CHAIN_LEVELS}
    if event.parent_code:
        parent = fetch_row(conn, areas, code=event.parent_code)
        if parent is None:
            raise UnknownReference("parent area", event.parent_code, "parent_code")
        if parent["level"] != (event.level.parent_level or AreaLevel.PROVINCE).value:
            raise Conflict(
                f"a {event.level.value} cannot stand under {parent['level']} {event.parent_code}"
            )
        for lvl in _CHAIN_LEVELS:
            chain[f"{lvl.value}_code"] = parent[f"{lvl.value}_code"]
        chain[f"{parent['level']}_code"] = parent["code"]
    existing = fetch_row(conn, areas, code=event.code)
    if existing is not None and existing["level"] != event.level.value:
        raise Conflict(f"area {event.code} is a {existing['level']}, not a {event.level.value}")
    if event.level is not AreaLevel.VILLAGE:
        chain[f"{event.level.value}_code"] = event.code
    upsert(
        conn,
        areas,
        {
            "code": event.code,
            "level": event.level.value,
            "parent_code": event.parent_code,
            "name_zh": event.name_zh,
            "name_en": event.name_en,
            "lat": event.lat,
            "lon": event.lon,
            **chain,
            "as_of": event.occurred_at,
        },
        ["code"],
    )


def _apply_statistics(conn: Connection, event: AreaStatisticsRecorded) -> None:
    if fetch_row(conn, areas, code=event.area_code) is None:
        raise UnknownReference("area", event.area_code, "area_code")
    existing = fetch_row(conn, area_statistics, area_code=event.area_code, year=event.year)
    figures = {
        name: getattr(event, name)
        for name in ("ev_count", "motor_vehicles", "population")
        if getattr(event, name) is not None
    }
    if existing is not None and existing["as_of"] > event.occurred_at:
        # Older report: fill only what the newer one left unknown.
        figures = {k: v for k, v in figures.items() if existing[k] is None}
        if not figures:
            return
        upsert(
            conn,
            area_statistics,
            {
                "area_code": event.area_code,
                "year": event.year,
                **figures,
                "as_of": existing["as_of"],
            },
            ["area_code", "year"],
        )
        return
    upsert(
        conn,
        area_statistics,
        {"area_code": event.area_code, "year": event.year, **figures, "as_of": event.occurred_at},
        ["area_code", "year"],
    )


APPLIERS: dict[type[Event], Any] = {
    AreaRegistered: _apply_area,
    AreaStatisticsRecorded: _apply_statistics,
}
