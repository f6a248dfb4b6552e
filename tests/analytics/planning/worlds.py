"""Small hand-made worlds with known answers: points on a line of latitude near the
equator, where 0.01° of longitude is 1.1132 km."""

from __future__ import annotations

from datetime import date

from chargenet.analytics.planning.model import AreaPoint, StationSite, StationState
from chargenet.core.areas import AreaLevel
from chargenet.core.registry.model import Access, SiteCategory

KM_PER_DEG = 111.32  # at the equator (6,371,008.8 m radius: 111.195 km; see km())
CITY, COUNTY = "450200", "450202"


def km(lon_a: float, lon_b: float) -> float:
    """Great-circle km between two points on the equator."""
    import math

    return abs(lon_b - lon_a) * math.pi / 180 * 6_371.0088


def village(code: str, lon: float, lat: float = 0.0, name: str = "甲村委会") -> AreaPoint:
    return AreaPoint(code, AreaLevel.VILLAGE, name, lat, lon, code[:9], COUNTY, code[:9])


def township(code: str, lon: float, lat: float = 0.0, name: str = "甲镇") -> AreaPoint:
    return AreaPoint(code, AreaLevel.TOWNSHIP, name, lat, lon, COUNTY, COUNTY, code)


def county(code: str = COUNTY, lon: float = 0.0) -> AreaPoint:
    return AreaPoint(code, AreaLevel.COUNTY, "城中区", 0.0, lon, CITY, code, None)


def station(
    ident: str,
    lon: float,
    lat: float = 0.0,
    *,
    piles: int = 2,
    dc: tuple[int, ...] = (60_000, 60_000),
    access: Access = Access.PUBLIC,
    category: SiteCategory = SiteCategory.PUBLIC_CAR_PARK,
    chain: tuple[str | None, ...] = ("450000", CITY, COUNTY, None, None),
    parking: int | None = None,
    charging: int | None = None,
    grade: int | None = None,
) -> StationState:
    site = StationSite(
        ident,
        f"station {ident}",
        lat,
        lon,
        category,
        access,
        chain,
        scenic_grade=grade,
        parking_spaces=parking,
        charging_spaces=charging,
        commissioned=date(2023, 1, 1),
    )
    return StationState(site, piles, dc)
