"""Battery-swap stations beyond the registry (R40): the battery packs a station holds, their
state and state of health, and what supervision reads from them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

MAX_PACKS = 2_000  # a report's packs (a heavy-truck station holds dozens; a depot hundreds)
SOH_WORN = 80.0  # % of rated capacity: below it a pack is worn (common retirement line)


class PackState(StrEnum):
    CHARGING = "charging"
    READY = "ready"  # charged, waiting for a vehicle
    IN_VEHICLE = "in_vehicle"  # handed out
    FAULTY = "faulty"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class BatteryPack:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"pack_id": 128}
    pack_id: str
    state: PackState
    soh_percent: float | None = None  # state of health: % of rated capacity left
    soc_percent: float | None = None
    cycles: int | None = None

    def problems(self) -> list[str]:
        out = []
        if not self.pack_id.strip():
            out.append("a pack has an id")
        for name in ("soh_percent", "soc_percent"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                out.append(f"pack {self.pack_id}: {name} {value} out of range")
        if self.cycles is not None and not 0 <= self.cycles <= 1_000_000:
            out.append(f"pack {self.pack_id}: cycles {self.cycles} out of range")
        return out
