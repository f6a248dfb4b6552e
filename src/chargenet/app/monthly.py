"""What the monthly report (R16) takes from planning and supervision,
flattened into the rows its sheets and tables show (`adapters/reports/`):

- `PlanningProgress` (a `figures.ProgressProvider`): planning's monthly progress per
  county — new piles, the year's new-pile target and how far it is, status and forecast,
  village coverage, on-track flags — and the whole area as a total row;
- `MonthlySupervision` (a `figures.SupervisionProvider`): per part of the area and for the
  whole, NEVI uptime and UK reliability over the month (up to now while it runs), hours
  faulted and offline, and the alarms, zombie cases and stop orders raised in the month
  and still open at its end;
- `MonthlyOrderly` (a `figures.OrderlyProvider`): orderly charging's month — valley share
  per part of the area and per operator, peak load per part and per managed site, and
  each demand-response event's requested and measured shed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict
from zoneinfo import ZoneInfo

from chargenet.app.figures import NEW_PILE_METRICS
from chargenet.app.orderly_figures import OrderlyFigures
from chargenet.app.planning import PlanningService
from chargenet.app.queries import AreaBriefRow
from chargenet.app.supervision import SupervisionService, month_start
from chargenet.app.supervision_ports import Scope
from chargenet.kit.timeutil import require_utc

Row = dict[str, Any]


class OversightCountsRow(TypedDict):
    """An area's month of oversight: raised in the month, and open at its end."""

    alarms_raised: int
    alarms_open: int
    zombies_opened: int
    zombies_open: int
    stops_issued: int
    stops_in_force: int


NOTHING_COUNTED = OversightCountsRow(
    alarms_raised=0,
    alarms_open=0,
    zombies_opened=0,
    zombies_open=0,
    stops_issued=0,
    stops_in_force=0,
)


class OversightCounts(Protocol):
    def oversight_counts(
        self, area_code: str, level: str, start: datetime, end: datetime
    ) -> dict[str, OversightCountsRow]:
        """Per area of `level` inside `area_code`: alarms, zombie cases, stop orders raised
        in [start, end) and open at `end`; an area with none of them is left out."""
        ...


# --- planning -----------------------------------------------------------------------------


def _pile_target(unit: Row) -> Row | None:
    return next(
        (t for t in unit["targets"] if t["metric"] in NEW_PILE_METRICS and t["month"] is None),
        None,
    )


def progress_row(unit: Row) -> Row:
    """One unit of planning's progress report as a flat row."""
    piles = unit["piles"]
    target = _pile_target(unit)
    village = unit.get("coverage", {}).get("village_distance") or {}
    forecast = (target or {}).get("forecast") or {}
    progress = (target or {}).get("progress")
    return {
        "code": unit["area_code"],
        "name_zh": unit["name_zh"],
        "name_en": unit.get("name_en"),
        "planning_unit": unit.get("planning_unit", False),
        "new_public_in_month": piles["new_public_in_month"],
        "new_public_ytd": piles["new_public_year_to_date"],
        "public_in_service": piles["public_in_service"],
        "dc_public_in_service": piles["dc_public_in_service"],
        "target_metric": target["metric"] if target else None,
        "year_target": target["target"] if target else None,
        "target_actual": target["actual"] if target else None,
        "progress_percent": round(100 * progress, 1) if progress is not None else None,
        "status": target["status"] if target else None,
        "forecast": forecast.get("value"),
        "forecast_method": forecast.get("method"),
        # A unit's counts say "met"/"total"; the region's own summary "within"/"points".
        "villages_within": village.get("met", village.get("within")),
        "villages": village.get("total", village.get("points")),
        "on_track": unit.get("on_track"),
        "flags": list(unit.get("flags", ())),
        # What each coverage flag is about, in the pack's own words.
        "flag_subjects": {
            f"coverage:{rule}": c["description"]
            for rule, c in unit.get("coverage", {}).items()
            if c.get("description")
        },
    }


