"""Bills checked against themselves; statements of orders against records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chargenet.core.billing import (
    Bill,
    BilledPeriod,
    BillFlag,
    DifferenceKind,
    OrderTotals,
    Tolerance,
    bill_flags,
    bill_problems,
    kwh_to_wh,
    reconcile,
    statement_problems,
)

T = datetime(2025, 6, 1, tzinfo=UTC)


def period(hours: float, kwh: str, price: str, money: str, start: float = 0) -> BilledPeriod:
    return BilledPeriod(
        start=T + timedelta(hours=start),
        end=T + timedelta(hours=start + hours),
        energy_wh=kwh_to_wh(Decimal(kwh)),
        energy_price=Decimal(price),
        service_price=Decimal("0.8"),
        energy_amount=Decimal(money),
        service_amount=(Decimal(kwh) * Decimal("0.8")).quantize(Decimal("0.01")),
    )


def test_a_consistent_bill_has_no_flags() -> None:
    periods = (period(1, "10", "0.3", "3.00"), period(1, "5.5", "1.0", "5.50", start=1))
    bill = Bill(
        energy_wh=15_500,
        energy_amount=Decimal("8.50"),
        service_amount=Decimal("12.40"),
        total=Decimal("20.90"),
        periods=periods,
    )
    assert bill_problems(bill) == [] and bill_flags(bill) == ()


def test_inconsistent_bills_are_flagged() -> None:
    periods = (period(2, "10", "0.3", "4.00"), period(1, "5", "1.0", "5.00", start=1))
    bill = Bill(
        energy_wh=20_000,
        energy_amount=Decimal("9.00"),
        service_amount=Decimal("12.00"),
        total=Decimal("25.00"),
        periods=periods,
    )
    assert set(bill_flags(bill)) == {
        BillFlag.TOTAL_NOT_SUM,
        BillFlag.PERIOD_ENERGY_NOT_SUM,
        BillFlag.PERIOD_PRICE_MISMATCH,
        BillFlag.PERIODS_OVERLAP,
    }
    negative = Bill(
        energy_wh=-1, energy_amount=Decimal(-1), service_amount=Decimal(0), total=Decimal(0)
    )
    assert len(bill_problems(negative)) == 2


def test_reconcile_finds_missing_extra_and_mismatched_orders() -> None:
    def o(order_id: str, wh: int, amount: str, ended: datetime | None = None) -> OrderTotals:
        return OrderTotals(order_id=order_id, energy_wh=wh, amount=Decimal(amount), ended_at=ended)

    inside, outside = T + timedelta(hours=3), T + timedelta(days=3)
    stated = [o("A", 1000, "1.00"), o("B", 1000, "2.00"), o("C", 2000, "1.00"), o("X", 1, "1")]
    recorded = [
        o("A", 1000, "1.00", inside),
        o("B", 1000, "1.50", inside),
        o("C", 1000, "1.00", outside),  # stated, ended outside the period: still compared
        o("E", 500, "0.50", inside),
        o("F", 500, "0.50", outside),  # neither stated nor in the period
    ]
    kinds = {d.order_id: d.kind for d in reconcile(stated, recorded, (T, T + timedelta(days=1)))}
    assert kinds == {
        "B": DifferenceKind.AMOUNT,
        "C": DifferenceKind.ENERGY,
        "X": DifferenceKind.MISSING,
        "E": DifferenceKind.EXTRA,
    }
    assert statement_problems(stated, 4, 4001, Decimal("5")) == []
    assert len(statement_problems([*stated, stated[0]], 4, 0, Decimal("0"))) == 4


def test_reconcile_takes_differences_within_the_tolerance_for_rounding() -> None:
    """At or below the tolerance a difference is rounding and not listed; above it, it is.
    The default is a fen and 10 Wh (T/CEC states kWh and yuan with two decimals)."""
    period = (T, T + timedelta(days=1))
    ours = OrderTotals(order_id="A", energy_wh=12_340, amount=Decimal("12.34"), ended_at=T)

    def listed(wh: int, amount: str, tolerance: Tolerance | None = None) -> set[DifferenceKind]:
        stated = OrderTotals(order_id="A", energy_wh=wh, amount=Decimal(amount))
        return {d.kind for d in reconcile([stated], [ours], period, tolerance)}

    assert listed(12_340, "12.34") == set()
    assert listed(12_335, "12.34") == set()  # below: 5 Wh
    assert listed(12_350, "12.35") == set()  # at: 10 Wh and a fen
    assert listed(12_330, "12.33") == set()  # at, the other way
    assert listed(12_351, "12.34") == {DifferenceKind.ENERGY}  # above: 11 Wh
    assert listed(12_340, "12.36") == {DifferenceKind.AMOUNT}  # above: two fen
    assert listed(12_360, "12.40") == {DifferenceKind.AMOUNT_AND_ENERGY}
    # Configurable: a tighter tolerance lists what the default takes for rounding.
    exact = Tolerance(energy_wh=0, amount=Decimal(0))
    assert listed(12_341, "12.34", exact) == {DifferenceKind.ENERGY}
    assert listed(12_340, "12.35", exact) == {DifferenceKind.AMOUNT}
    wide = Tolerance(energy_wh=100, amount=Decimal("0.10"))
    assert listed(12_440, "12.44", wide) == set()
    # A bill recorded on one side only is never rounding.
    unbilled = OrderTotals(order_id="A", energy_wh=12_340, amount=None, ended_at=T)
    stated = OrderTotals(order_id="A", energy_wh=12_340, amount=Decimal("12.34"))
    assert [d.kind for d in reconcile([stated], [unbilled], period)] == [DifferenceKind.AMOUNT]
