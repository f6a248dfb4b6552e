"""OCPI 2.2.1 EVSE status ⇄ chargenet's vocabulary (docs/status.md has the table)."""

from __future__ import annotations

from chargenet.core.status import ConnectorStatus

# PLANNED and REMOVED describe the equipment's life, not its state: they are registry
# changes (not yet commissioned / retired), so they have no status here.
FROM_OCPI = {
    "AVAILABLE": ConnectorStatus.AVAILABLE,
    "BLOCKED": ConnectorStatus.BLOCKED,
    "CHARGING": ConnectorStatus.CHARGING,
    "INOPERATIVE": ConnectorStatus.UNAVAILABLE,
    "OUTOFORDER": ConnectorStatus.FAULTED,
    "RESERVED": ConnectorStatus.RESERVED,
    "UNKNOWN": ConnectorStatus.OFFLINE,
}
LIFECYCLE_STATUSES = frozenset({"PLANNED", "REMOVED"})

# OCPI's CHARGING means "in use", so a plugged-in vehicle that draws nothing is CHARGING too.
TO_OCPI = {
    ConnectorStatus.OFFLINE: "UNKNOWN",
    ConnectorStatus.AVAILABLE: "AVAILABLE",
    ConnectorStatus.OCCUPIED: "CHARGING",
    ConnectorStatus.CHARGING: "CHARGING",
    ConnectorStatus.RESERVED: "RESERVED",
    ConnectorStatus.BLOCKED: "BLOCKED",
    ConnectorStatus.UNAVAILABLE: "INOPERATIVE",
    ConnectorStatus.FAULTED: "OUTOFORDER",
}


def from_ocpi(status: str) -> ConnectorStatus | None:
    """None for PLANNED/REMOVED (registry changes, not statuses); ValueError if unknown."""
    if status in LIFECYCLE_STATUSES:
        return None
    try:
        return FROM_OCPI[status]
    except KeyError:
        raise ValueError(f"unknown OCPI EVSE status {status!r}") from None


def to_ocpi(status: ConnectorStatus) -> str:
    return TO_OCPI[status]


# One connector of an EVSE is used at a time: the EVSE shows its busiest connector's state.
_EVSE_PRIORITY = (
    "CHARGING",
    "RESERVED",
    "BLOCKED",
    "AVAILABLE",
    "INOPERATIVE",
    "OUTOFORDER",
    "UNKNOWN",
)


def evse_status(statuses: list[ConnectorStatus]) -> str:
    """The OCPI status of an EVSE from its connectors' chargenet statuses."""
    mapped = {to_ocpi(s) for s in statuses}
    for candidate in _EVSE_PRIORITY:
        if candidate in mapped:
            return candidate
    return "UNKNOWN"
