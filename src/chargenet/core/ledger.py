"""The settlement ledger: double entry, Decimal, one currency per account (R35).

Every movement of money is an `Entry` of postings that add up to zero in its currency.
An account's balance is the sum of its postings; what it means depends on its kind:

- `wallet:DRIVER` (≥ −limit): the driver's prepaid money; a limit > 0 lets it run that far
  below 0.
- `arrears:DRIVER` (≤ 0): what a driver owes beyond the wallet's limit — a charge is never
  refused after the energy was delivered; the next top-up pays it first.
- `operator:OPERATOR`: what the platform owes the operator for its sessions (the
  operator's receivable), less refunds and disputes decided against it.
- `fees:platform`: the platform's fees.
- `provider:NAME` (≤ 0): money received through a payment provider; its negative is the
  cash the platform holds.

Entries carry an idempotency key (`entry_id`): the charge of a session is keyed by the
session, a top-up by the provider's transaction, a refund by its request. Posting the same
key twice changes nothing, whichever path resends it (a resent session end, CDR or payment
notification). The rules here are pure; the store applies them inside its transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import ClassVar

from chargenet.core.errors import Conflict

CENT = Decimal("0.01")
MAX_POSTINGS = 16
MAX_AMOUNT = Decimal(10_000_000)  # one movement above ten million is an error, not a payment
PLATFORM_FEES = "fees:platform"


class EntryKind(StrEnum):
    TOPUP = "topup"  # money in through a payment provider
    CHARGE = "charge"  # a session's bill: driver → operator, less the platform's fee
    REFUND = "refund"  # a charge given back, in whole or in part
    DISPUTE = "dispute"  # a disputed charge decided: money between operator and driver
    PAYOUT = "payout"  # the platform pays an operator what it is owed


class AccountKind(StrEnum):
    WALLET = "wallet"
    ARREARS = "arrears"
    OPERATOR = "operator"
    FEES = "fees"
    PROVIDER = "provider"


class LimitBreached(Conflict):
    """An entry that would take a wallet below its limit (or arrears above zero): a
    conflict with the balance, which a top-up may lift."""


@dataclass(frozen=True, slots=True)
class Posting:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"account": 200}

    account: str
    amount: Decimal  # + credits the account, − debits it


@dataclass(frozen=True, kw_only=True)
class Entry:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"entry_id": 200, "reference": 200, "memo": 500}

    entry_id: str  # the idempotency key
    kind: EntryKind
    currency: str
    postings: tuple[Posting, ...]
    reference: str = ""  # what it is about: a session, a payment, the entry refunded
    memo: str = ""


def wallet(driver_id: str) -> str:
    return f"wallet:{driver_id}"


def arrears(driver_id: str) -> str:
    return f"arrears:{driver_id}"


def operator_account(operator_id: str) -> str:
    return f"operator:{operator_id}"


def provider_account(provider: str) -> str:
    return f"provider:{provider}"


def account_kind(account: str) -> AccountKind | None:
    prefix, _, rest = account.partition(":")
    if not rest:
        return None
    try:
        return AccountKind(prefix)
    except ValueError:
        return None


# A period's balances are checkpointed once it has been over this long: entries stamped in
# it that come later (a CDR or payment notification resent after an outage) still count,
# as the projection deletes the checkpoints after a posting that lands before them.
CLOSES_AFTER = timedelta(days=1)


def closed(at: datetime, now: datetime) -> bool:
    """Whether balances at instant `at` (a month's boundary) may be checkpointed now."""
    return at <= now - CLOSES_AFTER


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def entry_problems(entry: Entry) -> list[str]:
    """Why an entry cannot be posted whatever the balances; empty when it can."""
    out: list[str] = []
    if not entry.entry_id:
        out.append("an entry needs its idempotency key")
    if len(entry.currency) != 3 or not entry.currency.isalpha() or not entry.currency.isupper():
        out.append(f"currency must be an ISO 4217 code, got {entry.currency!r}")
    if not 2 <= len(entry.postings) <= MAX_POSTINGS:
        out.append(f"an entry has 2..{MAX_POSTINGS} postings, got {len(entry.postings)}")
    accounts = [p.account for p in entry.postings]
    if len(set(accounts)) != len(accounts):
        out.append("an account appears twice in one entry")
    for p in entry.postings:
        if account_kind(p.account) is None:
            out.append(f"unknown kind of account {p.account!r}")
        if not p.amount.is_finite() or abs(p.amount) > MAX_AMOUNT:
            out.append(f"amount {p.amount} on {p.account} outside ±{MAX_AMOUNT}")
        elif p.amount != p.amount.quantize(CENT):
            out.append(f"amount {p.amount} on {p.account} is finer than a cent")
    if not out and sum((p.amount for p in entry.postings), Decimal(0)) != 0:
        out.append("the postings do not add up to zero")
    return out


def limit_problems(
    entry: Entry, balances: Mapping[str, Decimal], floors: Mapping[str, Decimal]
) -> list[str]:
    """Whether posting `entry` onto `balances` keeps every wallet at or above its floor
    (−limit; 0 for a wallet without one), arrears at or below zero and providers' clearing
    accounts at or below zero."""
    out: list[str] = []
    for p in entry.postings:
        after = balances.get(p.account, Decimal(0)) + p.amount
        kind = account_kind(p.account)
        if p.amount < 0 and kind is AccountKind.WALLET:
            floor = floors.get(p.account, Decimal(0))
            if after < floor:
                out.append(f"{p.account} would go to {after}, below its limit {floor}")
        elif p.amount > 0 and kind in (AccountKind.ARREARS, AccountKind.PROVIDER) and after > 0:
            out.append(f"{p.account} would go to {after}, above 0")
    return out


# --- building entries ------------------------------------------------------------------


def _driver_credit(driver_id: str, amount: Decimal, owed: Decimal) -> list[Posting]:
    """Money for a driver: arrears (`owed` ≥ 0 of them) are paid first, the rest to the
    wallet."""
    to_arrears = min(amount, owed)
    out = []
    if to_arrears > 0:
        out.append(Posting(arrears(driver_id), to_arrears))
    if amount - to_arrears > 0:
        out.append(Posting(wallet(driver_id), amount - to_arrears))
    return out


def _driver_debit(driver_id: str, amount: Decimal, available: Decimal) -> list[Posting]:
    """Money from a driver: from the wallet down to its limit (`available` is balance plus
    limit), the rest as arrears."""
    from_wallet = min(amount, max(available, Decimal(0)))
    out = []
    if from_wallet > 0:
        out.append(Posting(wallet(driver_id), -from_wallet))
    if amount - from_wallet > 0:
        out.append(Posting(arrears(driver_id), -(amount - from_wallet)))
    return out


def _entry(
    entry_id: str, kind: EntryKind, currency: str, postings: Iterable[Posting], **text: str
) -> Entry:
    kept = tuple(p for p in postings if p.amount != 0)
    return Entry(entry_id=entry_id, kind=kind, currency=currency, postings=kept, **text)


def topup(
    entry_id: str, driver_id: str, amount: Decimal, provider: str, owed: Decimal, currency: str
) -> Entry:
    """Money received for a driver through a provider. `owed`: the driver's arrears (≥ 0)."""
    if amount <= 0:
        raise ValueError("a top-up is a positive amount")
    return _entry(
        entry_id,
        EntryKind.TOPUP,
        currency,
        [Posting(provider_account(provider), -amount), *_driver_credit(driver_id, amount, owed)],
        reference=provider,
    )


def platform_fee(total: Decimal, fee_rate: Decimal) -> Decimal:
    return cents(total * fee_rate)


def charge(
    entry_id: str,
    driver_id: str,
    operator_id: str,
    total: Decimal,
    fee_rate: Decimal,
    available: Decimal,
    currency: str,
    reference: str = "",
) -> Entry:
    """A session's bill: the driver pays `total` (wallet first, beyond its limit as
    arrears), the operator is owed it less the platform's fee."""
    if total < 0:
        raise ValueError("a charge is not negative")
    fee = platform_fee(total, fee_rate)
    return _entry(
        entry_id,
        EntryKind.CHARGE,
        currency,
        [
            *_driver_debit(driver_id, total, available),
            Posting(operator_account(operator_id), total - fee),
            Posting(PLATFORM_FEES, fee),
        ],
        reference=reference,
    )


def refund(
    entry_id: str,
    driver_id: str,
    operator_id: str,
    amount: Decimal,
    fee_rate: Decimal,
    owed: Decimal,
    currency: str,
    reference: str,
) -> Entry:
    """Part or all of a charge given back: the operator and the platform give back their
    shares (the fee on the refunded amount), the driver's arrears are paid first."""
    if amount <= 0:
        raise ValueError("a refund is a positive amount")
    fee = platform_fee(amount, fee_rate)
    return _entry(
        entry_id,
        EntryKind.REFUND,
        currency,
        [
            Posting(operator_account(operator_id), -(amount - fee)),
            Posting(PLATFORM_FEES, -fee),
            *_driver_credit(driver_id, amount, owed),
        ],
        reference=reference,
    )


def dispute(
    entry_id: str,
    driver_id: str,
    operator_id: str,
    amount: Decimal,
    owed: Decimal,
    available: Decimal,
    currency: str,
    reference: str,
) -> Entry:
    """A disputed charge decided on the operator's statement (T/CEC check_charge_orders,
    an OCPI CDR): `amount` > 0 goes from the operator to the driver (the operator billed
    too much), < 0 from the driver to the operator (too little). The platform's fee
    stays as charged."""
    if amount == 0:
        raise ValueError("a dispute moves money")
    driver = (
        _driver_credit(driver_id, amount, owed)
        if amount > 0
        else _driver_debit(driver_id, -amount, available)
    )
    return _entry(
        entry_id,
        EntryKind.DISPUTE,
        currency,
        [Posting(operator_account(operator_id), -amount), *driver],
        reference=reference,
    )


# --- an in-memory ledger: the rules applied in order (tests, benchmarks, what-ifs) -------


@dataclass
class Ledger:
    """Applies entries with every rule the store applies: balanced, one currency per
    account, limits kept, each key posted once."""

    floors: dict[str, Decimal] = field(default_factory=dict)
    balances: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    currencies: dict[str, str] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)

    def post(self, entry: Entry) -> bool:
        """Post an entry; False when its key was posted already (with the same content)."""
        held = self.entries.get(entry.entry_id)
        if held is not None:
            if held != entry:
                raise Conflict(f"entry {entry.entry_id} was posted with other content")
            return False
        problems = entry_problems(entry)
        for p in entry.postings:
            currency = self.currencies.get(p.account, entry.currency)
            if currency != entry.currency:
                problems.append(f"{p.account} holds {currency}, not {entry.currency}")
        problems += limit_problems(entry, self.balances, self.floors)
        if problems:
            raise LimitBreached("; ".join(problems))
        for p in entry.postings:
            self.balances[p.account] += p.amount
            self.currencies.setdefault(p.account, entry.currency)
        self.entries[entry.entry_id] = entry
        return True

    def balance(self, account: str) -> Decimal:
        return self.balances.get(account, Decimal(0))

    def available(self, driver_id: str) -> Decimal:
        """What a driver's wallet can still pay: balance plus limit."""
        return self.balance(wallet(driver_id)) - self.floors.get(wallet(driver_id), Decimal(0))

    def owed(self, driver_id: str) -> Decimal:
        return -self.balance(arrears(driver_id))

    def total(self) -> Decimal:
        return sum(self.balances.values(), Decimal(0))
