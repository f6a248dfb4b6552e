"""Live equipment: statuses, presence, meter values, alarms from chargers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargenet.core.events.base import (
    MAX_CURRENT_A,
    MAX_ENERGY_REGISTER_WH,
    MAX_POWER_W,
    MAX_VOLTAGE_V,
    Event,
    _blank,
    _empty,
)
from chargenet.core.ids import (
    ChargerId,
    ConnectorId,
    SessionId,
    StationId,
)
from chargenet.core.status import ConnectorStatus


@dataclass(frozen=True, kw_only=True)
class ChargerPresenceChanged(Event):
    """The charger (or the operator platform behind it) started or stopped talking to us."""

    TYPE: ClassVar[str] = "charger.presence_changed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"reason": 200}
    charger_id: ChargerId
    online: bool
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(charger_id=self.charger_id)


@dataclass(frozen=True, kw_only=True)
class ConnectorStatusChanged(Event):
    TYPE: ClassVar[str] = "connector.status_changed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"error_code": 64, "vendor_error_code": 64, "info": 200}
    connector_id: ConnectorId
    status: ConnectorStatus
    error_code: str | None = None  # protocol error code as sent (GroundFailure, …)
    vendor_error_code: str | None = None
    info: str | None = None

    def body_problems(self) -> list[str]:
        return _blank("connector_id", self.connector_id)


@dataclass(frozen=True, kw_only=True)
class MeterSampled(Event):
    """A meter reading. `energy_register_wh` is the meter's cumulative register.
    `session_energy_wh` is the energy its session has delivered so far, from 0 at the
    session's start, where the equipment's platform reports that instead of a register
    (T/CEC 102's TotalPower): the hourly energy counts its rises as it counts a register's
    (adapters/storage/rollup.py), never the connector's register in the live state."""

    TYPE: ClassVar[str] = "connector.meter_sampled"
    connector_id: ConnectorId
    session_id: SessionId | None = None
    energy_register_wh: int | None = None
    power_w: int | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    soc_percent: float | None = None
    temperature_c: float | None = None
    # The most the charger says it can deliver through the connector now (OCPP Power.Offered).
    power_offered_w: int | None = None
    session_energy_wh: int | None = None

    def body_problems(self) -> list[str]:
        out = _blank("connector_id", self.connector_id)
        if self.power_offered_w is not None and not 0 <= self.power_offered_w <= MAX_POWER_W:
            out.append(f"offered power {self.power_offered_w} W out of range")
        if self.energy_register_wh is not None and not (
            0 <= self.energy_register_wh <= MAX_ENERGY_REGISTER_WH
        ):
            out.append(f"energy register {self.energy_register_wh} Wh out of range")
        if self.session_energy_wh is not None and not (
            0 <= self.session_energy_wh <= MAX_ENERGY_REGISTER_WH
        ):
            out.append(f"session energy {self.session_energy_wh} Wh out of range")
        if self.power_w is not None and not -MAX_POWER_W <= self.power_w <= MAX_POWER_W:
            out.append(f"power {self.power_w} W out of range")
        if self.current_a is not None and not -MAX_CURRENT_A <= self.current_a <= MAX_CURRENT_A:
            out.append(f"current {self.current_a} A out of range")
        if self.voltage_v is not None and not 0 <= self.voltage_v <= MAX_VOLTAGE_V:
            out.append(f"voltage {self.voltage_v} V out of range")
        if self.soc_percent is not None and not 0 <= self.soc_percent <= 100:
            out.append(f"state of charge {self.soc_percent} % out of range")
        if self.temperature_c is not None and not -60 <= self.temperature_c <= 300:
            out.append(f"temperature {self.temperature_c} °C out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class BatteryReported(Event):
    """The vehicle battery during a charge, as its BMS tells the charger and the operator's
    platform passes on (the municipal platforms' `notification_bmsInfo`, docs/tcec.md).
    `*_limit_*` are the BMS's own ceilings (its highest allowed cell voltage and
    temperature); the safety rules compare the readings with them."""

    TYPE: ClassVar[str] = "battery.reported"
    connector_id: ConnectorId
    session_id: SessionId | None = None
    soc_percent: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None
    cell_voltage_max_v: float | None = None
    cell_voltage_min_v: float | None = None
    cell_voltage_limit_v: float | None = None
    temperature_max_c: float | None = None
    temperature_min_c: float | None = None
    temperature_limit_c: float | None = None

    def body_problems(self) -> list[str]:
        out = _blank("connector_id", self.connector_id)
        if self.soc_percent is not None and not 0 <= self.soc_percent <= 100:
            out.append(f"state of charge {self.soc_percent} % out of range")
        if self.voltage_v is not None and not 0 <= self.voltage_v <= MAX_VOLTAGE_V:
            out.append(f"voltage {self.voltage_v} V out of range")
        if self.current_a is not None and not -MAX_CURRENT_A <= self.current_a <= MAX_CURRENT_A:
            out.append(f"current {self.current_a} A out of range")
        for name in ("cell_voltage_max_v", "cell_voltage_min_v", "cell_voltage_limit_v"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                out.append(f"{name} {value} V out of range")
        for name in ("temperature_max_c", "temperature_min_c", "temperature_limit_c"):
            value = getattr(self, name)
            if value is not None and not -60 <= value <= 300:
                out.append(f"{name} {value} °C out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class ParkingReported(Event):
    """Whether a vehicle stands in a connector's bay and whether its parking lock is up
    (T/CEC ConnectorStatusInfo ParkStatus / LockStatus, a bay sensor). None: not stated.
    A bay occupied while its connector is not charging is a space taken from charging
    (R39: fuel cars occupying charging spaces)."""

    TYPE: ClassVar[str] = "parking.reported"
    connector_id: ConnectorId
    occupied: bool | None = None
    locked: bool | None = None

    def body_problems(self) -> list[str]:
        out = _blank("connector_id", self.connector_id)
        if self.occupied is None and self.locked is None:
            out.append("a parking report states occupancy or the lock")
        return out


@dataclass(frozen=True, kw_only=True)
class StationNoticed(Event):
    """A notice about a station as a whole from its operator's platform (the municipal
    platforms' `notification_eventInfo`): its type and code in the source's words, and
    its note. Kept in the log; incident timelines name them."""

    TYPE: ClassVar[str] = "station.noticed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"code": 64, "info": 500}
    station_id: StationId
    code: str
    info: str = ""

    def body_problems(self) -> list[str]:
        return _empty(station_id=self.station_id, code=self.code)
