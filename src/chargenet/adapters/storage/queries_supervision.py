"""Supervision reads: fleets, status history, cases, alarms, stop orders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    Select,
    and_,
    func,
    or_,
    select,
)

from chargenet.adapters.storage import like
from chargenet.adapters.storage.history import HOUR_US, MINUTE_US, SETTLED_US
from chargenet.adapters.storage.interface_log import compliance_by_operator
from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import (
    alarms,
    chargers,
    connector_live,
    connectors,
    events,
    operators,
    orders,
    sessions,
    stations,
)
from chargenet.adapters.storage.tables_supervision import (
    history_late,
    outage_exclusions,
    power_limit_history,
    presence_history,
    status_history,
    stop_orders,
    zombie_case_steps,
    zombie_cases,
)
from chargenet.adapters.storage.tables_supervision_data import (
    credit_penalties,
    incidents,
    interface_traffic,
)
from chargenet.app.supervision import stop_state
from chargenet.app.supervision_ports import (
    ActivityRow,
    AlarmListRow,
    AlarmRow,
    ChargerTargetRow,
    DeliveryRow,
    ExclusionRow,
    FleetRow,
    OwnerRow,
    PresenceReportRow,
    Scope,
    SessionEndedRow,
    StationBriefRow,
    StatusReportRow,
    StopOrderListRow,
    StopOrderRow,
    ZombieCaseDetailRow,
    ZombieCaseListRow,
    ZombieCaseRow,
    ZombieFactsRow,
    ZombieStepRow,
)
from chargenet.core.oversight import ZombieStage
from chargenet.kit.timeutil import from_micros, to_micros

_DOWN = ("offline", "faulted", "unavailable")
_STEP_ORDER = {"detected": 0, "notified": 1, "escalated": 2, "reported": 3}


def late_reports(end_us: int) -> Select[Any]:
    """Late reports about instants before `end_us`, per history table: the hours wholly
    before its hour, then the minutes of its hour that begin before it (history.py)."""
    lt, hour = history_late.c, end_us - end_us % HOUR_US
    return (
        select(lt.history, func.sum(lt.reports))
        .where(
            or_(
                and_(lt.span_us == HOUR_US, lt.start_us < hour),
                and_(lt.span_us == MINUTE_US, lt.start_us >= hour, lt.start_us < end_us),
            )
        )
        .group_by(lt.history)
        .order_by(lt.history)
    )


class SupervisionReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = ReadModel(engine)

    # --- scope ----------------------------------------------------------------------------

    def _filters(
        self, conn: Connection, scope: Scope, table: Any = connectors
    ) -> list[ColumnElement[bool]]:
        """Filters on a connectors-like table (joined to stations) keeping rows in scope."""
        out: list[ColumnElement[bool]] = []
        if scope.area:
            out.append(self._read.area_column(conn, scope.area, stations))
        if scope.operator:
            out.append(table.c.operator_id == scope.operator)
        if scope.station:
            out.append(table.c.station_id == scope.station)
        if scope.charger and "charger_id" in table.c:
            out.append(table.c.charger_id == scope.charger)
        if scope.connector and "connector_id" in table.c:
            out.append(table.c.connector_id == scope.connector)
        return out

    def _connector_ids(self, conn: Connection, scope: Scope) -> Select[Any]:
        return (
            select(connectors.c.connector_id)
            .select_from(
                connectors.join(stations, stations.c.station_id == connectors.c.station_id)
            )
            .where(*self._filters(conn, scope))
        )

    def _rows(self, stmt: Select[Any]) -> list[RowMapping]:
        with self._engine.connect() as conn:
            return list(conn.execute(stmt).mappings())

    def _page_rows(
        self, stmt: Select[Any], limit: int, offset: int
    ) -> tuple[list[RowMapping], int]:
        with self._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = list(conn.execute(stmt.limit(limit).offset(offset)).mappings())
        return rows, int(total)

    # --- what the figures are computed from ---------------------------------------------

    def figures_version(
        self, end: datetime, now: datetime, scorecards: bool = False
    ) -> tuple[Any, ...]:
        """What uptime (and, with `scorecards`, operator scorecards) over a period ending
        at `end` are computed from, as counts and newest changes (cache key): the fleet,
        stations' public hours, exclusions and the status, presence and power-limit reports
        about the period (the late ones: history.py); for scorecards also zombie cases,
        credit penalties, partners' traffic, and sessions and alarms from before `end`. A
        report arriving now about now does not move the version of a period that ended a
        minute ago; a late report about that period does.
        A period not yet over, or over for less than `SETTLED_US` (reports about its end
        may still be on their way), also keys on the log's newest event."""
        end_us = to_micros(end)
        parts: list[Any] = []
        with self._engine.connect() as conn:

            def add(stmt: Any) -> None:
                parts.extend(conn.execute(stmt).one())

            for table in (stations, chargers, connectors):
                add(select(func.count(), func.max(table.c.as_of)).select_from(table))
            # Public hours decide which outages NEVI excludes and which hours UK counts.
            add(select(func.max(stations.c.public_hours_as_of)))
            x = outage_exclusions
            add(select(func.count(), func.count(x.c.withdrawn_at), func.max(x.c.excluded_at)))
            # Reports about the period: the late ones, per table (why and how: history.py).
            parts.append(tuple(tuple(r) for r in conn.execute(late_reports(end_us))))
            if scorecards:
                z, c = zombie_cases, credit_penalties
                add(select(func.count(), func.count(z.c.closed_at), func.max(z.c.detected_at)))
                add(
                    select(func.count(), func.max(c.c.recorded_at), func.max(c.c.appeal_decided_at))
                )
                add(select(func.count(), func.sum(interface_traffic.c.messages)))
                add(select(func.count()).select_from(sessions).where(sessions.c.ended_at < end))
                add(select(func.count()).select_from(alarms).where(alarms.c.raised_at < end))
            if end_us > to_micros(now) - SETTLED_US:
                add(select(func.max(events.c.seq)))
        return tuple(parts)

    # --- fleet and history ----------------------------------------------------------------

    def fleet(self, scope: Scope) -> list[FleetRow]:
        with self._engine.connect() as conn:
            # First reports by index seeks (one per connector and charger), not table scans.
            first_status = (
                select(func.min(status_history.c.at_us))
                .where(status_history.c.connector_id == connectors.c.connector_id)
                .scalar_subquery()
            )
            first_presence = (
                select(func.min(presence_history.c.at_us))
                .where(presence_history.c.charger_id == connectors.c.charger_id)
                .scalar_subquery()
            )
            stmt = (
                select(
                    connectors.c.connector_id,
                    connectors.c.charger_id,
                    connectors.c.station_id,
                    connectors.c.operator_id,
                    connectors.c.evse_no,
                    connectors.c.evse_uid,
                    connectors.c.registered_at,
                    connectors.c.retired_at,
                    connectors.c.max_power_w,
                    connectors.c.power_type,
                    connectors.c.max_current_a,
                    connectors.c.is_pile,
                    chargers.c.commissioned_at,
                    first_status.label("first_status_us"),
                    first_presence.label("first_presence_us"),
                    stations.c.access,
                    stations.c.opening_hours,
                    stations.c.public_hours,
                    stations.c.name.label("station_name"),
                    operators.c.name.label("operator_name"),
                    stations.c.province_code,
                    stations.c.city_code,
                    stations.c.county_code,
                    chargers.c.online.is_not(None).label("presence_tracked"),
                )
                .select_from(
                    connectors.join(stations, stations.c.station_id == connectors.c.station_id)
                    .join(operators, operators.c.operator_id == connectors.c.operator_id)
                    .join(chargers, chargers.c.charger_id == connectors.c.charger_id)
                )
                .where(*self._filters(conn, scope))
                .order_by(connectors.c.connector_id)
            )
            return [_fleet(r) for r in conn.execute(stmt).mappings()]

    def _reports(
        self,
        table: Any,
        key: str,
        columns: list[Any],
        ids: Select[Any] | Sequence[str],
        start_us: int,
        end_us: int,
        conn: Connection,
    ) -> list[Any]:
        in_range = select(*columns).where(
            table.c[key].in_(ids), table.c.at_us >= start_us, table.c.at_us < end_us
        )
        last = (
            select(table.c[key].label("k"), func.max(table.c.at_us).label("at"))
            .where(table.c[key].in_(ids), table.c.at_us < start_us)
            .group_by(table.c[key])
            .subquery()
        )
        before = select(*columns).join(
            last, and_(table.c[key] == last.c.k, table.c.at_us == last.c.at)
        )
        return list(conn.execute(in_range.union_all(before)).all())

    def _ids(
        self, conn: Connection, scope: Scope, among: Sequence[str] | None
    ) -> Select[Any] | Sequence[str]:
        return self._connector_ids(conn, scope) if among is None else among

    def status_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, str]]:
        h = status_history
        with self._engine.connect() as conn:
            ids = self._ids(conn, scope, among)
            rows = self._reports(
                h,
                "connector_id",
                [h.c.connector_id, h.c.at_us, h.c.status],
                ids,
                start_us,
                end_us,
                conn,
            )
        return [(r[0], r[1], r[2]) for r in rows]

    def limit_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, int]]:
        h = power_limit_history
        with self._engine.connect() as conn:
            ids = self._ids(conn, scope, among)
            rows = self._reports(
                h,
                "connector_id",
                [h.c.connector_id, h.c.at_us, h.c.limit_w],
                ids,
                start_us,
                end_us,
                conn,
            )
        return [(r[0], r[1], r[2]) for r in rows]

    def presence_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, bool]]:
        p = presence_history
        with self._engine.connect() as conn:
            charger_ids: Select[Any] | Sequence[str] = (
                select(connectors.c.charger_id)
                .select_from(
                    connectors.join(stations, stations.c.station_id == connectors.c.station_id)
                )
                .where(*self._filters(conn, scope))
                .distinct()
                if among is None
                else among
            )
            rows = self._reports(
                p,
                "charger_id",
                [p.c.charger_id, p.c.at_us, p.c.online],
                charger_ids,
                start_us,
                end_us,
                conn,
            )
        return [(r[0], r[1], bool(r[2])) for r in rows]

    def connector_history(
        self, connector_id: str, start_us: int, end_us: int
    ) -> tuple[list[StatusReportRow], list[PresenceReportRow]]:
        h, p = status_history, presence_history
        with self._engine.connect() as conn:
            ids = select(connectors.c.connector_id).where(connectors.c.connector_id == connector_id)
            charger = select(connectors.c.charger_id).where(
                connectors.c.connector_id == connector_id
            )
            status_cols = [h.c.at_us, h.c.status, h.c.error_code, h.c.vendor_error_code, h.c.info]
            status = self._reports(h, "connector_id", status_cols, ids, start_us, end_us, conn)
            presence_cols = [p.c.at_us, p.c.online, p.c.reason]
            presence = self._reports(
                p, "charger_id", presence_cols, charger, start_us, end_us, conn
            )
        return (
            sorted(
                (
                    StatusReportRow(
                        at_us=at, status=st, error_code=code, vendor_error_code=vendor, info=info
                    )
                    for at, st, code, vendor, info in status
                ),
                key=lambda r: r["at_us"],
            ),
            sorted(
                (
                    # A union of two selects: SQLite gives the flag back as 0 or 1.
                    PresenceReportRow(at_us=at, online=bool(online), reason=reason)
                    for at, online, reason in presence
                ),
                key=lambda r: r["at_us"],
            ),
        )

    def exclusions(self, scope: Scope, start: datetime, end: datetime) -> list[ExclusionRow]:
        x = outage_exclusions
        with self._engine.connect() as conn:
            stmt = (
                select(x)
                .select_from(x.join(stations, stations.c.station_id == x.c.station_id))
                .where(
                    x.c.withdrawn_at.is_(None),
                    x.c.start_at < end,
                    x.c.end_at > start,
                    *self._filters(conn, Scope(scope.area, scope.operator, scope.station), x),
                )
                .order_by(x.c.start_at)
            )
            return [_exclusion(r) for r in conn.execute(stmt).mappings()]

    # --- zombie piles ---------------------------------------------------------------------

    def exclusion(self, exclusion_id: str) -> ExclusionRow | None:
        x = outage_exclusions
        rows = self._rows(select(x).where(x.c.exclusion_id == exclusion_id))
        return _exclusion(rows[0]) if rows else None

    def zombie_facts(
        self, scope: Scope, window_start: datetime, min_energy_wh: int
    ) -> list[ZombieFactsRow]:
        with self._engine.connect() as conn:
            # First reports by index seeks (one per connector and charger), not table scans.
            first_status = (
                select(func.min(status_history.c.at_us))
                .where(status_history.c.connector_id == connectors.c.connector_id)
                .scalar_subquery()
            )
            first_presence = (
                select(func.min(presence_history.c.at_us))
                .where(presence_history.c.charger_id == connectors.c.charger_id)
                .scalar_subquery()
            )
            live = conn.execute(
                select(
                    connectors.c.charger_id,
                    chargers.c.registered_at,
                    chargers.c.online,
                    chargers.c.presence_since,
                    stations.c.access,
                    connector_live.c.status,
                    connector_live.c.status_since,
                    first_status,
                    first_presence,
                    chargers.c.commissioned_at,
                )
                .select_from(
                    connectors.join(chargers, chargers.c.charger_id == connectors.c.charger_id)
                    .join(stations, stations.c.station_id == connectors.c.station_id)
                    .outerjoin(
                        connector_live, connector_live.c.connector_id == connectors.c.connector_id
                    )
                )
                .where(connectors.c.retired_at.is_(None), *self._filters(conn, scope))
            ).all()
            ok = and_(sessions.c.energy_wh >= min_energy_wh)
            usage = {
                r[0]: r
                for r in conn.execute(
                    select(
                        sessions.c.charger_id,
                        func.max(sessions.c.ended_at),
                        func.count().filter(sessions.c.ended_at >= window_start),
                        func.count().filter(and_(sessions.c.ended_at >= window_start, ok)),
                    )
                    .where(sessions.c.ended_at.is_not(None))
                    .group_by(sessions.c.charger_id)
                ).all()
            }

        @dataclass
        class Fold:
            """A charger's connectors folded, one row at a time."""

            registered_at: datetime
            commissioned_at: datetime | None
            public: bool
            first_report_us: int | None = None
            down: list[datetime | None] = field(default_factory=list)
            available: list[datetime] = field(default_factory=list)
            connectors: int = 0

        facts: dict[str, Fold] = {}
        for row in live:
            charger_id, registered, online, presence_since, access, status, since = row[:7]
            fact = facts.setdefault(charger_id, Fold(registered, row[9], access == "public"))
            fact.connectors += 1
            firsts = [t for t in (row[7], row[8], fact.first_report_us) if t is not None]
            fact.first_report_us = min(firsts) if firsts else None
            if online is False:
                fact.down.append(presence_since)
            elif status in _DOWN and since is not None:
                fact.down.append(since)
            elif status is None:  # connected, yet this connector never said a word: no data
                fact.down.append(presence_since or registered)
            elif status == "available" and since is not None:
                fact.available.append(since)
        out = []
        for charger_id, fact in facts.items():
            n, first, down = fact.connectors, fact.first_report_us, fact.down
            used = usage.get(charger_id)
            out.append(
                ZombieFactsRow(
                    charger_id=charger_id,
                    registered_at=fact.registered_at,
                    commissioned_at=fact.commissioned_at,
                    public=fact.public,
                    first_report_at=from_micros(first) if first is not None else None,
                    down_since=max(d for d in down if d is not None)
                    if len(down) == n and None not in down
                    else None,
                    available_since=max(fact.available) if len(fact.available) == n else None,
                    last_session_end=used[1] if used else None,
                    sessions=used[2] if used else 0,
                    successful=used[3] if used else 0,
                )
            )
        return out

    def _cases_stmt(self, conn: Connection, scope: Scope) -> Select[Any]:
        z = zombie_cases
        reported = (
            select(func.max(zombie_case_steps.c.at))
            .where(
                zombie_case_steps.c.case_id == z.c.case_id,
                zombie_case_steps.c.step == "reported",
            )
            .scalar_subquery()
        )
        return (
            select(
                z,
                stations.c.name.label("station_name"),
                stations.c.name_en.label("station_name_en"),
                stations.c.county_code,
                reported.label("reported_at"),
            )
            .select_from(z.join(stations, stations.c.station_id == z.c.station_id))
            .where(
                *self._filters(
                    conn, Scope(scope.area, scope.operator, scope.station, scope.charger), z
                )
            )
        )

    def zombie_cases(
        self, scope: Scope, open_only: bool, limit: int, offset: int
    ) -> tuple[list[ZombieCaseListRow], int]:
        with self._engine.connect() as conn:
            stmt = self._cases_stmt(conn, scope).order_by(
                zombie_cases.c.detected_at.desc(), zombie_cases.c.case_id
            )
            if open_only:
                stmt = stmt.where(zombie_cases.c.stage != ZombieStage.CLOSED.value)
        rows, total = self._page_rows(stmt, limit, offset)
        return [
            ZombieCaseListRow(
                **_zombie_case(r),
                station_name=r["station_name"],
                station_name_en=r["station_name_en"],
                county_code=r["county_code"],
                reported_at=r["reported_at"],
            )
            for r in rows
        ], total

    def zombie_case(self, case_id: str) -> ZombieCaseDetailRow | None:
        rows = self._rows(select(zombie_cases).where(zombie_cases.c.case_id == case_id))
        if not rows:
            return None
        steps = [
            ZombieStepRow(at=r["at"], step=r["step"], detail=r["detail"], event_id=r["event_id"])
            for r in self._rows(
                select(
                    zombie_case_steps.c.at,
                    zombie_case_steps.c.step,
                    zombie_case_steps.c.detail,
                    zombie_case_steps.c.event_id,
                ).where(zombie_case_steps.c.case_id == case_id)
            )
        ]
        # Steps taken at one instant (detected and notified) in the order of the life cycle.
        steps.sort(key=lambda r: (r["at"], _STEP_ORDER.get(r["step"], 9), r["step"]))
        return ZombieCaseDetailRow(**_zombie_case(rows[0]), steps=steps)

    # --- alarms ---------------------------------------------------------------------------

    def open_alarms(self) -> list[AlarmRow]:
        return [_alarm(r) for r in self._rows(select(alarms).where(alarms.c.cleared_at.is_(None)))]

    def rated_currents(self) -> dict[str, float]:
        with self._engine.connect() as conn:
            return {
                r[0]: float(r[1])
                for r in conn.execute(
                    select(connectors.c.connector_id, connectors.c.max_current_a).where(
                        connectors.c.max_current_a.is_not(None)
                    )
                )
            }

    def alarms(
        self, scope: Scope, open_only: bool, severity: str | None, limit: int, offset: int
    ) -> tuple[list[AlarmListRow], int]:
        with self._engine.connect() as conn:
            stmt = (
                select(alarms, stations.c.name.label("station_name"))
                .select_from(
                    alarms.outerjoin(stations, stations.c.station_id == alarms.c.station_id)
                )
                .where(
                    *self._filters(conn, Scope(scope.area, scope.operator, scope.station), alarms)
                )
                .order_by(alarms.c.raised_at.desc(), alarms.c.alarm_id)
            )
            if open_only:
                stmt = stmt.where(alarms.c.cleared_at.is_(None))
            if severity:
                stmt = stmt.where(alarms.c.severity == severity)
            if scope.charger or scope.connector:
                stmt = stmt.where(
                    alarms.c.target_id.in_([t for t in (scope.charger, scope.connector) if t])
                )
        rows, total = self._page_rows(stmt, limit, offset)
        return [AlarmListRow(**_alarm(r), station_name=r["station_name"]) for r in rows], total

    def alarm(self, alarm_id: str) -> AlarmRow | None:
        rows = self._rows(select(alarms).where(alarms.c.alarm_id == alarm_id))
        return _alarm(rows[0]) if rows else None

    # --- stop orders ----------------------------------------------------------------------

    def _deliveries(self, rows: list[RowMapping]) -> dict[str, list[DeliveryRow]]:
        """The orders each stop order sent (stop and resume), by stop_id, oldest first."""
        by_stop: dict[str, list[DeliveryRow]] = {r["stop_id"]: [] for r in rows}
        if not rows:
            return by_stop
        with self._engine.connect() as conn:
            found = conn.execute(
                select(
                    orders.c.order_id,
                    orders.c.kind,
                    orders.c.target_id.label("charger_id"),
                    orders.c.issued_at,
                    orders.c.outcome,
                    orders.c.acknowledged_at,
                    orders.c.detail,
                    chargers.c.protocol,
                )
                .select_from(orders.join(chargers, chargers.c.charger_id == orders.c.target_id))
                .where(
                    or_(*[like.starts_with(orders.c.order_id, f"{r['stop_id']}:") for r in rows])
                )
                .order_by(orders.c.issued_at, orders.c.order_id)
            ).mappings()
            for order in found:
                stop_id = order["order_id"].split(":", 1)[0]
                if stop_id in by_stop:
                    by_stop[stop_id].append(row_of(DeliveryRow, order))
        return by_stop

    def stop_orders(
        self, scope: Scope, in_force_only: bool, limit: int, offset: int
    ) -> tuple[list[StopOrderListRow], int]:
        with self._engine.connect() as conn:
            stmt = (
                select(stop_orders, stations.c.name.label("station_name"))
                .select_from(
                    stop_orders.join(stations, stations.c.station_id == stop_orders.c.station_id)
                )
                .where(
                    *self._filters(
                        conn, Scope(scope.area, scope.operator, scope.station), stop_orders
                    )
                )
                .order_by(stop_orders.c.issued_at.desc(), stop_orders.c.stop_id)
            )
            if in_force_only:
                stmt = stmt.where(stop_orders.c.lifted_at.is_(None))
        rows, total = self._page_rows(stmt, limit, offset)
        sent = self._deliveries(rows)
        return [
            StopOrderListRow(**_stop_order(r, sent[r["stop_id"]]), station_name=r["station_name"])
            for r in rows
        ], total

    def stop_order(self, stop_id: str) -> StopOrderRow | None:
        rows = self._rows(select(stop_orders).where(stop_orders.c.stop_id == stop_id))
        sent = self._deliveries(rows)
        return _stop_order(rows[0], sent[stop_id]) if rows else None

    def chargers_of(self, target_kind: str, target_id: str) -> list[ChargerTargetRow]:
        column = chargers.c.charger_id if target_kind == "charger" else chargers.c.station_id
        return [
            ChargerTargetRow(
                charger_id=r["charger_id"], protocol=r["protocol"], station_id=r["station_id"]
            )
            for r in self._rows(
                select(chargers.c.charger_id, chargers.c.protocol, chargers.c.station_id)
                .where(column == target_id, chargers.c.retired_at.is_(None))
                .order_by(chargers.c.charger_id)
            )
        ]

    def owner(self, target_kind: str, target_id: str) -> OwnerRow | None:
        tables = {"connector": connectors, "charger": chargers, "station": stations}
        table = tables.get(target_kind)
        if table is None:
            return None
        key = table.c[f"{target_kind}_id"]
        stmt = (
            select(
                table.c.station_id,
                table.c.operator_id,
                stations.c.area_code,
                stations.c.province_code,
                stations.c.city_code,
                stations.c.county_code,
            )
            .select_from(
                table.join(stations, stations.c.station_id == table.c.station_id)
                if table is not stations
                else stations
            )
            .where(key == target_id)
        )
        rows = self._rows(stmt)
        if not rows:
            return None
        r = rows[0]
        return row_of(OwnerRow, r)

    # --- filings (EV-ChART) ---------------------------------------------------------------

    def sessions_ended(self, scope: Scope, start: datetime, end: datetime) -> list[SessionEndedRow]:
        with self._engine.connect() as conn:
            stmt = (
                select(
                    sessions.c.session_id,
                    sessions.c.connector_id,
                    sessions.c.charger_id,
                    sessions.c.station_id,
                    sessions.c.operator_id,
                    sessions.c.started_at,
                    sessions.c.ended_at,
                    sessions.c.energy_wh,
                    sessions.c.peak_power_w,
                    sessions.c.stop_reason,
                )
                .select_from(
                    sessions.join(stations, stations.c.station_id == sessions.c.station_id)
                )
                .where(
                    sessions.c.ended_at >= start,
                    sessions.c.ended_at < end,
                    *self._filters(conn, scope, sessions),
                )
                .order_by(sessions.c.ended_at, sessions.c.session_id)
            )
            return [row_of(SessionEndedRow, r) for r in conn.execute(stmt).mappings()]

    def station_rows(self, scope: Scope) -> list[StationBriefRow]:
        with self._engine.connect() as conn:
            stmt = (
                select(
                    stations.c.station_id,
                    stations.c.operator_id,
                    stations.c.name,
                    stations.c.address,
                    stations.c.lat,
                    stations.c.lon,
                )
                .where(*self._filters(conn, scope, stations))
                .order_by(stations.c.station_id)
            )
            return [row_of(StationBriefRow, r) for r in conn.execute(stmt).mappings()]

    # --- scorecards -----------------------------------------------------------------------

    def _activity(
        self,
        conn: Connection,
        by: str,
        scope: Scope,
        start: datetime,
        end: datetime,
        min_energy_wh: int,
    ) -> dict[str, ActivityRow]:
        """Sessions ended (all, and those of at least `min_energy_wh`) and alarms raised in
        [start, end), per station or per operator (`by`: the column both tables have)."""
        out: dict[str, ActivityRow] = {}
        station_scope = Scope(scope.area, scope.operator, scope.station)
        for key, n, ok in conn.execute(
            select(
                sessions.c[by],
                func.count(),
                func.count().filter(sessions.c.energy_wh >= min_energy_wh),
            )
            .select_from(sessions.join(stations, stations.c.station_id == sessions.c.station_id))
            .where(
                sessions.c.ended_at >= start,
                sessions.c.ended_at < end,
                *self._filters(conn, station_scope, sessions),
            )
            .group_by(sessions.c[by])
        ):
            out.setdefault(key, {}).update({"sessions": n, "successful": ok})
        for key, n in conn.execute(
            select(alarms.c[by], func.count())
            .select_from(alarms.join(stations, stations.c.station_id == alarms.c.station_id))
            .where(
                alarms.c.raised_at >= start,
                alarms.c.raised_at < end,
                *self._filters(conn, station_scope, alarms),
            )
            .group_by(alarms.c[by])
        ):
            out.setdefault(key, {})["alarms"] = n
        return out

    def station_activity(
        self, scope: Scope, start: datetime, end: datetime, min_energy_wh: int
    ) -> dict[str, ActivityRow]:
        with self._engine.connect() as conn:
            out = self._activity(conn, "station_id", scope, start, end, min_energy_wh)
            station_scope = Scope(scope.area, scope.operator, scope.station)
            i = incidents
            for st, n in conn.execute(
                select(i.c.station_id, func.count())
                .select_from(i.join(stations, stations.c.station_id == i.c.station_id))
                .where(
                    i.c.occurred_at >= start,
                    i.c.occurred_at < end,
                    *self._filters(conn, station_scope, i),
                )
                .group_by(i.c.station_id)
            ):
                out.setdefault(st, {})["incidents"] = n
        return out

    def operator_activity(
        self, scope: Scope, start: datetime, end: datetime, min_energy_wh: int
    ) -> dict[str, ActivityRow]:
        with self._engine.connect() as conn:
            out = self._activity(conn, "operator_id", scope, start, end, min_energy_wh)
            station_scope = Scope(scope.area, scope.operator, scope.station)
            # Cases open at some time in the period: detected before its end and not
            # closed before its start (a case closed later was open then).
            z = zombie_cases
            for op, n in conn.execute(
                select(z.c.operator_id, func.count())
                .select_from(z.join(stations, stations.c.station_id == z.c.station_id))
                .where(
                    z.c.detected_at < end,
                    or_(z.c.closed_at.is_(None), z.c.closed_at > start),
                    *self._filters(conn, station_scope, z),
                )
                .group_by(z.c.operator_id)
            ):
                out.setdefault(op, {})["open_zombies"] = n
            # Interface compliance: the operators' platforms' messages, accepted and refused.
            for op, (ok, bad) in compliance_by_operator(conn, start, end).items():
                out.setdefault(op, {}).update({"interface_accepted": ok, "interface_refused": bad})
            # Credit penalties decided in the period that stand (not overturned on appeal).
            c = credit_penalties
            for op, points in conn.execute(
                select(c.c.operator_id, func.sum(c.c.points))
                .where(
                    c.c.decided_on >= start.date(),
                    c.c.decided_on <= (end - timedelta(microseconds=1)).date(),
                    c.c.appeal_state != "overturned",
                )
                .group_by(c.c.operator_id)
            ):
                out.setdefault(op, {})["credit_points"] = int(points or 0)
        return out

    def latency_sample(
        self, scope: Scope, start: datetime, end: datetime, limit: int
    ) -> dict[str, list[float]]:
        with self._engine.connect() as conn:
            ops = [
                r[0]
                for r in conn.execute(
                    select(stations.c.operator_id)
                    .where(*self._filters(conn, Scope(scope.area, scope.operator), stations))
                    .distinct()
                )
            ]
            out: dict[str, list[float]] = {}
            for op in ops:
                rows = conn.execute(
                    select(events.c.occurred_at, events.c.received_at)
                    .where(
                        events.c.operator_id == op,
                        events.c.received_at >= start,
                        events.c.received_at < end,
                    )
                    .order_by(events.c.seq.desc())
                    .limit(limit)
                ).all()
                if rows:
                    out[op] = [max((r[1] - r[0]).total_seconds(), 0.0) for r in rows]
        return out


