"""Drivers, their tokens, authorisation and the money of their sessions (docs/settlement.md).

- `DriverService`: a driver's account (a log-in of role driver, plus `driver.registered`),
  tokens (`driver.token_registered`: only digests are facts), blocking and expiry.
- `Authoriser`: the one answer to "may this token charge now" for every intake.
- `SettlementService`: top-ups, the charge of a session when it ends (priced by the tariff
  in force at its start), refunds and disputes, each a balanced ledger entry keyed for
  idempotency; receipts.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypedDict

from chargenet.app.accounts import AccountError, AccountService
from chargenet.app.ingest import Disposition
from chargenet.app.orders import Order, OrderResult, OrderService
from chargenet.app.payments import PaymentReceived
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.access import Role
from chargenet.core.billing import Difference, OrderTotals, Tolerance, compare, disputed
from chargenet.core.drivers import (
    DRIVER_ID,
    Authorisation,
    AuthStatus,
    TokenKey,
    TokenKind,
    TokenState,
    authorise,
    legacy_token_digest,
    token_problems,
)
from chargenet.core.errors import Conflict, DomainError, Invalid, UnknownReference
from chargenet.core.events import (
    ChargeDetailRecorded,
    ChargeOrdersReconciled,
    DisputeOpened,
    DriverRegistered,
    Event,
    LedgerPosted,
    SessionClaimed,
    Source,
    TokenRegistered,
    TokenRekeyed,
    TokenStatusChanged,
    event_meta,
)
from chargenet.core.ids import OperatorId, OrderId
from chargenet.core.ledger import (
    Entry,
    EntryKind,
    arrears,
    cents,
    charge,
    dispute,
    refund,
    topup,
    wallet,
)
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id, stable_id

log = logging.getLogger(__name__)
SOURCE = Source(adapter="settlement")
_WH_PER_KWH = Decimal(1000)


class SettlementRefused(Invalid):
    """A movement of money that cannot be made as asked (the message says why)."""


class SettlementConflict(SettlementRefused, Conflict):
    """A movement of money the current state does not allow: more refunded than is left
    of a charge, a session that has ended, a charger that cannot take the order now."""


# --- the port the store implements -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitPrice:
    """The price in force for a session: per kWh (electricity and service together, VAT
    included where the tariff states it) and per session."""

    per_kwh: Decimal
    per_session: Decimal
    currency: str
    source: str  # which tariff: "station_prices:S1", "ocpi:CN*ABC*T1"


@dataclass(frozen=True, slots=True)
class SessionFacts:
    session_id: str
    connector_id: str
    charger_id: str
    operator_id: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    energy_wh: int | None
    meter_start_wh: int | None
    token_hash: str | None
    flags: str


class DriverRow(TypedDict):
    """A driver's account."""

    driver_id: str
    display_name: str
    currency: str
    credit_limit: Decimal
    closed: bool
    registered_at: datetime
    as_of: datetime


class DriverTokenRow(TypedDict):
    """One of a driver's tokens (only its digest: the text is never kept here)."""

    token_digest: str
    driver_id: str
    kind: str  # a `TokenKind` value
    label: str
    blocked: bool
    expires_at: datetime | None
    registered_at: datetime
    as_of: datetime


class PublishedTokenRow(TypedDict):
    """A card or VIN with its text, as partners are given it (OCPI Tokens)."""

    uid: str
    token_digest: str
    driver_id: str
    kind: str  # a `TokenKind` value
    label: str
    blocked: bool
    expires_at: datetime | None
    as_of: datetime
    closed: bool  # its driver's account


class PostingRow(TypedDict):
    account: str
    amount: str  # the Decimal as text


class LedgerEntryRow(TypedDict):
    """A ledger entry with who it concerns: its driver, its operator, the money that went
    to operator and platform (a charge's total), and the driver's net."""

    entry_id: str
    kind: str  # an `EntryKind` value
    currency: str
    reference: str
    memo: str
    posted_at: datetime
    driver_id: str | None
    operator_id: str | None
    total: Decimal
    driver_net: Decimal
    postings: list[PostingRow]


class MovementRow(TypedDict):
    """A posting to one account, with its entry's kind and reference."""

    entry_id: str
    amount: Decimal
    posted_at: datetime
    kind: str  # an `EntryKind` value
    reference: str


