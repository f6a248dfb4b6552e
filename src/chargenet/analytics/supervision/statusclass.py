"""How each internal status counts for uptime, by method (see docs/supervision.md).

| internal status | effective OCPI status | NEVI 680.116(b) | UK PCPR 2023 reg. 7 |
|---|---|---|---|
| available   | AVAILABLE   | up     | up (reliable) |
| occupied    | CHARGING    | up     | up |
| charging    | CHARGING    | up     | up |
| reserved    | RESERVED    | up     | up |
| blocked     | BLOCKED     | up ¹   | ineligible ³ |
| unavailable | INOPERATIVE | outage | down |
| faulted     | OUTOFORDER  | outage | down |
| offline     | UNKNOWN     | outage ² | ineligible ³ |

1. The equipment works; the bay is blocked (by a fuel car): not the port's outage.
2. NEVI counts a port as up only when it is "online and available for use, or in use";
   with no data from it, it is not shown to be up.
3. PCPR 2023 reg. 7(3)(b): a rapid charge point "ineligible for measurement" (UNKNOWN or
   BLOCKED) "is considered to be reliable"; `uptime.uk` counts it so by default and can
   leave it out of the measure instead.
"""

from __future__ import annotations

from enum import IntEnum

from chargenet.core.status import ConnectorStatus

STATUSES: tuple[ConnectorStatus, ...] = tuple(ConnectorStatus)
CODE = {status: i for i, status in enumerate(STATUSES)}  # status → small integer code
NO_DATA = len(STATUSES)  # code of a reported status for "nothing reported yet"

# The statuses time is counted in: the eight above, and one more — a usable status while
# the charger reports that the port can deliver less than its minimum power (23 CFR
# 680.116(b) counts a port "up" only when it dispenses "in accordance with requirements for
# minimum power level (see § 680.106(d))"). NEVI: outage; UK: its status (working).
LIMITED = len(STATUSES)
COUNTED_STATUSES = (*(s.value for s in STATUSES), "below_min_power")

NEVI_OUTAGE = frozenset(
    {ConnectorStatus.OFFLINE, ConnectorStatus.UNAVAILABLE, ConnectorStatus.FAULTED}
)
NEVI_OUTAGE_CODES = (*sorted(CODE[s] for s in NEVI_OUTAGE), LIMITED)

# A port (one vehicle at a time: 23 CFR 680.104, an EVSE in PCPR 2023 reg. 2) is as good as
# its best connector at each instant: in use beats ready beats below minimum power beats
# blocked beats out of service beats faulted beats silent.
PORT_RANK = {
    CODE[ConnectorStatus.OFFLINE]: 1,
    CODE[ConnectorStatus.FAULTED]: 2,
    CODE[ConnectorStatus.UNAVAILABLE]: 3,
    CODE[ConnectorStatus.BLOCKED]: 4,
    LIMITED: 5,
    CODE[ConnectorStatus.AVAILABLE]: 6,
    CODE[ConnectorStatus.RESERVED]: 7,
    CODE[ConnectorStatus.OCCUPIED]: 8,
    CODE[ConnectorStatus.CHARGING]: 9,
}

# 23 CFR 680.106(d): the minimum power of a port, by its kind (W).
NEVI_MIN_POWER_DC_W = 150_000
NEVI_MIN_POWER_AC_W = 6_000


class UkClass(IntEnum):
    UP = 0
    DOWN = 1
    INELIGIBLE = 2


UK_CLASS = {
    ConnectorStatus.AVAILABLE: UkClass.UP,
    ConnectorStatus.OCCUPIED: UkClass.UP,
    ConnectorStatus.CHARGING: UkClass.UP,
    ConnectorStatus.RESERVED: UkClass.UP,
    ConnectorStatus.BLOCKED: UkClass.INELIGIBLE,
    ConnectorStatus.UNAVAILABLE: UkClass.DOWN,
    ConnectorStatus.FAULTED: UkClass.DOWN,
    ConnectorStatus.OFFLINE: UkClass.INELIGIBLE,
}

UK_RAPID_MIN_POWER_W = 50_000  # a "rapid" charge point (PCPR 2023)
UK_TARGET_PERCENT = 99.0  # rapid network, each calendar year
NEVI_TARGET_PERCENT = 97.0  # each port, greater than, over the previous 12 months
