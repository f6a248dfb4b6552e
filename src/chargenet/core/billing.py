"""Bills of charging sessions and the reconciliation of an operator's orders (R31, R35).

A bill is what the operator charged for a session: electricity and service money, split
by time-of-use period. chargenet checks a bill against itself (do the periods add up, is
each period's money its price times its energy) and checks an operator's statement of
orders for a period against what chargenet recorded. Money is Decimal, energy integer Wh.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from chargenet.core.sessions import MAX_SESSION_ENERGY_WH

_FEN = Decimal("0.01")
_WH_PER_KWH = Decimal(1000)
MAX_BILL_AMOUNT = Decimal(1_000_000)  # one session's bill above a million yuan is garbage
MAX_BILL_PERIODS = 96


def kwh_to_wh(kwh: Decimal) -> int:
    """Energy given in kWh (as operators report it) in whole Wh, rounded half-even."""
    return int((kwh * _WH_PER_KWH).to_integral_value(rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, kw_only=True)
class BilledPeriod:
    """One time-of-use period of a session's bill."""

    start: datetime
    end: datetime
    energy_wh: int
    energy_price: Decimal  # per kWh
    service_price: Decimal  # per kWh
    energy_amount: Decimal
    service_amount: Decimal


@dataclass(frozen=True, kw_only=True)
class Bill:
    energy_wh: int
    energy_amount: Decimal  # electricity money (电费)
    service_amount: Decimal  # service money (服务费)
    total: Decimal
    currency: str = "CNY"
    periods: tuple[BilledPeriod, ...] = ()


class BillFlag(StrEnum):
    """Ways a bill disagrees with itself. Flagged bills are kept: they are the evidence."""

    TOTAL_NOT_SUM = "total_not_sum"  # electricity + service money ≠ total
    PERIOD_ENERGY_NOT_SUM = "period_energy_not_sum"  # periods' kWh ≠ the session's
    PERIOD_MONEY_NOT_SUM = "period_money_not_sum"  # periods' money ≠ the session's
    PERIOD_PRICE_MISMATCH = "period_price_mismatch"  # a period's money ≠ price × energy
    PERIODS_OVERLAP = "periods_overlap"


def _amounts(bill: Bill) -> Iterable[tuple[str, Decimal]]:
    yield "energy_amount", bill.energy_amount
    yield "service_amount", bill.service_amount
    yield "total", bill.total
    for n, p in enumerate(bill.periods, 1):
        for name in ("energy_price", "service_price", "energy_amount", "service_amount"):
            yield f"period {n} {name}", getattr(p, name)


def bill_problems(bill: Bill) -> list[str]:
    """What makes a bill impossible to record (as opposed to merely inconsistent)."""
    out: list[str] = []
    if not 0 <= bill.energy_wh <= MAX_SESSION_ENERGY_WH:
        out.append(f"bill energy {bill.energy_wh} Wh out of range")
    if len(bill.periods) > MAX_BILL_PERIODS:
        out.append(f"a bill has at most {MAX_BILL_PERIODS} periods, got {len(bill.periods)}")
    for name, amount in _amounts(bill):
        if not amount.is_finite() or not Decimal(0) <= amount <= MAX_BILL_AMOUNT:
            out.append(f"{name} {amount} outside 0..{MAX_BILL_AMOUNT}")
    for n, p in enumerate(bill.periods, 1):
        if p.start.tzinfo is None or p.end.tzinfo is None:
            out.append(f"period {n} times must be timezone-aware")
        elif p.end < p.start:
            out.append(f"period {n} ends before it starts")
        if not 0 <= p.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"period {n} energy {p.energy_wh} Wh out of range")
    if len(bill.currency) != 3 or not bill.currency.isalpha() or not bill.currency.isupper():
        out.append(f"currency must be an ISO 4217 code, got {bill.currency!r}")
    return out


