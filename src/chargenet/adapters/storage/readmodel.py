"""Questions asked of current state. Views, analytics and reports read here; nothing here
parses a protocol frame or writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Select,
    case,
    false,
    func,
    literal,
    or_,
    select,
)

from chargenet.adapters import codec
from chargenet.adapters.storage import like
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
from chargenet.core.access import Principal, Role
from chargenet.core.areas import AreaLevel, official_level
from chargenet.core.errors import UnknownReference
from chargenet.core.planning.revisions import effective_day, in_force
from chargenet.core.registry.model import Access, PowerType
from chargenet.core.registry.piles import PileCount, count_piles
from chargenet.core.status import ConnectorStatus

Row = dict[str, Any]

# The SQL form of chargenet.core.status.effective_status (tests check the two agree): a
# connector under a stop order in force is out of service; one of a charger that stopped
# talking, or that never reported, is offline.
EFFECTIVE_STATUS = case(
    (stopped(), literal("unavailable")),
    (or_(chargers.c.online == false(), connector_live.c.status.is_(None)), literal("offline")),
    else_=connector_live.c.status,
)


class ReadModel:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- helpers --------------------------------------------------------------------------

    def _all(self, stmt: Select[Any]) -> list[Row]:
        with self._engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def _page(self, stmt: Select[Any], limit: int, offset: int) -> tuple[list[Row], int]:
        with self._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = [dict(r) for r in conn.execute(stmt.limit(limit).offset(offset)).mappings()]
        return rows, total

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
    ) -> tuple[list[Row], int]:
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
        return self._page(stmt, limit, offset)

    def area(self, code: str) -> Row | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(areas).where(areas.c.code == code)).mappings().first()
            if row is None:
                return None
            out = dict(row)
            ancestors = []
            for level in ("province", "city", "county", "township"):
                ancestor = out.pop(f"{level}_code")
                if ancestor and ancestor != code:
                    ancestors.append(ancestor)
            out["ancestors"] = [
                dict(r)
                for r in conn.execute(
                    select(areas.c.code, areas.c.level, areas.c.name_zh, areas.c.name_en)
                    .where(areas.c.code.in_(ancestors))
                    .order_by(func.length(areas.c.code), areas.c.code)
                ).mappings()
            ]
            out["children"] = conn.execute(
                select(func.count()).where(areas.c.parent_code == code)
            ).scalar_one()
            out["statistics"] = [
                dict(r)
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
            out.pop("as_of")
        out["piles"] = asdict(self.pile_count(area_code=code))
        out["stations"] = self.station_count(area_code=code)
        out["status"] = self.status_summary(area_code=code)
        return out

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
    ) -> dict[str, int]:
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

    def operators(self, limit: int = 100, offset: int = 0) -> tuple[list[Row], int]:
        stmt = select(operators).order_by(operators.c.operator_id)
        return self._page(stmt, limit, offset)

    def operator(self, operator_id: str) -> Row | None:
        rows = self._all(select(operators).where(operators.c.operator_id == operator_id))
        if not rows:
            return None
        out = rows[0]
        out["piles"] = asdict(self.pile_count(operator_id=operator_id))
        out["stations"] = self.station_count(operator_id=operator_id)
        out["status"] = self.status_summary(operator_id=operator_id)
        return out

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
    ) -> tuple[list[Row], int]:
        with self._engine.connect() as conn:
            stmt = select(*self._STATION_COLUMNS).order_by(stations.c.station_id)
            visible = self.scope(conn, viewer, stations)
            if visible is not None:
                stmt = stmt.where(visible)
            if not include_retired:
                stmt = stmt.where(stations.c.retired_at.is_(None))
            if area_code:
                stmt = stmt.where(self.area_column(conn, area_code, stations))
            if operator_id:
                stmt = stmt.where(stations.c.operator_id == operator_id)
            if category:
                stmt = stmt.where(stations.c.category == category)
            if access:
                stmt = stmt.where(stations.c.access == access)
        rows, total = self._page(stmt, limit, offset)
        self._attach_station_summaries(rows)
        return rows, total

    def _attach_station_summaries(self, rows: list[Row]) -> None:
        ids = [r["station_id"] for r in rows]
        if not ids:
            return
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
        by_station: dict[str, list[Any]] = {i: [] for i in ids}
        for r in self._all(stmt):
            by_station[r["station_id"]].append(r)
        for row in rows:
            items = by_station[row["station_id"]]
            row["piles"] = asdict(
                count_piles(
                    (i["max_power_w"], PowerType(i["power_type"]), Access(i["access"]))
                    for i in items
                )
            )
            status = {s.value: 0 for s in ConnectorStatus}
            for i in items:
                status[i["status"]] += 1
            row["status"] = status

    def station(self, station_id: str, viewer: Principal | None = None) -> Row | None:
        stmt = select(*self._STATION_COLUMNS).where(stations.c.station_id == station_id)
        with self._engine.connect() as conn:
            visible = self.scope(conn, viewer, stations)
        if visible is not None:
            stmt = stmt.where(visible)
        rows = self._all(stmt)
        if not rows:
            return None
        out = rows[0]
        self._attach_station_summaries([out])
        charger_rows = self._all(
            self._chargers_stmt(None).where(chargers.c.station_id == station_id)
        )
        self._attach_connectors(charger_rows)
        out["chargers"] = charger_rows
        return out

    def chargers(
        self,
        station_id: str | None = None,
        operator_id: str | None = None,
        online: bool | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> tuple[list[Row], int]:
        stmt = self._chargers_stmt(viewer)
        if station_id:
            stmt = stmt.where(chargers.c.station_id == station_id)
        if operator_id:
            stmt = stmt.where(chargers.c.operator_id == operator_id)
        if online is not None:
            stmt = stmt.where(chargers.c.online == online)
        if not include_retired:
            stmt = stmt.where(chargers.c.retired_at.is_(None))
        rows, total = self._page(stmt, limit, offset)
        self._attach_connectors(rows)
        return rows, total

    def _chargers_stmt(self, viewer: Principal | None) -> Select[Any]:
        stmt = select(chargers).order_by(chargers.c.charger_id)
        with self._engine.connect() as conn:
            visible = self.scope(conn, viewer, stations, public_too=False)
        if visible is not None:
            stmt = stmt.join(stations, stations.c.station_id == chargers.c.station_id).where(
                visible
            )
        return stmt

    def _attach_connectors(self, charger_rows: list[Row]) -> None:
        """Each charger's connectors (retired ones too), fetched in one query."""
        for row in charger_rows:
            row.pop("as_of")
        if not charger_rows:
            return
        by_charger: dict[str, list[Row]] = {r["charger_id"]: [] for r in charger_rows}
        stmt = self._connectors_stmt(charger_ids=list(by_charger), include_retired=True)
        for c in self._all(stmt):
            by_charger[c["charger_id"]].append(c)
        for row in charger_rows:
            row["connectors"] = by_charger[row["charger_id"]]

    def charger(self, charger_id: str, viewer: Principal | None = None) -> Row | None:
        rows = self._all(self._chargers_stmt(viewer).where(chargers.c.charger_id == charger_id))
        if not rows:
            return None
        self._attach_connectors(rows)
        return rows[0]

    def charger_inventory(self, charger_id: str) -> list[Row]:
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
        rows = self._all(stmt)
        for row in rows:
            del row["charger_id"]
            row["reported_at"] = row.pop("as_of")
            for name in ("evse_no", "connector_no"):
                if row[name] < 0:
                    row[name] = None
            for name in ("component_instance", "variable_instance"):
                row[name] = row[name] or None
        return rows

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
    ) -> tuple[list[Row], int]:
        stmt = self._connectors_stmt(
            station_id, area_code, operator_id, status, charger_ids, include_retired, viewer
        )
        return self._page(stmt, limit, offset)

    def connector(self, connector_id: str) -> Row | None:
        rows = self._all(
            self._connectors_stmt(include_retired=True).where(
                connectors.c.connector_id == connector_id
            )
        )
        return rows[0] if rows else None

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
    ) -> tuple[list[Row], int]:
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
        rows, total = self._page(stmt, limit, offset)
        for row in rows:
            row["vehicle_types"] = row["vehicle_types"].split(",")
            row.pop("as_of")
        return rows, total

    def sessions(
        self,
        station_id: str | None = None,
        connector_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> tuple[list[Row], int]:
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
        rows, total = self._page(stmt, limit, offset)
        for row in rows:
            row["flags"] = [f for f in row["flags"].split(",") if f]
            row.pop("as_of")
            row.pop("token_hash")
        return rows, total

    def targets(self, area_code: str | None = None, on: date | None = None) -> list[Row]:
        stmt = select(targets).order_by(targets.c.area_code, targets.c.metric, targets.c.year)
        if area_code:
            stmt = stmt.where(targets.c.area_code == area_code)
        rows = self._all(stmt)
        if on is None:
            return rows
        history: dict[str, list[tuple[date, Any]]] = {}
        revisions = select(target_revisions).order_by(target_revisions.c.revised_at)
        if area_code:
            revisions = revisions.where(
                target_revisions.c.target_id.in_([r["target_id"] for r in rows])
            )
        for rev in self._all(revisions):
            day = effective_day(rev["valid_from"], rev["revised_at"])
            history.setdefault(rev["target_id"], []).append((day, rev["value"]))
        out = []
        for row in rows:
            known = history.get(row["target_id"])
            value = in_force(known, on) if known else row["value"]
            if value is not None:
                out.append({**row, "value": value})
        return out

    # --- the log --------------------------------------------------------------------------

    def events(
        self,
        after_seq: int = 0,
        event_type: str | None = None,
        adapter: str | None = None,
        limit: int = 100,
        operator_id: str | None = None,
    ) -> list[Row]:
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
        for row in self._all(stmt):
            event = codec.decode(row["type"], row["version"], row["payload"])
            out.append({"seq": row["seq"], **codec.to_builtins(event)})
        return out

    def last_seq(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    def rejected(
        self, limit: int = 100, offset: int = 0, operator_id: str | None = None
    ) -> tuple[list[Row], int]:
        stmt = select(rejected_events).order_by(rejected_events.c.id.desc())
        if operator_id:
            stmt = stmt.where(rejected_events.c.operator_id == operator_id)
        return self._page(stmt, limit, offset)

    def _counts_in(self, conn: Connection, n: Any, area_code: str | None, on: date | None) -> Row:
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
        out = {
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

    def counts(self, area_code: str | None = None, on: date | None = None) -> Row:
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