class DisputeRow(TypedDict):
    """A dispute opened on an operator's figures: both sides' figures, who decided it."""

    dispute_id: str
    session_id: str
    operator_id: str
    origin: str  # tcec | ocpi
    document_id: str
    stated_energy_wh: int | None
    stated_amount: Decimal | None
    recorded_energy_wh: int | None
    recorded_amount: Decimal | None
    currency: str
    opened_at: datetime
    decided_by: str | None


class LiveRow(TypedDict):
    """A connector's newest register and power (None before its first report)."""

    session_id: str | None
    power_w: int | None
    energy_register_wh: int | None
    meter_at: datetime | None
    status: str | None


class ConnectorTargetRow(TypedDict):
    """Where a remote start for a connector goes."""

    connector_id: str
    charger_id: str
    operator_id: str
    evse_no: int
    connector_no: int
    protocol: str | None  # None: not connected yet
    access: str  # its station's: public | dedicated | private


class SettlementReads(Protocol):
    def token(self, digest: str) -> TokenState | None: ...

    def has_tokens(self) -> bool: ...

    def driver(self, driver_id: str) -> DriverRow | None: ...

    def tokens_of(self, driver_id: str) -> list[DriverTokenRow]: ...

    def balances(self, accounts: Sequence[str]) -> dict[str, Decimal]: ...

    def floor(self, account: str) -> Decimal: ...

    def entry(self, entry_id: str) -> LedgerEntryRow | None: ...

    def entries_of(self, driver_id: str, limit: int) -> list[LedgerEntryRow]: ...

    def refunded(self, charge_id: str) -> Decimal: ...

    def account_movements(
        self, account: str, start: datetime, end: datetime
    ) -> tuple[Decimal, list[MovementRow]]: ...

    def session(self, session_id: str) -> SessionFacts | None: ...

    def sessions_of(self, driver_id: str, limit: int) -> list[SessionFacts]: ...

    def live(self, session_id: str) -> LiveRow | None:
        """The connector's newest register and power while a session runs."""
        ...

    def price_in_force(self, connector_id: str, at: datetime) -> UnitPrice | None: ...

    def connector_target(self, connector_id: str) -> ConnectorTargetRow | None:
        """Where a remote start for a connector goes (None: unknown or retired)."""
        ...

    def unsettled(self, limit: int) -> list[str]:
        """Ended sessions of drivers' tokens whose charge is not posted yet."""
        ...

    def local_list(self) -> list[tuple[str, TokenState]]:
        """(token text, state) of every token a charger may hold in its local list."""
        ...

    def published_tokens(
        self, date_from: datetime | None, date_to: datetime | None, offset: int, limit: int
    ) -> tuple[list[PublishedTokenRow], int]:
        """Cards and VINs with their text (never app tokens), for partners."""
        ...

    def keep_uid(self, digest: str, uid: str, at: datetime) -> None: ...

    def disputes(self, operator_id: str | None, open_only: bool, limit: int) -> list[DisputeRow]:
        """Disputes opened on operators' figures, newest first."""
        ...

    def operator_totals(
        self,
        start: datetime,
        end: datetime,
        operator_id: str | None = None,
        now: datetime | None = None,
    ) -> tuple[dict[str, Decimal], list[tuple[str, str, int, Decimal]]]:
        """Operators' accounts: balances at `start`; (account, kind, count, amount) of
        their postings in [start, end). Given `now`, balances at the edges of a closed
        period are checkpointed (docs/settlement.md)."""
        ...

    def forget_uid(self, digest: str) -> None: ...

    def uid_of(self, digest: str) -> str | None:
        """The kept text of a card or VIN (None for app tokens and unknown digests)."""
        ...


# --- drivers and tokens ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    digest: str
    kind: TokenKind
    token: str  # the text: for an app token shown once, never kept


