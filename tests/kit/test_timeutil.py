from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from chargenet.kit.timeutil import isoformat_z, local_midnight_utc, parse_instant, to_local


def test_local_time_only_at_the_edges() -> None:
    instant = datetime(2025, 5, 31, 16, 30, tzinfo=UTC)
    assert to_local(instant).isoformat() == "2025-06-01T00:30:00+08:00"
    assert local_midnight_utc(date(2025, 6, 1)) == datetime(2025, 5, 31, 16, 0, tzinfo=UTC)
    assert isoformat_z(instant) == "2025-05-31T16:30:00Z"


def test_a_time_without_offset_is_refused_unless_a_zone_is_named() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant("2025-05-01T08:00:00")
    assert parse_instant("2025-05-01T08:00:00", ZoneInfo("Asia/Shanghai")) == datetime(
        2025, 5, 1, 0, 0, tzinfo=UTC
    )
    assert parse_instant("2025-05-01T08:00:00Z").tzinfo is UTC


def test_a_clock_may_run_five_minutes_fast_and_no_more() -> None:
    from datetime import timedelta

    from chargenet.kit.timeutil import runs_ahead

    now = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
    assert not runs_ahead(now + timedelta(minutes=5), now)
    assert runs_ahead(now + timedelta(minutes=5, seconds=1), now)
    assert not runs_ahead(now - timedelta(days=365), now)  # late is not "ahead"
