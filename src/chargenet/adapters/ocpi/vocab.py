"""OCPI words ⇄ chargenet's registry words: connector standards, power types, site
categories, access and opening hours."""

from __future__ import annotations

import math
from collections import Counter

from chargenet.core.registry.model import Access, ConnectorStandard, PowerType, SiteCategory

STANDARD_IN = {
    "GBT_AC": ConnectorStandard.GBT_AC,
    "GBT_DC": ConnectorStandard.GBT_DC,
    "IEC_62196_T2": ConnectorStandard.TYPE2,
    "IEC_62196_T2_COMBO": ConnectorStandard.CCS2,
    "IEC_62196_T1_COMBO": ConnectorStandard.CCS1,
    "CHADEMO": ConnectorStandard.CHADEMO,
    "CHAOJI": ConnectorStandard.CHAOJI,
    "DOMESTIC_I": ConnectorStandard.HOUSEHOLD,  # Chinese/Australian household socket
}
# chargenet's OTHER has no OCPI word; the GB/T connector of its power type is the honest
# guess in China (documented in docs/ocpi.md).
STANDARD_OUT = {v: k for k, v in STANDARD_IN.items()}

POWER_IN = {
    "AC_1_PHASE": PowerType.AC,
    "AC_2_PHASE": PowerType.AC,
    "AC_2_PHASE_SPLIT": PowerType.AC,
    "AC_3_PHASE": PowerType.AC,
    "DC": PowerType.DC,
}

_PHASES = {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2, "AC_3_PHASE": 3, "DC": 1}
AC_LINE_TO_NEUTRAL_V = 220  # China's grid
DC_DEFAULT_V = 750
SINGLE_PHASE_MAX_W = 7_400


def standard_in(text: str) -> ConnectorStandard:
    return STANDARD_IN.get(text, ConnectorStandard.OTHER)


def standard_out(standard: str, power_type: str) -> str:
    known = STANDARD_OUT.get(ConnectorStandard(standard))
    if known is not None:
        return known
    return "GBT_DC" if power_type == PowerType.DC.value else "GBT_AC"


def power_in(text: str) -> PowerType:
    try:
        return POWER_IN[text]
    except KeyError:
        raise ValueError(f"unknown power_type {text!r}") from None


def max_power_w(power_type: str, voltage: int, amperage: int, stated: int | None) -> int:
    """OCPI's max_electric_power when given, else voltage × amperage × phases."""
    if stated:
        return stated
    return voltage * amperage * _PHASES.get(power_type, 1)


def electrical_out(
    power_type: str, max_power: int, voltage: int | None, current: int | None
) -> tuple[str, int, int]:
    """(OCPI power_type, max_voltage, max_amperage) for a chargenet connector."""
    if power_type == PowerType.DC.value:
        volts = voltage or DC_DEFAULT_V
        return "DC", volts, current or math.ceil(max_power / volts)
    kind = "AC_1_PHASE" if max_power <= SINGLE_PHASE_MAX_W else "AC_3_PHASE"
    volts = voltage or AC_LINE_TO_NEUTRAL_V
    phases = _PHASES[kind]
    return kind, volts, current or math.ceil(max_power / (volts * phases))


def format_out(power_type: str) -> str:
    return "CABLE" if power_type == PowerType.DC.value else "SOCKET"


