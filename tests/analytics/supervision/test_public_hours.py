"""Public hours (R39): the written rule, open now across midnight, what a driver reads, and
the UTC spans in Asia/Shanghai (no DST) and in a zone with DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargenet.analytics.supervision.hours import not_serving_windows, public_windows
from chargenet.core.registry import public_hours as ph

OFF_HOURS = "Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00; Mo 00:00-08:00"


@pytest.mark.parametrize(
    ("wall", "open_"),
    [
        (datetime(2025, 6, 4, 17, 59), False),  # Wednesday, before the evening
        (datetime(2025, 6, 4, 18, 0), True),
        (datetime(2025, 6, 4, 23, 59), True),
        (datetime(2025, 6, 5, 0, 0), True),  # past midnight: Wednesday's rule still
        (datetime(2025, 6, 5, 7, 59), True),
        (datetime(2025, 6, 5, 8, 0), False),  # the office's day
        (datetime(2025, 6, 7, 12, 0), True),  # Saturday
        (datetime(2025, 6, 9, 7, 0), True),  # Monday morning, by its own rule
        (datetime(2025, 6, 9, 9, 0), False),
    ],
)
def test_open_now_follows_the_rule_across_midnight(wall: datetime, open_: bool) -> None:
    assert ph.open_at(ph.parse(OFF_HOURS), wall) is open_


def test_without_its_own_rule_monday_morning_is_closed() -> None:
    """A range belongs to the day it starts on: Sunday's whole day ends at midnight."""
    hours = ph.parse("Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00")
    assert ph.open_at(hours, datetime(2025, 6, 9, 7, 0)) is False
    assert ph.open_at(hours, datetime(2025, 6, 7, 7, 0)) is True  # Friday night into Saturday


def test_what_a_driver_reads_in_english_and_chinese() -> None:
    every_day = ph.parse("18:00-08:00")
    assert ph.label(every_day, "en") == "open to the public 18:00–08:00"
    assert ph.label(every_day, "zh") == "对外开放 18:00–08:00"
    week = ph.parse("Mo-Fr 18:00-08:00; Sa,Su 00:00-24:00")
    assert ph.label(week, "en") == "open to the public Mon–Fri 18:00–08:00; Sat–Sun all day"
    assert ph.label(week, "zh") == "对外开放 周一至周五 18:00–08:00；周六至周日 全天"
    assert ph.label(ph.parse("24/7"), "zh") == "全天对外开放"


@pytest.mark.parametrize("bad", ["", "18-08", "Xx 18:00-08:00", "Mo-Fr 25:00-08:00", "Mo;"])
def test_what_does_not_parse_says_how_to_write_it(bad: str) -> None:
    assert ph.problems(bad)


def test_spans_in_shanghai_cross_midnight_and_the_week() -> None:
    # Friday 6 June 2025 12:00 to Monday 9 June 12:00, Shanghai (UTC+8 all year).
    start = datetime(2025, 6, 6, 4, tzinfo=UTC)
    end = datetime(2025, 6, 9, 4, tzinfo=UTC)
    spans = public_windows(OFF_HOURS, start, end, "Asia/Shanghai")
    # Friday 18:00 to Monday 08:00 local is one span (Fr evening, the weekend, Mo morning).
    assert spans == [(datetime(2025, 6, 6, 10, tzinfo=UTC), datetime(2025, 6, 9, 0, tzinfo=UTC))]
    closed = not_serving_windows("24/7", OFF_HOURS, start, end, "Asia/Shanghai")
    assert closed == [(start, spans[0][0]), (spans[0][1], end)]
    # No public hours: only the opening hours close it.
    assert not_serving_windows("24/7", None, start, end, "Asia/Shanghai") == []


def test_spans_keep_wall_clock_hours_on_the_nights_clocks_change() -> None:
    """18:00–08:00 in New York is 13 hours the night clocks go forward, 15 the night they
    go back: the rule is wall-clock time."""
    zone = "America/New_York"

    def night(day: datetime) -> timedelta:
        [(lo, hi)] = public_windows("18:00-08:00", day, day + timedelta(hours=24), zone)
        return hi - lo

    # Noon local on the Saturdays before the changes (EST = UTC−5, EDT = UTC−4).
    assert night(datetime(2025, 3, 8, 17, tzinfo=UTC)) == timedelta(hours=13)
    assert night(datetime(2025, 11, 1, 16, tzinfo=UTC)) == timedelta(hours=15)
    assert night(datetime(2025, 6, 7, 16, tzinfo=UTC)) == timedelta(hours=14)
