"""Newest report wins: the one recency rule for status and presence (core/status.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.core.status import ConnectorStatus, Held, newest_report, superseded

T = datetime(2025, 5, 1, tzinfo=UTC)
A, F = ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED


def t(minute: int) -> datetime:
    return T + timedelta(minutes=minute)


def fold(
    reports: list[tuple[int, ConnectorStatus]],
) -> Held[ConnectorStatus] | None:
    held: Held[ConnectorStatus] | None = None
    for minute, status in reports:
        now = newest_report(
            held.value if held else None,
            held.since if held else None,
            held.as_of if held else None,
            status,
            t(minute),
        )
        held = now or held
    return held


def test_a_late_report_older_than_a_newer_repeat_loses() -> None:
    assert fold([(10, A), (30, A), (20, F)]) == Held(A, t(10), t(30))


def test_a_late_report_older_than_everything_held_loses() -> None:
    assert newest_report(A, t(10), t(10), F, t(5)) is None


def test_a_repeat_keeps_when_the_status_began() -> None:
    assert newest_report(A, t(10), t(20), A, t(30)) == Held(A, t(10), t(30))


def test_a_change_starts_anew() -> None:
    assert newest_report(A, t(10), t(20), F, t(30)) == Held(F, t(30), t(30))


def test_at_one_instant_the_report_applied_last_stands() -> None:
    assert fold([(10, A), (10, F)]) == Held(F, t(10), t(10))
    assert fold([(10, F), (10, A)]) == Held(A, t(10), t(10))


def test_the_same_report_again_changes_nothing() -> None:
    assert fold([(10, F), (20, A), (20, A)]) == fold([(10, F), (20, A)]) == Held(A, t(20), t(20))


def test_the_first_report_wins_and_a_value_without_a_start_starts_anew() -> None:
    assert newest_report(None, None, None, F, t(5)) == Held(F, t(5), t(5))
    # a charger registered offline has no presence report yet: the first one starts it
    assert newest_report(False, None, None, False, t(5)) == Held(False, t(5), t(5))


def test_a_state_kept_before_as_of_was_kept_is_as_of_its_start() -> None:
    assert newest_report(A, t(10), None, F, t(5)) is None
    assert newest_report(A, t(10), None, F, t(10)) == Held(F, t(10), t(10))


def test_late_means_strictly_older() -> None:
    assert superseded(t(10), t(9))
    assert not superseded(t(10), t(10))
    assert not superseded(None, t(10))


reports = st.lists(
    st.tuples(st.integers(0, 1_000), st.sampled_from(list(ConnectorStatus))),
    min_size=1,
    max_size=12,
    unique_by=lambda r: r[0],
)


@settings(max_examples=200, deadline=None)
@given(reports, st.randoms(use_true_random=False))
def test_whatever_the_order_of_arrival_the_newest_report_stands(
    sent: list[tuple[int, ConnectorStatus]], rnd: random.Random
) -> None:
    """With distinct times, any arrival order ends on the newest report's status, as of
    its time."""
    arrived = list(sent)
    rnd.shuffle(arrived)
    newest = max(sent)
    held = fold(arrived)
    assert held is not None
    assert (held.value, held.as_of) == (newest[1], t(newest[0]))
    # Since when: the start of the newest run of equal statuses among those applied.
    in_order = fold(sorted(sent))
    assert in_order is not None
    run_start = newest[0]
    for minute, status in sorted(sent, reverse=True):
        if status is not newest[1]:
            break
        run_start = minute
    assert in_order.since == t(run_start)