class DriverService:
    def __init__(
        self,
        reads: SettlementReads,
        accounts: AccountService,
        pipeline: IngestPipeline,
        clock: Clock,
        key: TokenKey,
        currency: str = "CNY",
    ) -> None:
        self.reads = reads
        self.accounts = accounts
        self.pipeline = pipeline
        self.clock = clock
        self.key = key  # the deployment's token key (from the settings, by bootstrap)
        self.currency = currency

    async def _record(self, events: Sequence[Event]) -> None:
        for outcome in await self.pipeline.submit(list(events)):
            if not outcome.ok:
                raise SettlementRefused(outcome.reason)

    async def register(
        self,
        driver_id: str,
        password: str,
        display_name: str = "",
        credit_limit: Decimal = Decimal(0),
        currency: str | None = None,
    ) -> None:
        """Open a driver's account: a log-in (role driver) and the account's facts."""
        if not DRIVER_ID.match(driver_id):
            raise AccountError("a driver id has 2..64 letters, digits or _.@-")
        # scrypt takes its time: not on the event loop
        await asyncio.to_thread(
            self.accounts.add_user, driver_id, password, Role.DRIVER, display_name=display_name
        )
        try:
            await self.update(driver_id, display_name, credit_limit, currency)
        except DomainError:
            await asyncio.to_thread(self.accounts.remove_user, driver_id)
            raise

    async def update(
        self,
        driver_id: str,
        display_name: str = "",
        credit_limit: Decimal = Decimal(0),
        currency: str | None = None,
        closed: bool = False,
    ) -> None:
        now = self.clock.now()
        await self._record(
            [
                DriverRegistered(
                    **event_meta(new_id(), SOURCE, now),
                    driver_id=driver_id,
                    display_name=display_name,
                    currency=currency or self.currency,
                    credit_limit=credit_limit,
                    closed=closed,
                )
            ]
        )

    async def issue_token(
        self,
        driver_id: str,
        kind: TokenKind,
        token: str | None = None,
        label: str = "",
        expires_at: datetime | None = None,
    ) -> IssuedToken:
        """Give a driver a token. An app token is generated here (20 characters: it must
        fit a 1.6 idTag) and shown once; a card's uid or a VIN is given."""
        if self.reads.driver(driver_id) is None:
            raise UnknownReference("driver", driver_id)
        if kind is TokenKind.APP:
            token = token or secrets.token_urlsafe(15)
        if token is None:
            raise SettlementRefused(f"a {kind.value} token needs its text")
        if kind is TokenKind.VIN:
            token = token.upper()
        problems = token_problems(kind, token)
        if problems:
            raise SettlementRefused("; ".join(problems))
        digest = self.key.digest(token)
        now = self.clock.now()
        await self._record(
            [
                TokenRegistered(
                    **event_meta(new_id(), SOURCE, now),
                    token_digest=digest,
                    driver_id=driver_id,
                    kind=kind,
                    label=label or _default_label(kind, token),
                    expires_at=expires_at,
                )
            ]
        )
        if kind is not TokenKind.APP:
            # Cards and VINs go to chargers' local lists and partners in the clear.
            self.reads.keep_uid(digest, token, now)
        return IssuedToken(digest, kind, token)

    async def rekey(self, token: str) -> str:
        """The digest the platform holds a token under, re-keying it first when it was
        registered under the unkeyed digest of earlier versions (its text is at hand
        only when presented, or kept for a card or VIN)."""
        digest, legacy = self.key.digest(token), legacy_token_digest(token)
        if self.reads.token(digest) is not None or self.reads.token(legacy) is None:
            return digest
        await self._record(
            [
                TokenRekeyed(
                    **event_meta(stable_id("rekey", legacy, digest), SOURCE, self.clock.now()),
                    token_digest=legacy,
                    new_digest=digest,
                )
            ]
        )
        if self.reads.uid_of(legacy) is not None:
            self.reads.keep_uid(digest, token, self.clock.now())
            self.reads.forget_uid(legacy)
        return digest

    async def rekey_known(self) -> int:
        """Re-key every card and VIN registered under the unkeyed digest (their text is
        kept for local lists); app tokens, whose text is never kept, are re-keyed when
        next presented. Run at start; the number re-keyed."""
        done = 0
        for uid, state in await asyncio.to_thread(self.reads.local_list):
            if state.digest == legacy_token_digest(uid) != self.key.digest(uid):
                await self.rekey(uid)
                done += 1
        return done

    async def claim(self, session_id: str, digest: str) -> None:
        await self._record(
            [
                SessionClaimed(
                    **event_meta(stable_id("claim", session_id), SOURCE, self.clock.now()),
                    claimed_session=session_id,
                    token_digest=digest,
                )
            ]
        )

    async def set_blocked(
        self, digest: str, blocked: bool, reason: str = "", driver_id: str | None = None
    ) -> None:
        held = self.reads.token(digest)
        if held is None or (driver_id is not None and held.driver_id != driver_id):
            raise UnknownReference("token", digest)
        await self._record(
            [
                TokenStatusChanged(
                    **event_meta(new_id(), SOURCE, self.clock.now()),
                    token_digest=digest,
                    blocked=blocked,
                    expires_at=held.expires_at,
                    reason=reason,
                )
            ]
        )


