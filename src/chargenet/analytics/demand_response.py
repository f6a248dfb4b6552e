"""Demand response measured, and charging's flexibility forecast (pure; docs/orderly.md).

Baseline: what the sites would have drawn without the event, CAISO's "10 in 10" customer
load baseline (CAISO Business Practice Manual for Metering, customer load baseline for
Proxy Demand Resources; also the basis of AEMO's WDRM baseline register): for each
quarter hour, the mean load in the same local quarter of the 10 most recent weekdays
before the event that had no event of their own, within 45 days (weekends: the 4 most
recent weekend days). CAISO's optional day-of adjustment is not applied: a charging
site's morning says little about its evening arrivals. Days without load count as 0.

Shed: requested = baseline − the event's target (share × limit), at least 0; measured =
baseline − the mean metered load during the event; performance = measured / requested.

Flexibility: a session plugged in draws at full power until it has its energy
("uncontrolled"); what it draws in a window could be shed or shifted when the time it
has left can deliver that energy later: flexible = min(drawn in the window, slack), slack
= full power × time left − energy still wanted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUARTER = timedelta(minutes=15)
WEEKDAY_DAYS = 10  # CAISO 10 in 10
WEEKEND_DAYS = 4  # CAISO 4 in 4 for weekends and holidays
LOOKBACK_DAYS = 45


def quarter_floor(at: datetime) -> datetime:
    """The start of the quarter hour holding `at` (UTC)."""
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def quarters(start: datetime, end: datetime) -> list[datetime]:
    """The quarter hours overlapping [start, end)."""
    out, at = [], quarter_floor(start)
    while at < end:
        out.append(at)
        at += QUARTER
    return out


def similar_days(
    day: date,
    excluded: Set[date] = frozenset(),
    weekday_days: int = WEEKDAY_DAYS,
    weekend_days: int = WEEKEND_DAYS,
    lookback_days: int = LOOKBACK_DAYS,
) -> list[date]:
    """The most recent days before `day` of its kind (weekday or weekend) not in
    `excluded` (event days), newest first."""
    weekend = day.weekday() >= 5
    wanted = weekend_days if weekend else weekday_days
    out: list[date] = []
    for back in range(1, lookback_days + 1):
        d = day - timedelta(days=back)
        if (d.weekday() >= 5) == weekend and d not in excluded:
            out.append(d)
            if len(out) == wanted:
                break
    return out


def same_time_on(at: datetime, day: date, zone: ZoneInfo) -> datetime:
    """The instant with `at`'s local wall time on another local day."""
    local = at.astimezone(zone)
    return datetime.combine(day, time(local.hour, local.minute), zone).astimezone(UTC)


def baseline_w(
    load: Mapping[datetime, float],
    window: Sequence[datetime],
    zone: ZoneInfo,
    excluded: Set[date] = frozenset(),
) -> list[float]:
    """The 10-in-10 baseline of each quarter in `window` from `load` (W by quarter start,
    UTC; missing quarters are 0)."""
    out = []
    for q in window:
        days = similar_days(q.astimezone(zone).date(), excluded)
        values = [load.get(same_time_on(q, d, zone), 0.0) for d in days]
        out.append(sum(values) / len(values) if values else 0.0)
    return out


@dataclass(frozen=True, slots=True)
class Shed:
    baseline_w: float
    target_w: float
    measured_w: float

    @property
    def requested_w(self) -> float:
        return max(0.0, self.baseline_w - self.target_w)

    @property
    def shed_w(self) -> float:
        return self.baseline_w - self.measured_w

    @property
    def performance(self) -> float | None:
        """Measured over requested shed (None when nothing had to be shed)."""
        return self.shed_w / self.requested_w if self.requested_w > 0 else None


def measure_shed(
    load: Mapping[datetime, float],
    start: datetime,
    end: datetime,
    target_w: float,
    zone: ZoneInfo,
    excluded: Set[date] = frozenset(),
    now: datetime | None = None,
) -> Shed:
    """An event's baseline, target and measured load, as means over its quarters (up to
    `now` while it runs)."""
    window = quarters(start, min(end, now) if now else end)
    if not window:
        return Shed(0.0, target_w, 0.0)
    base = baseline_w(load, window, zone, excluded)
    measured = [load.get(q, 0.0) for q in window]
    return Shed(sum(base) / len(base), target_w, sum(measured) / len(measured))


def flexible_w(
    max_w: float, energy_wh: float, plugged_s: float, leaves_s: float, start_s: float, end_s: float
) -> tuple[float, float]:
    """(uncontrolled, flexible) mean W in the window [start_s, end_s) of a session plugged
    in from `plugged_s` to `leaves_s` wanting `energy_wh` at up to `max_w` (seconds on one
    axis, e.g. from now)."""
    if max_w <= 0 or end_s <= start_s:
        return 0.0, 0.0
    done_s = min(leaves_s, plugged_s + energy_wh * 3600.0 / max_w)
    overlap = max(0.0, min(end_s, done_s) - max(start_s, plugged_s))
    drawn_wh = max_w * overlap / 3600.0
    slack_wh = max(0.0, max_w * (leaves_s - plugged_s) / 3600.0 - energy_wh)
    per_s = 3600.0 / (end_s - start_s)
    return drawn_wh * per_s, min(drawn_wh, slack_wh) * per_s


def expected_arrivals(
    starts: Sequence[datetime],
    window_start: datetime,
    window_end: datetime,
    zone: ZoneInfo,
    days: Callable[[date], list[date]] = similar_days,
) -> float:
    """The mean number of sessions that began in the same local time window on the
    similar days before it (a site's own history of arrivals)."""
    local = window_start.astimezone(zone)
    past = days(local.date())
    if not past:
        return 0.0
    length = window_end - window_start
    count = 0
    for d in past:
        begin = same_time_on(window_start, d, zone)
        count += sum(1 for s in starts if begin <= s < begin + length)
    return count / len(past)
