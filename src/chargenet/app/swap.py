"""Battery-swap stations' supervision (R40): what operators report through the API (status,
swap orders, battery packs) and what regulators read (figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypedDict

from chargenet.analytics.supervision.swap import PackFigures


class PackRow(TypedDict):
    """A battery pack of a swap station, as its operator last reported it."""

    swap_station_id: str
    pack_id: str
    state: str  # ready | charging | faulty | …
    soh_percent: float | None
    soc_percent: float | None
    cycles: int | None
    as_of: datetime


class SwapOwnerRow(TypedDict):
    operator_id: str
    area_code: str | None


class SwapFiguresRow(PackFigures):
    """A swap station in service over a period: swaps, uptime from its status reports,
    and its packs."""

    swap_station_id: str
    name: str
    operator_id: str
    swaps: int
    swaps_per_day: float
    uptime_percent: float | None  # None: no status known in the period
    hours_with_status: float


class SwapQueries(Protocol):
    def packs(self, swap_station_id: str) -> list[PackRow]: ...

    def owner(self, swap_station_id: str) -> SwapOwnerRow | None:
        """operator_id and area_code of a swap station (None: unknown)."""
        ...

    def figures(
        self, area: str | None, operator: str | None, start: datetime, end: datetime
    ) -> list[SwapFiguresRow]: ...