def _default_label(kind: TokenKind, token: str) -> str:
    if kind is TokenKind.APP:
        return "app"
    return f"{kind.value} …{token[-4:]}"


# --- authorisation -----------------------------------------------------------------------


class AuthMode(StrEnum):
    OPEN = "open"  # every token accepted: supervision only, no driver accounts
    TOKENS = "tokens"  # the platform's tokens decide
    AUTO = "auto"  # tokens once any is registered; open until then


class Authoriser:
    def __init__(self, reads: SettlementReads, clock: Clock, mode: AuthMode, key: TokenKey) -> None:
        self.reads = reads
        self.clock = clock
        self.mode = mode
        self.key = key

    def checks_tokens(self) -> bool:
        if self.mode is AuthMode.AUTO:
            return self.reads.has_tokens()
        return self.mode is AuthMode.TOKENS

    def authorise(self, token: str | None) -> Authorisation:
        """The answer to a token presented at a charger (None: no token presented)."""
        if not self.checks_tokens():
            return Authorisation(AuthStatus.ACCEPTED)
        if not token:
            return Authorisation(AuthStatus.INVALID)
        return self.authorise_digest(self.known_digest(token))

    def known_digest(self, token: str) -> str:
        """The digest a token is held under: the keyed one, else the unkeyed digest of a
        token registered before digests were keyed and not re-keyed yet."""
        digest = self.key.digest(token)
        if self.reads.token(digest) is None:
            legacy = legacy_token_digest(token)
            if self.reads.token(legacy) is not None:
                return legacy
        return digest

    def authorise_digest(self, digest: str) -> Authorisation:
        state = self.reads.token(digest)
        available = None
        if state is not None:
            account = wallet(state.driver_id)
            balance = self.reads.balances([account]).get(account, Decimal(0))
            available = balance - self.reads.floor(account)
        return authorise(state, self.clock.now(), available)


# --- money ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bill:
    session_id: str
    energy_wh: int
    price: UnitPrice
    total: Decimal


def price_session(price: UnitPrice, energy_wh: int) -> Decimal:
    """The money of a session at one unit price: fixed at the start (NEVI 23 CFR
    680.116(a): the price shown before the session cannot change during it)."""
    return cents(price.per_kwh * Decimal(energy_wh) / _WH_PER_KWH + price.per_session)


PriceLookup = Callable[[str, datetime], UnitPrice | None]


