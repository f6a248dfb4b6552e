"""Charger messages that change no state: the log is their record. Applying one only
checks that it is about a known charger."""

from __future__ import annotations

from typing import Any

from chargenet.adapters.storage.raw import Raw
from chargenet.core.errors import UnknownReference
from chargenet.core.events import ChargerDataTransferred, Event


def _apply_data_transfer(raw: Raw, event: ChargerDataTransferred) -> None:
    if raw.one("SELECT 1 FROM chargers WHERE charger_id = :id", {"id": event.charger_id}) is None:
        raise UnknownReference("charger", event.charger_id)


APPLIERS: dict[type[Event], Any] = {ChargerDataTransferred: _apply_data_transfer}
