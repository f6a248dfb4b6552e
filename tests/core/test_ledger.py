"""The settlement ledger: every movement balanced, wallets kept within their limits,
nothing posted twice — by example and under random sequences of top-ups, sessions,
failures, refunds and disputes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.core.errors import Conflict
from chargenet.core.ledger import (
    PLATFORM_FEES,
    Entry,
    EntryKind,
    Ledger,
    LimitBreached,
    Posting,
    arrears,
    charge,
    dispute,
    entry_problems,
    operator_account,
    provider_account,
    refund,
    topup,
    wallet,
)

FEE = Decimal("0.01")


def _ledger(limit: str = "0") -> Ledger:
    return Ledger(floors={wallet("d1"): -Decimal(limit)})


def test_a_charge_pays_the_operator_less_the_platforms_fee() -> None:
    ledger = _ledger()
    ledger.post(topup("t1", "d1", Decimal("100.00"), "wxpay", Decimal(0), "CNY"))
    ledger.post(charge("c1", "d1", "OP1", Decimal("37.50"), FEE, ledger.available("d1"), "CNY"))
    assert ledger.balance(wallet("d1")) == Decimal("62.50")
    assert ledger.balance(operator_account("OP1")) == Decimal("37.12")  # 37.50 − 0.38
    assert ledger.balance(PLATFORM_FEES) == Decimal("0.38")
    assert ledger.balance(provider_account("wxpay")) == Decimal("-100.00")
    assert ledger.total() == 0


def test_a_charge_beyond_the_wallets_limit_becomes_arrears_paid_by_the_next_top_up() -> None:
    ledger = _ledger(limit="20")
    ledger.post(topup("t1", "d1", Decimal("10.00"), "manual", Decimal(0), "CNY"))
    ledger.post(charge("c1", "d1", "OP1", Decimal("50.00"), FEE, ledger.available("d1"), "CNY"))
    assert ledger.balance(wallet("d1")) == Decimal("-20.00")  # down to its limit, no further
    assert ledger.owed("d1") == Decimal("20.00")
    ledger.post(topup("t2", "d1", Decimal("30.00"), "manual", ledger.owed("d1"), "CNY"))
    assert ledger.owed("d1") == 0
    assert ledger.balance(wallet("d1")) == Decimal("-10.00")


def test_an_entry_that_would_overdraw_a_wallet_is_refused_whole() -> None:
    ledger = _ledger()
    overdraw = Entry(
        entry_id="x",
        kind=EntryKind.CHARGE,
        currency="CNY",
        postings=(Posting(wallet("d1"), Decimal("-5.00")), Posting(PLATFORM_FEES, Decimal("5.00"))),
    )
    with pytest.raises(LimitBreached, match="below its limit"):
        ledger.post(overdraw)
    assert ledger.total() == 0 and ledger.balance(PLATFORM_FEES) == 0


def test_unbalanced_fractional_or_mixed_currency_entries_are_refused() -> None:
    unbalanced = Entry(
        entry_id="u",
        kind=EntryKind.TOPUP,
        currency="CNY",
        postings=(Posting(wallet("d1"), Decimal("5.00")), Posting("provider:x", Decimal("-4.99"))),
    )
    assert entry_problems(unbalanced) == ["the postings do not add up to zero"]
    fractional = Entry(
        entry_id="f",
        kind=EntryKind.TOPUP,
        currency="CNY",
        postings=(
            Posting(wallet("d1"), Decimal("0.001")),
            Posting("provider:x", Decimal("-0.001")),
        ),
    )
    assert any("finer than a cent" in p for p in entry_problems(fractional))
    ledger = _ledger()
    ledger.post(topup("t1", "d1", Decimal("1.00"), "x", Decimal(0), "CNY"))
    with pytest.raises(LimitBreached, match="holds CNY"):
        ledger.post(topup("t2", "d1", Decimal("1.00"), "x", Decimal(0), "EUR"))


def test_the_same_key_posts_once_and_other_content_under_it_is_a_conflict() -> None:
    ledger = _ledger()
    first = topup("t1", "d1", Decimal("10.00"), "x", Decimal(0), "CNY")
    assert ledger.post(first) is True
    assert ledger.post(first) is False
    assert ledger.balance(wallet("d1")) == Decimal("10.00")
    with pytest.raises(Conflict):
        ledger.post(topup("t1", "d1", Decimal("99.00"), "x", Decimal(0), "CNY"))


def test_a_refund_gives_back_the_operators_and_the_platforms_shares() -> None:
    ledger = _ledger()
    ledger.post(topup("t1", "d1", Decimal("50.00"), "x", Decimal(0), "CNY"))
    ledger.post(charge("c1", "d1", "OP1", Decimal("20.00"), FEE, ledger.available("d1"), "CNY"))
    ledger.post(refund("r1", "d1", "OP1", Decimal("20.00"), FEE, ledger.owed("d1"), "CNY", "c1"))
    assert ledger.balance(wallet("d1")) == Decimal("50.00")
    assert ledger.balance(operator_account("OP1")) == 0
    assert ledger.balance(PLATFORM_FEES) == 0


# --- the property ----------------------------------------------------------------------

DRIVERS = ("d1", "d2", "d3")
OPERATORS = ("OP1", "OP2")
money = st.decimals(min_value="0.01", max_value="500", places=2)
step = st.one_of(
    st.tuples(st.just("topup"), st.sampled_from(DRIVERS), money),
    st.tuples(st.just("session"), st.sampled_from(DRIVERS), money, st.sampled_from(OPERATORS)),
    st.tuples(st.just("failed"), st.sampled_from(DRIVERS), money),
    st.tuples(st.just("refund"), st.integers(0, 50), money),
    st.tuples(st.just("dispute"), st.integers(0, 50), money, st.booleans()),
    st.tuples(st.just("resend"), st.integers(0, 50)),
)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(step, max_size=60),
    limits=st.tuples(*[st.decimals(min_value=0, max_value=100, places=2)] * 3),
)
def test_under_any_sequence_the_ledger_balances_and_no_wallet_goes_below_its_limit(
    steps: list[tuple[object, ...]], limits: tuple[Decimal, ...]
) -> None:
    ledger = Ledger(floors={wallet(d): -lim for d, lim in zip(DRIVERS, limits, strict=True)})
    charges: list[tuple[str, str, str, Decimal]] = []  # key, driver, operator, left to refund
    posted: list[Entry] = []
    for n, item in enumerate(steps):
        kind = item[0]
        entry: Entry | None = None
        if kind == "topup":
            _, d, amount = item
            entry = topup(f"t{n}", str(d), Decimal(str(amount)), "p", ledger.owed(str(d)), "CNY")
        elif kind == "session":
            _, d, amount, op = item
            entry = charge(
                f"c{n}", str(d), str(op), Decimal(str(amount)), FEE, ledger.available(str(d)), "CNY"
            )
            charges.append((entry.entry_id, str(d), str(op), Decimal(str(amount))))
        elif kind == "failed":
            # A session that failed: no energy, a zero bill — nothing may move.
            _, d, _amount = item
            entry = charge(f"f{n}", str(d), "OP1", Decimal(0), FEE, ledger.available(str(d)), "CNY")
            assert entry.postings == ()
            continue
        elif kind == "refund" and charges:
            _, i, amount = item
            key, d, op, left = charges[int(str(i)) % len(charges)]
            amount = min(Decimal(str(amount)), left)
            if amount <= 0:
                continue
            entry = refund(f"r{n}", d, op, amount, FEE, ledger.owed(d), "CNY", key)
            charges[int(str(i)) % len(charges)] = (key, d, op, left - amount)
        elif kind == "dispute" and charges:
            _, i, amount, to_driver = item
            key, d, op, _left = charges[int(str(i)) % len(charges)]
            signed = Decimal(str(amount)) if to_driver else -Decimal(str(amount))
            entry = dispute(f"x{n}", d, op, signed, ledger.owed(d), ledger.available(d), "CNY", key)
        elif kind == "resend" and posted:
            _, i = item
            before = dict(ledger.balances)
            assert ledger.post(posted[int(str(i)) % len(posted)]) is False
            assert dict(ledger.balances) == before
            continue
        if entry is None:
            continue
        assert entry_problems(entry) == []
        ledger.post(entry)
        posted.append(entry)
        assert ledger.total() == 0
        for d in DRIVERS:
            assert ledger.balance(wallet(d)) >= ledger.floors[wallet(d)]
            assert ledger.balance(arrears(d)) <= 0
