"""The registry: operators, stations, chargers, connectors, swap stations;
public hours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    ChargerId,
    StationId,
    SwapStationId,
)
from chargenet.core.registry.model import (
    ChargerRecord,
    OperatorRecord,
    StationRecord,
    SwapStationRecord,
)
from chargenet.core.registry.public_hours import problems as public_hours_problems


@dataclass(frozen=True, kw_only=True)
class OperatorRegistered(Event):
    TYPE: ClassVar[str] = "operator.registered"
    operator: OperatorRecord

    def body_problems(self) -> list[str]:
        return self.operator.problems()


@dataclass(frozen=True, kw_only=True)
class OperatorUpdated(Event):
    TYPE: ClassVar[str] = "operator.updated"
    operator: OperatorRecord

    def body_problems(self) -> list[str]:
        return self.operator.problems()


@dataclass(frozen=True, kw_only=True)
class StationRegistered(Event):
    TYPE: ClassVar[str] = "station.registered"
    station: StationRecord

    def body_problems(self) -> list[str]:
        return self.station.problems()


@dataclass(frozen=True, kw_only=True)
class StationUpdated(Event):
    TYPE: ClassVar[str] = "station.updated"
    station: StationRecord

    def body_problems(self) -> list[str]:
        return self.station.problems()


@dataclass(frozen=True, kw_only=True)
class StationRetired(Event):
    TYPE: ClassVar[str] = "station.retired"
    station_id: StationId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(station_id=self.station_id)


@dataclass(frozen=True, kw_only=True)
class ChargerRegistered(Event):
    TYPE: ClassVar[str] = "charger.registered"
    charger: ChargerRecord

    def body_problems(self) -> list[str]:
        return self.charger.problems()


@dataclass(frozen=True, kw_only=True)
class ChargerUpdated(Event):
    TYPE: ClassVar[str] = "charger.updated"
    charger: ChargerRecord

    def body_problems(self) -> list[str]:
        return self.charger.problems()


@dataclass(frozen=True, kw_only=True)
class ChargerRetired(Event):
    TYPE: ClassVar[str] = "charger.retired"
    charger_id: ChargerId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(charger_id=self.charger_id)


@dataclass(frozen=True, kw_only=True)
class SwapStationRegistered(Event):
    TYPE: ClassVar[str] = "swap_station.registered"
    swap_station: SwapStationRecord

    def body_problems(self) -> list[str]:
        return self.swap_station.problems()


@dataclass(frozen=True, kw_only=True)
class SwapStationUpdated(Event):
    TYPE: ClassVar[str] = "swap_station.updated"
    swap_station: SwapStationRecord

    def body_problems(self) -> list[str]:
        return self.swap_station.problems()


@dataclass(frozen=True, kw_only=True)
class SwapStationRetired(Event):
    TYPE: ClassVar[str] = "swap_station.retired"
    swap_station_id: SwapStationId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(swap_station_id=self.swap_station_id)


@dataclass(frozen=True, kw_only=True)
class StationPublicHoursSet(Event):
    """When a station is open to the public (core/registry/public_hours.py): an
    institution's own chargers opened to everyone after work, "Mo-Fr 18:00-08:00; Sa-Su
    00:00-24:00". Stated by the station's operator or a regulator, by import or the API;
    "" withdraws them (the registered access alone holds again). The latest holds."""

    TYPE: ClassVar[str] = "station.public_hours_set"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"hours": 200, "set_by": 128, "note": 500}
    station_id: StationId
    hours: str = ""
    set_by: str = ""
    note: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id)
        if self.hours.strip():
            out += public_hours_problems(self.hours)
        return out
