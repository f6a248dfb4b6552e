"""The admin hierarchy: areas and their boundaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargenet.core.areas import AreaLevel, code_problems
from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    AreaCode,
)


@dataclass(frozen=True, kw_only=True)
class AreaRegistered(Event):
    """An administrative area, registered or re-registered with new names or position."""

    TYPE: ClassVar[str] = "area.registered"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "code": 32,
        "parent_code": 32,
        "name_zh": 200,
        "name_en": 200,
    }

    code: AreaCode
    level: AreaLevel
    name_zh: str
    parent_code: AreaCode | None = None
    name_en: str | None = None
    lat: float | None = None  # WGS-84
    lon: float | None = None

    def body_problems(self) -> list[str]:
        out = code_problems(self.code, self.level, self.parent_code) + _empty(name_zh=self.name_zh)
        if (self.lat is None) != (self.lon is None):
            out.append("lat and lon come together")
        elif (
            self.lat is not None
            and self.lon is not None
            and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180)
        ):
            out.append(f"coordinates out of range: {self.lat},{self.lon}")
        return out


@dataclass(frozen=True, kw_only=True)
class AreaStatisticsRecorded(Event):
    """Statistics of an area for a year; None leaves a figure as it was."""

    TYPE: ClassVar[str] = "area.statistics_recorded"

    area_code: AreaCode
    year: int
    ev_count: int | None = None  # new-energy vehicles registered at year end
    motor_vehicles: int | None = None
    population: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(area_code=self.area_code)
        if not 1990 <= self.year <= 2100:
            out.append(f"year {self.year} out of range")
        for name in ("ev_count", "motor_vehicles", "population"):
            value = getattr(self, name)
            if value is not None and value < 0:
                out.append(f"{name} is negative")
        if self.ev_count is None and self.motor_vehicles is None and self.population is None:
            out.append("no statistic given")
        return out