class PlanningProgress:
    def __init__(self, planning: PlanningService) -> None:
        self.planning = planning

    def monthly_progress(self, area_code: str, year: int, month: int) -> list[Row]:
        body = self.planning.progress(area_code, year, month)
        rows = [progress_row(u) for u in body["units"]]
        if [r["code"] for r in rows] == [area_code]:
            return rows  # a county's report is its one unit: no total repeating it
        return [*rows, {**progress_row(body["region"]), "total": True}]


# --- supervision --------------------------------------------------------------------------


def uptime_figures(row: Row | None) -> Row:
    """The month's uptime of a group, blank where no status was reported at all (NEVI
    would count such a month as one long outage, which says nothing about the piles)."""
    if row is None or (row["uk_up_hours"] + row["uk_down_hours"]) == 0:
        return {
            "connectors": row["connectors"] if row else 0,
            "nevi_uptime": None,
            "uk_reliability": None,
            "ports_meeting_nevi": None,
            "faulted_hours": None,
            "offline_hours": None,
        }
    return {
        "connectors": row["connectors"],
        "nevi_uptime": row["nevi_uptime"],
        "uk_reliability": row["uk_reliability"],
        "ports_meeting_nevi": row["ports_meeting_nevi"],
        "faulted_hours": row["faulted_hours"],
        "offline_hours": row["offline_hours"],
    }


def month_period(
    year: int, month: int, zone: str, now: datetime
) -> tuple[datetime, datetime] | None:
    """The month in UTC, cut at now while it runs; None before it begins."""
    start = require_utc(month_start(year, month, zone))
    following = month_start(year + month // 12, month % 12 + 1, zone)
    end = min(require_utc(following), now)
    return (start, end) if start < end else None


class MonthlySupervision:
    def __init__(self, service: SupervisionService, counts: OversightCounts, zone: str) -> None:
        self.service = service
        self.counts = counts
        self.zone = zone

    def period(self, year: int, month: int) -> tuple[datetime, datetime] | None:
        return month_period(year, month, self.zone, self.service.clock.now())

    def monthly_supervision(
        self, area: AreaBriefRow, parts: Sequence[AreaBriefRow], year: int, month: int
    ) -> list[Row]:
        """One row per part of `area` (brief rows: code, level, names) and a total row."""
        period = self.period(year, month)
        if period is None:
            return []
        start, end = period
        per_part = (
            self.counts.oversight_counts(area["code"], parts[0]["level"], start, end)
            if parts
            else {}
        )
        whole = self.counts.oversight_counts(area["code"], area["level"], start, end)
        out = []
        for part, counts, total in [
            *((p, per_part.get(p["code"], NOTHING_COUNTED), False) for p in parts),
            (area, whole.get(area["code"], NOTHING_COUNTED), True),
        ]:
            measured = self.service.uptime(Scope(area=part["code"]), start, end, "all")
            out.append(
                {
                    "code": part["code"],
                    "name_zh": part["name_zh"],
                    "name_en": part["name_en"],
                    **uptime_figures(measured[0] if measured else None),
                    **counts,
                    **({"total": True} if total else {}),
                }
            )
        return out


# --- orderly charging ---------------------------------------------------------------------


class MonthlyOrderly:
    def __init__(self, figures: OrderlyFigures, zone: str) -> None:
        self.figures = figures
        self.zone = zone

    def monthly_orderly(
        self, area: AreaBriefRow, parts: Sequence[AreaBriefRow], year: int, month: int
    ) -> Row | None:
        period = month_period(year, month, self.zone, self.figures.orderly.clock.now())
        if period is None:
            return None
        rows = self.figures.monthly_orderly(area, parts, *period)
        if not (rows["peak_sites"] or rows["dr_events"] or rows["valley_operators"]):
            return None  # no managed station, no event, nothing charged: no sheets
        zone = ZoneInfo(self.zone)
        # Times as the officials' clock reads them (the report's cells are text).
        return {
            key: [
                {
                    k: f"{v.astimezone(zone):%Y-%m-%d %H:%M}" if isinstance(v, datetime) else v
                    for k, v in row.items()
                }
                for row in table
            ]
            for key, table in rows.items()
        }