# --- rows ---------------------------------------------------------------------------------
# The row types of app/supervision_ports.py, built field by field from what the database
# returned: a column renamed or dropped fails here, on the first read, by name.


def _exclusion(r: RowMapping) -> ExclusionRow:
    return row_of(ExclusionRow, r)


def _zombie_case(r: RowMapping) -> ZombieCaseRow:
    return row_of(
        ZombieCaseRow,
        r,
        rules=r["rules"].split(","),
    )


def _alarm(r: RowMapping) -> AlarmRow:
    return row_of(AlarmRow, r)


def _stop_order(r: RowMapping, sent: list[DeliveryRow]) -> StopOrderRow:
    deliveries = [d for d in sent if d["kind"] == "stop"]
    return row_of(
        StopOrderRow,
        r,
        deliveries=deliveries,
        resumes=[d for d in sent if d["kind"] == "resume"],
        state=stop_state(r["lifted_at"], deliveries),
    )


def _fleet(r: RowMapping) -> FleetRow:
    return FleetRow(
        connector_id=r["connector_id"],
        charger_id=r["charger_id"],
        station_id=r["station_id"],
        operator_id=r["operator_id"],
        evse_no=r["evse_no"],
        evse_uid=r["evse_uid"],
        registered_at=r["registered_at"],
        retired_at=r["retired_at"],
        max_power_w=r["max_power_w"],
        power_type=r["power_type"],
        max_current_a=r["max_current_a"],
        is_pile=r["is_pile"],
        commissioned_at=r["commissioned_at"],
        first_status_us=r["first_status_us"],
        first_presence_us=r["first_presence_us"],
        access=r["access"],
        opening_hours=r["opening_hours"],
        public_hours=r["public_hours"],
        station_name=r["station_name"],
        operator_name=r["operator_name"],
        province_code=r["province_code"],
        city_code=r["city_code"],
        county_code=r["county_code"],
        presence_tracked=r["presence_tracked"],
        # Equipment has no names of its own: its ids name it in the figures.
        charger_name=r["charger_id"],
        connector_name=r["connector_id"],
    )
