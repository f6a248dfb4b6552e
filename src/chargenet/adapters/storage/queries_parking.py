"""Parking figures of charging bays (R39: fuel cars occupying charging spaces): per station
or per area, from the bays' reported occupancy (`parking_live`) beside the connectors'
live status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, RowMapping, case, func, select

from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.schema import connector_live, connectors, stations
from chargenet.adapters.storage.tables_supervision_data import parking_live
from chargenet.app.supervision_ports import ParkingFiguresRow

GROUPS = ("station", "operator", "province", "city", "county")


class ParkingReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = ReadModel(engine)

    def figures(self, area: str | None, operator: str | None, by: str) -> list[ParkingFiguresRow]:
        """Bays with a sensor or lock, how many are occupied, and how many of those are
        occupied while their connector is not in use (`available`): a vehicle that is not
        charging — the figure plans track as fuel cars in charging spaces."""
        if by not in GROUPS:
            raise ValueError(f"by must be one of {', '.join(GROUPS)}")
        key = {
            "station": stations.c.station_id,
            "operator": stations.c.operator_id,
            "province": stations.c.province_code,
            "city": stations.c.city_code,
            "county": stations.c.county_code,
        }[by]
        p, live = parking_live, connector_live
        occupied = p.c.occupied.is_(True)
        idle = live.c.status == "available"
        in_use = live.c.status.in_(("charging", "occupied"))
        columns: list[Any] = [key.label("group")]
        if by == "station":
            columns += [stations.c.name, stations.c.operator_id, stations.c.charging_spaces]
        stmt = (
            select(
                *columns,
                func.count().label("bays_reported"),
                func.sum(case((occupied, 1), else_=0)).label("occupied"),
                func.sum(case((occupied & idle, 1), else_=0)).label("occupied_not_charging"),
                func.sum(case((occupied & in_use, 1), else_=0)).label("occupied_charging"),
                func.sum(case((p.c.locked.is_(True), 1), else_=0)).label("locks_up"),
                func.max(p.c.as_of).label("as_of"),
            )
            .select_from(
                p.join(connectors, connectors.c.connector_id == p.c.connector_id)
                .join(stations, stations.c.station_id == connectors.c.station_id)
                .outerjoin(live, live.c.connector_id == p.c.connector_id)
            )
            .where(connectors.c.retired_at.is_(None))
            .group_by(*columns)
            .order_by(key)
        )
        with self._engine.connect() as conn:
            if area:
                stmt = stmt.where(self._read.area_column(conn, area, stations))
            if operator:
                stmt = stmt.where(stations.c.operator_id == operator)
            return [_figures(r, by == "station") for r in conn.execute(stmt).mappings()]


def _figures(r: RowMapping, station: bool) -> ParkingFiguresRow:
    # PostgreSQL sums integers as numeric (Decimal): counted as ints on both backends.
    bays, idle = int(r["bays_reported"]), int(r["occupied_not_charging"])
    row = ParkingFiguresRow(
        group=r["group"],
        bays_reported=bays,
        occupied=int(r["occupied"]),
        occupied_not_charging=idle,
        occupied_charging=int(r["occupied_charging"]),
        locks_up=int(r["locks_up"]),
        as_of=r["as_of"],
        occupied_not_charging_percent=round(idle / bays * 100, 1) if bays else None,
    )
    if station:  # a station's own fields, which the query selects only when by station
        row["name"], row["operator_id"] = r["name"], r["operator_id"]
        row["charging_spaces"] = r["charging_spaces"]
    return row
