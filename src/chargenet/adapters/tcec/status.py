"""T/CEC 102 connector status ⇄ chargenet's vocabulary (docs/status.md has the table)."""

from __future__ import annotations

from chargenet.core.status import ConnectorStatus

FROM_TCEC = {
    0: ConnectorStatus.OFFLINE,  # 离网
    1: ConnectorStatus.AVAILABLE,  # 空闲
    2: ConnectorStatus.OCCUPIED,  # 占用（未充电）
    3: ConnectorStatus.CHARGING,  # 占用（充电中）
    4: ConnectorStatus.RESERVED,  # 占用（预约锁定）
    255: ConnectorStatus.FAULTED,  # 故障
}

# T/CEC has no "blocked" or "out of service on purpose": a blocked bay is occupied (2), and
# equipment taken out of service cannot be used, which the standard can only say as 255.
TO_TCEC = {
    ConnectorStatus.OFFLINE: 0,
    ConnectorStatus.AVAILABLE: 1,
    ConnectorStatus.OCCUPIED: 2,
    ConnectorStatus.BLOCKED: 2,
    ConnectorStatus.CHARGING: 3,
    ConnectorStatus.RESERVED: 4,
    ConnectorStatus.UNAVAILABLE: 255,
    ConnectorStatus.FAULTED: 255,
}


def from_tcec(code: int) -> ConnectorStatus:
    try:
        return FROM_TCEC[code]
    except KeyError:
        raise ValueError(f"unknown T/CEC 102 connector status {code!r}") from None


def to_tcec(status: ConnectorStatus) -> int:
    return TO_TCEC[status]
