"""Read queries for planning: piles with their days in service, stations with their
sites, area points, statistics, targets with revisions, and policy packs in force."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, RowMapping, func, or_, select

from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import (
    area_statistics,
    areas,
    chargers,
    connectors,
    events,
    sessions,
    stations,
    target_revisions,
    targets,
)
from chargenet.adapters.storage.tables_orderly import grid_connections
from chargenet.adapters.storage.tables_planning import planning_scenarios, policy_packs
from chargenet.analytics.planning.demand import SessionRecord
from chargenet.analytics.planning.model import AreaPoint, PileRecord, StationSite
from chargenet.app.planning import (
    AreaChainRow,
    AreaTargetRow,
    PolicyPackRow,
    TargetRevisionRow,
    VehicleCountRow,
)
from chargenet.app.planning_build import ScenarioRow
from chargenet.core.areas import AreaLevel
from chargenet.core.registry.model import Access, PowerType, SiteCategory

_CHAIN = ("province_code", "city_code", "county_code", "township_code", "village_code")


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


class PlanningQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _rows(self, stmt: Any) -> list[RowMapping]:
        with self._engine.connect() as conn:
            return list(conn.execute(stmt).mappings())

    @staticmethod
    def _within(table: Any, code: str) -> ColumnElement[bool]:
        columns = [table.c[c] == code for c in _CHAIN if c in table.c]
        if "code" in table.c:
            columns.append(table.c.code == code)
        return or_(*columns)

    def area_points(self, within: str) -> list[AreaPoint]:
        stmt = select(areas).where(self._within(areas, within)).order_by(areas.c.code)
        return [
            AreaPoint(
                code=r["code"],
                level=AreaLevel(r["level"]),
                name_zh=r["name_zh"],
                lat=r["lat"],
                lon=r["lon"],
                parent=r["parent_code"],
                county=r["county_code"],
                township=r["township_code"],
                name_en=r["name_en"],
            )
            for r in self._rows(stmt)
        ]

    def area(self, code: str) -> AreaChainRow | None:
        stmt = select(
            areas.c.code,
            areas.c.level,
            areas.c.name_zh,
            areas.c.name_en,
            *[areas.c[c] for c in _CHAIN[:4]],
        )
        for r in self._rows(stmt.where(areas.c.code == code)):
            return row_of(AreaChainRow, r)
        return None

    def piles(self, within: str) -> list[PileRecord]:
        """Every pile (R01: the is_pile column) ever registered in the area."""
        stmt = (
            select(
                connectors.c.station_id,
                connectors.c.power_type,
                connectors.c.max_power_w,
                connectors.c.registered_at,
                connectors.c.retired_at,
                stations.c.commissioned_on,
                stations.c.retired_at.label("station_retired_at"),
                stations.c.access,
                *[stations.c[c] for c in _CHAIN],
            )
            .join(stations, stations.c.station_id == connectors.c.station_id)
            .where(connectors.c.is_pile.is_(True), self._within(stations, within))
        )
        out = []
        for r in self._rows(stmt):
            # The same rule as ReadModel.pile_count(on=…): in service from the station's
            # commissioning day (else the connector's registration day) until retired.
            out.append(
                PileRecord(
                    station_id=r["station_id"],
                    access=Access(r["access"]),
                    power_type=PowerType(r["power_type"]),
                    power_w=r["max_power_w"],
                    commissioned=r["commissioned_on"] or r["registered_at"].date(),
                    retired=_earliest(_day(r["retired_at"]), _day(r["station_retired_at"])),
                    chain=tuple(r[c] for c in _CHAIN),
                )
            )
        return out

    def station_sites(self, within: str) -> list[StationSite]:
        stmt = select(stations).where(self._within(stations, within))
        g = grid_connections
        newest = select(g.c.station_id, func.max(g.c.valid_from).label("v")).group_by(
            g.c.station_id
        )
        latest = newest.subquery()
        capacity = {
            r["station_id"]: int(r["capacity_w"])
            for r in self._rows(
                select(g.c.station_id, g.c.capacity_w).join(
                    latest, (g.c.station_id == latest.c.station_id) & (g.c.valid_from == latest.c.v)
                )
            )
        }
        return [
            StationSite(
                station_id=r["station_id"],
                name=r["name"],
                lat=r["lat"],
                lon=r["lon"],
                category=SiteCategory(r["category"]),
                access=Access(r["access"]),
                chain=tuple(r[c] for c in _CHAIN),
                scenic_grade=r["scenic_grade"],
                parking_spaces=r["parking_spaces"],
                charging_spaces=r["charging_spaces"],
                commissioned=r["commissioned_on"] or r["registered_at"].date(),
                retired=_day(r["retired_at"]),
                grid_capacity_w=capacity.get(r["station_id"]),
            )
            for r in self._rows(stmt)
        ]

    def sessions(self, within: str, start: datetime, end: datetime) -> list[SessionRecord]:
        """Sessions started in [start, end) at stations in the area (demand, docs/planning.md)."""
        stmt = (
            select(
                sessions.c.station_id,
                sessions.c.started_at,
                sessions.c.ended_at,
                sessions.c.energy_wh,
            )
            .join(stations, stations.c.station_id == sessions.c.station_id)
            .where(
                self._within(stations, within),
                sessions.c.started_at >= start,
                sessions.c.started_at < end,
            )
        )
        return [
            SessionRecord(r["station_id"], r["started_at"], r["ended_at"], r["energy_wh"])
            for r in self._rows(stmt)
        ]

    def statistics(self, within: str) -> list[VehicleCountRow]:
        stmt = (
            select(
                area_statistics.c.area_code,
                area_statistics.c.year,
                area_statistics.c.ev_count,
                area_statistics.c.motor_vehicles,
            )
            .join(areas, areas.c.code == area_statistics.c.area_code)
            .where(self._within(areas, within))
        )
        return [row_of(VehicleCountRow, r) for r in self._rows(stmt)]

    def targets(self, within: str) -> list[AreaTargetRow]:
        stmt = (
            select(targets, areas.c.name_zh, areas.c.name_en, areas.c.level)
            .join(areas, areas.c.code == targets.c.area_code)
            .where(self._within(areas, within))
            .order_by(targets.c.area_code, targets.c.metric, targets.c.year, targets.c.month)
        )
        return [row_of(AreaTargetRow, r) for r in self._rows(stmt)]

    def revisions(self, within: str) -> list[TargetRevisionRow]:
        stmt = (
            select(target_revisions, targets.c.area_code)
            .join(targets, targets.c.target_id == target_revisions.c.target_id)
            .join(areas, areas.c.code == targets.c.area_code)
            .where(self._within(areas, within))
            .order_by(target_revisions.c.target_id, target_revisions.c.revised_at)
        )
        return [row_of(TargetRevisionRow, r) for r in self._rows(stmt)]

    def packs(self) -> list[PolicyPackRow]:
        stmt = select(policy_packs).order_by(policy_packs.c.region_code, policy_packs.c.pack_id)
        return [row_of(PolicyPackRow, r) for r in self._rows(stmt)]

    def scenarios(self, within: str | None = None) -> list[ScenarioRow]:
        """Saved scenarios, of areas inside `within` when given."""
        stmt = select(planning_scenarios).order_by(
            planning_scenarios.c.area_code, planning_scenarios.c.name
        )
        if within is not None:
            inside = select(areas.c.code).where(self._within(areas, within))
            stmt = stmt.where(planning_scenarios.c.area_code.in_(inside))
        return [row_of(ScenarioRow, r) for r in self._rows(stmt)]

    def registry_version(self) -> tuple[Any, ...]:
        """What coverage and siting are computed from — areas, sites, piles, statistics,
        targets and policy packs — as (rows, newest change) per table: it moves when one of
        them changes, not with every status report (cache key)."""
        parts: list[Any] = []
        with self._engine.connect() as conn:
            for table in (
                areas,
                stations,
                chargers,
                connectors,
                area_statistics,
                targets,
                target_revisions,
                policy_packs,
            ):
                newest = func.max(table.c.as_of) if "as_of" in table.c else func.count()
                parts.extend(conn.execute(select(func.count(), newest).select_from(table)).one())
        return tuple(parts)

    def last_change(self) -> int:
        """A number that moves whenever state may have changed (cache key)."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())
