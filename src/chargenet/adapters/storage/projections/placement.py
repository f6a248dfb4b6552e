"""Placing a station in the admin hierarchy: by its stated area code, or by position."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select

from chargenet.adapters.storage.projections._sql import fetch_row
from chargenet.adapters.storage.schema import areas
from chargenet.core.areas import AreaLevel, official_chain, official_level
from chargenet.core.errors import UnknownReference
from chargenet.kit.geo import haversine_m

# Nearest-area placement only trusts areas this close; beyond that the station is left
# unplaced rather than put in the wrong county.
MAX_PLACEMENT_DISTANCE_M = 30_000
_SEARCH_DEG = 0.3  # bounding box half-size for the nearest search (~33 km north-south)

_LEVELS = ("province", "city", "county", "township", "village")


def placement(conn: Connection, area_code: str | None, lat: float, lon: float) -> dict[str, Any]:
    """Columns area_code, area_placed and the code at every level for a station."""
    empty: dict[str, Any] = {f"{lvl}_code": None for lvl in _LEVELS}
    if area_code:
        row = fetch_row(conn, areas, code=area_code)
        if row is not None:
            return {"area_code": area_code, "area_placed": "given", **_chain(row)}
        if official_level(area_code) is not None:
            # An official code of an area not loaded here: its structure still says where.
            return {"area_code": area_code, "area_placed": "code", **_chain_from_code(area_code)}
        raise UnknownReference("area", area_code, "area_code")
    nearest = _nearest_area(conn, lat, lon)
    if nearest is None:
        return {"area_code": None, "area_placed": None, **empty}
    return {"area_code": nearest["code"], "area_placed": "nearest", **_chain(nearest)}


def _chain(row: Any) -> dict[str, Any]:
    chain = {f"{lvl}_code": row[f"{lvl}_code"] for lvl in _LEVELS[:4]}
    chain["village_code"] = row["code"] if row["level"] == AreaLevel.VILLAGE.value else None
    return chain


def _chain_from_code(code: str) -> dict[str, Any]:
    chain = official_chain(code)
    return {f"{lvl}_code": chain.get(AreaLevel(lvl)) for lvl in _LEVELS}


def _nearest_area(conn: Connection, lat: float, lon: float) -> Any:
    rows = conn.execute(
        select(areas).where(
            and_(
                areas.c.lat.between(lat - _SEARCH_DEG, lat + _SEARCH_DEG),
                areas.c.lon.between(lon - _SEARCH_DEG, lon + _SEARCH_DEG),
                areas.c.level.in_(("county", "township", "village")),
            )
        )
    ).mappings()
    best: Any = None
    best_key: tuple[int, float] | None = None
    depth = {"village": 0, "township": 1, "county": 2}
    for row in rows:
        distance = haversine_m(lat, lon, row["lat"], row["lon"])
        if distance > MAX_PLACEMENT_DISTANCE_M:
            continue
        # Nearest village wins; a township or county seat only when no village is close.
        key = (depth[row["level"]] if distance > 5_000 else 0, distance)
        if best_key is None or key < best_key:
            best, best_key = row, key
    return best
