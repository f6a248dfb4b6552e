"""What officials and the grid are shown about orderly charging, on hand-made worlds with
answers worked out by hand (tests/orderly_world.py): load against the limit with the
demand-response events, each event's measured shed against what it asked for, and the
load that could be shed or shifted in the next hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from chargenet.bootstrap import Platform
from chargenet.core.events import ChargingNeedsStated, Event, SessionStarted
from chargenet.core.ids import ConnectorId, SessionId
from chargenet.kit.clock import FixedClock
from tests.builders import Meta, meta
from tests.orderly_world import (
    EVENT_END,
    EVENT_START,
    LOCAL,
    _session,
    grid_world,
)


@pytest.fixture
def world(platform: Platform) -> Platform:
    platform.orderly.clock = FixedClock(datetime(2026, 12, 1, 10, tzinfo=LOCAL))
    outcomes = platform.ingestor.ingest(grid_world())
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    return platform


def test_an_events_shed_is_measured_against_the_10_in_10_baseline(world: Platform) -> None:
    rows = world.orderly_figures.dr_performance(
        datetime(2026, 11, 1, tzinfo=LOCAL), datetime(2026, 12, 1, tzinfo=LOCAL), "140900"
    )
    by_id = {r["dr_id"]: r for r in rows}
    event = by_id["DR-25"]
    assert event["stations"] == 1 and event["limit_w"] == 100_000
    assert event["target_w"] == 30_000
    # The 10 weekdays before it without an event drew 60 kW; the event day of the 18th
    # (100 kW) and the weekends (5 kW) are not among them.
    assert event["baseline_w"] == 60_000
    assert event["measured_w"] == 20_000
    assert event["requested_shed_w"] == 30_000
    assert event["measured_shed_w"] == 40_000
    assert event["performance_percent"] == pytest.approx(133.3)
    # On the 18th the site drew more than its baseline: a negative shed, said as it is.
    assert by_id["DR-18"]["measured_shed_w"] == 60_000 - 100_000


def test_the_load_curve_shows_the_limit_the_event_and_the_load_under_it(
    world: Platform,
) -> None:
    curve = world.orderly_figures.load_curve(
        EVENT_START - timedelta(hours=1), EVENT_END + timedelta(hours=1), station="S1"
    )
    points = {p["at"].astimezone(LOCAL).time(): p for p in curve["points"]}
    assert len(points) == 12
    assert points[time(17, 45)] == {
        "at": points[time(17, 45)]["at"],
        "load_w": 0,
        "limit_w": 100_000,
        "dr_limit_w": None,
    }
    assert points[time(18, 0)]["load_w"] == 20_000
    assert points[time(18, 0)]["dr_limit_w"] == 30_000
    assert points[time(18, 45)]["dr_limit_w"] == 30_000
    assert points[time(19, 0)]["dr_limit_w"] is None
    assert [e["dr_id"] for e in curve["dr_events"]] == ["DR-25"]
    assert curve["peak_w"] == 20_000
    # The area adds S2 (50 kW more limit); a month's valley share counts the night session.
    area = world.orderly_figures.load_curve(
        datetime(2026, 11, 1, tzinfo=LOCAL), datetime(2026, 12, 1, tzinfo=LOCAL), "140900"
    )
    assert area["points"][0]["limit_w"] == 150_000
    assert area["peak_w"] == 140_000
    assert area["peak_at"] == datetime(2026, 11, 18, 18, tzinfo=LOCAL)
    assert area["valley_share"] == pytest.approx(20 / 30, abs=1e-3)


def _arrivals_at_s2(now: datetime) -> list[Event]:
    """Two sessions began at S2 at 11:10 on each of the 10 weekdays before `now`, each
    20 kWh in 2 h: the site's history of arrivals."""
    events: list[Event] = []
    day, found = now.date(), 0
    while found < 10:
        day -= timedelta(days=1)
        if day.weekday() >= 5:
            continue
        found += 1
        begin = datetime.combine(day, time(11, 10), LOCAL)
        events += _session(f"A{day}-1", "C2-1-1", begin, 2, 20_000)
        events += _session(f"A{day}-2", "C2-2-1", begin, 2, 20_000)
    return events


def test_flexibility_counts_what_sessions_can_defer_and_what_arrivals_will_bring(
    platform: Platform,
) -> None:
    now = datetime(2026, 11, 26, 10, tzinfo=LOCAL)  # a Thursday
    platform.orderly.clock = FixedClock(now)
    outcomes = platform.ingestor.ingest(
        [
            *grid_world(),
            *_arrivals_at_s2(now),
            SessionStarted(
                **_at(now),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            ),
            # 210 kWh in 4 h at up to 60 kW: full power for 3.5 h, 30 kWh of slack.
            ChargingNeedsStated(
                **_at(now),
                session_id=SessionId("T1"),
                energy_wh=210_000,
                departure_at=now + timedelta(hours=4),
            ),
        ]
    )
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    hours = platform.orderly_figures.flexibility("140900", hours=5)["hours"]
    # T1 draws 60, 60, 60, 30 kW; any hour's 30 kW could move to later. Two arrivals are
    # expected at S2 in the 11:00 hour (at 40 kW, 20 kWh, 2 h: 20 kW each in that hour,
    # all of it deferrable).
    assert [round(h["expected_w"]) for h in hours] == [60_000, 100_000, 60_000, 30_000, 0]
    assert [round(h["flexible_w"]) for h in hours] == [30_000, 70_000, 30_000, 30_000, 0]
    assert [round(h["from_arrivals_w"]) for h in hours] == [0, 40_000, 0, 0, 0]
    assert hours[0]["start"] == now.astimezone(hours[0]["start"].tzinfo)
    only_s1 = platform.orderly_figures.flexibility(station="S1", hours=2)["hours"]
    assert [h["flexible_w"] for h in only_s1] == [30_000, 30_000]


def _at(when: datetime) -> Meta:
    return meta(when)


def test_no_baseline_day_means_a_baseline_of_nothing() -> None:
    from chargenet.analytics.demand_response import baseline_w, similar_days

    monday = date(2026, 11, 23)
    assert similar_days(monday, {date(2026, 11, 20)})[:2] == [
        date(2026, 11, 19),
        date(2026, 11, 18),
    ]
    assert len(similar_days(monday)) == 10
    assert len(similar_days(date(2026, 11, 22))) == 4  # a Sunday: 4 weekend days
    q = datetime(2026, 11, 23, 18, tzinfo=LOCAL)
    assert baseline_w({}, [q], LOCAL) == [0.0]


def test_a_long_event_read_as_a_whole_span_measures_the_same(
    world: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chargenet.app.orderly_figures as figures

    def performance() -> list[dict[str, object]]:
        return world.orderly_figures.dr_performance(
            datetime(2026, 11, 1, tzinfo=LOCAL), datetime(2026, 12, 1, tzinfo=LOCAL)
        )

    listed = performance()
    monkeypatch.setattr(figures, "ONLY_MAX", 0)
    assert performance() == listed
