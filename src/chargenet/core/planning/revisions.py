"""Which value of a rolling target is in force on a day (R16).

Seed 002 (保障措施 （三）滚动调整): "建立滚动调整机制 … 予以动态调整充（换）电基础设施建设任务" —
targets are revised, and every revision is kept. A revision takes effect on its own
`valid_from` day (the day the pack or the import says), not on the day it was recorded:
a revision valid from October does not change what a May report shows, even when it was
imported in June.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal


def effective_day(valid_from: date | None, recorded_at: datetime) -> date:
    """The day a revision takes effect: its own `valid_from`, else the day it was set."""
    return valid_from if valid_from is not None else recorded_at.date()


def in_force(revisions: Iterable[tuple[date, Decimal]], on: date) -> Decimal | None:
    """The value in force on `on`, from (effective day, value) pairs in the order they were
    recorded: the latest effective day not after `on` wins; of two revisions taking effect
    on the same day, the one recorded later. None when no value had taken effect yet."""
    best: tuple[date, Decimal] | None = None
    for day, value in revisions:
        if day <= on and (best is None or day >= best[0]):
            best = (day, value)
    return best[1] if best is not None else None
