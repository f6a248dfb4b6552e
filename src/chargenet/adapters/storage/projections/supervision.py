"""Alarms and orders."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, update

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore
from chargenet.adapters.storage.schema import (
    alarms,
    chargers,
    connectors,
    operators,
    orders,
    stations,
    swap_stations,
)
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmRaised,
    Event,
    OrderAcknowledged,
    OrderIssued,
)
from chargenet.core.supervision import TargetKind

_TARGET_TABLES = {
    TargetKind.CONNECTOR: (connectors, "connector_id"),
    TargetKind.CHARGER: (chargers, "charger_id"),
    TargetKind.STATION: (stations, "station_id"),
    TargetKind.SWAP_STATION: (swap_stations, "swap_station_id"),
    TargetKind.OPERATOR: (operators, "operator_id"),
}


def owner_of(conn: Connection, kind: TargetKind, target_id: str) -> tuple[str | None, str]:
    """(station_id, operator_id) of an alarm's or order's target; refuses unknown targets."""
    table, key = _TARGET_TABLES[kind]
    row = fetch_row(conn, table, **{key: target_id})
    if row is None:
        raise UnknownReference(kind.value, target_id)
    station_id = row.get("station_id") if kind is not TargetKind.OPERATOR else None
    return station_id, row["operator_id"]


def _apply_raised(conn: Connection, event: AlarmRaised) -> None:
    station_id, operator_id = owner_of(conn, event.target_kind, event.target_id)
    existing = fetch_row(conn, alarms, alarm_id=event.alarm_id)
    if existing is not None:
        if (existing["target_kind"], existing["target_id"]) != (
            event.target_kind.value,
            event.target_id,
        ):
            raise Conflict(f"alarm {event.alarm_id} is about {existing['target_id']}")
        return
    insert_ignore(
        conn,
        alarms,
        {
            "alarm_id": event.alarm_id,
            "target_kind": event.target_kind.value,
            "target_id": event.target_id,
            "station_id": station_id,
            "operator_id": operator_id,
            "code": event.code,
            "severity": event.severity.value,
            "message": event.message,
            "raised_at": event.occurred_at,
        },
    )


def _require_alarm(conn: Connection, alarm_id: str) -> Any:
    row = fetch_row(conn, alarms, alarm_id=alarm_id)
    if row is None:
        raise UnknownReference("alarm", alarm_id)
    return row


def _apply_acknowledged(conn: Connection, event: AlarmAcknowledged) -> None:
    row = _require_alarm(conn, event.alarm_id)
    if row["acknowledged_at"] is not None:
        return
    conn.execute(
        update(alarms)
        .where(alarms.c.alarm_id == event.alarm_id)
        .values(acknowledged_at=event.occurred_at, acknowledged_by=event.by)
    )


def _apply_cleared(conn: Connection, event: AlarmCleared) -> None:
    row = _require_alarm(conn, event.alarm_id)
    if row["cleared_at"] is not None:
        return
    conn.execute(
        update(alarms)
        .where(alarms.c.alarm_id == event.alarm_id)
        .values(cleared_at=max(event.occurred_at, row["raised_at"]), clear_reason=event.reason)
    )


def _apply_order(conn: Connection, event: OrderIssued) -> None:
    station_id, operator_id = owner_of(conn, event.target_kind, event.target_id)
    insert_ignore(
        conn,
        orders,
        {
            "order_id": event.order_id,
            "kind": event.kind.value,
            "target_kind": event.target_kind.value,
            "target_id": event.target_id,
            "station_id": station_id,
            "operator_id": operator_id,
            "reason": event.reason,
            "issued_by": event.issued_by,
            "parameters": json.dumps(dict(event.parameters), ensure_ascii=False, sort_keys=True),
            "issued_at": event.occurred_at,
        },
    )


def _apply_order_ack(conn: Connection, event: OrderAcknowledged) -> None:
    row = fetch_row(conn, orders, order_id=event.order_id)
    if row is None:
        raise UnknownReference("order", event.order_id)
    # The latest answer counts: an order whose first delivery failed (timeout) and whose
    # resend was answered is settled by that answer. An answer older than the one held
    # (arriving late, or replayed in another order) changes nothing; every answer stays in
    # the log either way.
    held = row["acknowledged_at"]
    if held is not None and held > event.occurred_at:
        return
    conn.execute(
        update(orders)
        .where(orders.c.order_id == event.order_id)
        .values(outcome=event.outcome.value, acknowledged_at=event.occurred_at, detail=event.detail)
    )


APPLIERS: dict[type[Event], Any] = {
    AlarmRaised: _apply_raised,
    AlarmAcknowledged: _apply_acknowledged,
    AlarmCleared: _apply_cleared,
    OrderIssued: _apply_order,
    OrderAcknowledged: _apply_order_ack,
}
