"""The monthly report's dates, and how a unit's share of each rule is judged."""

from __future__ import annotations

from datetime import date

from chargenet.analytics.planning.report import (
    PileFigures,
    due_dates,
    region_coverage,
    unit_report,
)
from chargenet.analytics.planning.results import RuleResult, Status


def result(
    kind: str, summary: dict[str, object], by_county: dict[str, dict[str, int]]
) -> RuleResult:
    return RuleResult(
        kind, kind, "R20", "s", "d", 2025, Status.UNMET, summary, [], "", "", by_county
    )


def test_reports_are_due_on_the_3rd_and_the_year_on_10_january() -> None:
    assert due_dates(2025, 6) == (date(2025, 7, 3), None)
    assert due_dates(2025, 12) == (date(2026, 1, 3), date(2026, 1, 10))


def test_a_units_share_of_each_rule() -> None:
    rules = [
        result("area_distance", {}, {"A": {"total": 10, "met": 9}}),
        result(
            "area_presence",
            {"required": 300, "areas": 2670},
            {"A": {"total": 10, "met": 2, "piles": 3}},
        ),
        result("area_average", {"min_average": 5.0}, {"A": {"total": 4, "met": 4, "piles": 20}}),
    ]
    figures = PileFigures(0, 0, 0, 0, 0, 0)
    report = unit_report("A", "甲县", None, False, figures, [], rules)
    assert {k: v["status"] for k, v in report.coverage.items()} == {
        "area_distance": "unmet",
        "area_presence": "counted",  # a city-wide count: no county meets or misses it alone
        "area_average": "met",  # 20 piles over 4 townships
    }
    assert report.flags == ["coverage:area_distance"] and not report.on_track


def test_the_whole_areas_row_is_flagged_by_its_own_rules() -> None:
    """Seed 002 三年行动计划 一: "实现公共充电桩全市152个乡镇（街道）全覆盖，再覆盖300个行政村"
    — the city's own rules: unmet, they flag the city's row. A county's report is not held
    to the city's count of 300 villages."""
    rules = [
        result("area_presence", {"required": 300, "areas": 2670}, {}),
        result("site_count", {"required": 18, "sites": 15}, {}),
    ]
    figures = PileFigures(0, 0, 0, 0, 0, 0)
    city = unit_report("140900", "忻州市", None, False, figures, [], [])
    region_coverage(city, rules, whole_region=True)
    assert city.flags == ["coverage:area_presence", "coverage:site_count"]
    assert not city.on_track
    county = unit_report("140902", "忻府区", None, False, figures, [], [])
    region_coverage(county, rules[:1], whole_region=False)
    assert county.coverage["area_presence"]["status"] == "counted" and county.on_track
