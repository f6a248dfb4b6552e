"""The figures officials read: an area's overview, plan vs actual per county and year, and
one month's figures per county (the monthly report, R16).

Every pile count comes from `StateQueries.pile_count(area, on=day)` — the one pile rule
(R01) — so the dashboard, the report and the API cannot disagree. Counts on past days
hardly change, so they are cached for a while; today's for less.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chargenet.app.queries import AreaBriefRow, AreaDetailRow, AreaRow, StateQueries
from chargenet.core.errors import UnknownReference
from chargenet.core.planning.metrics import Notation
from chargenet.core.planning.vehicles import VEHICLE_STOCK_METHOD, year_end_known
from chargenet.core.registry.piles import PileCount
from chargenet.kit.clock import Clock

# The figures this service composes for views and reports (not rows of a read port).
Row = dict[str, Any]

# Which pile count a "new piles" target is measured against (the targets' definitions).
NEW_PILE_METRICS = {
    "new_public_piles": "public",  # Xinzhou: new public piles built in the year
    "new_charging_piles": "total",  # Liuzhou: all new charging infrastructure in the year
}
PAST_TTL_S = 600.0
TODAY_TTL_S = 30.0


class ProgressProvider(Protocol):
    """Planning's monthly progress rows per county, when that part is present
    (`app/monthly.py:PlanningProgress`)."""

    def monthly_progress(self, area_code: str, year: int, month: int) -> list[Row]: ...


class RatioNotation(Protocol):
    """How the plan governing an area writes its vehicle-to-pile ratio (R03), when planning
    is present (`app/planning.py:PlanningService`)."""

    def ratio_notation(self, area_code: str) -> Notation: ...


class SupervisionProvider(Protocol):
    """Supervision's month per part of an area and for the whole: uptime, alarms,
    zombie cases, stop orders (`app/monthly.py:MonthlySupervision`)."""

    def monthly_supervision(
        self, area: AreaBriefRow, parts: Sequence[AreaBriefRow], year: int, month: int
    ) -> list[Row]: ...


class OrderlyProvider(Protocol):
    """Orderly charging's month for an area and its parts: valley share, peak load,
    demand-response performance (`app/monthly.py:MonthlyOrderly`)."""

    def monthly_orderly(
        self, area: AreaBriefRow, parts: Sequence[AreaBriefRow], year: int, month: int
    ) -> Row | None: ...


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year_s, month_s = text.split("-")
            month = cls(int(year_s), int(month_s))
        except ValueError:
            raise ValueError(f"month {text!r}: use YYYY-MM, e.g. 2025-05") from None
        if not (1 <= month.month <= 12 and 1990 <= month.year <= 2100):
            raise ValueError(f"month {text!r} out of range")
        return month

    @classmethod
    def before(cls, today: date) -> Month:
        """The last whole month before `today`'s: the one a monthly report is asked for."""
        first = today.replace(day=1) - timedelta(days=1)
        return cls(first.year, first.month)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def ratio(vehicles: int | None, piles: int) -> float | None:
    """Vehicles per pile, one decimal; None when either side is missing."""
    if vehicles is None or piles <= 0:
        return None
    return round(vehicles / piles, 1)


def share(done: int, target: Decimal | float | None) -> float | None:
    if target is None or float(target) <= 0:
        return None
    return round(100.0 * done / float(target), 1)


