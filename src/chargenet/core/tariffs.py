"""Time-of-use tariffs: the price of energy and of the charging service by time of day.

Chinese operators price a kWh as electricity (电费, following the grid's peak/flat/valley
periods) plus a service fee (服务费); both are published per period of the day. A tariff
is the list of periods, each running from its start until the next one's (the last one
until midnight).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

# A price per kWh above this is a unit error (fen for yuan, Wh for kWh), not a tariff.
MAX_PRICE_PER_KWH = Decimal(100)
MAX_PERIODS = 48  # half-hour resolution is the finest any published tariff uses


@dataclass(frozen=True, kw_only=True)
class TariffPeriod:
    start: time  # local wall-clock time at which this period begins
    energy_price: Decimal  # per kWh
    service_price: Decimal  # per kWh


def tariff_problems(periods: tuple[TariffPeriod, ...]) -> list[str]:
    """Why a list of periods is not a usable day tariff; empty when it is."""
    out: list[str] = []
    if len(periods) > MAX_PERIODS:
        out.append(f"a tariff has at most {MAX_PERIODS} periods, got {len(periods)}")
        return out
    starts = [p.start for p in periods]
    if starts and starts[0] != time(0):
        out.append(f"the first period must start at 00:00, not {starts[0].isoformat()}")
    if any(b <= a for a, b in itertools.pairwise(starts)):
        out.append("periods must start in increasing order of time")
    for p in periods:
        for name in ("energy_price", "service_price"):
            price: Decimal = getattr(p, name)
            if not price.is_finite() or not Decimal(0) <= price <= MAX_PRICE_PER_KWH:
                out.append(
                    f"{name} {price} at {p.start.isoformat()} outside 0..{MAX_PRICE_PER_KWH}"
                )
    return out


def price_at(periods: tuple[TariffPeriod, ...], when: time) -> TariffPeriod | None:
    """The period in force at a local time of day."""
    current = None
    for period in periods:
        if period.start <= when:
            current = period
    return current