def bill_flags(bill: Bill) -> tuple[BillFlag, ...]:
    """Inconsistencies of a bill with itself, allowing rounding to the fen and the Wh."""
    flags: list[BillFlag] = []
    if abs(bill.energy_amount + bill.service_amount - bill.total) > _FEN:
        flags.append(BillFlag.TOTAL_NOT_SUM)
    periods = bill.periods
    if periods:
        slack = _FEN * len(periods)  # each period's money is rounded on its own
        if abs(sum(p.energy_wh for p in periods) - bill.energy_wh) > len(periods):
            flags.append(BillFlag.PERIOD_ENERGY_NOT_SUM)
        period_money = sum((p.energy_amount + p.service_amount for p in periods), Decimal(0))
        if abs(period_money - bill.energy_amount - bill.service_amount) > slack:
            flags.append(BillFlag.PERIOD_MONEY_NOT_SUM)
        for p in periods:
            kwh = Decimal(p.energy_wh) / _WH_PER_KWH
            if (
                abs(p.energy_price * kwh - p.energy_amount) > _FEN
                or abs(p.service_price * kwh - p.service_amount) > _FEN
            ):
                flags.append(BillFlag.PERIOD_PRICE_MISMATCH)
                break
        ordered = sorted(periods, key=lambda p: p.start)
        if any(b.start < a.end for a, b in itertools.pairwise(ordered)):
            flags.append(BillFlag.PERIODS_OVERLAP)
    return tuple(flags)


# --- reconciliation -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrderTotals:
    """One order as a statement gives it, or as chargenet recorded it."""

    order_id: str
    energy_wh: int | None
    amount: Decimal | None
    ended_at: datetime | None = None


class DifferenceKind(StrEnum):
    MISSING = "missing"  # the operator states it; chargenet has no record of it
    EXTRA = "extra"  # chargenet recorded it in the period; the operator does not state it
    AMOUNT = "amount"  # both know it; the money differs
    ENERGY = "energy"  # both know it; the energy differs
    AMOUNT_AND_ENERGY = "amount_and_energy"


@dataclass(frozen=True, kw_only=True)
class Difference:
    order_id: str
    kind: DifferenceKind
    stated_energy_wh: int | None = None
    stated_amount: Decimal | None = None
    recorded_energy_wh: int | None = None
    recorded_amount: Decimal | None = None


def statement_problems(
    orders: Sequence[OrderTotals], count: int, energy_wh: int, amount: Decimal
) -> list[str]:
    """Whether a statement's header agrees with its own list of orders."""
    out: list[str] = []
    ids = [o.order_id for o in orders]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        out.append(f"orders listed twice: {', '.join(repeated[:5])}")
    if count != len(orders):
        out.append(f"order count {count} but {len(orders)} orders listed")
    if energy_wh != sum(o.energy_wh or 0 for o in orders):
        out.append("total energy is not the sum of the orders' energy")
    if amount != sum((o.amount or Decimal(0) for o in orders), Decimal(0)):
        out.append("total money is not the sum of the orders' money")
    return out


