"""Supervision beyond uptime: battery reports, parking occupancy and station notices from
operator platforms; incidents; random inspections. Battery reports and notices have no
state of their own (the safety rules read them from the bus, incident timelines from the
log); each must name what exists."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, update

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore, upsert
from chargenet.adapters.storage.schema import (
    chargers,
    connectors,
    operators,
    sessions,
    stations,
)
from chargenet.adapters.storage.tables_supervision_data import (
    credit_penalties,
    demonstrations,
    incidents,
    inspection_draws,
    inspection_targets,
    parking_live,
)
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    BatteryReported,
    CreditAppealDecided,
    CreditAppealed,
    CreditPenalized,
    DemonstrationDesignated,
    IncidentClosed,
    IncidentReported,
    InspectionDrawn,
    InspectionRecorded,
    InspectionRectified,
    ParkingReported,
    StationNoticed,
)
from chargenet.core.supervision.credit import AppealState
from chargenet.core.supervision.incidents import IncidentState


def _connector(conn: Connection, connector_id: str) -> dict[str, Any]:
    row = fetch_row(conn, connectors, connector_id=connector_id)
    if row is None:
        raise UnknownReference("connector", connector_id)
    return row


def _apply_battery(conn: Connection, event: BatteryReported) -> None:
    _connector(conn, event.connector_id)


def _apply_parking(conn: Connection, event: ParkingReported) -> None:
    row = _connector(conn, event.connector_id)
    upsert(
        conn,
        parking_live,
        {
            "connector_id": event.connector_id,
            "station_id": row["station_id"],
            "operator_id": row["operator_id"],
            "occupied": event.occupied,
            "locked": event.locked,
            "as_of": event.occurred_at,
        },
        ["connector_id"],
    )


def _apply_station_notice(conn: Connection, event: StationNoticed) -> None:
    if fetch_row(conn, stations, station_id=event.station_id) is None:
        raise UnknownReference("station", event.station_id)


def _apply_incident(conn: Connection, event: IncidentReported) -> None:
    station = fetch_row(conn, stations, station_id=event.station_id)
    if station is None:
        raise UnknownReference("station", event.station_id)
    # What it names must be of that station: a charger there, its connector, its session.
    if event.charger_id is not None:
        charger = fetch_row(conn, chargers, charger_id=event.charger_id)
        if charger is None or charger["station_id"] != event.station_id:
            raise Conflict(f"charger {event.charger_id} is not at station {event.station_id}")
    if event.connector_id is not None:
        connector = _connector(conn, event.connector_id)
        if connector["station_id"] != event.station_id or (
            event.charger_id is not None and connector["charger_id"] != event.charger_id
        ):
            raise Conflict(f"connector {event.connector_id} is not where the incident was")
    if event.session_id is not None:
        session = fetch_row(conn, sessions, session_id=event.session_id)
        if session is None:
            raise UnknownReference("session", event.session_id)
        if session["station_id"] != event.station_id:
            raise Conflict(f"session {event.session_id} was not at station {event.station_id}")
    existing = fetch_row(conn, incidents, incident_id=event.incident_id)
    if existing is not None:
        if existing["station_id"] != event.station_id:
            raise Conflict(f"incident {event.incident_id} is about {existing['station_id']}")
        return
    insert_ignore(
        conn,
        incidents,
        {
            "incident_id": event.incident_id,
            "kind": event.kind.value,
            "station_id": event.station_id,
            "charger_id": event.charger_id,
            "connector_id": event.connector_id,
            "session_id": event.session_id,
            "operator_id": station["operator_id"],
            "area_code": station["area_code"],
            "occurred_at": event.occurred_at,
            "reported_at": event.received_at,
            "reported_by": event.reported_by,
            "injuries": event.injuries,
            "deaths": event.deaths,
            "description": event.description,
            "state": IncidentState.OPEN.value,
        },
    )


def _apply_incident_closed(conn: Connection, event: IncidentClosed) -> None:
    row = fetch_row(conn, incidents, incident_id=event.incident_id)
    if row is None:
        raise UnknownReference("incident", event.incident_id)
    if row["closed_at"] is not None and row["closed_at"] > event.occurred_at:
        return  # a later finding stands
    conn.execute(
        update(incidents)
        .where(incidents.c.incident_id == event.incident_id)
        .values(
            state=IncidentState.CLOSED.value,
            responsible=event.responsible.value,
            finding=event.finding,
            closed_at=event.occurred_at,
            closed_by=event.by,
        )
    )


def _apply_draw(conn: Connection, event: InspectionDrawn) -> None:
    if fetch_row(conn, inspection_draws, draw_id=event.draw_id) is not None:
        return  # a draw is made once
    owners = {}
    for station_id in event.targets:
        station = fetch_row(conn, stations, station_id=station_id)
        if station is None:
            raise UnknownReference("station", station_id)
        owners[station_id] = station["operator_id"]
    insert_ignore(
        conn,
        inspection_draws,
        {
            "draw_id": event.draw_id,
            "title": event.title,
            "seed": event.seed,
            "team": event.team,
            "area_code": event.area_code,
            "inspectors": json.dumps(sorted(event.inspectors), ensure_ascii=False),
            "targets": json.dumps(sorted(event.targets), ensure_ascii=False),
            "drawn_by": event.drawn_by,
            "drawn_at": event.occurred_at,
        },
    )
    for n, assignment in enumerate(event.assignments, 1):
        insert_ignore(
            conn,
            inspection_targets,
            {
                "draw_id": event.draw_id,
                "station_id": assignment.target_id,
                "position": n,
                "operator_id": owners[assignment.target_id],
                "inspectors": json.dumps(list(assignment.inspectors), ensure_ascii=False),
            },
        )


def _target(conn: Connection, draw_id: str, station_id: str) -> dict[str, Any]:
    row = fetch_row(conn, inspection_targets, draw_id=draw_id, station_id=station_id)
    if row is None:
        raise UnknownReference("inspection target", f"{draw_id}/{station_id}")
    return row


def _apply_inspected(conn: Connection, event: InspectionRecorded) -> None:
    row = _target(conn, event.draw_id, event.station_id)
    if row["inspected_at"] is not None and row["inspected_at"] > event.occurred_at:
        return
    conn.execute(
        update(inspection_targets)
        .where(
            inspection_targets.c.draw_id == event.draw_id,
            inspection_targets.c.station_id == event.station_id,
        )
        .values(
            result=event.result.value,
            findings=event.findings,
            rectify_by=event.rectify_by,
            inspected_at=event.occurred_at,
            inspected_by=event.by,
        )
    )


def _apply_rectified(conn: Connection, event: InspectionRectified) -> None:
    row = _target(conn, event.draw_id, event.station_id)
    if row["inspected_at"] is None:
        raise Conflict(f"station {event.station_id} of draw {event.draw_id} is not inspected yet")
    conn.execute(
        update(inspection_targets)
        .where(
            inspection_targets.c.draw_id == event.draw_id,
            inspection_targets.c.station_id == event.station_id,
        )
        .values(rectified_at=event.occurred_at, rectification=event.note)
    )


def _apply_penalty(conn: Connection, event: CreditPenalized) -> None:
    if fetch_row(conn, operators, operator_id=event.operator_id) is None:
        raise UnknownReference("operator", event.operator_id)
    existing = fetch_row(conn, credit_penalties, penalty_id=event.penalty_id)
    if existing is not None:
        if existing["operator_id"] != event.operator_id:
            raise Conflict(f"penalty {event.penalty_id} is about {existing['operator_id']}")
        return
    insert_ignore(
        conn,
        credit_penalties,
        {
            "penalty_id": event.penalty_id,
            "operator_id": event.operator_id,
            "area_code": event.area_code,
            "points": event.points,
            "reason": event.reason,
            "basis": event.basis,
            "decided_on": event.decided_on,
            "decided_by": event.by,
            "recorded_at": event.occurred_at,
            "appeal_state": AppealState.NONE.value,
        },
    )


def _penalty(conn: Connection, penalty_id: str) -> dict[str, Any]:
    row = fetch_row(conn, credit_penalties, penalty_id=penalty_id)
    if row is None:
        raise UnknownReference("penalty", penalty_id)
    return row


def _apply_appeal(conn: Connection, event: CreditAppealed) -> None:
    row = _penalty(conn, event.penalty_id)
    if row["appeal_state"] != AppealState.NONE.value:
        if row["appealed_at"] == event.occurred_at:
            return
        raise Conflict(f"penalty {event.penalty_id} was appealed already")
    conn.execute(
        update(credit_penalties)
        .where(credit_penalties.c.penalty_id == event.penalty_id)
        .values(
            appeal_state=AppealState.PENDING.value,
            appeal_grounds=event.grounds,
            appealed_at=event.occurred_at,
        )
    )


def _apply_appeal_decided(conn: Connection, event: CreditAppealDecided) -> None:
    row = _penalty(conn, event.penalty_id)
    if row["appeal_state"] == AppealState.NONE.value:
        raise Conflict(f"penalty {event.penalty_id} has no appeal to decide")
    conn.execute(
        update(credit_penalties)
        .where(credit_penalties.c.penalty_id == event.penalty_id)
        .values(
            appeal_state=(AppealState.UPHELD if event.upheld else AppealState.OVERTURNED).value,
            appeal_note=event.note,
            appeal_decided_at=event.occurred_at,
            appeal_decided_by=event.by,
        )
    )


def _apply_demonstration(conn: Connection, event: DemonstrationDesignated) -> None:
    insert_ignore(
        conn,
        demonstrations,
        {
            "designation_id": event.designation_id,
            "kind": event.kind.value,
            "name": event.name,
            "area_code": event.area_code,
            "year": event.year,
            "basis": event.basis,
            "designated_by": event.by,
            "designated_at": event.occurred_at,
        },
    )


APPLIERS: dict[type, Any] = {
    CreditPenalized: _apply_penalty,
    CreditAppealed: _apply_appeal,
    CreditAppealDecided: _apply_appeal_decided,
    DemonstrationDesignated: _apply_demonstration,
    InspectionDrawn: _apply_draw,
    InspectionRecorded: _apply_inspected,
    InspectionRectified: _apply_rectified,
    IncidentReported: _apply_incident,
    IncidentClosed: _apply_incident_closed,
    BatteryReported: _apply_battery,
    ParkingReported: _apply_parking,
    StationNoticed: _apply_station_notice,
}
