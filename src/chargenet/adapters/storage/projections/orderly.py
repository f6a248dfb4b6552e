"""Orderly charging: a station's grid connection and a feeder are kept per `valid_from`
(a limit has a history); a session's needs are its newest statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from chargenet.adapters.storage.projections._sql import fetch_row, upsert
from chargenet.adapters.storage.schema import sessions, stations
from chargenet.adapters.storage.tables_orderly import (
    charging_needs,
    dr_events,
    feeders,
    grid_connections,
)
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    ChargingNeedsStated,
    DemandResponseCalled,
    Event,
    FeederStated,
    GridConnectionStated,
)


def _apply_grid_connection(conn: Connection, event: GridConnectionStated) -> None:
    if fetch_row(conn, stations, station_id=event.station_id) is None:
        raise UnknownReference("station", event.station_id)
    upsert(
        conn,
        grid_connections,
        {
            "station_id": event.station_id,
            "valid_from": event.valid_from,
            "capacity_w": event.capacity_w,
            "capacity_va": event.capacity_va,
            "phases": event.phases,
            "voltage_v": event.voltage_v,
            "feeder_id": event.feeder_id,
            "pv_peak_w": event.pv_peak_w,
            "storage_wh": event.storage_wh,
            "storage_power_w": event.storage_power_w,
            "as_of": event.occurred_at,
        },
        ("station_id", "valid_from"),
    )


def _apply_feeder(conn: Connection, event: FeederStated) -> None:
    upsert(
        conn,
        feeders,
        {
            "feeder_id": event.feeder_id,
            "valid_from": event.valid_from,
            "name": event.name,
            "capacity_w": event.capacity_w,
            "phases": event.phases,
            "area_code": event.area_code,
            "as_of": event.occurred_at,
        },
        ("feeder_id", "valid_from"),
    )


def _apply_needs(conn: Connection, event: ChargingNeedsStated) -> None:
    if fetch_row(conn, sessions, session_id=event.session_id) is None:
        raise UnknownReference("session", event.session_id)
    upsert(
        conn,
        charging_needs,
        {
            "session_id": event.session_id,
            "energy_wh": event.energy_wh,
            "departure_at": event.departure_at,
            "max_power_w": event.max_power_w,
            "min_power_w": event.min_power_w,
            "discharge_max_w": event.discharge_max_w,
            "dischargeable_wh": event.dischargeable_wh,
            "as_of": event.occurred_at,
        },
        ("session_id",),
    )


def _apply_dr(conn: Connection, event: DemandResponseCalled) -> None:
    upsert(
        conn,
        dr_events,
        {
            "dr_id": event.dr_id,
            "scope": event.scope.value,
            "scope_id": event.scope_id,
            "start_at": event.start,
            "end_at": event.end,
            "share": event.share,
            "called_by": event.called_by,
            "program": event.program,
            "as_of": event.occurred_at,
        },
        ("dr_id",),
    )


APPLIERS: dict[type[Event], Any] = {
    DemandResponseCalled: _apply_dr,
    GridConnectionStated: _apply_grid_connection,
    FeederStated: _apply_feeder,
    ChargingNeedsStated: _apply_needs,
}