# Facilities and parking types that say what kind of site a location is.
_CATEGORY_BY_FACILITY = {
    "AIRPORT": SiteCategory.TRANSPORT_HUB,
    "TRAIN_STATION": SiteCategory.TRANSPORT_HUB,
    "BUS_STOP": SiteCategory.TRANSPORT_HUB,
    "TAXI_STAND": SiteCategory.TRANSPORT_HUB,
    "METRO_STATION": SiteCategory.TRANSPORT_HUB,
    "TRAM_STOP": SiteCategory.TRANSPORT_HUB,
    "CARPOOL_PARKING": SiteCategory.PARK_AND_RIDE,
    "MALL": SiteCategory.COMMERCIAL,
    "SUPERMARKET": SiteCategory.COMMERCIAL,
    "HOTEL": SiteCategory.COMMERCIAL,
    "RESTAURANT": SiteCategory.COMMERCIAL,
    "CAFE": SiteCategory.COMMERCIAL,
    "SPORT": SiteCategory.COMMERCIAL,
    "RECREATION_AREA": SiteCategory.SCENIC_SPOT,
    "NATURE": SiteCategory.SCENIC_SPOT,
    "MUSEUM": SiteCategory.SCENIC_SPOT,
    "FUEL_STATION": SiteCategory.HIGHWAY_SERVICE_AREA,
}
_CATEGORY_BY_PARKING = {
    "PARKING_GARAGE": SiteCategory.PUBLIC_CAR_PARK,
    "PARKING_LOT": SiteCategory.PUBLIC_CAR_PARK,
    "UNDERGROUND_GARAGE": SiteCategory.PUBLIC_CAR_PARK,
    "ON_STREET": SiteCategory.PUBLIC_CAR_PARK,
    "ALONG_MOTORWAY": SiteCategory.HIGHWAY_SERVICE_AREA,
    "ON_DRIVEWAY": SiteCategory.RESIDENTIAL_NEW,
}
_PARKING_BY_CATEGORY = {
    SiteCategory.PUBLIC_CAR_PARK: "PARKING_LOT",
    SiteCategory.HIGHWAY_SERVICE_AREA: "ALONG_MOTORWAY",
    SiteCategory.TRUNK_ROAD_PARKING: "ALONG_MOTORWAY",
    SiteCategory.RESIDENTIAL_NEW: "ON_DRIVEWAY",
    SiteCategory.RESIDENTIAL_OLD: "ON_DRIVEWAY",
}
_FACILITY_BY_CATEGORY = {
    SiteCategory.TRANSPORT_HUB: "TRAIN_STATION",
    SiteCategory.PARK_AND_RIDE: "CARPOOL_PARKING",
    SiteCategory.COMMERCIAL: "MALL",
    SiteCategory.SCENIC_SPOT: "RECREATION_AREA",
    SiteCategory.HIGHWAY_SERVICE_AREA: "FUEL_STATION",
}


def category_in(parking_type: str | None, facilities: list[str] | None) -> SiteCategory:
    for facility in facilities or ():
        if facility in _CATEGORY_BY_FACILITY:
            return _CATEGORY_BY_FACILITY[facility]
    return _CATEGORY_BY_PARKING.get(parking_type or "", SiteCategory.OTHER)


def category_out(category: str) -> tuple[str | None, list[str] | None]:
    """(parking_type, facilities) saying as much of a category as OCPI can."""
    kind = SiteCategory(category)
    facility = _FACILITY_BY_CATEGORY.get(kind)
    return _PARKING_BY_CATEGORY.get(kind), [facility] if facility else None


def access_in(publish: bool) -> Access:
    # An unpublished location serves a restricted group (fleet, staff): dedicated (专用).
    return Access.PUBLIC if publish else Access.DEDICATED


def hours_in(twentyfourseven: bool, regular: list[tuple[int, str, str]]) -> str:
    """chargenet keeps one daily pattern; OCPI has one per weekday. The most common
    weekday pattern stands for the week (documented loss)."""
    if twentyfourseven or not regular:
        return "24/7"
    by_day: dict[int, list[str]] = {}
    for weekday, begin, end in sorted(regular):
        by_day.setdefault(weekday, []).append(f"{begin}-{end}")
    patterns = Counter(",".join(ranges) for ranges in by_day.values())
    return patterns.most_common(1)[0][0]


def hours_out(opening_hours: str) -> dict[str, object]:
    if opening_hours == "24/7":
        return {"twentyfourseven": True}
    regular = []
    for weekday in range(1, 8):
        for part in opening_hours.split(","):
            begin, _, end = part.strip().partition("-")
            regular.append({"weekday": weekday, "period_begin": begin, "period_end": end})
    return {"twentyfourseven": False, "regular_hours": regular}
