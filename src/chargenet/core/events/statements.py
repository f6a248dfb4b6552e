"""Operator platforms' own statements of their objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    ChargerId,
)
from chargenet.core.registry.model import (
    MAX_INVENTORY_ITEMS,
    InventoryItem,
)

MAX_STATED_CHARS = 500_000  # a CDR with a day of charging periods stays well inside


class StatedKind(StrEnum):
    """What an operator platform's statement describes, and which chargenet id names it;
    or (CLIENT_INFO) the hub's own statement of how a party connected to it stands."""

    LOCATION = "location"  # a station (its EVSEs are stated one by one)
    EVSE = "evse"  # a charger (one EVSE) with its connectors
    SESSION = "session"
    CDR = "cdr"
    TARIFF = "tariff"
    CLIENT_INFO = "clientinfo"  # a connected party (`CC*PID`): OCPI HubClientInfo


@dataclass(frozen=True, kw_only=True)
class ObjectStated(Event):
    """An operator platform's own statement of one of its objects, whole, in its protocol's
    words (a JSON object), kept so that chargenet gives the object back and forwards it as
    its owner stated it. The typed events beside it (StationUpdated, SessionEnded …) carry
    what chargenet itself understands of the object; this carries the rest. Personal data
    (drivers' token uids) is replaced by digests before it gets here."""

    TYPE: ClassVar[str] = "object.stated"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"body": MAX_STATED_CHARS, "protocol": 16}
    kind: StatedKind
    object_id: str  # the chargenet id of what it describes: station, charger, session …
    protocol: str  # whose words: "ocpi-2.2.1"
    body: str  # a JSON object

    def body_problems(self) -> list[str]:
        out = _empty(object_id=self.object_id, protocol=self.protocol)
        if len(self.body) > MAX_STATED_CHARS:
            return [*out, f"a statement longer than {MAX_STATED_CHARS} characters"]
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return [*out, "body is not JSON"]
        if not isinstance(parsed, dict):
            out.append("body is not a JSON object")
        return out


# Identity fields fit the registry's columns; OCPP's own limits are lower (20–50).
MAX_IDENTITY_CHARS = 100


@dataclass(frozen=True, kw_only=True)
class ChargerInventoryReported(Event):
    """What a charger says it is: vendor, model, serial number and firmware (OCPP
    BootNotification, the 2.0.1 device model's ChargingStation and Controller variables),
    and the other facts of its hardware inventory (modem, meter, components of a 2.0.1
    NotifyReport). None: not stated by this report."""

    TYPE: ClassVar[str] = "charger.inventory_reported"
    charger_id: ChargerId
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware: str | None = None
    items: tuple[InventoryItem, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(charger_id=self.charger_id)
        for name in ("vendor", "model", "serial_number", "firmware"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_IDENTITY_CHARS:
                out.append(f"{name} longer than {MAX_IDENTITY_CHARS} characters")
        if len(self.items) > MAX_INVENTORY_ITEMS:
            out.append(f"at most {MAX_INVENTORY_ITEMS} inventory items per report")
            return out
        for item in self.items:
            out += [f"{item.component}.{item.variable}: {p}" for p in item.problems()]
        return out
