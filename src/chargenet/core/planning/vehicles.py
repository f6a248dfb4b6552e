"""Which vehicle count a day's ratio divides by (R03).

Vehicle counts are year-end statistics (保有量 at 31 December). A ratio or a vehicle count
on a day uses the stock known on that day: the latest year end that has passed. On 30 June
2025 that is end-2024 — the end-2025 figure describes a day still to come, even when it is
already recorded (a plan's projection, or generated data). Every figure that uses it names
the method and the year it took.
"""

from __future__ import annotations

from datetime import date

VEHICLE_STOCK_METHOD = "latest_year_end"
VEHICLE_STOCK_EXPLAIN = (
    "vehicles: the latest year-end count whose year had ended by the day "
    "(on 30 June 2025: end-2024)"
)


def year_end_known(year: int, on: date) -> bool:
    """Whether the year-end count of `year` describes a day on or before `on`."""
    return date(year, 12, 31) <= on


def latest_known_year(on: date) -> int:
    """The latest year whose year-end count stands on day `on`."""
    return on.year if year_end_known(on.year, on) else on.year - 1