class SettlementService:
    def __init__(
        self,
        reads: SettlementReads,
        pipeline: IngestPipeline,
        clock: Clock,
        fee_rate: Decimal = Decimal("0.01"),
        price: PriceLookup | None = None,
        tolerance: Tolerance | None = None,
        currency: str = "CNY",
    ) -> None:
        self.reads = reads
        self.pipeline = pipeline
        self.clock = clock
        self.fee_rate = fee_rate
        self.tolerance = tolerance or Tolerance()
        self.currency = currency  # of statements, which name none (T/CEC is in yuan)
        # The price in force: one function, swapped when the tariff model changes.
        self.price: PriceLookup = price or reads.price_in_force

    async def post(self, entry: Entry, at: datetime | None = None) -> bool:
        """Post an entry; False when its key was posted already (nothing moves twice)."""
        when = at or self.clock.now()
        event = LedgerPosted(
            **event_meta(stable_id("ledger", entry.entry_id), SOURCE, when, self.clock.now()),
            entry=entry,
        )
        [outcome] = await self.pipeline.submit([event])
        if outcome.disposition is Disposition.DUPLICATE:
            return False
        if not outcome.ok:
            # The entry is the service's own, built from checked amounts: the ledger
            # refuses it for its state (a wallet's limit, a key posted with other content).
            raise SettlementConflict(outcome.reason)
        return True

    def _driver(self, driver_id: str) -> DriverRow:
        found = self.reads.driver(driver_id)
        if found is None:
            raise UnknownReference("driver", driver_id)
        return found

    def _money(self, driver_id: str) -> tuple[Decimal, Decimal]:
        """(available, owed) of a driver: what the wallet can still pay, and arrears."""
        w, a = wallet(driver_id), arrears(driver_id)
        balances = self.reads.balances([w, a])
        available = balances.get(w, Decimal(0)) - self.reads.floor(w)
        return available, -balances.get(a, Decimal(0))

    async def top_up(self, driver_id: str, amount: Decimal, provider: str, key: str) -> bool:
        """Money received for a driver (a provider's transaction id is the key)."""
        driver = self._driver(driver_id)
        if amount <= 0 or amount != cents(amount):
            raise SettlementRefused("a top-up is a positive amount in whole cents")
        _, owed = self._money(driver_id)
        entry = topup(
            f"topup:{provider}:{key}", driver_id, amount, provider, owed, driver["currency"]
        )
        return await self.post(entry)

    async def payment_received(self, payment: PaymentReceived) -> bool:
        """A provider's verified notification of money received for a driver; its
        transaction id keys the top-up, so a resent notification posts nothing."""
        driver = self._driver(payment.driver_id)
        if payment.currency != driver["currency"]:
            raise SettlementRefused(
                f"paid in {payment.currency}, the wallet holds {driver['currency']}"
            )
        return await self.top_up(
            payment.driver_id, payment.amount, payment.provider, payment.transaction_id
        )

    def bill(self, session: SessionFacts) -> Bill | None:
        """The bill of an ended session at the price in force when it started; None when
        its energy cannot be trusted or no price is known."""
        if session.energy_wh is None:
            return None
        price = self.price(session.connector_id, session.started_at)
        if price is None:
            return None
        return Bill(
            session.session_id, session.energy_wh, price, price_session(price, session.energy_wh)
        )

    async def settle_session(self, session_id: str) -> Entry | None:
        """Post the charge of an ended session of a driver's token, once. None when it is
        nobody's, still running, unpriceable, or charged already. (Should the wallet have
        moved since it was read, the store refuses the entry and the next sweep charges
        the session anew.)"""
        found = await asyncio.to_thread(self._charge, session_id)
        if found is None:
            return None
        entry, at = found
        await self.post(entry, at)
        return entry

    def _charge(self, session_id: str) -> tuple[Entry, datetime] | None:
        """The charge of a session, read from the store (blocking: run in a thread)."""
        session = self.reads.session(session_id)
        if session is None or session.ended_at is None or not session.token_hash:
            return None
        token = self.reads.token(session.token_hash)
        if token is None:
            return None
        key = f"charge:{session_id}"
        if self.reads.entry(key) is not None:
            return None
        bill = self.bill(session)
        if bill is None:
            log.warning("session %s: no price or no trusted energy; not charged", session_id)
            return None
        if bill.total == 0:
            return None  # nothing delivered, nothing to pay
        driver = self._driver(token.driver_id)
        if bill.price.currency != driver["currency"]:
            log.warning(
                "session %s priced in %s, wallet in %s",
                session_id,
                bill.price.currency,
                driver["currency"],
            )
            return None
        available, _ = self._money(token.driver_id)
        entry = charge(
            key,
            token.driver_id,
            session.operator_id,
            bill.total,
            self.fee_rate,
            available,
            driver["currency"],
            reference=session_id,
        )
        return entry, session.ended_at

    async def settle_pending(self, limit: int = 1000) -> int:
        """Charge every ended session not charged yet (after a restart, a lost event)."""
        done = 0
        for session_id in await asyncio.to_thread(self.reads.unsettled, limit):
            try:
                if await self.settle_session(session_id) is not None:
                    done += 1
            except DomainError as exc:
                log.warning("session %s not charged: %s", session_id, exc)
        return done

    def _charged(self, session_id: str) -> tuple[LedgerEntryRow, str, str]:
        """A session's charge entry, its driver and its operator."""
        held = self.reads.entry(f"charge:{session_id}")
        if held is None:
            raise UnknownReference("charge of session", session_id)
        driver_id, operator_id = held["driver_id"], held["operator_id"]
        if driver_id is None or operator_id is None:
            # `charge` posts to the driver's wallet or arrears and to the operator's
            # account; only a 100 % fee leaves the operator's posting out (it is zero).
            raise SettlementConflict(f"{held['entry_id']} names no driver or no operator")
        return held, driver_id, operator_id

    async def refund(self, session_id: str, amount: Decimal | None, key: str) -> Entry:
        """Give back part or all of a session's charge (at most what is left of it)."""
        held, driver_id, operator_id = self._charged(session_id)
        charged = held["total"]
        left = charged - self.reads.refunded(f"charge:{session_id}")
        amount = left if amount is None else amount
        if amount <= 0 or amount != cents(amount):
            raise SettlementRefused(f"a refund is 0.01..{left} for this session")
        if amount > left:  # what is left depends on the refunds made so far
            raise SettlementConflict(f"a refund is 0.01..{left} for this session")
        _, owed = self._money(driver_id)
        entry = refund(
            f"refund:{key}",
            driver_id,
            operator_id,
            amount,
            self.fee_rate,
            owed,
            held["currency"],
            reference=f"charge:{session_id}",
        )
        await self.post(entry)
        return entry

    async def dispute(self, session_id: str, amount: Decimal, key: str) -> Entry:
        """Settle a dispute about a session's charge: `amount` > 0 from the operator to the
        driver, < 0 from the driver to the operator."""
        held, driver_id, operator_id = self._charged(session_id)
        if amount == 0 or amount != cents(amount):
            raise SettlementRefused("a dispute moves a non-zero amount in whole cents")
        available, owed = self._money(driver_id)
        entry = dispute(
            f"dispute:{key}",
            driver_id,
            operator_id,
            amount,
            owed,
            available,
            held["currency"],
            reference=f"charge:{session_id}",
        )
        await self.post(entry)
        return entry

    def receipt(self, session_id: str) -> dict[str, Any] | None:
        """What a driver keeps of a charged session."""
        session = self.reads.session(session_id)
        held = self.reads.entry(f"charge:{session_id}")
        if session is None or held is None:
            return None
        price = self.price(session.connector_id, session.started_at)
        return {
            "receipt_id": held["entry_id"],
            "session_id": session_id,
            "connector_id": session.connector_id,
            "operator_id": held["operator_id"],
            "started_at": session.started_at.isoformat(),
            "ended_at": session.ended_at.isoformat() if session.ended_at else None,
            "energy_kwh": str(Decimal(session.energy_wh or 0) / _WH_PER_KWH),
            "price_per_kwh": str(price.per_kwh) if price else None,
            "price_per_session": str(price.per_session) if price else None,
            "total": str(cents(held["total"])),
            "refunded": str(cents(self.reads.refunded(held["entry_id"]))),
            "currency": held["currency"],
            "posted_at": held["posted_at"].isoformat(),
        }

    async def examine(self, event: Event) -> int:
        """Open a dispute for each session where an operator's figures (a T/CEC statement
        checked against the platform's records, an OCPI CDR) differ from the platform's
        own beyond the tolerance; the number opened. A resent statement or CDR opens
        nothing: a dispute is keyed by its origin and session, the first holds."""
        opened = await asyncio.to_thread(self._disputes, event)
        if not opened:
            return 0
        outcomes = await self.pipeline.submit(opened)
        for outcome in outcomes:
            if not outcome.ok and outcome.disposition is not Disposition.DUPLICATE:
                log.warning("dispute not opened: %s", outcome.reason)
        return sum(1 for o in outcomes if o.ok and o.disposition is not Disposition.DUPLICATE)

    def _disputes(self, event: Event) -> list[DisputeOpened]:
        if isinstance(event, ChargeOrdersReconciled):
            # The statement's lines were compared with the platform's sessions and bills
            # when it came (core.billing.reconcile); what differs beyond the tolerance is
            # disputed.
            return [
                self._opened(
                    event, "tcec", event.reconciliation_id, event.operator_id, d, self.currency
                )
                for d in event.differences
                if disputed(d, self.tolerance)
            ]
        if isinstance(event, ChargeDetailRecorded) and event.session_id and not event.credit:
            found = self._against_cdr(event)
            return [found] if found is not None else []
        return []

    def _against_cdr(self, cdr: ChargeDetailRecorded) -> DisputeOpened | None:
        """A CDR against the platform's own session: its energy, and the platform's bill
        (the charge posted to the driver, else the session priced as it would be)."""
        assert cdr.session_id is not None
        session = self.reads.session(cdr.session_id)
        if session is None:
            return None
        held = self.reads.entry(f"charge:{session.session_id}")
        amount: Decimal | None
        if held is not None:
            amount, currency = held["total"], held["currency"]
        else:
            bill = self.bill(session)
            amount = bill.total if bill else None
            currency = bill.price.currency if bill else cdr.cost.currency
        if currency != cdr.cost.currency:
            amount = None  # no comparison across currencies
        # OCPI 2.2.1 CDR total_cost is a Price: incl_vat when given is what the driver pays,
        # as the platform's prices include VAT where the tariff states it.
        stated = cdr.cost_incl_vat if cdr.cost_incl_vat is not None else cdr.cost.amount
        difference = compare(
            OrderTotals(order_id=session.session_id, energy_wh=cdr.energy_wh, amount=stated),
            OrderTotals(order_id=session.session_id, energy_wh=session.energy_wh, amount=amount),
        )
        if difference is None or not disputed(difference, self.tolerance):
            return None
        return self._opened(
            cdr, "ocpi", cdr.cdr_id, session.operator_id, difference, cdr.cost.currency
        )

    def _opened(
        self,
        source: Event,
        origin: str,
        document_id: str,
        operator_id: str,
        difference: Difference,
        currency: str,
    ) -> DisputeOpened:
        dispute_id = f"{origin}:{difference.order_id}"
        return DisputeOpened(
            **event_meta(
                stable_id("dispute", dispute_id), SOURCE, source.occurred_at, self.clock.now()
            ),
            dispute_id=dispute_id,
            disputed_session=difference.order_id,
            operator_id=OperatorId(operator_id),
            origin=origin,
            document_id=document_id,
            stated_energy_wh=difference.stated_energy_wh,
            stated_amount=difference.stated_amount,
            recorded_energy_wh=difference.recorded_energy_wh,
            recorded_amount=difference.recorded_amount,
            currency=currency,
        )

    def cost_so_far(self, session: SessionFacts, energy_wh: int) -> Decimal | None:
        price = self.price(session.connector_id, session.started_at)
        return None if price is None else price_session(price, energy_wh)


