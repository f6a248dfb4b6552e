"""R16: the monthly progress report of one unit (county, district, planning unit) — what
was built in the month and the year so far, totals, ratio, coverage and on-track flags.
Counties report the previous month by the 3rd, and the previous year by 10 January."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from chargenet.analytics.planning.model import PileRecord
from chargenet.analytics.planning.results import RuleResult, Status
from chargenet.analytics.planning.targets import PlanVsActual, Progress
from chargenet.core.registry.model import Access, PowerType

MONTHLY_DUE_DAY = 3
YEARLY_DUE = (1, 10)


def due_dates(year: int, month: int) -> tuple[date, date | None]:
    """When the month's report is due (the 3rd of the next month), and the year's report
    when this is December (10 January)."""
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    monthly = first_next.replace(day=MONTHLY_DUE_DAY)
    yearly = date(year + 1, *YEARLY_DUE) if month == 12 else None
    return monthly, yearly


@dataclass
class PileFigures:
    new_public_in_month: int
    new_public_year_to_date: int
    new_all_in_month: int
    public_in_service: int
    dc_public_in_service: int
    all_in_service: int


def pile_figures(
    piles: list[PileRecord], area: str, start: date, month_start: date, end: date
) -> PileFigures:
    mine = [p for p in piles if p.in_area(area)]
    public = [p for p in mine if p.access is Access.PUBLIC]
    return PileFigures(
        new_public_in_month=sum(month_start <= p.commissioned <= end for p in public),
        new_public_year_to_date=sum(start <= p.commissioned <= end for p in public),
        new_all_in_month=sum(month_start <= p.commissioned <= end for p in mine),
        public_in_service=sum(p.in_service(end) for p in public),
        dc_public_in_service=sum(
            p.in_service(end) and p.power_type is PowerType.DC for p in public
        ),
        all_in_service=sum(p.in_service(end) for p in mine),
    )


@dataclass
class UnitReport:
    area_code: str
    name_zh: str
    name_en: str | None
    planning_unit: bool  # a pack unit without a GB/T 2260 code
    piles: PileFigures
    targets: list[PlanVsActual]
    coverage: dict[str, dict[str, Any]]  # rule id → {total, met, status}
    flags: list[str] = field(default_factory=list)
    on_track: bool = True


BEHIND = (Progress.BEHIND, Progress.MISSED)


def unit_report(
    area_code: str,
    name_zh: str,
    name_en: str | None,
    planning_unit: bool,
    piles: PileFigures,
    targets: list[PlanVsActual],
    coverage: list[RuleResult],
) -> UnitReport:
    cov: dict[str, dict[str, Any]] = {}
    flags = [f"behind:{t.metric}" for t in targets if t.status in BEHIND]
    flags += [
        f"forecast_short:{t.metric}"
        for t in targets
        if t.status not in BEHIND and t.forecast is not None and t.forecast.meets_target is False
    ]
    for result in coverage:
        row = result.by_county.get(area_code)
        if row is None:
            continue
        status = _unit_status(result, row)
        cov[result.rule_id] = {
            **row,
            "status": status,
            "requirement": result.requirement,
            "description": result.description,
        }
        if status == Status.UNMET.value:
            flags.append(f"coverage:{result.rule_id}")
    return UnitReport(
        area_code, name_zh, name_en, planning_unit, piles, targets, cov, flags, not flags
    )


def region_coverage(report: UnitReport, results: list[RuleResult], whole_region: bool) -> None:
    """The whole area's row: every rule's own summary and status, and a `coverage:` flag
    for each rule the area leaves unmet — city-wide rules (every township, 18 service
    areas, 40 scenic spots, the core's charging distance …) are the city's own to meet.
    An area smaller than the pack's region (one county) is not held to a city-wide count
    ("300 villages"): that count is only `counted` there, as in a county's unit row."""
    report.coverage = {}
    for r in results:
        status = r.status.value
        if not whole_region and _city_wide_count(r):
            status = "counted"
        report.coverage[r.rule_id] = {
            **r.summary,
            "status": status,
            "requirement": r.requirement,
            "description": r.description,
        }
        if status == Status.UNMET.value:
            report.flags.append(f"coverage:{r.rule_id}")
    report.on_track = not report.flags


def _city_wide_count(result: RuleResult) -> bool:
    """A presence rule asking for a number of areas (not every area) across the region."""
    return result.kind == "area_presence" and result.summary.get("required") != result.summary.get(
        "areas"
    )


def _unit_status(result: RuleResult, row: dict[str, Any]) -> str:
    """A rule's status within one unit. A city-wide count ("300 villages") is not met or
    missed by one county: its share is only `counted`."""
    if result.status in (Status.NOT_IN_FORCE, Status.NOT_CHECKABLE):
        return result.status.value
    if result.kind == "area_average":
        average = row.get("piles", 0) / row["total"] if row["total"] else 0.0
        return (Status.MET if average >= result.summary["min_average"] else Status.UNMET).value
    if _city_wide_count(result):
        return "counted"
    return (Status.MET if row["met"] == row["total"] else Status.UNMET).value


def month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return start, end
