"""Tariffs, session bills, reconciliations of operators' orders and energy reports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore, upsert
from chargenet.adapters.storage.schema import connectors, sessions, stations
from chargenet.adapters.storage.tables_tcec import (
    energy_reports,
    reconciliation_differences,
    reconciliations,
    session_bill_periods,
    session_bills,
    station_prices,
)
from chargenet.core.billing import bill_flags
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    ChargeOrdersReconciled,
    EnergyStatsReported,
    Event,
    SessionBilled,
    StationPricesPublished,
)


def _is_newer(row: dict[str, Any] | None, when: datetime) -> bool:
    return row is None or row["as_of"] <= when


def _station(conn: Connection, station_id: str) -> dict[str, Any]:
    row = fetch_row(conn, stations, station_id=station_id)
    if row is None:
        raise UnknownReference("station", station_id)
    return row


def _apply_tariff(conn: Connection, event: StationPricesPublished) -> None:
    station = _station(conn, event.station_id)
    scope = event.connector_id or ""
    if event.connector_id is not None:
        connector = fetch_row(conn, connectors, connector_id=event.connector_id)
        if connector is None:
            raise UnknownReference("connector", event.connector_id)
        if connector["station_id"] != event.station_id:
            raise Conflict(f"connector {event.connector_id} is not at {event.station_id}")
    periods = [
        {
            "start": p.start.isoformat(),
            "energy_price": str(p.energy_price),
            "service_price": str(p.service_price),
        }
        for p in event.periods
    ]
    upsert(
        conn,
        station_prices,
        {
            "station_id": event.station_id,
            "scope": scope,
            "operator_id": station["operator_id"],
            "electricity_fee": event.electricity_fee,
            "service_fee": event.service_fee,
            "parking_fee": event.parking_fee,
            "currency": event.currency,
            "periods": json.dumps(periods),
            "as_of": event.occurred_at,
        },
        ["station_id", "scope"],
    )


def _apply_bill(conn: Connection, event: SessionBilled) -> None:
    session = fetch_row(conn, sessions, session_id=event.session_id)
    if session is None:
        raise UnknownReference("session", event.session_id)
    existing = fetch_row(conn, session_bills, session_id=event.session_id)
    if not _is_newer(existing, event.occurred_at):
        return
    bill = event.bill
    upsert(
        conn,
        session_bills,
        {
            "session_id": event.session_id,
            "station_id": session["station_id"],
            "operator_id": session["operator_id"],
            "energy_wh": bill.energy_wh,
            "energy_amount": bill.energy_amount,
            "service_amount": bill.service_amount,
            "total_amount": bill.total,
            "currency": bill.currency,
            "periods": len(bill.periods),
            "flags": ",".join(sorted(f.value for f in bill_flags(bill))),
            "as_of": event.occurred_at,
        },
        ["session_id"],
    )
    # A revised bill replaces its periods whole.
    conn.execute(
        delete(session_bill_periods).where(session_bill_periods.c.session_id == event.session_id)
    )
    if bill.periods:
        conn.execute(
            insert(session_bill_periods),
            [
                {
                    "session_id": event.session_id,
                    "period_no": n,
                    "starts_at": p.start,
                    "ends_at": p.end,
                    "energy_wh": p.energy_wh,
                    "energy_price": p.energy_price,
                    "service_price": p.service_price,
                    "energy_amount": p.energy_amount,
                    "service_amount": p.service_amount,
                }
                for n, p in enumerate(bill.periods, 1)
            ],
        )


def _apply_reconciled(conn: Connection, event: ChargeOrdersReconciled) -> None:
    existing = fetch_row(conn, reconciliations, reconciliation_id=event.reconciliation_id)
    if existing is not None:
        if existing["operator_id"] != event.operator_id:
            raise Conflict(f"reconciliation {event.reconciliation_id} is another operator's")
        if existing["checked_at"] > event.occurred_at:
            return
    # A statement sent again (after a correction) replaces the earlier check whole.
    conn.execute(
        delete(reconciliation_differences).where(
            reconciliation_differences.c.reconciliation_id == event.reconciliation_id
        )
    )
    conn.execute(
        delete(reconciliations).where(
            reconciliations.c.reconciliation_id == event.reconciliation_id
        )
    )
    insert_ignore(
        conn,
        reconciliations,
        {
            "reconciliation_id": event.reconciliation_id,
            "operator_id": event.operator_id,
            "period_start": event.period_start,
            "period_end": event.period_end,
            "stated_orders": event.stated_orders,
            "stated_energy_wh": event.stated_energy_wh,
            "stated_amount": event.stated_amount,
            "recorded_orders": event.recorded_orders,
            "recorded_energy_wh": event.recorded_energy_wh,
            "recorded_amount": event.recorded_amount,
            "differences": len(event.differences),
            "checked_at": event.occurred_at,
        },
    )
    if event.differences:
        conn.execute(
            insert(reconciliation_differences),
            [
                {
                    "reconciliation_id": event.reconciliation_id,
                    "order_id": d.order_id,
                    "kind": d.kind.value,
                    "stated_energy_wh": d.stated_energy_wh,
                    "stated_amount": d.stated_amount,
                    "recorded_energy_wh": d.recorded_energy_wh,
                    "recorded_amount": d.recorded_amount,
                }
                for d in event.differences
            ],
        )


def _apply_energy(conn: Connection, event: EnergyStatsReported) -> None:
    _station(conn, event.station_id)
    rows = [("", event.energy_wh), *event.connectors]
    for scope, energy in rows:
        upsert(
            conn,
            energy_reports,
            {
                "station_id": event.station_id,
                "day_from": event.day_from,
                "day_to": event.day_to,
                "scope": scope,
                "energy_wh": energy,
                "as_of": event.occurred_at,
            },
            ["station_id", "day_from", "day_to", "scope"],
        )


APPLIERS: dict[type[Event], Any] = {
    StationPricesPublished: _apply_tariff,
    SessionBilled: _apply_bill,
    ChargeOrdersReconciled: _apply_reconciled,
    EnergyStatsReported: _apply_energy,
}