@dataclass(frozen=True, slots=True)
class OperatorStatement:
    """What the platform owes an operator over a period: the balance at its start, the
    movements by kind (how many, how much), the balance at its end."""

    operator_id: str
    opening: Decimal
    movements: dict[str, tuple[int, Decimal]]
    closing: Decimal


def statements(
    opening: dict[str, Decimal], totals: Sequence[tuple[str, str, int, Decimal]]
) -> list[OperatorStatement]:
    """Operators' statements from their accounts' opening balances and totals by kind."""
    moves: dict[str, dict[str, tuple[int, Decimal]]] = {}
    for account, kind, count, amount in totals:
        moves.setdefault(account, {})[kind] = (count, amount)
    out = []
    for account in sorted(set(opening) | set(moves)):
        start = opening.get(account, Decimal(0))
        mine = moves.get(account, {})
        closing = start + sum((a for _, a in mine.values()), Decimal(0))
        out.append(OperatorStatement(account.partition(":")[2], cents(start), mine, cents(closing)))
    return out


def entry_kind(entry: LedgerEntryRow) -> EntryKind:
    return EntryKind(entry["kind"])


# --- starting and stopping a charge for a driver -------------------------------------------


@dataclass(frozen=True, slots=True)
class StartAnswer:
    order_id: str
    result: OrderResult
    authorisation: Authorisation
    price: UnitPrice | None