class Figures:
    def __init__(
        self,
        queries: StateQueries,
        clock: Clock,
        zone: str = "Asia/Shanghai",
        notation: RatioNotation | None = None,
    ) -> None:
        self.queries = queries
        self.clock = clock
        self.zone = ZoneInfo(zone)
        self.notation = notation
        self._cache: dict[tuple[str, date | None], tuple[float, PileCount]] = {}
        self._lock = threading.Lock()

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def piles(self, area_code: str, on: date | None = None) -> PileCount:
        """Piles in service in an area at the end of day `on` (now when None), cached."""
        now = self.clock.now().timestamp()
        key = (area_code, on)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        count = self.queries.pile_count(area_code=area_code, on=on)
        ttl = TODAY_TTL_S if on is None or on >= self.today() else PAST_TTL_S
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = (now + ttl, count)
        return count

    def area(self, code: str) -> AreaDetailRow:
        row = self.queries.area(code)
        if row is None:
            raise UnknownReference("area", code)
        return row

    def parts(self, code: str) -> list[AreaRow]:
        """The areas one level down (a city's counties), by code."""
        rows, _ = self.queries.areas(parent=code, limit=10_000)
        return rows

    @staticmethod
    def vehicles(area: AreaDetailRow, on: date) -> tuple[int | None, int | None]:
        """(EV count, its year) known on day `on`: the latest year-end figure whose year
        had ended by then (VEHICLE_STOCK_METHOD). A June ratio divides by last year's
        end, not by the year-end stock that does not exist yet."""
        known = [
            s
            for s in area["statistics"]
            if s["ev_count"] is not None and year_end_known(s["year"], on)
        ]
        if not known:
            return None, None
        latest = max(known, key=lambda s: s["year"])
        return latest["ev_count"], latest["year"]

    def written(self, area_code: str, per_pile: float | None) -> Row:
        """EVs per public pile as the area's plan writes it ("1 : 4.8" where the plan says
        "1:6"), and that notation; "N : 1" where no plan says otherwise."""
        notation = (
            self.notation.ratio_notation(area_code) if self.notation else Notation.VEHICLES_FIRST
        )
        return {
            "ev_per_public_pile_written": notation.write(per_pile),
            "ratio_notation": notation.value,
        }

    # --- the overview -------------------------------------------------------------------------

    def overview(self, code: str) -> Row:
        area = self.area(code)
        piles = PileCount(**area["piles"])
        evs, ev_year = self.vehicles(area, self.today())
        return {
            "area": _brief(area),
            "piles": area["piles"],
            "stations": area["stations"],
            "status": area["status"],
            "connectors": sum(area["status"].values()),
            "ev_count": evs,
            "ev_year": ev_year,
            "ev_method": VEHICLE_STOCK_METHOD,
            "ev_per_public_pile": ratio(evs, piles.public),
            **self.written(code, ratio(evs, piles.public)),
            "ev_per_pile": ratio(evs, piles.total),
        }

    # --- plan vs actual -----------------------------------------------------------------------

    def plan(self, code: str) -> Row:
        """Per part of the area (county) and year: the new-pile target and what was built."""
        parts = self.parts(code)
        targets: dict[str, dict[str, dict[int, Decimal]]] = {}
        for part in parts:
            for t in self.queries.targets(part["code"], on=self.today()):
                if t["metric"] in NEW_PILE_METRICS and t["month"] is None:
                    targets.setdefault(t["metric"], {}).setdefault(part["code"], {})[t["year"]] = (
                        Decimal(t["value"])
                    )
        if not targets:
            return {"area": _brief(self.area(code)), "metric": None, "years": [], "rows": []}
        metric = max(targets, key=lambda m: len(targets[m]))
        kind = NEW_PILE_METRICS[metric]
        by_part = targets[metric]
        years = sorted({y for values in by_part.values() for y in values})
        this_year = self.today().year
        rows = []
        for part in parts:
            planned = by_part.get(part["code"], {})
            actual: dict[int, int] = {}
            for year in years:
                if year > this_year:
                    continue
                end = None if year == this_year else date(year, 12, 31)
                after = getattr(self.piles(part["code"], end), kind)
                before = getattr(self.piles(part["code"], date(year - 1, 12, 31)), kind)
                actual[year] = after - before
            rows.append(
                {
                    **_brief(part),
                    "target": {str(y): float(v) for y, v in sorted(planned.items())},
                    "actual": {str(y): n for y, n in actual.items()},
                }
            )
        return {
            "area": _brief(self.area(code)),
            "metric": metric,
            "counts": kind,
            "years": years,
            "rows": rows,
        }

    # --- one month ----------------------------------------------------------------------------

    def month(
        self,
        code: str,
        month: Month,
        progress: ProgressProvider | None = None,
        supervision: SupervisionProvider | None = None,
        orderly: OrderlyProvider | None = None,
    ) -> Row:
        """A month's figures for the area and each part of it (the monthly report), with
        planning's progress, supervision's and orderly charging's figures when those are
        given."""
        today = self.today()
        end = month.last_day if month.last_day < today else None
        prev_end = month.first_day - timedelta(days=1)
        year_start = date(month.year - 1, 12, 31)
        area = self.area(code)
        parts = self.parts(code)
        rows = [
            self._month_row(self.area(p["code"]), month, end, prev_end, year_start) for p in parts
        ]
        total = self._month_row(area, month, end, prev_end, year_start)
        if total["year_target"] is None and any(r["year_target"] for r in rows):
            # No target for the area itself: its parts' targets add up to it.
            total["target_metric"] = next(r["target_metric"] for r in rows if r["target_metric"])
            total["year_target"] = sum(r["year_target"] or 0 for r in rows)
            total["ytd_against_target"] = sum(r["ytd_against_target"] for r in rows)
            total["target_done_percent"] = share(total["ytd_against_target"], total["year_target"])
        extra = progress.monthly_progress(code, month.year, month.month) if progress else None
        oversight = (
            supervision.monthly_supervision(
                _brief(area), [_brief(p) for p in parts], month.year, month.month
            )
            if supervision
            else None
        )
        grid = (
            orderly.monthly_orderly(
                _brief(area), [_brief(p) for p in parts], month.year, month.month
            )
            if orderly
            else None
        )
        return {
            "area": _brief(area),
            "month": str(month),
            "as_of": (end or today).isoformat(),
            "complete": end is not None,
            "rows": rows,
            "total": total,
            "progress": extra,
            "supervision": oversight,
            "orderly": grid,
        }

    def _month_row(
        self,
        area: AreaDetailRow,
        month: Month,
        end: date | None,
        prev_end: date,
        year_start: date,
    ) -> Row:
        code = area["code"]
        at_end = self.piles(code, end)
        at_prev = self.piles(code, prev_end)
        at_year_start = self.piles(code, year_start)
        day = end or self.today()
        evs, ev_year = self.vehicles(area, day)
        target_metric, target = self._year_target(code, month.year, day)
        kind = NEW_PILE_METRICS.get(target_metric or "", "public")
        ytd = getattr(at_end, kind) - getattr(at_year_start, kind)
        return {
            **_brief(area),
            "piles": asdict(at_end),
            "new_piles": at_end.total - at_prev.total,
            "new_public_piles": at_end.public - at_prev.public,
            "new_fast_piles": at_end.fast - at_prev.fast,
            "ytd_new_public_piles": at_end.public - at_year_start.public,
            "ytd_new_piles": at_end.total - at_year_start.total,
            "ev_count": evs,
            "ev_year": ev_year,
            "ev_method": VEHICLE_STOCK_METHOD,
            "ev_per_public_pile": ratio(evs, at_end.public),
            **self.written(code, ratio(evs, at_end.public)),
            "target_metric": target_metric,
            "year_target": float(target) if target is not None else None,
            "ytd_against_target": ytd,
            "target_done_percent": share(ytd, target),
        }

    def _year_target(self, code: str, year: int, on: date) -> tuple[str | None, Decimal | None]:
        """The area's new-pile target for the year, as in force on `on` (R16)."""
        for t in self.queries.targets(code, on=on):
            if t["metric"] in NEW_PILE_METRICS and t["year"] == year and t["month"] is None:
                return t["metric"], Decimal(t["value"])
        return None, None


def _brief(area: AreaBriefRow) -> AreaBriefRow:
    return AreaBriefRow(
        code=area["code"], level=area["level"], name_zh=area["name_zh"], name_en=area["name_en"]
    )
