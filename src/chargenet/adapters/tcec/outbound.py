"""chargenet answering T/CEC 102 queries (R37, 纵向贯通): a provincial platform — or an
operator's own platform, for its own stations — asks chargenet `query_stations_info`,
`query_station_status` and `query_station_stats`, as chargenet asks operators'
platforms. The mapping is docs/tcec.md's, read the other way (codes.py holds both
directions): ids are chargenet's own; positions go out in GCJ-02.

Whom a query serves: a partner listed as upstream (`CHARGENET_TCEC_UPSTREAM`) sees every
station; any other partner the stations of the operator it speaks for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from chargenet.adapters.tcec import codes, model
from chargenet.adapters.tcec.inbound import BadParameters, format_time, parse_time
from chargenet.adapters.tcec.status import to_tcec
from chargenet.app.queries import ChargerRow, ConnectorRow, StateQueries, StationRow
from chargenet.core.registry.model import Access, ConnectorStandard, SiteCategory
from chargenet.core.status import ConnectorStatus
from chargenet.kit.geo import wgs84_to_gcj02
from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE, runs_ahead

MAX_PAGE_SIZE = 100
MAX_STATUS_STATIONS = 50  # Part 3: at most 50 stations per status query
_KW = Decimal(1000)


def _kw(watts: int | None) -> Decimal:
    return (Decimal(watts or 0) / _KW).quantize(Decimal("0.1"))


def _county(area_code: str | None) -> str:
    code = (area_code or "")[:6]
    return code if len(code) == 6 and code.isdigit() else "000000"


def connector_info(row: ConnectorRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ConnectorID": row["connector_id"],
        "ConnectorType": codes.connector_type_of(ConnectorStandard(row["standard"])),
        "Power": _kw(row["max_power_w"]),
        "NationalStandard": 2,
    }
    if row["max_voltage_v"]:
        out["VoltageUpperLimits"] = row["max_voltage_v"]
    if row["max_current_a"]:
        out["Current"] = row["max_current_a"]
    return out


def equipment_info(charger: ChargerRow, connectors: Sequence[ConnectorRow]) -> dict[str, Any]:
    kinds = {c["power_type"] for c in connectors}
    kind = (
        codes.EquipmentType.AC_DC
        if kinds >= {"AC", "DC"}
        else codes.EquipmentType.DC
        if "DC" in kinds
        else codes.EquipmentType.AC
    )
    out: dict[str, Any] = {
        "EquipmentID": charger["charger_id"],
        "EquipmentType": int(kind),
        "Power": sum((_kw(c["max_power_w"]) for c in connectors), Decimal(0)),
        "ConnectorInfos": [connector_info(c) for c in connectors],
    }
    if charger["vendor"]:
        out["ManufacturerName"] = charger["vendor"]
    if charger["model"]:
        out["EquipmentModel"] = charger["model"]
    return out


def station_info(
    station: StationRow,
    chargers: Sequence[ChargerRow],
    connectors: Sequence[ConnectorRow],
) -> dict[str, Any]:
    lat, lon = wgs84_to_gcj02(station["lat"], station["lon"])
    by_charger: dict[str, list[ConnectorRow]] = {}
    for c in connectors:
        by_charger.setdefault(c["charger_id"], []).append(c)
    access = Access(station["access"])
    out: dict[str, Any] = {
        "StationID": station["station_id"],
        "OperatorID": station["operator_id"],
        "EquipmentOwnerID": station["operator_id"],
        "StationName": station["name"],
        "CountryCode": "CN",
        "AreaCode": _county(station["area_code"]),
        "Address": station["address"] or "",
        "StationType": codes.ACCESS_STATION_TYPE.get(access, 255),
        "StationStatus": int(
            codes.StationStatus.CLOSED if station["retired_at"] else codes.StationStatus.IN_USE
        ),
        "ParkNums": station["charging_spaces"] or 0,
        "StationLng": round(Decimal(lon), 6),
        "StationLat": round(Decimal(lat), 6),
        "Construction": codes.construction_of(SiteCategory(station["category"])),
        "BusineHours": station["opening_hours"] or "00:00-24:00",
        "EquipmentInfos": [
            equipment_info(ch, by_charger.get(ch["charger_id"], [])) for ch in chargers
        ],
    }
    return out


def station_infos(queries: StateQueries, stations: Sequence[StationRow]) -> list[dict[str, Any]]:
    """StationInfos of station rows, with their chargers and connectors (reads the store)."""
    out = []
    for station in stations:
        sid = station["station_id"]
        chargers, _ = queries.chargers(sid, None, None, False, 1000, 0)
        connectors, _ = queries.connectors(sid, None, None, None, None, False, 5000, 0)
        out.append(station_info(station, chargers, connectors))
    return out


OFFLINE = 0  # 离网


def connector_status(row: ConnectorRow) -> dict[str, Any]:
    """A connector's ConnectorStatusInfo. A retired one (its charger or station retired
    with it) is 0 离网 whatever it last reported: T/CEC 102.2 ConnectorStatusInfo.Status
    (0 离网, 1 空闲, 2 占用（未充电）, 3 占用（充电中）, 4 占用（预约锁定）, 255 故障) has no code
    for equipment that is gone; 离网 — off the network, not usable — is what it is, while
    255 would count a pile taken out on purpose among the failed ones (R34). Queries and
    StationInfo leave retired connectors out altogether; this is for a push about one."""
    status = row["status"]
    return {
        "ConnectorID": row["connector_id"],
        "Status": OFFLINE
        if row["retired_at"] is not None or not status
        else to_tcec(ConnectorStatus(status)),
    }


def page_of(query: model.StationsQuery) -> tuple[int, int]:
    if query.PageNo < 1:
        raise BadParameters("PageNo starts at 1")
    if not 1 <= query.PageSize <= MAX_PAGE_SIZE:
        raise BadParameters(f"PageSize must be 1..{MAX_PAGE_SIZE}")
    return query.PageNo, query.PageSize


def changed_since(query: model.StationsQuery, zone: Any, now: datetime) -> datetime | None:
    """From when the stations changed are answered: the query's LastQueryTime
    (`yyyy-MM-dd HH:mm:ss`, the partner's wall clock) as UTC, less `LOOK_BACK`; None when
    absent or empty: every station. T/CEC 102 query_stations_info: LastQueryTime may be
    left empty, and then every station is asked for; when given, the stations whose
    information changed after it. Malformed, or ahead of our clock by more than a clock may
    drift (it would hide every change to come), it is refused like any parameter (4003)."""
    text = (query.LastQueryTime or "").strip()
    if not text:
        return None
    when = parse_time(text, zone, "LastQueryTime")
    if runs_ahead(when, now):
        raise BadParameters(f"LastQueryTime {text!r} is ahead of our clock")
    return when - LOOK_BACK


# How far before LastQueryTime changes are answered. It is the partner's clock, which may
# run ahead of ours by as much as we believe any source's (`CLOCK_AHEAD_TOLERANCE`), and a
# change is dated by its source, so it can reach the log after a query that its date
# follows: taken at its word, LastQueryTime would lose such a change for good, where
# looking back sends a station again at worst (harmless: its whole record).
LOOK_BACK = CLOCK_AHEAD_TOLERANCE


def page_count(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def stats_span(query: model.StatsQuery, zone: Any) -> tuple[datetime, datetime]:
    """[start of StartTime's local day, end of EndTime's local day) in UTC."""
    start = parse_time(query.StartTime.strip()[:10] + " 00:00:00", zone, "StartTime")
    end = parse_time(query.EndTime.strip()[:10] + " 23:59:59", zone, "EndTime")
    if end < start:
        raise BadParameters("EndTime is before StartTime")
    return start, end


__all__ = [
    "MAX_STATUS_STATIONS",
    "changed_since",
    "connector_status",
    "format_time",
    "page_count",
    "page_of",
    "station_info",
    "stats_span",
]
