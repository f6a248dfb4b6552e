"""Prices, as the two kinds of operator platforms publish them.

- Time-of-use day tariffs (T/CEC 102, Chinese operators): the price of a kWh as
  electricity (电费, following the grid's peak/flat/valley periods) plus a service fee
  (服务费), per period of the day; each period runs from its start until the next one's.
- Tariffs in the OCPI 2.2.1 structure: elements of price components (energy, flat, time,
  parking time) under restrictions, and the headline price a driver sees before charging
  (the ad-hoc price of AFIR / NEVI open data).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from enum import StrEnum

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


# --- OCPI 2.2.1 tariff structure ---------------------------------------------------------


class PriceDimension(StrEnum):
    ENERGY = "ENERGY"  # per kWh
    FLAT = "FLAT"  # per session
    PARKING_TIME = "PARKING_TIME"  # per hour not charging
    TIME = "TIME"  # per hour charging


class TariffKind(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"  # pay at the charger without a contract
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"  # contract customers


@dataclass(frozen=True, kw_only=True)
class PriceComponent:
    dimension: PriceDimension
    price: Decimal  # excluding VAT, per unit of the dimension
    step_size: int = 1  # billed in steps of this many Wh / seconds
    vat: Decimal | None = None  # percent; None: not applicable or unknown

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.price.is_finite() or self.price < 0:
            out.append(f"{self.dimension.value} price must be a number ≥ 0, got {self.price}")
        if self.step_size < 1:
            out.append(f"step_size must be ≥ 1, got {self.step_size}")
        if self.vat is not None and not (self.vat.is_finite() and 0 <= self.vat <= 100):
            out.append(f"vat must be 0..100 percent, got {self.vat}")
        return out

    @property
    def price_incl_vat(self) -> Decimal:
        return self.price if self.vat is None else self.price * (1 + self.vat / 100)


@dataclass(frozen=True, kw_only=True)
class TariffElement:
    """Components that apply together, under restrictions (time of day, kWh, …) kept as the
    operator stated them."""

    components: tuple[PriceComponent, ...]
    restrictions: tuple[tuple[str, str], ...] = ()

    def problems(self) -> list[str]:
        if not self.components:
            return ["a tariff element has at least one price component"]
        return [p for c in self.components for p in c.problems()]


@dataclass(frozen=True, slots=True)
class HeadlinePrice:
    """The first applicable price per dimension, VAT included where stated."""

    energy_per_kwh: Decimal | None
    per_session: Decimal | None
    time_per_hour: Decimal | None
    parking_per_hour: Decimal | None


def headline_price(elements: tuple[TariffElement, ...]) -> HeadlinePrice:
    """What a driver reads on the price board: for each dimension, the price of the first
    element that names it (OCPI applies the first matching element)."""
    found: dict[PriceDimension, Decimal] = {}
    for element in elements:
        for component in element.components:
            found.setdefault(component.dimension, component.price_incl_vat)
    return HeadlinePrice(
        energy_per_kwh=found.get(PriceDimension.ENERGY),
        per_session=found.get(PriceDimension.FLAT),
        time_per_hour=found.get(PriceDimension.TIME),
        parking_per_hour=found.get(PriceDimension.PARKING_TIME),
    )