class RemoteCharging:
    """A driver starts and stops a charge at any connector the platform can command; the
    answer is the charger's own (OCPP RemoteStart/RequestStartTransaction …)."""

    def __init__(
        self,
        reads: SettlementReads,
        drivers: DriverService,
        authoriser: Authoriser,
        orders: OrderService,
        settlement: SettlementService,
        clock: Clock,
    ) -> None:
        self.reads = reads
        self.drivers = drivers
        self.authoriser = authoriser
        self.orders = orders
        self.settlement = settlement
        self.clock = clock

    def _order(
        self,
        kind: OrderKind,
        target: ConnectorTargetRow,
        driver_id: str,
        private: dict[str, str] | None = None,
        **parameters: str,
    ) -> Order:
        return Order(
            order_id=OrderId(new_id()),
            kind=kind,
            charger_id=target["charger_id"],
            protocol=target["protocol"],
            target_kind=TargetKind.CONNECTOR,
            target_id=target["connector_id"],
            evse_no=target["evse_no"],
            connector_no=target["connector_no"],
            parameters=parameters,
            reason="driver request",
            issued_by=f"driver:{driver_id}",
            private=private or {},
        )

    async def start(
        self, driver_id: str, connector_id: str, token: str | None, timeout_s: float
    ) -> StartAnswer:
        target = self.reads.connector_target(connector_id)
        # Drivers charge at public sites; dedicated and private ones start their own way.
        if target is None or target["access"] != "public":
            raise UnknownReference("connector", connector_id)
        if token is None:
            # A token for this start only: the charger presents it back (StartTransaction,
            # TransactionEvent) and the platform knows it as the driver's.
            issued = await self.drivers.issue_token(
                driver_id,
                TokenKind.APP,
                label="remote start",
                expires_at=self.clock.now() + REMOTE_TOKEN_LIFETIME,
            )
            token = issued.token
        else:
            # Re-keyed now if need be: the charger reports the keyed digest on the session.
            held = self.reads.token(await self.drivers.rekey(token))
            if held is None or held.driver_id != driver_id:
                raise UnknownReference("token", "(given)")
        digest = self.drivers.key.digest(token)
        verdict = self.authoriser.authorise_digest(digest)
        price = self.settlement.price(connector_id, self.clock.now())
        order = self._order(
            OrderKind.REMOTE_START,
            target,
            driver_id,
            {"id_tag": token},
            token_digest=digest,
        )
        if verdict.status is not AuthStatus.ACCEPTED:
            return StartAnswer(order.order_id, NOT_SENT, verdict, price)
        problem = self.orders.check(order)
        if problem is not None:  # the charger or its channel, as they are now
            raise SettlementConflict(problem)
        result = await self.orders.issue(order, timeout_s=timeout_s)
        if result.session_id is not None:
            # An operator platform's start names its session, which will carry no token.
            await self.drivers.claim(result.session_id, digest)
        return StartAnswer(order.order_id, result, verdict, price)

    def own_session(self, driver_id: str, session_id: str) -> SessionFacts:
        session = self.reads.session(session_id)
        token = self.reads.token(session.token_hash) if session and session.token_hash else None
        if session is None or token is None or token.driver_id != driver_id:
            raise UnknownReference("session", session_id)
        return session

    async def stop(self, driver_id: str, session_id: str, timeout_s: float) -> OrderResult:
        session = self.own_session(driver_id, session_id)
        if session.ended_at is not None:
            raise SettlementConflict("the session has ended")
        target = self.reads.connector_target(session.connector_id)
        if target is None:
            raise UnknownReference("connector", session.connector_id)
        order = self._order(OrderKind.REMOTE_STOP, target, driver_id, session_id=session_id)
        problem = self.orders.check(order)
        if problem is not None:  # the charger or its channel, as they are now
            raise SettlementConflict(problem)
        return await self.orders.issue(order, timeout_s=timeout_s)

    def view(self, driver_id: str, session_id: str) -> dict[str, Any]:
        """A driver's session: live while it runs (energy, power, cost so far), its
        receipt once charged."""
        s = self.own_session(driver_id, session_id)
        energy, power = s.energy_wh, None
        if s.ended_at is None:
            live = self.reads.live(session_id)
            if live is not None:
                register = live["energy_register_wh"]
                if (
                    live["session_id"] in (None, session_id)
                    and register is not None
                    and s.meter_start_wh is not None
                ):
                    energy = max(register - s.meter_start_wh, 0)
                power = live["power_w"]
        cost = self.settlement.cost_so_far(s, energy) if energy is not None else None
        return {
            "session_id": s.session_id,
            "connector_id": s.connector_id,
            "operator_id": s.operator_id,
            "state": s.state,
            "started_at": s.started_at.isoformat(),
            "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            "energy_wh": energy,
            "power_w": power,
            "cost": str(cost) if cost is not None else None,
            "receipt": self.settlement.receipt(session_id),
        }


REMOTE_TOKEN_LIFETIME = timedelta(days=1)
NOT_SENT = OrderResult(OrderOutcome.REJECTED, "the token is not accepted: nothing was sent")