def compare(stated: OrderTotals, recorded: OrderTotals) -> Difference | None:
    """The difference between one order as stated and as recorded, if any. Energy is
    compared in whole Wh and money exactly; a side without money differs."""
    energy_differs = recorded.energy_wh != stated.energy_wh
    amount_differs = (
        recorded.amount is None or stated.amount is None or recorded.amount != stated.amount
    )
    if not (energy_differs or amount_differs):
        return None
    kind = (
        DifferenceKind.AMOUNT_AND_ENERGY
        if energy_differs and amount_differs
        else DifferenceKind.ENERGY
        if energy_differs
        else DifferenceKind.AMOUNT
    )
    return Difference(
        order_id=stated.order_id,
        kind=kind,
        stated_energy_wh=stated.energy_wh,
        stated_amount=stated.amount,
        recorded_energy_wh=recorded.energy_wh,
        recorded_amount=recorded.amount,
    )


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far an operator's figure may stray from the platform's before it is a dispute:
    meters and bills round, so an exact comparison would dispute every rounding. T/CEC 102
    states an order's TotalPower in kWh with two decimals (0.01 kWh = 10 Wh) and its money
    in yuan with two decimals (a fen); the standard itself names no tolerance for
    check_charge_orders, so these are the defaults (CHARGENET_DISPUTE_ENERGY_TOLERANCE_WH,
    CHARGENET_DISPUTE_AMOUNT_TOLERANCE). A difference of exactly the tolerance is rounding."""

    energy_wh: int = 10
    amount: Decimal = _FEN


def rounding_only(difference: Difference, tolerance: Tolerance) -> bool:
    """Whether an order both sides know differs by rounding alone: every figure present on
    both sides and within the tolerance. A side without a figure (no bill recorded) is not
    rounding: that difference stays."""
    if difference.kind in (DifferenceKind.MISSING, DifferenceKind.EXTRA):
        return False
    return _within(
        difference.stated_energy_wh, difference.recorded_energy_wh, Decimal(tolerance.energy_wh)
    ) and _within(difference.stated_amount, difference.recorded_amount, tolerance.amount)


def _within(stated: int | Decimal | None, recorded: int | Decimal | None, allowed: Decimal) -> bool:
    if stated == recorded:
        return True
    if stated is None or recorded is None:
        return False
    return abs(Decimal(stated) - Decimal(recorded)) <= allowed


def reconcile(
    stated: Sequence[OrderTotals],
    recorded: Sequence[OrderTotals],
    period: tuple[datetime, datetime],
    tolerance: Tolerance | None = None,
) -> list[Difference]:
    """Every difference between a statement and chargenet's records beyond rounding.

    `recorded` holds chargenet's orders that ended inside `period` and any other order the
    statement names; an order ending in the period that the statement omits is EXTRA.
    An order both sides know whose energy and money differ by no more than `tolerance`
    (default `Tolerance()`) is not a difference: the statement's kWh and yuan have two
    decimals, the platform's figures are whole Wh and its own rounding of the bill.
    """
    tolerance = tolerance or Tolerance()
    start, end = period
    ours = {o.order_id: o for o in recorded}
    out: list[Difference] = []
    for theirs in stated:
        mine = ours.get(theirs.order_id)
        if mine is None:
            out.append(
                Difference(
                    order_id=theirs.order_id,
                    kind=DifferenceKind.MISSING,
                    stated_energy_wh=theirs.energy_wh,
                    stated_amount=theirs.amount,
                )
            )
            continue
        found = compare(theirs, mine)
        if found is not None and not rounding_only(found, tolerance):
            out.append(found)
    named = {o.order_id for o in stated}
    for mine in recorded:
        if (
            mine.order_id not in named
            and mine.ended_at is not None
            and start <= mine.ended_at <= end
        ):
            out.append(
                Difference(
                    order_id=mine.order_id,
                    kind=DifferenceKind.EXTRA,
                    recorded_energy_wh=mine.energy_wh,
                    recorded_amount=mine.amount,
                )
            )
    return out


# --- automatic disputes --------------------------------------------------------------------


def disputed(difference: Difference, tolerance: Tolerance) -> bool:
    """Whether a difference between stated and recorded figures is beyond the tolerance.
    Only orders both sides know are disputed: a missing or extra order has nothing to
    dispute yet (the operator's statement lists those in its answer)."""
    if difference.kind in (DifferenceKind.MISSING, DifferenceKind.EXTRA):
        return False
    stated_e, recorded_e = difference.stated_energy_wh, difference.recorded_energy_wh
    stated_a, recorded_a = difference.stated_amount, difference.recorded_amount
    energy = (
        stated_e is not None
        and recorded_e is not None
        and abs(stated_e - recorded_e) > tolerance.energy_wh
    )
    amount = (
        stated_a is not None
        and recorded_a is not None
        and abs(stated_a - recorded_a) > tolerance.amount
    )
    return energy or amount
