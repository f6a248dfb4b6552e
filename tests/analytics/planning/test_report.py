"""The monthly report's dates, and how a unit's share of each rule is judged."""

from __future__ import annotations

from datetime import date

from chargenet.analytics.planning.report import PileFigures, due_dates, unit_report
from chargenet.analytics.planning.results import RuleResult, Status


def result(
    kind: str, summary: dict[str, object], by_county: dict[str, dict[str, int]]
) -> RuleResult:
    return RuleResult(
        kind, kind, "R20", "s", "d", 2025, Status.UNMET, summary, [], "", "", by_county
    )  # type: ignore[arg-type]


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
