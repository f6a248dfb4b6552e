"""Opening hours ("24/7" or daily local ranges "07:00-22:00,23:00-24:00") and public hours
(R39) as the spans of time a station is closed or not open to the public: outages then are
excluded (NEVI) or not measured (UK)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chargenet.core.registry import public_hours
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
        for a, b in closed_minutes:
            # Wall-clock arithmetic in the zone, so days of 23 or 25 hours come out right.
            lo = _wall(day, a, tz)
            hi = _wall(day, b, tz)
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                if out and out[-1][1] == lo:
                    out[-1] = (out[-1][0], hi)
                else:
                    out.append((lo, hi))
        day += timedelta(days=1)
    return out


def _wall(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time `minutes` after `day`'s midnight (may be on a
    following day). A wall time a spring-forward skips is read with the offset before the
    gap (zoneinfo's fold=0), so it lands just after the gap."""
    days, rest = divmod(minutes, 24 * 60)
    wall = datetime.combine(day + timedelta(days=days), time(rest // 60, rest % 60), tzinfo=tz)
    return wall.astimezone(UTC)


# --- public hours (R39): when a station is open to the public --------------------------------


def public_windows(
    hours: str, start: datetime, end: datetime, zone: str = DEFAULT_LOCAL_TZ
) -> list[tuple[datetime, datetime]]:
    """The spans within [start, end) when a station with these public hours
    (`core.registry.public_hours`) is open to the public, merged, in UTC."""
    rules = public_hours.parse(hours)
    tz = ZoneInfo(zone)
    start, end = require_utc(start), require_utc(end)
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    spans: list[tuple[datetime, datetime]] = []
    while day <= last:
        for a, b in public_hours.spans_of_day(rules, day):
            lo, hi = max(_wall(day, a, tz), start), min(_wall(day, b, tz), end)
            if lo < hi:
                spans.append((lo, hi))
        day += timedelta(days=1)
    return _merged(spans)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _complement(
    spans: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    out = []
    reach = start
    for lo, hi in spans:
        if lo > reach:
            out.append((reach, lo))
        reach = max(reach, hi)
    if reach < end:
        out.append((reach, end))
    return out


def not_serving_windows(
    opening_hours: str,
    public: str | None,
    start: datetime,
    end: datetime,
    zone: str = DEFAULT_LOCAL_TZ,
) -> list[tuple[datetime, datetime]]:
    """When a station does not serve the public within [start, end), in UTC: outside its
    opening hours, and, when it states public hours, outside those. Both are "hours
    outside the identified hours of operation" for NEVI (23 CFR 680.116(b)(3)(vi)) and
    the "specific hours" a UK charge point may be accessed (PCPR 2023 reg. 7(5))."""
    spans = closed_windows(opening_hours, start, end, zone)
    if public:
        start, end = require_utc(start), require_utc(end)
        spans += _complement(public_windows(public, start, end, zone), start, end)
    return _merged(spans)
