"""Settlement questions: orders to reconcile, reconciliations, tariffs, bills."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, RowMapping, and_, func, or_, select

from chargenet.adapters.storage import like
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import connectors, sessions, stations
from chargenet.adapters.storage.tables_tcec import (
    energy_reports,
    reconciliation_differences,
    reconciliations,
    session_bill_periods,
    session_bills,
    station_prices,
)
from chargenet.app.interconnect import (
    BillPeriodRow,
    BillRow,
    DifferenceRow,
    EnergyReportRow,
    ReconciliationDetailRow,
    ReconciliationRow,
    StationScopeRow,
    TariffRow,
)
from chargenet.core.billing import OrderTotals

_CHUNK = 500  # ids per IN (…) list, well under every driver's parameter limit


class SettlementReadModel:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def station_energy(
        self, station_id: str, start: datetime, end: datetime
    ) -> list[tuple[str, str, int]]:
        stmt = (
            select(
                sessions.c.connector_id,
                connectors.c.charger_id,
                func.coalesce(func.sum(sessions.c.energy_wh), 0),
            )
            .select_from(
                sessions.join(connectors, connectors.c.connector_id == sessions.c.connector_id)
            )
            .where(
                sessions.c.station_id == station_id,
                sessions.c.ended_at >= start,
                sessions.c.ended_at <= end,
            )
            .group_by(sessions.c.connector_id, connectors.c.charger_id)
            .order_by(sessions.c.connector_id)
        )
        with self._engine.connect() as conn:
            return [(c, ch, int(wh)) for c, ch, wh in conn.execute(stmt)]

    def recorded_orders(
        self,
        operator_id: str,
        session_prefix: str,
        period: tuple[datetime, datetime],
        also: Sequence[str],
    ) -> list[OrderTotals]:
        start, end = period
        base = (
            select(
                sessions.c.session_id,
                func.coalesce(sessions.c.energy_wh, session_bills.c.energy_wh).label("energy"),
                func.coalesce(session_bills.c.total_amount, sessions.c.cost_amount).label("amount"),
                sessions.c.ended_at,
            )
            .select_from(
                sessions.outerjoin(
                    session_bills, session_bills.c.session_id == sessions.c.session_id
                )
            )
            .where(sessions.c.operator_id == operator_id)
        )
        in_period = and_(
            like.starts_with(sessions.c.session_id, session_prefix),
            sessions.c.ended_at >= start,
            sessions.c.ended_at <= end,
        )
        found: dict[str, OrderTotals] = {}
        ids = list(dict.fromkeys(also))
        chunks = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)] or [[]]
        with self._engine.connect() as conn:
            for n, chunk in enumerate(chunks):
                condition = sessions.c.session_id.in_(chunk)
                stmt = base.where(or_(in_period, condition) if n == 0 else condition)
                for row in conn.execute(stmt):
                    amount = row.amount
                    found[row.session_id] = OrderTotals(
                        order_id=row.session_id,
                        energy_wh=row.energy,
                        amount=Decimal(amount) if amount is not None else None,
                        ended_at=row.ended_at,
                    )
        return list(found.values())

    def reconciliations(
        self, operator_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[ReconciliationRow], int]:
        stmt = select(reconciliations).order_by(reconciliations.c.checked_at.desc())
        if operator_id is not None:
            stmt = stmt.where(reconciliations.c.operator_id == operator_id)
        with self._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = conn.execute(stmt.limit(limit).offset(offset)).mappings()
            return [_reconciliation(r) for r in rows], int(total)

    def reconciliation(self, reconciliation_id: str) -> ReconciliationDetailRow | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(reconciliations).where(
                        reconciliations.c.reconciliation_id == reconciliation_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            items = [
                row_of(DifferenceRow, r)
                for r in conn.execute(
                    select(reconciliation_differences)
                    .where(reconciliation_differences.c.reconciliation_id == reconciliation_id)
                    .order_by(reconciliation_differences.c.order_id)
                ).mappings()
            ]
        return ReconciliationDetailRow(**_reconciliation(row), items=items)

    def tariffs(self, station_id: str) -> list[TariffRow]:
        with self._engine.connect() as conn:
            return [
                row_of(
                    TariffRow,
                    r,
                    periods=json.loads(r["periods"]),
                )
                for r in conn.execute(
                    select(station_prices)
                    .where(station_prices.c.station_id == station_id)
                    .order_by(station_prices.c.scope)
                ).mappings()
            ]

    def bill(self, session_id: str) -> BillRow | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(session_bills).where(session_bills.c.session_id == session_id))
                .mappings()
                .first()
            )
            if row is None:
                return None
            items = [
                row_of(BillPeriodRow, r)
                for r in conn.execute(
                    select(session_bill_periods)
                    .where(session_bill_periods.c.session_id == session_id)
                    .order_by(session_bill_periods.c.period_no)
                ).mappings()
            ]
        return row_of(
            BillRow,
            row,
            items=items,
        )

    def station_scope(self, station_id: str) -> StationScopeRow | None:
        s = stations
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(s.c.operator_id, s.c.area_code, s.c.access).where(
                        s.c.station_id == station_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return StationScopeRow(
            operator_id=row["operator_id"], area_code=row["area_code"], access=row["access"]
        )

    def priced_connectors(self, operator_id: str) -> dict[str, datetime]:
        with self._engine.connect() as conn:
            return {
                r[0]: r[1]
                for r in conn.execute(
                    select(station_prices.c.scope, station_prices.c.as_of).where(
                        station_prices.c.operator_id == operator_id, station_prices.c.scope != ""
                    )
                )
            }

    def energy_reported_through(self, operator_id: str) -> dict[str, date]:
        stmt = (
            select(energy_reports.c.station_id, func.max(energy_reports.c.day_to))
            .select_from(
                energy_reports.join(stations, stations.c.station_id == energy_reports.c.station_id)
            )
            .where(stations.c.operator_id == operator_id, energy_reports.c.scope == "")
            .group_by(energy_reports.c.station_id)
        )
        with self._engine.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(stmt)}

    def energy_reports(
        self, station_id: str, day_from: date | None = None, day_to: date | None = None
    ) -> list[EnergyReportRow]:
        e = energy_reports
        stmt = (
            select(e.c.day_from, e.c.day_to, e.c.scope, e.c.energy_wh, e.c.as_of)
            .where(e.c.station_id == station_id)
            .order_by(e.c.day_from, e.c.day_to, e.c.scope)
        )
        if day_from is not None:
            stmt = stmt.where(e.c.day_from >= day_from)
        if day_to is not None:
            stmt = stmt.where(e.c.day_to <= day_to)
        with self._engine.connect() as conn:
            return [row_of(EnergyReportRow, r) for r in conn.execute(stmt).mappings()]


def _reconciliation(r: RowMapping) -> ReconciliationRow:
    return row_of(ReconciliationRow, r)
