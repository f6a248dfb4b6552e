"""Questions asked of current state. Views, analytics and reports read here; nothing here
parses a protocol frame or writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    Select,
    case,
    false,
    func,
    literal,
    or_,
    select,
    union,
)

from chargenet.adapters import codec
from chargenet.adapters.storage import like
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import (
    area_statistics,
    areas,
    chargers,
    connector_live,
    connectors,
    events,
    operators,
    rejected_events,
    sessions,
    stations,
    swap_stations,
    target_revisions,
    targets,
)
from chargenet.adapters.storage.stopped import stopped
from chargenet.adapters.storage.tables_ocpp import charger_inventory
from chargenet.app.queries import (
    AreaBriefRow,
    AreaDetailRow,
    AreaRow,
    AreaStatisticsRow,
    ChargerRow,
    ConnectorRow,
    CountsRow,
    EventRow,
    InventoryItemRow,
    OperatorDetailRow,
    OperatorRow,
    PilesRow,
    RejectedRow,
    SessionRow,
    StationDetailRow,
    StationRow,
    StatusCounts,
    SwapStationRow,
    TargetRow,
    piles_row,
)
from chargenet.core.access import Principal, Role
from chargenet.core.areas import AreaLevel, official_level
from chargenet.core.errors import UnknownReference
from chargenet.core.planning.revisions import effective_day, in_force
from chargenet.core.registry.model import Access, PowerType
from chargenet.core.registry.piles import PileCount, count_piles
from chargenet.core.status import ConnectorStatus

# The SQL form of chargenet.core.status.effective_status (tests check the two agree): a
# connector retired, or under a stop order in force, is out of service; one of a charger
# that stopped talking, or that never reported, is offline.
EFFECTIVE_STATUS = case(
    (or_(connectors.c.retired_at.is_not(None), stopped()), literal("unavailable")),
    (or_(chargers.c.online == false(), connector_live.c.status.is_(None)), literal("offline")),
    else_=connector_live.c.status,
)


def _changed_since(when: datetime) -> ColumnElement[bool]:
    """Stations whose registry record changed at or after `when`: the station itself, or
    one of its chargers or connectors registered, updated or retired (each row's `as_of`
    is the time of the newest registry change applied to it, retirement included)."""
    return or_(
        stations.c.as_of >= when,
        stations.c.station_id.in_(
            union(
                select(chargers.c.station_id).where(chargers.c.as_of >= when),
                select(connectors.c.station_id).where(connectors.c.as_of >= when),
            )
        ),
    )


class ReadModel:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- helpers --------------------------------------------------------------------------

    def _rows(self, stmt: Select[Any]) -> list[RowMapping]:
        with self._engine.connect() as conn:
            return list(conn.execute(stmt).mappings())

    def _page_rows(
        self, stmt: Select[Any], limit: int, offset: int
    ) -> tuple[list[RowMapping], int]:
        """A page of rows as the database returns them, and how many match in all."""
        with self._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = list(conn.execute(stmt.limit(limit).offset(offset)).mappings())
        return rows, int(total)

    def _page(self, stmt: Select[Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        rows, total = self._page_rows(stmt, limit, offset)
        return [dict(r) for r in rows], total

    def area_column(self, conn: Connection, code: str, table: Any) -> ColumnElement[bool]:
        """A filter on a table with chain columns that keeps rows inside area `code`."""
        row = conn.execute(select(areas.c.level).where(areas.c.code == code)).first()
        if row is not None:
            level = AreaLevel(row.level)
        elif (official := official_level(code)) is not None:
            level = official
        else:
            raise UnknownReference("area", code)
        column: Column[Any] = table.c[f"{level.value}_code"]
        return column == code

    def scope(
        self, conn: Connection, viewer: Principal | None, table: Any, *, public_too: bool = True
    ) -> ColumnElement[bool] | None:
        """A filter keeping the rows of a site table (stations, swap stations) that `viewer`
        may see: public-access sites (unless `public_too` is False) and those in its scope.
        None: no filter (internal callers, admins, regulators of everywhere)."""
        if viewer is None or viewer.everywhere:
            return None
        keep: list[ColumnElement[bool]] = []
        if public_too:
            keep.append(table.c.access == Access.PUBLIC.value)
        if viewer.role is Role.OPERATOR and viewer.operator_id:
            keep.append(table.c.operator_id == viewer.operator_id)
        if viewer.role is Role.REGULATOR and viewer.area_code:
            keep.append(self.area_column(conn, viewer.area_code, table))
        return or_(*keep) if keep else false()

    # --- areas ----------------------------------------------------------------------------

    def areas(
        self,
        level: AreaLevel | None = None,
        parent: str | None = None,
        query: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[AreaRow], int]:
        stmt = select(
            areas.c.code,
            areas.c.level,
            areas.c.parent_code,
            areas.c.name_zh,
            areas.c.name_en,
            areas.c.lat,
            areas.c.lon,
        ).order_by(areas.c.code)
        if level is not None:
            stmt = stmt.where(areas.c.level == level.value)
        if parent is not None:
            stmt = stmt.where(areas.c.parent_code == parent)
        if query:
            stmt = stmt.where(
                or_(
                    like.contains(areas.c.name_zh, query),
                    like.contains(areas.c.name_en, query, any_case=True),
                )
            )
        rows, total = self._page_rows(stmt, limit, offset)
        return [_area(r) for r in rows], total

    def area(self, code: str) -> AreaDetailRow | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(areas).where(areas.c.code == code)).mappings().first()
            if row is None:
                return None
            ancestors = []
            for level in ("province", "city", "county", "township"):
                ancestor = row[f"{level}_code"]
                if ancestor and ancestor != code:
                    ancestors.append(ancestor)
            ancestor_rows = [
                AreaBriefRow(
                    code=r["code"], level=r["level"], name_zh=r["name_zh"], name_en=r["name_en"]
                )
                for r in conn.execute(
                    select(areas.c.code, areas.c.level, areas.c.name_zh, areas.c.name_en)
                    .where(areas.c.code.in_(ancestors))
                    .order_by(func.length(areas.c.code), areas.c.code)
                ).mappings()
            ]
            children = conn.execute(
                select(func.count()).where(areas.c.parent_code == code)
            ).scalar_one()
            statistics = [
                row_of(AreaStatisticsRow, r)
                for r in conn.execute(
                    select(
                        area_statistics.c.year,
                        area_statistics.c.ev_count,
                        area_statistics.c.motor_vehicles,
                        area_statistics.c.population,
                    )
                    .where(area_statistics.c.area_code == code)
                    .order_by(area_statistics.c.year)
                ).mappings()
            ]
        return AreaDetailRow(
            **_area(row),
            ancestors=ancestor_rows,
            children=int(children),
            statistics=statistics,
            piles=piles_row(self.pile_count(area_code=code)),
            stations=self.station_count(area_code=code),
            status=self.status_summary(area_code=code),
        )

    # --- counting -------------------------------------------------------------------------

    def pile_count(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        on: date | None = None,
    ) -> PileCount:
        """Piles (R01) in service on a day (today when None), by the rule in core.piles."""
        with self._engine.connect() as conn:
            stmt = select(
                connectors.c.max_power_w, connectors.c.power_type, stations.c.access
            ).join(stations, stations.c.station_id == connectors.c.station_id)
            stmt = stmt.where(*self._in_service(on))
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, stations))
            if operator_id:
                stmt = stmt.where(stations.c.operator_id == operator_id)
            rows = conn.execute(stmt).all()
        return count_piles((r[0], PowerType(r[1]), Access(r[2])) for r in rows)

    @staticmethod
    def _in_service(on: date | None) -> list[ColumnElement[bool]]:
        if on is None:
            return [connectors.c.retired_at.is_(None), stations.c.retired_at.is_(None)]
        commissioned = func.coalesce(
            stations.c.commissioned_on, func.date(connectors.c.registered_at)
        )
        return [
            commissioned <= on,
            or_(connectors.c.retired_at.is_(None), func.date(connectors.c.retired_at) > on),
            or_(stations.c.retired_at.is_(None), func.date(stations.c.retired_at) > on),
        ]

    def station_count(self, area_code: str | None = None, operator_id: str | None = None) -> int:
        with self._engine.connect() as conn:
            stmt = select(func.count()).select_from(stations).where(stations.c.retired_at.is_(None))
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, stations))
            if operator_id:
                stmt = stmt.where(stations.c.operator_id == operator_id)
            return int(conn.execute(stmt).scalar_one())

    def status_summary(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        station_id: str | None = None,
    ) -> StatusCounts:
        """Connectors in service by effective status (every status present, zeros included)."""
        with self._engine.connect() as conn:
            stmt = (
                select(EFFECTIVE_STATUS.label("status"), func.count().label("n"))
                .select_from(self._connector_join())
                .where(connectors.c.retired_at.is_(None), stations.c.retired_at.is_(None))
                .group_by(EFFECTIVE_STATUS)
            )
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, stations))
            if operator_id:
                stmt = stmt.where(stations.c.operator_id == operator_id)
            if station_id:
                stmt = stmt.where(stations.c.station_id == station_id)
            counts = {s.value: 0 for s in ConnectorStatus}
            for status, n in conn.execute(stmt).all():
                counts[status] = n
        return counts

    @staticmethod
    def _connector_join() -> Any:
        return (
            connectors.join(stations, stations.c.station_id == connectors.c.station_id)
            .join(chargers, chargers.c.charger_id == connectors.c.charger_id)
            .outerjoin(connector_live, connector_live.c.connector_id == connectors.c.connector_id)
        )

    # --- registry -------------------------------------------------------------------------

    def operators(self, limit: int = 100, offset: int = 0) -> tuple[list[OperatorRow], int]:
        stmt = select(operators).order_by(operators.c.operator_id)
        rows, total = self._page_rows(stmt, limit, offset)
        return [_operator(r) for r in rows], total

    def operator(self, operator_id: str) -> OperatorDetailRow | None:
        rows = self._rows(select(operators).where(operators.c.operator_id == operator_id))
        if not rows:
            return None
        return OperatorDetailRow(
            **_operator(rows[0]),
            piles=piles_row(self.pile_count(operator_id=operator_id)),
            stations=self.station_count(operator_id=operator_id),
            status=self.status_summary(operator_id=operator_id),
        )

    _STATION_COLUMNS = (
        stations.c.station_id,
        stations.c.operator_id,
        stations.c.name,
        stations.c.name_en,
        stations.c.address,
        stations.c.lat,
        stations.c.lon,
        stations.c.area_code,
        stations.c.area_placed,
        stations.c.county_code,
        stations.c.category,
        stations.c.scenic_grade,
        stations.c.access,
        stations.c.parking_spaces,
        stations.c.charging_spaces,
        stations.c.opening_hours,
        stations.c.commissioned_on,
        stations.c.source_adapter,
        stations.c.registered_at,
        stations.c.retired_at,
    )

    def stations(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        category: str | None = None,
        access: str | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
        changed_since: datetime | None = None,
    ) -> tuple[list[StationRow], int]:
        with self._engine.connect() as conn:
            stmt = select(*self._STATION_COLUMNS).order_by(stations.c.station_id)
            visible = self.scope(conn, viewer, stations)
            if visible is not None:
                stmt = stmt.where(visible)
            if not include_retired:
                stmt = stmt.where(stations.c.retired_at.is_(None))
            if changed_since is not None:
                stmt = stmt.where(_changed_since(changed_since))
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, stations))
            if operator_id:
                stmt = stmt.where(stations.c.operator_id == operator_id)
            if category:
                stmt = stmt.where(stations.c.category == category)
            if access:
                stmt = stmt.where(stations.c.access == access)
        rows, total = self._page_rows(stmt, limit, offset)
        return self._with_summaries(rows), total

    def _with_summaries(self, rows: list[RowMapping]) -> list[StationRow]:
        """Station rows with the piles and live status of their connectors in service."""
        ids = [r["station_id"] for r in rows]
        if not ids:
            return []
        stmt = (
            select(
                connectors.c.station_id,
                connectors.c.max_power_w,
                connectors.c.power_type,
                stations.c.access,
                EFFECTIVE_STATUS.label("status"),
            )
            .select_from(self._connector_join())
            .where(connectors.c.station_id.in_(ids), connectors.c.retired_at.is_(None))
        )
        by_station: dict[str, list[RowMapping]] = {i: [] for i in ids}
        for r in self._rows(stmt):
            by_station[r["station_id"]].append(r)
        out = []
        for row in rows:
            items = by_station[row["station_id"]]
            piles = count_piles(
                (i["max_power_w"], PowerType(i["power_type"]), Access(i["access"])) for i in items
            )
            status = {s.value: 0 for s in ConnectorStatus}
            for i in items:
                status[i["status"]] += 1
            out.append(_station(row, piles_row(piles), status))
        return out

    def station(self, station_id: str, viewer: Principal | None = None) -> StationDetailRow | None:
        stmt = select(*self._STATION_COLUMNS).where(stations.c.station_id == station_id)
        with self._engine.connect() as conn:
            visible = self.scope(conn, viewer, stations)
        if visible is not None:
            stmt = stmt.where(visible)
        rows = self._rows(stmt)
        if not rows:
            return None
        [summary] = self._with_summaries(rows)
        charger_rows = self._rows(
            self._chargers_stmt(None).where(chargers.c.station_id == station_id)
        )
        return StationDetailRow(**summary, chargers=self._with_connectors(charger_rows))

    def chargers(
        self,
        station_id: str | None = None,
        operator_id: str | None = None,
        online: bool | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> tuple[list[ChargerRow], int]:
        stmt = self._chargers_stmt(viewer)
        if station_id:
            stmt = stmt.where(chargers.c.station_id == station_id)
        if operator_id:
            stmt = stmt.where(chargers.c.operator_id == operator_id)
        if online is not None:
            stmt = stmt.where(chargers.c.online == online)
        if not include_retired:
            stmt = stmt.where(chargers.c.retired_at.is_(None))
        rows, total = self._page_rows(stmt, limit, offset)
        return self._with_connectors(rows), total

    def _chargers_stmt(self, viewer: Principal | None) -> Select[Any]:
        stmt = select(chargers).order_by(chargers.c.charger_id)
        with self._engine.connect() as conn:
            visible = self.scope(conn, viewer, stations, public_too=False)
        if visible is not None:
            stmt = stmt.join(stations, stations.c.station_id == chargers.c.station_id).where(
                visible
            )
        return stmt

    def _with_connectors(self, charger_rows: list[RowMapping]) -> list[ChargerRow]:
        """Each charger with its connectors (retired ones too), fetched in one query."""
        if not charger_rows:
            return []
        by_charger: dict[str, list[ConnectorRow]] = {r["charger_id"]: [] for r in charger_rows}
        stmt = self._connectors_stmt(charger_ids=list(by_charger), include_retired=True)
        for c in self._rows(stmt):
            by_charger[c["charger_id"]].append(_connector(c))
        return [_charger(row, by_charger[row["charger_id"]]) for row in charger_rows]

    def charger(self, charger_id: str, viewer: Principal | None = None) -> ChargerRow | None:
        rows = self._rows(self._chargers_stmt(viewer).where(chargers.c.charger_id == charger_id))
        if not rows:
            return None
        return self._with_connectors(rows)[0]

    def charger_inventory(self, charger_id: str) -> list[InventoryItemRow]:
        inv = charger_inventory
        stmt = (
            select(inv)
            .where(inv.c.charger_id == charger_id)
            .order_by(
                inv.c.evse_no,
                inv.c.connector_no,
                inv.c.component,
                inv.c.component_instance,
                inv.c.variable,
                inv.c.variable_instance,
            )
        )
        # The key stores "none" as -1 and "" (primary key columns cannot be NULL).
        return [
            row_of(
                InventoryItemRow,
                r,
                component_instance=r["component_instance"] or None,
                evse_no=None if r["evse_no"] < 0 else r["evse_no"],
                connector_no=None if r["connector_no"] < 0 else r["connector_no"],
                variable_instance=r["variable_instance"] or None,
                reported_at=r["as_of"],
            )
            for r in self._rows(stmt)
        ]

    def connectors(
        self,
        station_id: str | None = None,
        area_code: str | None = None,
        operator_id: str | None = None,
        status: ConnectorStatus | None = None,
        charger_ids: Sequence[str] | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> tuple[list[ConnectorRow], int]:
        stmt = self._connectors_stmt(
            station_id, area_code, operator_id, status, charger_ids, include_retired, viewer
        )
        rows, total = self._page_rows(stmt, limit, offset)
        return [_connector(r) for r in rows], total

    def connector(self, connector_id: str) -> ConnectorRow | None:
        rows = self._rows(
            self._connectors_stmt(include_retired=True).where(
                connectors.c.connector_id == connector_id
            )
        )
        return _connector(rows[0]) if rows else None

    def _connectors_stmt(
        self,
        station_id: str | None = None,
        area_code: str | None = None,
        operator_id: str | None = None,
        status: ConnectorStatus | None = None,
        charger_ids: Sequence[str] | None = None,
        include_retired: bool = False,
        viewer: Principal | None = None,
    ) -> Select[Any]:
        with self._engine.connect() as conn:
            visible = self.scope(conn, viewer, stations)
            stmt = (
                select(
                    connectors.c.connector_id,
                    connectors.c.charger_id,
                    connectors.c.station_id,
                    connectors.c.operator_id,
                    connectors.c.evse_no,
                    connectors.c.evse_uid,
                    connectors.c.connector_no,
                    connectors.c.standard,
                    connectors.c.power_type,
                    connectors.c.max_power_w,
                    connectors.c.max_voltage_v,
                    connectors.c.max_current_a,
                    connectors.c.is_pile,
                    connectors.c.retired_at,
                    EFFECTIVE_STATUS.label("status"),
                    connector_live.c.status.label("reported_status"),
                    stopped().label("stopped"),
                    connector_live.c.status_since,
                    connector_live.c.error_code,
                    connector_live.c.session_id,
                    connector_live.c.power_w,
                    connector_live.c.energy_register_wh,
                    connector_live.c.soc_percent,
                    connector_live.c.temperature_c,
                    connector_live.c.meter_at,
                    chargers.c.online.label("charger_online"),
                )
                .select_from(self._connector_join())
                .order_by(connectors.c.connector_id)
            )
            if not include_retired:
                stmt = stmt.where(connectors.c.retired_at.is_(None))
            if station_id:
                stmt = stmt.where(connectors.c.station_id == station_id)
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, stations))
            if operator_id:
                stmt = stmt.where(connectors.c.operator_id == operator_id)
            if status is not None:
                stmt = stmt.where(EFFECTIVE_STATUS == status.value)  # noqa: SIM300
            if charger_ids is not None:
                stmt = stmt.where(connectors.c.charger_id.in_(list(charger_ids)))
            if visible is not None:
                stmt = stmt.where(visible)
        return stmt

    def swap_stations(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> tuple[list[SwapStationRow], int]:
        with self._engine.connect() as conn:
            stmt = (
                select(swap_stations)
                .where(swap_stations.c.retired_at.is_(None))
                .order_by(swap_stations.c.swap_station_id)
            )
            visible = self.scope(conn, viewer, swap_stations)
            if visible is not None:
                stmt = stmt.where(visible)
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, swap_stations))
            if operator_id:
                stmt = stmt.where(swap_stations.c.operator_id == operator_id)
        rows, total = self._page_rows(stmt, limit, offset)
        return [_swap_station(r) for r in rows], total

    def sessions(
        self,
        station_id: str | None = None,
        connector_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> tuple[list[SessionRow], int]:
        stmt = select(sessions).order_by(sessions.c.started_at.desc(), sessions.c.session_id)
        with self._engine.connect() as conn:
            visible = self.scope(conn, viewer, stations, public_too=False)
        if visible is not None:
            stmt = stmt.join(stations, stations.c.station_id == sessions.c.station_id).where(
                visible
            )
        if station_id:
            stmt = stmt.where(sessions.c.station_id == station_id)
        if connector_id:
            stmt = stmt.where(sessions.c.connector_id == connector_id)
        if state:
            stmt = stmt.where(sessions.c.state == state)
        rows, total = self._page_rows(stmt, limit, offset)
        return [_session(r) for r in rows], total

    def targets(self, area_code: str | None = None, on: date | None = None) -> list[TargetRow]:
        stmt = select(targets).order_by(targets.c.area_code, targets.c.metric, targets.c.year)
        if area_code:
            stmt = stmt.where(targets.c.area_code == area_code)
        rows = [_target(r) for r in self._rows(stmt)]
        if on is None:
            return rows
        history: dict[str, list[tuple[date, Decimal]]] = {}
        revisions = select(target_revisions).order_by(target_revisions.c.revised_at)
        if area_code:
            revisions = revisions.where(
                target_revisions.c.target_id.in_([r["target_id"] for r in rows])
            )
        for rev in self._rows(revisions):
            day = effective_day(rev["valid_from"], rev["revised_at"])
            history.setdefault(rev["target_id"], []).append((day, rev["value"]))
        out = []
        for row in rows:
            known = history.get(row["target_id"])
            value = in_force(known, on) if known else row["value"]
            if value is not None:
                row["value"] = value
                out.append(row)
        return out

    # --- the log --------------------------------------------------------------------------

    def events(
        self,
        after_seq: int = 0,
        event_type: str | None = None,
        adapter: str | None = None,
        limit: int = 100,
        operator_id: str | None = None,
    ) -> list[EventRow]:
        stmt = (
            select(events.c.seq, events.c.type, events.c.version, events.c.payload)
            .where(events.c.seq > after_seq)
            .order_by(events.c.seq)
            .limit(limit)
        )
        if event_type:
            stmt = stmt.where(events.c.type == event_type)
        if adapter:
            stmt = stmt.where(events.c.adapter == adapter)
        if operator_id:
            stmt = stmt.where(events.c.operator_id == operator_id)
        out = []
        for row in self._rows(stmt):
            event = codec.decode(row["type"], row["version"], row["payload"])
            out.append({"seq": row["seq"], **codec.to_builtins(event)})
        return out

    def last_seq(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    def rejected(
        self, limit: int = 100, offset: int = 0, operator_id: str | None = None
    ) -> tuple[list[RejectedRow], int]:
        stmt = select(rejected_events).order_by(rejected_events.c.id.desc())
        if operator_id:
            stmt = stmt.where(rejected_events.c.operator_id == operator_id)
        rows, total = self._page_rows(stmt, limit, offset)
        return [_rejected(r) for r in rows], total

    def _counts_in(
        self, conn: Connection, n: Any, area_code: str | None, on: date | None
    ) -> CountsRow:
        def standing(table: Any, commissioned: Any = None) -> list[ColumnElement[bool]]:
            if on is None:
                return [table.c.retired_at.is_(None)]
            start = func.coalesce(commissioned, func.date(table.c.registered_at))
            return [
                start <= on,
                or_(table.c.retired_at.is_(None), func.date(table.c.retired_at) > on),
            ]

        def inside(table: Any) -> list[ColumnElement[bool]]:
            return [self.area_column(conn, area_code, table)] if area_code else []

        site = [*standing(stations, stations.c.commissioned_on), *inside(stations)]
        out: CountsRow = {
            "stations": n(stations, *site),
            "chargers": n(
                chargers.join(stations, stations.c.station_id == chargers.c.station_id),
                *site,
                *standing(chargers, stations.c.commissioned_on),
            ),
            "connectors": n(
                connectors.join(stations, stations.c.station_id == connectors.c.station_id),
                *self._in_service(on),
                *inside(stations),
            ),
            "swap_stations": n(
                swap_stations,
                *standing(swap_stations, swap_stations.c.commissioned_on),
                *inside(swap_stations),
            ),
        }
        if on is None:
            out["sessions_active"] = n(
                sessions.join(
                    connectors, connectors.c.connector_id == sessions.c.connector_id
                ).join(stations, stations.c.station_id == connectors.c.station_id),
                sessions.c.state == "active",
                *inside(stations),
            )
        return out

    def counts(self, area_code: str | None = None, on: date | None = None) -> CountsRow:
        """Sizes of the main tables (health and the demo banner). With an area or a day:
        only what stood in that area at the end of that day (stations, chargers, connectors,
        swap stations; sessions under way only for today) — the log's and the registry's
        platform-wide sizes say nothing about one area or a past day."""
        with self._engine.connect() as conn:

            def n(table: Any, *where: ColumnElement[bool]) -> int:
                return int(
                    conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
                )

            if area_code is not None or on is not None:
                return self._counts_in(conn, n, area_code, on)
            return {
                "events": n(events),
                "rejected_events": n(rejected_events),
                "areas": n(areas),
                "operators": n(operators),
                "stations": n(stations, stations.c.retired_at.is_(None)),
                "chargers": n(chargers, chargers.c.retired_at.is_(None)),
                "connectors": n(connectors, connectors.c.retired_at.is_(None)),
                "swap_stations": n(swap_stations, swap_stations.c.retired_at.is_(None)),
                "sessions_active": n(sessions, sessions.c.state == "active"),
            }


# --- rows ---------------------------------------------------------------------------------
# Each row type of app/queries.py built field by field from what the database returned: a
# column renamed or dropped fails here, on the first read, by name.


def _area(r: RowMapping) -> AreaRow:
    return row_of(AreaRow, r)


def _operator(r: RowMapping) -> OperatorRow:
    return row_of(OperatorRow, r)


def _station(r: RowMapping, piles: PilesRow, status: StatusCounts) -> StationRow:
    return row_of(
        StationRow,
        r,
        piles=piles,
        status=status,
    )


def _charger(r: RowMapping, connector_rows: list[ConnectorRow]) -> ChargerRow:
    return row_of(
        ChargerRow,
        r,
        connectors=connector_rows,
    )


def _connector(r: RowMapping) -> ConnectorRow:
    return row_of(ConnectorRow, r)


def _swap_station(r: RowMapping) -> SwapStationRow:
    return row_of(
        SwapStationRow,
        r,
        vehicle_types=r["vehicle_types"].split(","),
    )


def _session(r: RowMapping) -> SessionRow:
    return row_of(
        SessionRow,
        r,
        flags=[f for f in r["flags"].split(",") if f],
    )


def _target(r: RowMapping) -> TargetRow:
    return row_of(TargetRow, r)


def _rejected(r: RowMapping) -> RejectedRow:
    return row_of(RejectedRow, r)
