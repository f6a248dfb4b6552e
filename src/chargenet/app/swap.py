"""Battery-swap stations' supervision (R40): what operators report through the API (status,
swap orders, battery packs) and what regulators read (figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

Row = dict[str, Any]


class SwapQueries(Protocol):
    def packs(self, swap_station_id: str) -> list[Row]: ...

    def owner(self, swap_station_id: str) -> Row | None:
        """operator_id and area_code of a swap station (None: unknown)."""
        ...

    def figures(
        self, area: str | None, operator: str | None, start: datetime, end: datetime
    ) -> list[Row]: ...
