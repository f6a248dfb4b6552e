"""Trends over time for the regulator's overview: per month end, the piles in service
(R01), the vehicle-to-pile ratio, uptime over the month (NEVI), alarms raised, zombie
cases and stop orders, and the share of the month's charging energy in the grid's valley
hours (orderly charging's own figure). A finished month does not change, so its point is
computed once; the running month is recomputed after a few minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from chargenet.app.figures import Figures, Month, ratio
from chargenet.app.monthly import MonthlySupervision
from chargenet.app.queries import AreaBriefRow, AreaDetailRow
from chargenet.app.supervision import month_edges

Row = dict[str, Any]
RUNNING_MONTH_TTL_S = 300.0
MAX_MONTHS = 36
# (start, end, area) → the valley share of the energy of sessions ended in [start, end),
# None where nothing was charged or no grid periods are configured.
ValleyShare = Callable[[datetime, datetime, str], float | None]


class Trends:
    def __init__(
        self,
        figures: Figures,
        supervision: MonthlySupervision | None,
        valley_share: ValleyShare | None = None,
    ) -> None:
        self.figures = figures
        self.supervision = supervision
        self.valley_share = valley_share
        self._done: dict[tuple[str, Month], Row] = {}
        self._running: dict[tuple[str, Month], tuple[float, Row]] = {}
        self._lock = threading.Lock()

    def months(self, today: date, count: int) -> list[Month]:
        """The last `count` months up to this one, oldest first."""
        out = []
        year, month = today.year, today.month
        for _ in range(max(1, min(count, MAX_MONTHS))):
            out.append(Month(year, month))
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return out[::-1]

    def trend(self, code: str, count: int = 12) -> Row:
        area = self.figures.area(code)
        today = self.figures.today()
        points = [self._point(area, m, today) for m in self.months(today, count)]
        return {"area": code, "points": points}

    def _point(self, area: AreaDetailRow, month: Month, today: date) -> Row:
        key = (area["code"], month)
        finished = month.last_day < today
        with self._lock:
            if finished and key in self._done:
                return self._done[key]
            hit = self._running.get(key)
            if not finished and hit is not None and hit[0] > time.monotonic():
                return hit[1]
        point = self._compute(area, month, today, finished)
        with self._lock:
            if finished:
                self._done[key] = point
            else:
                self._running[key] = (time.monotonic() + RUNNING_MONTH_TTL_S, point)
        return point

    def _compute(self, area: AreaDetailRow, month: Month, today: date, finished: bool) -> Row:
        end = month.last_day if finished else None
        piles = self.figures.piles(area["code"], end)
        evs, ev_year = self.figures.vehicles(area, month.last_day if finished else today)
        point: Row = {
            "month": str(month),
            "complete": finished,
            "piles": asdict(piles),
            "ev_count": evs,
            "ev_year": ev_year,
            "ev_per_public_pile": ratio(evs, piles.public),
            "nevi_uptime": None,
            "alarms_raised": None,
            "zombies_open": None,
            "stops_in_force": None,
            "valley_share": None,
        }
        if self.valley_share is not None:
            start, end = month_edges(month.year, month.month, 1, str(self.figures.zone))
            point["valley_share"] = self.valley_share(
                start, end if finished else self.figures.clock.now(), area["code"]
            )
        if self.supervision is not None:
            brief = AreaBriefRow(
                code=area["code"],
                level=area["level"],
                name_zh=area["name_zh"],
                name_en=area["name_en"],
            )
            rows = self.supervision.monthly_supervision(brief, [], month.year, month.month)
            whole = rows[-1] if rows else {}
            for key in ("nevi_uptime", "alarms_raised", "zombies_open", "stops_in_force"):
                point[key] = whole.get(key)
        return point
