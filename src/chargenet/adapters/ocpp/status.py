"""OCPP connector status ⇄ chargenet's vocabulary (docs/status.md has the table)."""

from __future__ import annotations

from chargenet.core.status import ConnectorStatus

# OCPP 1.6 ChargePointStatus. Preparing, SuspendedEV/EVSE and Finishing all mean "a vehicle
# is plugged in but no energy flows" — occupied, not charging.
FROM_OCPP16 = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.OCCUPIED,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEVSE": ConnectorStatus.OCCUPIED,
    "SuspendedEV": ConnectorStatus.OCCUPIED,
    "Finishing": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}

# OCPP 2.0.1 ConnectorStatusEnumType. "Occupied" covers charging too; whether energy flows
# comes from TransactionEvent.chargingState (see FROM_OCPP201_CHARGING_STATE).
FROM_OCPP201 = {
    "Available": ConnectorStatus.AVAILABLE,
    "Occupied": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}

FROM_OCPP201_CHARGING_STATE = {
    "Charging": ConnectorStatus.CHARGING,
    "EVConnected": ConnectorStatus.OCCUPIED,
    "SuspendedEV": ConnectorStatus.OCCUPIED,
    "SuspendedEVSE": ConnectorStatus.OCCUPIED,
    "Idle": ConnectorStatus.AVAILABLE,
}


def from_ocpp16(status: str) -> ConnectorStatus:
    try:
        return FROM_OCPP16[status]
    except KeyError:
        raise ValueError(f"unknown OCPP 1.6 status {status!r}") from None


def from_ocpp201(status: str) -> ConnectorStatus:
    try:
        return FROM_OCPP201[status]
    except KeyError:
        raise ValueError(f"unknown OCPP 2.0.1 status {status!r}") from None
