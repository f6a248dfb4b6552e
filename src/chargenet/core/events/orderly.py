"""Orderly charging: sites as electrical systems, what sessions need, grid events."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from chargenet.core.events.base import MAX_VOLTAGE_V, Event, _aware, _empty
from chargenet.core.ids import (
    AreaCode,
    SessionId,
    StationId,
)
from chargenet.core.sessions import MAX_SESSION_ENERGY_WH

MAX_SITE_POWER_W = 1_000_000_000  # 1 GW: beyond any charging site or feeder
MAX_STORAGE_WH = 10_000_000_000


def _power_problems(**fields: int | None) -> list[str]:
    return [
        f"{name} {value} outside 0..{MAX_SITE_POWER_W}"
        for name, value in fields.items()
        if value is not None and not 0 <= value <= MAX_SITE_POWER_W
    ]


@dataclass(frozen=True, kw_only=True)
class GridConnectionStated(Event):
    """A station as an electrical system from `valid_from` on: what its grid connection
    lets charging draw, its phases, the feeder or transformer it shares with other
    stations, and its PV and storage. A later statement with a later `valid_from` does
    not rewrite the earlier one: limits have a history."""

    TYPE: ClassVar[str] = "station.grid_connection"
    station_id: StationId
    valid_from: datetime
    capacity_w: int  # what charging at the station may draw in total
    capacity_va: int | None = None  # the connection's rating (transformer nameplate)
    phases: int = 3
    voltage_v: int = 220  # phase to neutral (China: 220/380 V)
    feeder_id: str | None = None  # the shared feeder or transformer above it, if any
    pv_peak_w: int = 0
    storage_wh: int = 0
    storage_power_w: int = 0

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id) + _aware(valid_from=self.valid_from)
        out += _power_problems(
            capacity_w=self.capacity_w,
            capacity_va=self.capacity_va,
            pv_peak_w=self.pv_peak_w,
            storage_power_w=self.storage_power_w,
        )
        if self.phases not in (1, 3):
            out.append(f"phases must be 1 or 3, got {self.phases}")
        if not 100 <= self.voltage_v <= MAX_VOLTAGE_V:
            out.append(f"voltage_v {self.voltage_v} outside 100..{MAX_VOLTAGE_V}")
        if not 0 <= self.storage_wh <= MAX_STORAGE_WH:
            out.append(f"storage_wh {self.storage_wh} outside 0..{MAX_STORAGE_WH}")
        if self.feeder_id is not None and not self.feeder_id.strip():
            out.append("feeder_id is empty")
        return out


@dataclass(frozen=True, kw_only=True)
class FeederStated(Event):
    """A feeder or transformer shared by several stations, and its limit from a time on."""

    TYPE: ClassVar[str] = "feeder.stated"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": 200}
    feeder_id: str
    name: str
    valid_from: datetime
    capacity_w: int
    phases: int = 3
    area_code: AreaCode | None = None

    def body_problems(self) -> list[str]:
        out = _empty(feeder_id=self.feeder_id) + _aware(valid_from=self.valid_from)
        out += _power_problems(capacity_w=self.capacity_w)
        if self.phases not in (1, 3):
            out.append(f"phases must be 1 or 3, got {self.phases}")
        return out


@dataclass(frozen=True, kw_only=True)
class ChargingNeedsStated(Event):
    """What a session still needs and when the vehicle leaves: from the vehicle (ISO 15118
    through OCPP 2.0.1 NotifyEVChargingNeeds, K15) or from the driver. Unknown values stay
    None; the scheduler then estimates them from the site's history."""

    TYPE: ClassVar[str] = "session.needs_stated"
    session_id: SessionId
    energy_wh: int | None = None
    departure_at: datetime | None = None
    max_power_w: int | None = None
    min_power_w: int | None = None
    # Vehicle-to-grid, where charger and vehicle can both discharge (ISO 15118-20
    # bidirectional power transfer; OCPP 2.1 V2X parameters): the most the vehicle may
    # give (W) and the energy above its minimum state of energy it may give (Wh).
    discharge_max_w: int | None = None
    dischargeable_wh: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id)
        if self.departure_at is not None:
            out += _aware(departure_at=self.departure_at)
        for name, value in (
            ("energy_wh", self.energy_wh),
            ("dischargeable_wh", self.dischargeable_wh),
        ):
            if value is not None and not 0 <= value <= MAX_SESSION_ENERGY_WH:
                out.append(f"{name} {value} outside 0..{MAX_SESSION_ENERGY_WH}")
        out += _power_problems(
            max_power_w=self.max_power_w,
            min_power_w=self.min_power_w,
            discharge_max_w=self.discharge_max_w,
        )
        return out


class DemandResponseScope(StrEnum):
    ALL = "all"  # every managed station
    AREA = "area"  # the managed stations in an area (and its sub-areas)
    FEEDER = "feeder"
    STATION = "station"


@dataclass(frozen=True, kw_only=True)
class DemandResponseCalled(Event):
    """A demand-response event: from `start` to `end`, charging at the stations in scope may
    draw at most `share` of their limit. From the grid operator's VTN (OpenADR) or a
    regulator; calling the same `dr_id` again replaces it (an end moved to now cancels)."""

    TYPE: ClassVar[str] = "dr.called"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"called_by": 128, "program": 200}
    dr_id: str
    scope: DemandResponseScope
    scope_id: str = ""  # the area code, feeder or station; "" for all
    start: datetime
    end: datetime
    share: float  # 0..1 of the limit in force
    called_by: str = ""
    program: str = ""  # the VTN's event id or the regulator's reason

    def body_problems(self) -> list[str]:
        out = _empty(dr_id=self.dr_id) + _aware(start=self.start, end=self.end)
        if self.end < self.start:
            out.append("end is before start")
        if not (math.isfinite(self.share) and 0.0 <= self.share <= 1.0):
            out.append(f"share must be 0..1, got {self.share}")
        if self.scope is not DemandResponseScope.ALL and not self.scope_id.strip():
            out.append(f"a {self.scope.value} demand-response event names its {self.scope.value}")
        return out
