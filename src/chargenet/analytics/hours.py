"""Opening hours ("24/7" or daily local ranges "07:00-22:00,23:00-24:00") as the spans of
time a station is closed: outages then are excluded (NEVI) or not measured (UK)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chargenet.kit.timeutil import DEFAULT_LOCAL_TZ, require_utc

ALWAYS_OPEN = "24/7"


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def open_ranges(opening_hours: str) -> list[tuple[int, int]]:
    """Daily open ranges in minutes after local midnight, merged and sorted."""
    if opening_hours.strip() == ALWAYS_OPEN:
        return [(0, 24 * 60)]
    ranges = []
    for part in opening_hours.split(","):
        first, _, last = part.partition("-")
        a, b = _minutes(first), _minutes(last)
        if b <= a:  # "22:00-06:00" runs past midnight
            ranges += [(a, 24 * 60), (0, b)]
        else:
            ranges.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def closed_windows(
    opening_hours: str, start: datetime, end: datetime, zone: str = DEFAULT_LOCAL_TZ
) -> list[tuple[datetime, datetime]]:
    """The spans within [start, end) when a station with these hours is closed, in UTC."""
    ranges = open_ranges(opening_hours)
    if ranges == [(0, 24 * 60)]:
        return []
    tz = ZoneInfo(zone)
    closed_minutes = []
    reach = 0
    for a, b in ranges:
        if a > reach:
            closed_minutes.append((reach, a))
        reach = max(reach, b)
    if reach < 24 * 60:
        closed_minutes.append((reach, 24 * 60))
    out: list[tuple[datetime, datetime]] = []
    day: date = require_utc(start).astimezone(tz).date() - timedelta(days=1)
    last_day = require_utc(end).astimezone(tz).date()
    while day <= last_day:
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        for a, b in closed_minutes:
            # Wall-clock arithmetic in the zone, so days of 23 or 25 hours come out right.
            lo = _local(midnight, a, tz)
            hi = _local(midnight, b, tz)
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                if out and out[-1][1] == lo:
                    out[-1] = (out[-1][0], hi)
                else:
                    out.append((lo, hi))
        day += timedelta(days=1)
    return out


def _local(midnight: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    if minutes >= 24 * 60:
        next_day = midnight.date() + timedelta(days=1)
        return datetime.combine(next_day, time(0), tzinfo=tz).astimezone(UTC)
    wall = datetime.combine(midnight.date(), time(minutes // 60, minutes % 60), tzinfo=tz)
    return wall.astimezone(UTC)
