"""Battery-swap stations (R40): registry, status and swaps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore, upsert
from chargenet.adapters.storage.projections.placement import placement
from chargenet.adapters.storage.schema import battery_swaps, operators, swap_stations
from chargenet.adapters.storage.tables_supervision_data import swap_batteries, swap_status_history
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    BatterySwapped,
    Event,
    SwapBatteriesReported,
    SwapStationRegistered,
    SwapStationRetired,
    SwapStationStatusChanged,
    SwapStationUpdated,
)
from chargenet.core.status import newest_report
from chargenet.kit.timeutil import to_micros


def _require(conn: Connection, swap_station_id: str) -> Any:
    row = fetch_row(conn, swap_stations, swap_station_id=swap_station_id)
    if row is None:
        raise UnknownReference("swap station", swap_station_id)
    return row


def _apply_swap_station(
    conn: Connection, event: SwapStationRegistered | SwapStationUpdated
) -> None:
    ss = event.swap_station
    if fetch_row(conn, operators, operator_id=ss.operator_id) is None:
        raise UnknownReference("operator", ss.operator_id, "operator_id")
    existing = fetch_row(conn, swap_stations, swap_station_id=ss.swap_station_id)
    if existing is None and isinstance(event, SwapStationUpdated):
        raise UnknownReference("swap station", ss.swap_station_id)
    if existing is not None and existing["operator_id"] != ss.operator_id:
        raise Conflict(f"swap station {ss.swap_station_id} belongs to {existing['operator_id']}")
    if existing is not None and existing["as_of"] > event.occurred_at:
        return
    values: dict[str, Any] = {
        "swap_station_id": ss.swap_station_id,
        "operator_id": ss.operator_id,
        "name": ss.name,
        "address": ss.address,
        "lat": ss.lat,
        "lon": ss.lon,
        **placement(conn, ss.area_code, ss.lat, ss.lon),
        "vehicle_types": ",".join(v.value for v in ss.vehicle_types),
        "bays": ss.bays,
        "battery_slots": ss.battery_slots,
        "access": ss.access.value,
        "opening_hours": ss.opening_hours,
        "commissioned_on": ss.commissioned_on,
        "max_power_w": ss.max_power_w,
        "source_adapter": event.source.adapter,
        "registered_at": event.occurred_at,
        "as_of": event.occurred_at,
    }
    if isinstance(event, SwapStationRegistered):
        values["retired_at"] = None
    upsert(conn, swap_stations, values, ["swap_station_id"], keep=["registered_at"])


def _apply_retired(conn: Connection, event: SwapStationRetired) -> None:
    row = _require(conn, event.swap_station_id)
    if row["retired_at"] is not None or row["as_of"] > event.occurred_at:
        return
    conn.execute(
        update(swap_stations)
        .where(swap_stations.c.swap_station_id == event.swap_station_id)
        .values(retired_at=event.occurred_at, as_of=event.occurred_at)
    )


def _apply_status(conn: Connection, event: SwapStationStatusChanged) -> None:
    row = _require(conn, event.swap_station_id)
    # Every report is kept, late ones too, for the station's uptime (as connectors' are).
    upsert(
        conn,
        swap_status_history,
        {
            "swap_station_id": event.swap_station_id,
            "at_us": to_micros(event.occurred_at),
            "status": event.status.value,
        },
        ["swap_station_id", "at_us"],
        newer_only=False,
    )
    now = newest_report(
        row["status"], row["status_since"], row["status_at"], event.status.value, event.occurred_at
    )
    if now is None:
        return  # late (the rule: core/status.py)
    conn.execute(
        update(swap_stations)
        .where(swap_stations.c.swap_station_id == event.swap_station_id)
        .values(
            status=now.value,
            status_since=now.since,
            status_at=now.as_of,
            batteries_ready=event.batteries_ready,
        )
    )


def _apply_swapped(conn: Connection, event: BatterySwapped) -> None:
    _require(conn, event.swap_station_id)
    insert_ignore(
        conn,
        battery_swaps,
        {
            "swap_station_id": event.swap_station_id,
            "swap_id": event.swap_id,
            "occurred_at": event.occurred_at,
            "vehicle_type": event.vehicle_type.value,
            "energy_wh": event.energy_wh,
        },
    )


def _apply_batteries(conn: Connection, event: SwapBatteriesReported) -> None:
    _require(conn, event.swap_station_id)
    t = swap_batteries
    held = conn.execute(
        select(func.max(t.c.as_of)).where(t.c.swap_station_id == event.swap_station_id)
    ).scalar()
    if held is not None and held > event.occurred_at:
        return  # an older inventory than the one held
    conn.execute(delete(t).where(t.c.swap_station_id == event.swap_station_id))
    for pack in event.packs:
        insert_ignore(
            conn,
            t,
            {
                "swap_station_id": event.swap_station_id,
                "pack_id": pack.pack_id,
                "state": pack.state.value,
                "soh_percent": pack.soh_percent,
                "soc_percent": pack.soc_percent,
                "cycles": pack.cycles,
                "as_of": event.occurred_at,
            },
        )


APPLIERS: dict[type[Event], Any] = {
    SwapBatteriesReported: _apply_batteries,
    SwapStationRegistered: _apply_swap_station,
    SwapStationUpdated: _apply_swap_station,
    SwapStationRetired: _apply_retired,
    SwapStationStatusChanged: _apply_status,
    BatterySwapped: _apply_swapped,
}
