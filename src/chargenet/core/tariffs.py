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
from datetime import date, time
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


# --- the one day-tariff model ------------------------------------------------------------
# Both published forms map into it: T/CEC business policies are already periods; an OCPI
# tariff's elements, restricted by start_time/end_time (OCPI 2.2.1 §11.4.6), are read at
# every boundary they name. The finder, open data, reports and the scheduler read prices
# through it, never through either wire form.


class PeriodClass(StrEnum):
    """The grid's time-of-use classes (发改价格〔2021〕1093号: 尖峰/高峰/平段/低谷)."""

    CRITICAL = "critical"  # 尖峰
    PEAK = "peak"  # 高峰
    FLAT = "flat"  # 平段
    VALLEY = "valley"  # 低谷


@dataclass(frozen=True, kw_only=True)
class DayTariff:
    """Energy and service price per kWh by local time of day, in one currency, in force on
    the days from `valid_from` up to but not including `valid_until` (None: open)."""

    periods: tuple[TariffPeriod, ...]
    currency: str = "CNY"
    valid_from: date | None = None
    valid_until: date | None = None

    def problems(self) -> list[str]:
        out = tariff_problems(self.periods)
        if not self.periods:
            out.append("a day tariff has at least one period")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            out.append("valid_until is not after valid_from")
        return out

    def in_force(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day < self.valid_until
        )

    def at(self, when: time) -> TariffPeriod | None:
        return price_at(self.periods, when)

    def total_at(self, when: time) -> Decimal | None:
        """Energy plus service price per kWh at a local time (what a driver pays)."""
        period = self.at(when)
        return None if period is None else period.energy_price + period.service_price

    def hourly_totals(self) -> tuple[Decimal, ...]:
        """The total price per kWh at the start of each of the 24 hours and each half
        hour after (48 values), the shape the scheduler reads."""
        out = []
        for slot in range(48):
            total = self.total_at(time(slot // 2, 30 * (slot % 2)))
            out.append(Decimal(0) if total is None else total)
        return tuple(out)


def tariff_from_tcec(periods: tuple[TariffPeriod, ...], currency: str = "CNY") -> DayTariff | None:
    """A T/CEC business policy (PolicyInfos: start, electricity and service price) as a day
    tariff; None when it has no periods (fee texts only)."""
    return DayTariff(periods=periods, currency=currency) if periods else None


def _clock(value: str) -> time | None:
    """An OCPI restriction time: "HH:MM" (stored JSON-encoded, so quotes may surround it)."""
    text = value.strip().strip('"')
    try:
        hours, minutes = text.split(":")
        h, m = int(hours), int(minutes)
    except ValueError:
        return None
    if h == 24 and m == 0:
        return time(0)
    if not (0 <= h < 24 and 0 <= m < 60):
        return None
    return time(h, m)


_TIME_KEYS = frozenset({"start_time", "end_time"})


def _applies(restrictions: dict[str, str], when: time) -> bool:
    start = _clock(restrictions["start_time"]) if "start_time" in restrictions else None
    end = _clock(restrictions["end_time"]) if "end_time" in restrictions else None
    if start is None and end is None:
        return True
    lo, hi = start or time(0), end or time(0)
    if lo < hi or end is None:
        return lo <= when and (end is None or when < hi)
    return when >= lo or when < hi  # over midnight: 23:00 → 07:00 (OCPI 2.2.1 §11.4.6)


def tariff_from_ocpi(
    elements: tuple[TariffElement, ...],
    currency: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> DayTariff | None:
    """An OCPI tariff as a day tariff: at each time an element's start_time or end_time
    names, the ENERGY price of the first element that applies (OCPI applies the first
    matching element). OCPI does not split electricity from service, so the whole ENERGY
    price (VAT included where stated) is the energy price and the service price is 0.
    Elements restricted by anything but time of day (day of week, kWh, power, duration)
    are left out: a day tariff is the price an ordinary weekday session pays. None when no
    ENERGY price is stated."""
    usable = []
    for element in elements:
        restrictions = dict(element.restrictions)
        if set(restrictions) - _TIME_KEYS:
            continue
        energy = next((c for c in element.components if c.dimension is PriceDimension.ENERGY), None)
        if energy is not None:
            usable.append((restrictions, energy.price_incl_vat))
    if not usable:
        return None
    bounds = {time(0)}
    for restrictions, _ in usable:
        for key in _TIME_KEYS & set(restrictions):
            at = _clock(restrictions[key])
            if at is not None:
                bounds.add(at)
    periods: list[TariffPeriod] = []
    for start in sorted(bounds):
        price = next((p for r, p in usable if _applies(r, start)), None)
        if price is None:
            price = Decimal(0)
        if periods and periods[-1].energy_price == price:
            continue
        periods.append(TariffPeriod(start=start, energy_price=price, service_price=Decimal(0)))
    return DayTariff(
        periods=tuple(periods), currency=currency, valid_from=valid_from, valid_until=valid_until
    )


def tariff_to_ocpi(tariff: DayTariff) -> tuple[TariffElement, ...]:
    """A day tariff as OCPI elements: one per period, ENERGY at energy + service price,
    restricted to the period's start and end (the last one to 00:00, i.e. midnight)."""
    out = []
    periods = tariff.periods
    for n, period in enumerate(periods):
        end = periods[(n + 1) % len(periods)].start if len(periods) > 1 else None
        restrictions: tuple[tuple[str, str], ...] = ()
        if end is not None:
            restrictions = (
                ("end_time", f'"{end.strftime("%H:%M")}"'),
                ("start_time", f'"{period.start.strftime("%H:%M")}"'),
            )
        out.append(
            TariffElement(
                components=(
                    PriceComponent(
                        dimension=PriceDimension.ENERGY,
                        price=period.energy_price + period.service_price,
                    ),
                ),
                restrictions=restrictions,
            )
        )
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class GridTouPeriod:
    start: time
    period_class: PeriodClass


@dataclass(frozen=True, kw_only=True)
class GridTou:
    """A province's grid time-of-use periods (分时电价时段) as its price authority
    published them: which hours are critical, peak, flat and valley, and the source."""

    region_code: str  # the province's area code (e.g. 140000)
    name: str
    source: str  # the document that sets the periods
    periods: tuple[GridTouPeriod, ...]
    valid_from: date | None = None

    def problems(self) -> list[str]:
        out = []
        starts = [p.start for p in self.periods]
        if not starts or starts[0] != time(0):
            out.append("grid periods start at 00:00")
        if any(b <= a for a, b in itertools.pairwise(starts)):
            out.append("grid periods must start in increasing order of time")
        if not self.source.strip():
            out.append("grid periods name their source")
        return out

    def class_at(self, when: time) -> PeriodClass:
        current = self.periods[0].period_class
        for period in self.periods:
            if period.start <= when:
                current = period.period_class
        return current

    def is_valley(self, when: time) -> bool:
        return self.class_at(when) is PeriodClass.VALLEY


def grid_tou_from_toml(data: dict[str, object]) -> list[GridTou]:
    """Grid periods from a parsed TOML document: one [[province]] table each, with
    region_code, name, source, optional valid_from and periods = [["00:00", "valley"], …].
    Raises ValueError with the province and reason when a table is not usable."""
    out = []
    provinces = data.get("province", [])
    if not isinstance(provinces, list):
        raise ValueError("[[province]] tables expected")
    for n, raw in enumerate(provinces, 1):
        if not isinstance(raw, dict):
            raise ValueError(f"province {n}: a table expected")
        try:
            periods = tuple(
                GridTouPeriod(start=time.fromisoformat(str(s)), period_class=PeriodClass(str(c)))
                for s, c in raw["periods"]
            )
            valid = raw.get("valid_from")
            tou = GridTou(
                region_code=str(raw["region_code"]),
                name=str(raw["name"]),
                source=str(raw.get("source", "")),
                periods=periods,
                valid_from=valid if isinstance(valid, date) else None,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"province {n}: {exc}") from None
        problems = tou.problems()
        if problems:
            raise ValueError(f"province {n} ({tou.name}): {'; '.join(problems)}")
        out.append(tou)
    return out
