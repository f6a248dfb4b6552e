"""What a coverage check reports: per rule, its status and every shortfall with what it
would take to meet it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    MET = "met"
    UNMET = "unmet"
    NOT_IN_FORCE = "not_in_force"  # the rule starts in a later year
    NOT_CHECKABLE = "not_checkable"  # the data it needs is not there (roads, parking spaces)


@dataclass(frozen=True, slots=True)
class Shortfall:
    kind: str  # area | point | road_gap | station | county | count
    id: str
    name: str
    needs: str  # what it would take, in words
    lat: float | None = None
    lon: float | None = None
    measured: float | None = None
    required: float | None = None
    area_code: str | None = None  # the county it lies in, when known
    new_stations: int = 0  # fewest new stations that would close it (0: not a siting matter)
    positions: tuple[tuple[float, float], ...] = ()  # where those stations would go, if fixed
    piles_each: int = 0  # piles each of those stations needs, beyond the rule's own minimum


@dataclass
class RuleResult:
    rule_id: str
    kind: str
    requirement: str
    source: str
    description: str
    year: int
    status: Status
    summary: dict[str, Any] = field(default_factory=dict)
    shortfalls: list[Shortfall] = field(default_factory=list)
    needs: str = ""
    assumption: str = ""
    by_county: dict[str, dict[str, Any]] = field(default_factory=dict)  # area rules only
