"""Public hours (R39): when a station is open to the public — an institution's own
chargers opened to everyone after work and at weekends (错时开放), or a car park's hours.

Written as rules separated by ";", each optional days and one or more daily ranges:

    Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00; Mo 00:00-08:00
    18:00-08:00                       (every day)
    24/7

Days are Mo Tu We Th Fr Sa Su, as ranges ("Mo-Fr", "Sa-Su") or lists ("Sa,Su"). A range
that ends at or before it starts runs past midnight and belongs to the day it starts on
("Fr 18:00-08:00" is Friday evening to Saturday morning), as in OpenStreetMap's
`opening_hours`. The rules add up: open when any rule says so.

Local wall-clock time in and out: which zone is the caller's (settings, at the edge);
`analytics.supervision.hours.public_windows` turns the rules into UTC spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

ALWAYS = "24/7"
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_DAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RANGE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DAY = "|".join(DAYS)
_DAY_SPEC = re.compile(rf"^({_DAY})(-({_DAY}))?(,({_DAY})(-({_DAY}))?)*$")
WHOLE_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Rule:
    days: frozenset[int]  # 0 = Monday
    ranges: tuple[tuple[int, int], ...]  # minutes after the day's midnight; end ≤ start wraps


@dataclass(frozen=True, slots=True)
class PublicHours:
    rules: tuple[Rule, ...]
    text: str

    @property
    def always(self) -> bool:
        return any(
            len(r.days) == 7 and any(b - a == WHOLE_DAY for a, b in r.ranges) for r in self.rules
        )


def _days(spec: str) -> frozenset[int]:
    out: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        a, b = DAYS.index(first), DAYS.index(last or first)
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(out)


def _range(text: str) -> tuple[int, int] | None:
    m = _RANGE.match(text.strip())
    if m is None:
        return None
    a = int(m[1]) * 60 + int(m[2])
    b = int(m[3]) * 60 + int(m[4])
    if a > WHOLE_DAY or b > WHOLE_DAY:
        return None
    if a == 0 and b == WHOLE_DAY:
        return a, b
    return (a, b) if a < WHOLE_DAY else None


def problems(text: str) -> list[str]:
    """What is wrong with written public hours ([] when they parse)."""
    try:
        parse(text)
    except ValueError as exc:
        return [str(exc)]
    return []


def parse(text: str) -> PublicHours:
    """Written public hours → rules; ValueError with the reason when they do not parse."""
    cleaned = text.strip()
    if cleaned == ALWAYS:
        return PublicHours((Rule(frozenset(range(7)), ((0, WHOLE_DAY),)),), cleaned)
    if not cleaned:
        raise ValueError("public hours are empty")
    rules = []
    for part in cleaned.split(";"):
        words = part.split()
        if not words:
            raise ValueError(f"public hours {text!r}: an empty rule between ';'")
        days = frozenset(range(7))
        if _DAY_SPEC.match(words[0]):
            days = _days(words[0])
            words = words[1:]
        ranges = [_range(r) for w in words for r in w.split(",") if r]
        if not ranges or any(r is None for r in ranges):
            raise ValueError(
                f"public hours {text!r}: write rules like 'Mo-Fr 18:00-08:00; Sa-Su "
                "00:00-24:00' (days Mo..Su, times HH:MM-HH:MM), or 24/7"
            )
        rules.append(Rule(days, tuple(r for r in ranges if r is not None)))
    return PublicHours(tuple(rules), cleaned)


def spans_of_day(hours: PublicHours, day: date) -> list[tuple[int, int]]:
    """Minutes after `day`'s midnight open by rules of `day` (may run past 24:00)."""
    out = []
    for rule in hours.rules:
        if day.weekday() not in rule.days:
            continue
        for a, b in rule.ranges:
            out.append((a, b if b > a else b + WHOLE_DAY))
    return out


def open_at(hours: PublicHours, local: datetime) -> bool:
    """Whether a station with these hours is open to the public at a local wall time."""
    minute = local.hour * 60 + local.minute
    today = local.date()
    if any(a <= minute < b for a, b in spans_of_day(hours, today)):
        return True
    yesterday = today - timedelta(days=1)
    return any(a <= minute + WHOLE_DAY < b for a, b in spans_of_day(hours, yesterday))


def label(hours: PublicHours, lang: str = "en") -> str:
    """What a driver reads: "open to the public 18:00–08:00" / "对外开放 18:00–08:00",
    with the days where a rule has them ("Mon–Fri 18:00–08:00; Sat–Sun all day")."""
    zh = lang.startswith("zh")
    if hours.always:
        return "全天对外开放" if zh else "open to the public 24/7"
    parts = []
    for rule in hours.rules:
        days = _day_words(rule.days, _DAYS_ZH if zh else _DAYS_EN, "至" if zh else "–")
        times = ", ".join(
            ("全天" if zh else "all day") if b - a == WHOLE_DAY else f"{_hhmm(a)}–{_hhmm(b)}"
            for a, b in rule.ranges
        )
        parts.append(f"{days} {times}".strip())
    return ("对外开放 " if zh else "open to the public ") + ("；" if zh else "; ").join(parts)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_words(days: frozenset[int], names: tuple[str, ...], to: str) -> str:
    if len(days) == 7:
        return ""
    runs: list[tuple[int, int]] = []
    for d in sorted(days):
        if runs and runs[-1][1] == d - 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    sep = "、" if to == "至" else ", "
    return sep.join(names[a] if a == b else f"{names[a]}{to}{names[b]}" for a, b in runs)
