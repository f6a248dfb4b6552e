"""The one connector status vocabulary. Every protocol maps into it (see docs/status.md).

"Offline" (no data from the equipment) is kept apart from "faulted" (the equipment says it
is broken): a regulator treats a silent pile and a broken pile differently.
"""

from __future__ import annotations

from enum import StrEnum


class ConnectorStatus(StrEnum):
    OFFLINE = "offline"  # no communication: we do not know
    AVAILABLE = "available"  # idle and ready
    OCCUPIED = (
        "occupied"  # a vehicle is plugged in, not drawing energy (preparing, suspended, finishing)
    )
    CHARGING = "charging"  # delivering energy
    RESERVED = "reserved"
    BLOCKED = "blocked"  # the bay is blocked (for example by a fuel car), connector itself fine
    UNAVAILABLE = "unavailable"  # taken out of service on purpose (maintenance, stop order)
    FAULTED = "faulted"  # the equipment reports a fault

    @property
    def usable(self) -> bool:
        """Could serve a driver now or is serving one."""
        return self in _USABLE


_USABLE = frozenset(
    {
        ConnectorStatus.AVAILABLE,
        ConnectorStatus.OCCUPIED,
        ConnectorStatus.CHARGING,
        ConnectorStatus.RESERVED,
    }
)


def effective_status(
    reported: ConnectorStatus | None, charger_online: bool | None, stopped: bool = False
) -> ConnectorStatus:
    """What a user should see: the last report, unless the charger has stopped talking or
    a regulator's stop order is in force for it (or its station).

    `charger_online` is None where presence is not tracked (equipment reported through an
    operator platform): then the operator's report stands — except under a stop order,
    which shows the connector out of service (`unavailable`) whatever was reported or
    whether it talks: an OCPI or T/CEC operator cannot be commanded, only told, so this is
    the one place that keeps drivers away from it.
    """
    if stopped:
        return ConnectorStatus.UNAVAILABLE
    if charger_online is False or reported is None:
        return ConnectorStatus.OFFLINE
    return reported
