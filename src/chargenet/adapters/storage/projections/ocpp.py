"""Charger messages: DataTransfer changes no state (the log is its record; applying one only
checks that it is about a known charger); an inventory report fills the charger's identity
(vendor, model, serial number, firmware) and its inventory rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, update

from chargenet.adapters.storage.projections._sql import fetch_row, upsert
from chargenet.adapters.storage.raw import Raw
from chargenet.adapters.storage.schema import chargers
from chargenet.adapters.storage.tables_ocpp import charger_inventory
from chargenet.core.errors import UnknownReference
from chargenet.core.events import ChargerDataTransferred, ChargerInventoryReported, Event

_INVENTORY_KEY = (
    "charger_id",
    "component",
    "component_instance",
    "evse_no",
    "connector_no",
    "variable",
    "variable_instance",
)


def _apply_data_transfer(raw: Raw, event: ChargerDataTransferred) -> None:
    if raw.one("SELECT 1 FROM chargers WHERE charger_id = :id", {"id": event.charger_id}) is None:
        raise UnknownReference("charger", event.charger_id)


def _apply_inventory(conn: Connection, event: ChargerInventoryReported) -> None:
    if fetch_row(conn, chargers, charger_id=event.charger_id) is None:
        raise UnknownReference("charger", event.charger_id)
    # What the charger states about itself is the newest word on it; what it leaves out
    # stays as known (the registry's, or an earlier report's).
    stated = {
        name: value
        for name in ("vendor", "model", "serial_number", "firmware")
        if (value := getattr(event, name)) is not None
    }
    if stated:
        conn.execute(
            update(chargers).where(chargers.c.charger_id == event.charger_id).values(**stated)
        )
    for item in event.items:
        upsert(
            conn,
            charger_inventory,
            {
                "charger_id": event.charger_id,
                "component": item.component,
                "component_instance": item.component_instance or "",
                "evse_no": -1 if item.evse_no is None else item.evse_no,
                "connector_no": -1 if item.connector_no is None else item.connector_no,
                "variable": item.variable,
                "variable_instance": item.variable_instance or "",
                "value": item.value,
                "as_of": event.occurred_at,
            },
            _INVENTORY_KEY,
        )


APPLIERS: dict[type[Event], Any] = {ChargerDataTransferred: _apply_data_transfer}
CORE_APPLIERS: dict[type[Event], Any] = {ChargerInventoryReported: _apply_inventory}
