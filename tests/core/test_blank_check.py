"""The checks every stored event is asked, spelled out for speed, say what the plain ones
say: `_blank` (the meter values' and status reports' one field) what `_empty` says, for
any text and None; `Event.problems`'s time zone test what `_aware` says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargenet.core.events.base import _aware, _blank, _empty
from tests.adapters.test_codec import SAMPLES

_SPACEY = st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000ax\x00"), max_size=6)


@given(st.one_of(st.none(), _SPACEY, st.text(max_size=8)))
def test_blank_says_what_empty_says(value: str | None) -> None:
    assert _blank("connector_id", value) == _empty(connector_id=value)


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


@pytest.mark.parametrize(
    "tz", [UTC, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai"), None, _NoOffset()]
)
def test_times_are_asked_to_be_aware_as_aware_says(tz: tzinfo | None) -> None:
    """`Event.problems` asks UTC without a call; every time zone is judged as `_aware`
    judges it."""
    at = datetime(2026, 5, 1, 8, 0, tzinfo=tz)
    event = dataclasses.replace(SAMPLES[0], occurred_at=at, received_at=at)
    said = [p for p in event.problems() if "timezone-aware" in p]
    assert said == _aware(occurred_at=at, received_at=at)
