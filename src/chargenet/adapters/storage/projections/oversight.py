"""Supervision cases: outage exclusions, zombie cases, stop orders, notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, update

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore
from chargenet.adapters.storage.projections.supervision import owner_of
from chargenet.adapters.storage.schema import chargers
from chargenet.adapters.storage.tables_supervision import (
    outage_exclusions,
    stop_orders,
    zombie_case_steps,
    zombie_cases,
)
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    EquipmentNoticed,
    Event,
    OutageExcluded,
    OutageExclusionWithdrawn,
    StopOrderIssued,
    StopOrderLifted,
    StopOrderRectificationReported,
    ZombieClosed,
    ZombieDetected,
    ZombieEscalated,
    ZombieOperatorNotified,
    ZombieRectificationReported,
)
from chargenet.core.oversight import ZombieStage
from chargenet.core.supervision import TargetKind


def _apply_excluded(conn: Connection, event: OutageExcluded) -> None:
    station_id, operator_id = owner_of(conn, event.target_kind, event.target_id)
    existing = fetch_row(conn, outage_exclusions, exclusion_id=event.exclusion_id)
    if existing is not None:
        if existing["target_id"] != event.target_id:
            raise Conflict(f"exclusion {event.exclusion_id} is about {existing['target_id']}")
        return  # an exclusion is set once; to change it, withdraw it and set a new one
    insert_ignore(
        conn,
        outage_exclusions,
        {
            "exclusion_id": event.exclusion_id,
            "target_kind": event.target_kind.value,
            "target_id": event.target_id,
            "station_id": station_id,
            "operator_id": operator_id,
            "start_at": event.start,
            "end_at": event.end,
            "reason": event.reason.value,
            "note": event.note,
            "excluded_by": event.by,
            "excluded_at": event.occurred_at,
        },
    )


def _apply_withdrawn(conn: Connection, event: OutageExclusionWithdrawn) -> None:
    row = fetch_row(conn, outage_exclusions, exclusion_id=event.exclusion_id)
    if row is None:
        raise UnknownReference("exclusion", event.exclusion_id)
    if row["withdrawn_at"] is not None:
        return
    conn.execute(
        update(outage_exclusions)
        .where(outage_exclusions.c.exclusion_id == event.exclusion_id)
        .values(withdrawn_at=event.occurred_at, withdrawn_by=event.by)
    )


def _apply_notice(conn: Connection, event: EquipmentNoticed) -> None:
    # No state of its own: the safety rules read notices from the bus. Refuse strangers.
    if fetch_row(conn, chargers, charger_id=event.charger_id) is None:
        raise UnknownReference("charger", event.charger_id)


def _step(conn: Connection, event: Event, case_id: str, step: str, detail: str) -> None:
    insert_ignore(
        conn,
        zombie_case_steps,
        {
            "event_id": event.event_id,
            "case_id": case_id,
            "at": event.occurred_at,
            "step": step,
            "detail": detail,
        },
    )


def _apply_zombie_detected(conn: Connection, event: ZombieDetected) -> None:
    station_id, operator_id = owner_of(conn, TargetKind.CHARGER, event.charger_id)
    existing = fetch_row(conn, zombie_cases, case_id=event.case_id)
    if existing is not None:
        if existing["charger_id"] != event.charger_id:
            raise Conflict(f"case {event.case_id} is about {existing['charger_id']}")
        return
    rules = ",".join(r.value for r in event.rules)
    insert_ignore(
        conn,
        zombie_cases,
        {
            "case_id": event.case_id,
            "charger_id": event.charger_id,
            "station_id": station_id,
            "operator_id": operator_id,
            "rules": rules,
            "evidence": event.evidence,
            "since": event.since,
            "detected_at": event.occurred_at,
            "stage": ZombieStage.DETECTED.value,
            "escalation_level": 0,
        },
    )
    _step(conn, event, event.case_id, "detected", f"{rules}: {event.evidence}")


def _open_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    row = fetch_row(conn, zombie_cases, case_id=case_id)
    if row is None:
        raise UnknownReference("zombie case", case_id)
    return None if row["stage"] == ZombieStage.CLOSED.value else row


def _apply_zombie_notified(conn: Connection, event: ZombieOperatorNotified) -> None:
    row = _open_case(conn, event.case_id)
    if row is None or row["notified_at"] is not None:
        return
    values: dict[str, Any] = {"notified_at": event.occurred_at, "deadline": event.deadline}
    if row["stage"] == ZombieStage.DETECTED.value:
        values["stage"] = ZombieStage.NOTIFIED.value
    conn.execute(update(zombie_cases).where(zombie_cases.c.case_id == event.case_id).values(values))
    _step(conn, event, event.case_id, "notified", f"via {event.channel}; deadline {event.deadline}")


def _apply_zombie_escalated(conn: Connection, event: ZombieEscalated) -> None:
    row = _open_case(conn, event.case_id)
    if row is None or row["escalation_level"] >= event.level:
        return  # levels only go up; a repeated escalation changes nothing
    conn.execute(
        update(zombie_cases)
        .where(zombie_cases.c.case_id == event.case_id)
        .values(
            stage=ZombieStage.ESCALATED.value, escalation_level=event.level, deadline=event.deadline
        )
    )
    _step(conn, event, event.case_id, "escalated", f"level {event.level}: {event.note}")


def _apply_zombie_closed(conn: Connection, event: ZombieClosed) -> None:
    if _open_case(conn, event.case_id) is None:
        return  # the first closing stands
    conn.execute(
        update(zombie_cases)
        .where(zombie_cases.c.case_id == event.case_id)
        .values(
            stage=ZombieStage.CLOSED.value,
            closed_at=event.occurred_at,
            outcome=event.outcome.value,
            close_note=event.note,
            closed_by=event.by,
        )
    )
    _step(conn, event, event.case_id, event.outcome.value, event.note)


def _apply_zombie_reported(conn: Connection, event: ZombieRectificationReported) -> None:
    if _open_case(conn, event.case_id) is None:
        return  # a report on a closed case changes nothing
    _step(conn, event, event.case_id, "reported", f"{event.by}: {event.note}")


def _apply_stop_issued(conn: Connection, event: StopOrderIssued) -> None:
    station_id, operator_id = owner_of(conn, event.target_kind, event.target_id)
    if event.target_kind is TargetKind.STATION:
        station_id = event.target_id
    existing = fetch_row(conn, stop_orders, stop_id=event.stop_id)
    if existing is not None:
        if existing["target_id"] != event.target_id:
            raise Conflict(f"stop order {event.stop_id} is about {existing['target_id']}")
        return
    insert_ignore(
        conn,
        stop_orders,
        {
            "stop_id": event.stop_id,
            "target_kind": event.target_kind.value,
            "target_id": event.target_id,
            "station_id": station_id,
            "operator_id": operator_id,
            "reason": event.reason,
            "issued_by": event.issued_by,
            "alarm_id": event.alarm_id,
            "issued_at": event.occurred_at,
        },
    )


def _apply_stop_lifted(conn: Connection, event: StopOrderLifted) -> None:
    row = fetch_row(conn, stop_orders, stop_id=event.stop_id)
    if row is None:
        raise UnknownReference("stop order", event.stop_id)
    if row["lifted_at"] is not None:
        return
    conn.execute(
        update(stop_orders)
        .where(stop_orders.c.stop_id == event.stop_id)
        .values(
            lifted_at=max(event.occurred_at, row["issued_at"]),
            lifted_by=event.by,
            lift_reason=event.reason,
        )
    )


def _apply_stop_reported(conn: Connection, event: StopOrderRectificationReported) -> None:
    row = fetch_row(conn, stop_orders, stop_id=event.stop_id)
    if row is None:
        raise UnknownReference("stop order", event.stop_id)
    if row["lifted_at"] is not None:
        return  # a report on a lifted order changes nothing
    held = row["rectified_at"]
    if held is not None and held > event.occurred_at:
        return  # an older report arriving late does not replace the newer one
    conn.execute(
        update(stop_orders)
        .where(stop_orders.c.stop_id == event.stop_id)
        .values(rectified_at=event.occurred_at, rectified_by=event.by, rectification=event.note)
    )


APPLIERS: dict[type[Event], Any] = {
    OutageExcluded: _apply_excluded,
    OutageExclusionWithdrawn: _apply_withdrawn,
    EquipmentNoticed: _apply_notice,
    ZombieDetected: _apply_zombie_detected,
    ZombieOperatorNotified: _apply_zombie_notified,
    ZombieEscalated: _apply_zombie_escalated,
    ZombieClosed: _apply_zombie_closed,
    ZombieRectificationReported: _apply_zombie_reported,
    StopOrderIssued: _apply_stop_issued,
    StopOrderLifted: _apply_stop_lifted,
    StopOrderRectificationReported: _apply_stop_reported,
}
