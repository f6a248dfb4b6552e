"""Battery-swap stations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    SwapStationId,
)
from chargenet.core.registry.model import (
    SwapVehicleType,
)
from chargenet.core.sessions import MAX_SESSION_ENERGY_WH
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision.swap import MAX_PACKS, BatteryPack


@dataclass(frozen=True, kw_only=True)
class SwapStationStatusChanged(Event):
    TYPE: ClassVar[str] = "swap_station.status_changed"
    swap_station_id: SwapStationId
    status: ConnectorStatus
    batteries_ready: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(swap_station_id=self.swap_station_id)
        if self.batteries_ready is not None and not 0 <= self.batteries_ready <= 10_000:
            out.append(f"batteries_ready {self.batteries_ready} out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class BatterySwapped(Event):
    TYPE: ClassVar[str] = "swap_station.battery_swapped"
    swap_station_id: SwapStationId
    swap_id: str
    vehicle_type: SwapVehicleType = SwapVehicleType.PASSENGER
    energy_wh: int | None = None  # charge held by the battery handed out

    def body_problems(self) -> list[str]:
        out = _empty(swap_station_id=self.swap_station_id, swap_id=self.swap_id)
        if self.energy_wh is not None and not 0 <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"energy {self.energy_wh} Wh out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SwapBatteriesReported(Event):
    """The battery packs a swap station holds, with their state and state of health (R40):
    the whole inventory — a pack no longer listed has left the station."""

    TYPE: ClassVar[str] = "swap_station.batteries_reported"
    swap_station_id: SwapStationId
    packs: tuple[BatteryPack, ...]

    def body_problems(self) -> list[str]:
        out = _empty(swap_station_id=self.swap_station_id)
        if len(self.packs) > MAX_PACKS:
            return [*out, f"at most {MAX_PACKS} packs per report"]
        if len({p.pack_id for p in self.packs}) != len(self.packs):
            out.append("a pack is listed twice")
        for pack in self.packs:
            out += pack.problems()
        return out
