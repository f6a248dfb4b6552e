"""Operators, stations, chargers and their connectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from chargenet.adapters.storage.projections._sql import fetch_row, run, upsert
from chargenet.adapters.storage.projections.placement import placement
from chargenet.adapters.storage.schema import chargers, connectors, operators, stations
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    ChargerRegistered,
    ChargerRetired,
    ChargerUpdated,
    Event,
    OperatorRegistered,
    OperatorUpdated,
    StationPublicHoursSet,
    StationRegistered,
    StationRetired,
    StationUpdated,
)
from chargenet.core.registry.piles import is_fast, is_pile

# Chargers whose presence is tracked by a live connection of ours; for the rest (operator
# platforms, imports) presence is unknown and their reported status stands.
_PRESENCE_TRACKED = ("ocpp1.6", "ocpp2.0.1", "demo")


def _apply_operator(conn: Connection, event: OperatorRegistered | OperatorUpdated) -> None:
    op = event.operator
    existing = fetch_row(conn, operators, operator_id=op.operator_id)
    if existing is None and isinstance(event, OperatorUpdated):
        raise UnknownReference("operator", op.operator_id)
    upsert(
        conn,
        operators,
        {
            "operator_id": op.operator_id,
            "name": op.name,
            "name_en": op.name_en,
            "uscc": op.uscc,
            "service_phone": op.service_phone,
            "licence_valid_until": op.licence_valid_until,
            "insurance_valid_until": op.insurance_valid_until,
            "registered_at": event.occurred_at,
            "as_of": event.occurred_at,
        },
        ["operator_id"],
        keep=["registered_at"],
    )


def _apply_station(conn: Connection, event: StationRegistered | StationUpdated) -> None:
    st = event.station
    if fetch_row(conn, operators, operator_id=st.operator_id) is None:
        raise UnknownReference("operator", st.operator_id, "operator_id")
    existing = fetch_row(conn, stations, station_id=st.station_id)
    if existing is None and isinstance(event, StationUpdated):
        raise UnknownReference("station", st.station_id)
    if existing is not None and existing["operator_id"] != st.operator_id:
        raise Conflict(f"station {st.station_id} belongs to operator {existing['operator_id']}")
    if existing is not None and existing["as_of"] > event.occurred_at:
        return  # older than what we hold
    values: dict[str, Any] = {
        "station_id": st.station_id,
        "operator_id": st.operator_id,
        "name": st.name,
        "name_en": st.name_en,
        "address": st.address,
        "lat": st.lat,
        "lon": st.lon,
        **placement(conn, st.area_code, st.lat, st.lon),
        "category": st.category.value,
        "scenic_grade": st.scenic_grade,
        "access": st.access.value,
        "parking_spaces": st.parking_spaces,
        "charging_spaces": st.charging_spaces,
        "opening_hours": st.opening_hours,
        "commissioned_on": st.commissioned_on,
        "source_adapter": event.source.adapter,
        "registered_at": event.occurred_at,
        "as_of": event.occurred_at,
    }
    if isinstance(event, StationRegistered):
        values["retired_at"] = None  # registering again brings a retired station back
    upsert(conn, stations, values, ["station_id"], keep=["registered_at"])


def _apply_station_retired(conn: Connection, event: StationRetired) -> None:
    existing = fetch_row(conn, stations, station_id=event.station_id)
    if existing is None:
        raise UnknownReference("station", event.station_id)
    if existing["retired_at"] is not None or existing["as_of"] > event.occurred_at:
        return
    conn.execute(
        update(stations)
        .where(stations.c.station_id == event.station_id)
        .values(retired_at=event.occurred_at, as_of=event.occurred_at)
    )
    for row in conn.execute(
        select(chargers.c.charger_id).where(
            chargers.c.station_id == event.station_id, chargers.c.retired_at.is_(None)
        )
    ):
        _retire_charger(conn, row.charger_id, event.occurred_at)


def _apply_public_hours(conn: Connection, event: StationPublicHoursSet) -> None:
    existing = fetch_row(conn, stations, station_id=event.station_id)
    if existing is None:
        raise UnknownReference("station", event.station_id)
    held = existing["public_hours_as_of"]
    if held is not None and held > event.occurred_at:
        return  # older than what we hold
    conn.execute(
        update(stations)
        .where(stations.c.station_id == event.station_id)
        .values(public_hours=event.hours.strip() or None, public_hours_as_of=event.occurred_at)
    )


def _apply_charger(conn: Connection, event: ChargerRegistered | ChargerUpdated) -> None:
    ch = event.charger
    station = fetch_row(conn, stations, station_id=ch.station_id)
    if station is None:
        raise UnknownReference("station", ch.station_id, "station_id")
    if event.source.operator_id and station["operator_id"] != event.source.operator_id:
        raise Conflict(f"station {ch.station_id} is not operator {event.source.operator_id}'s")
    existing = fetch_row(conn, chargers, charger_id=ch.charger_id)
    if existing is None and isinstance(event, ChargerUpdated):
        raise UnknownReference("charger", ch.charger_id)
    if existing is not None and existing["as_of"] > event.occurred_at:
        return
    new_ids = ch.connector_ids()
    for cid, _, _ in new_ids:
        taken = fetch_row(conn, connectors, connector_id=cid)
        if taken is not None and taken["charger_id"] != ch.charger_id:
            raise Conflict(f"connector {cid} already belongs to charger {taken['charger_id']}")
    tracked = ch.protocol in _PRESENCE_TRACKED
    # A record that leaves vendor, model, serial number or firmware empty does not unsay
    # what is known: most often the charger's own report (charger.inventory_reported).
    described = {
        name: getattr(ch, name)
        if getattr(ch, name) is not None or existing is None
        else existing[name]
        for name in ("vendor", "model", "serial_number", "firmware")
    }
    values: dict[str, Any] = {
        "charger_id": ch.charger_id,
        "station_id": ch.station_id,
        "operator_id": station["operator_id"],
        **described,
        "protocol": ch.protocol,
        "registered_at": event.occurred_at,
        "as_of": event.occurred_at,
    }
    keep = ["registered_at", "online", "presence_since"]
    if existing is None or (existing["online"] is None) == tracked:
        values["online"] = False if tracked else None
        values["presence_since"] = event.occurred_at if tracked else None
        keep = ["registered_at"]
    if isinstance(event, ChargerRegistered):
        values["retired_at"] = None
    # An update that does not state the commissioning (an OCPP boot's inventory) keeps it.
    values["commissioned_at"] = ch.commissioned_at
    if ch.commissioned_at is None:
        keep = [*keep, "commissioned_at"]
    upsert(conn, chargers, values, ["charger_id"], keep=keep)
    current = set()
    for cid, evse, con in new_ids:
        current.add(cid)
        upsert(
            conn,
            connectors,
            {
                "connector_id": cid,
                "charger_id": ch.charger_id,
                "station_id": ch.station_id,
                "operator_id": station["operator_id"],
                "evse_no": evse.evse_no,
                "evse_uid": evse.evse_uid,
                "connector_no": con.connector_no,
                "standard": con.standard.value,
                "power_type": con.power_type.value,
                "max_power_w": con.max_power_w,
                "max_voltage_v": con.max_voltage_v,
                "max_current_a": con.max_current_a,
                "is_pile": is_pile(con.max_power_w),
                "is_fast": is_fast(con.power_type),
                "registered_at": event.occurred_at,
                "retired_at": None,
                "as_of": event.occurred_at,
            },
            ["connector_id"],
            keep=["registered_at"],
        )
    # Connectors the charger no longer lists are retired, never deleted: history refers to them.
    listed = run(
        conn,
        "connectors_of_charger",
        lambda: select(connectors.c.connector_id).where(
            connectors.c.charger_id == bindparam("charger"), connectors.c.retired_at.is_(None)
        ),
        {"charger": ch.charger_id},
    )
    for (cid,) in listed:
        if cid not in current:
            run(
                conn,
                "retire_connector",
                lambda: (
                    update(connectors)
                    .where(connectors.c.connector_id == bindparam("cid"))
                    .values(retired_at=bindparam("t"), as_of=bindparam("t"))
                ),
                {"cid": cid, "t": event.occurred_at},
            )


def _retire_charger(conn: Connection, charger_id: str, when: datetime) -> None:
    conn.execute(
        update(chargers)
        .where(chargers.c.charger_id == charger_id, chargers.c.retired_at.is_(None))
        .values(retired_at=when, as_of=when)
    )
    conn.execute(
        update(connectors)
        .where(connectors.c.charger_id == charger_id, connectors.c.retired_at.is_(None))
        .values(retired_at=when, as_of=when)
    )


def _apply_charger_retired(conn: Connection, event: ChargerRetired) -> None:
    existing = fetch_row(conn, chargers, charger_id=event.charger_id)
    if existing is None:
        raise UnknownReference("charger", event.charger_id)
    if existing["retired_at"] is not None or existing["as_of"] > event.occurred_at:
        return
    _retire_charger(conn, event.charger_id, event.occurred_at)


APPLIERS: dict[type[Event], Any] = {
    OperatorRegistered: _apply_operator,
    OperatorUpdated: _apply_operator,
    StationRegistered: _apply_station,
    StationUpdated: _apply_station,
    StationRetired: _apply_station_retired,
    StationPublicHoursSet: _apply_public_hours,
    ChargerRegistered: _apply_charger,
    ChargerUpdated: _apply_charger,
    ChargerRetired: _apply_charger_retired,
}
