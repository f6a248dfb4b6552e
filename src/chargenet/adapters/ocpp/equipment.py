"""What a charger says about itself: its hardware and firmware inventory, and how its
firmware updates and diagnostics/log uploads went.

Plain functions of (charger id, validated payload, receive time) → events: they need no
socket and no gateway.

- BootNotification (1.6 and 2.0.1) and 2.0.1 NotifyReport → `charger.inventory_reported`:
  vendor, model, serial number and firmware for the charger record, and the other facts
  (modem, meter, every component variable of a device-model report) as inventory items.
  In a NotifyReport the identity comes from the standardized variables of OCPP 2.0.1
  Part 2 Appendices: ChargingStation.VendorName, .Model, .SerialNumber and
  Controller.FirmwareVersion (no EVSE, no instance).
- FirmwareStatusNotification (1.6, 1.6 security's SignedFirmwareStatusNotification,
  2.0.1), DiagnosticsStatusNotification (1.6) and LogStatusNotification (1.6 security,
  2.0.1) → `equipment.noticed` of kind firmware / diagnostics. Failures carry the code
  FirmwareUpdateFailed / DiagnosticsUploadFailed, which the safety rules
  (analytics/supervision/alarms.py) raise as alarms; the next success (Installed, Uploaded) is the
  same code marked cleared; progress (Downloading, Uploading, …) is kept with a code no
  rule raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargenet.core.events import (
    MAX_IDENTITY_CHARS,
    ChargerInventoryReported,
    EquipmentNoticed,
    EventMeta,
    Source,
)
from chargenet.core.ids import ChargerId, EventId
from chargenet.core.oversight import NoticeKind
from chargenet.core.registry.model import MAX_INVENTORY_NAME, MAX_INVENTORY_VALUE, InventoryItem
from chargenet.kit.ids import stable_id

SOURCE = Source(adapter="ocpp")

FIRMWARE_FAILED = frozenset(
    {"DownloadFailed", "InstallationFailed", "InvalidSignature", "InstallVerificationFailed"}
)
FIRMWARE_DONE = frozenset({"Installed"})
UPLOAD_FAILED = frozenset(
    {"UploadFailed", "UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation"}
)
UPLOAD_DONE = frozenset({"Uploaded"})

# 1.6 BootNotification fields beyond the charger's identity, kept as inventory items.
_BOOT_16_ITEMS = ("chargeBoxSerialNumber", "iccid", "imsi", "meterType", "meterSerialNumber")
# (component, variable) of the 2.0.1 device model → the charger record's field
_IDENTITY_VARIABLES = {
    ("ChargingStation", "VendorName"): "vendor",
    ("ChargingStation", "Model"): "model",
    ("ChargingStation", "SerialNumber"): "serial_number",
    ("Controller", "FirmwareVersion"): "firmware",
}


def _meta(charger_id: str, received: datetime, *parts: object) -> EventMeta:
    return {
        "event_id": EventId(stable_id("ocpp", charger_id, *parts)),
        "source": SOURCE,
        "occurred_at": received,
        "received_at": received,
    }


def _identity(value: str | None) -> str | None:
    return value if value and len(value) <= MAX_IDENTITY_CHARS else None


def boot_inventory_16(
    charger_id: str, payload: Any, received: datetime
) -> ChargerInventoryReported:
    items = tuple(
        InventoryItem(component="BootNotification", variable=name, value=value)
        for name in _BOOT_16_ITEMS
        if (value := getattr(payload, name))
    )
    return ChargerInventoryReported(
        **_meta(charger_id, received, "boot", received.isoformat()),
        charger_id=ChargerId(charger_id),
        vendor=_identity(payload.chargePointVendor),
        model=_identity(payload.chargePointModel),
        # chargeBoxSerialNumber is deprecated in 1.6 in favour of chargePointSerialNumber
        serial_number=_identity(payload.chargePointSerialNumber or payload.chargeBoxSerialNumber),
        firmware=_identity(payload.firmwareVersion),
        items=items,
    )


def boot_inventory_201(
    charger_id: str, payload: Any, received: datetime
) -> ChargerInventoryReported:
    station = payload.chargingStation
    modem = station.modem
    items = tuple(
        InventoryItem(component="BootNotification", variable=f"modem.{name}", value=value)
        for name in ("iccid", "imsi")
        if modem is not None and (value := getattr(modem, name))
    )
    return ChargerInventoryReported(
        **_meta(charger_id, received, "boot", received.isoformat()),
        charger_id=ChargerId(charger_id),
        vendor=_identity(station.vendorName),
        model=_identity(station.model),
        serial_number=_identity(station.serialNumber),
        firmware=_identity(station.firmwareVersion),
        items=items,
    )


def report_inventory_201(
    charger_id: str, payload: Any, received: datetime
) -> ChargerInventoryReported | None:
    """A NotifyReport part: the Actual value of each reported variable (Target, MinSet and
    MaxSet are settings, not what the charger is)."""
    items: list[InventoryItem] = []
    identity: dict[str, str] = {}
    for data in payload.reportData or ():
        component, variable = data.component, data.variable
        actual = next(
            (a.value for a in data.variableAttribute if (a.type or "Actual") == "Actual"), None
        )
        if actual is None or len(actual) > MAX_INVENTORY_VALUE:
            continue
        evse = component.evse
        item = InventoryItem(
            component=component.name[:MAX_INVENTORY_NAME],
            variable=variable.name[:MAX_INVENTORY_NAME],
            value=actual,
            evse_no=evse.id if evse is not None else None,
            connector_no=evse.connectorId if evse is not None else None,
            component_instance=component.instance,
            variable_instance=variable.instance,
        )
        if item.problems():
            continue  # e.g. an EVSE number no charger has: not part of its inventory
        items.append(item)
        field = _IDENTITY_VARIABLES.get((component.name, variable.name))
        whole = evse is None and component.instance is None and variable.instance is None
        if field and whole and (value := _identity(actual)) is not None:
            identity[field] = value
    if not items:
        return None
    return ChargerInventoryReported(
        **_meta(charger_id, received, "report", payload.requestId, payload.seqNo),
        charger_id=ChargerId(charger_id),
        items=tuple(items),
        **identity,
    )


def _progress(
    charger_id: str,
    kind: NoticeKind,
    status: str,
    request_id: int | None,
    received: datetime,
    failed: frozenset[str],
    done: frozenset[str],
    code: str,
) -> EquipmentNoticed:
    outcome = status in failed or status in done
    return EquipmentNoticed(
        **_meta(charger_id, received, kind.value, status, request_id, received.isoformat()),
        charger_id=ChargerId(charger_id),
        kind=kind,
        code=code if outcome else f"{kind.value.capitalize()}Status",
        cleared=status in done,
        info=status if request_id is None else f"{status} (request {request_id})",
    )


def firmware_notice(charger_id: str, payload: Any, received: datetime) -> EquipmentNoticed:
    return _progress(
        charger_id,
        NoticeKind.FIRMWARE,
        payload.status,
        getattr(payload, "requestId", None),
        received,
        FIRMWARE_FAILED,
        FIRMWARE_DONE,
        "FirmwareUpdateFailed",
    )


def upload_notice(charger_id: str, payload: Any, received: datetime) -> EquipmentNoticed:
    """DiagnosticsStatusNotification (1.6) or LogStatusNotification (1.6 security, 2.0.1)."""
    return _progress(
        charger_id,
        NoticeKind.DIAGNOSTICS,
        payload.status,
        getattr(payload, "requestId", None),
        received,
        UPLOAD_FAILED,
        UPLOAD_DONE,
        "DiagnosticsUploadFailed",
    )
