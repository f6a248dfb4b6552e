"""Drivers, their tokens, the settlement ledger and disputes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from chargenet.core.billing import MAX_BILL_AMOUNT
from chargenet.core.drivers import DRIVER_ID, TokenKind
from chargenet.core.events.base import Event, _aware, _empty
from chargenet.core.ids import (
    OperatorId,
)
from chargenet.core.ledger import Entry, entry_problems
from chargenet.core.sessions import MAX_SESSION_ENERGY_WH

MAX_CREDIT_LIMIT = Decimal(100_000)


@dataclass(frozen=True, kw_only=True)
class DriverRegistered(Event):
    """A driver's account, opened or changed (the latest statement holds)."""

    TYPE: ClassVar[str] = "driver.registered"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"driver_id": 64, "display_name": 200}
    driver_id: str
    display_name: str = ""
    currency: str = "CNY"
    credit_limit: Decimal = Decimal(0)  # how far below 0 the wallet may go
    closed: bool = False

    def body_problems(self) -> list[str]:
        out = _empty(driver_id=self.driver_id)
        if self.driver_id and not DRIVER_ID.match(self.driver_id):
            out.append("a driver id has 2..64 letters, digits or _.@-")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        limit = self.credit_limit
        if not limit.is_finite() or not 0 <= limit <= MAX_CREDIT_LIMIT:
            out.append(f"credit limit {limit} outside 0..{MAX_CREDIT_LIMIT}")
        elif limit != limit.quantize(Decimal("0.01")):
            out.append("a credit limit is in whole cents")
        return out


@dataclass(frozen=True, kw_only=True)
class TokenRegistered(Event):
    """A token given to a driver. Only its digest is a fact; the token itself never is."""

    TYPE: ClassVar[str] = "driver.token_registered"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "driver_id": 64, "label": 64}
    token_digest: str
    driver_id: str
    kind: TokenKind
    label: str = ""  # what the driver reads: "card …3F2A", "my car"
    expires_at: datetime | None = None

    def body_problems(self) -> list[str]:
        out = _empty(token_digest=self.token_digest, driver_id=self.driver_id)
        if self.expires_at is not None:
            out += _aware(expires_at=self.expires_at)
        return out


@dataclass(frozen=True, kw_only=True)
class TokenStatusChanged(Event):
    """A token blocked or unblocked, or its expiry changed."""

    TYPE: ClassVar[str] = "driver.token_status_changed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "reason": 500}
    token_digest: str
    blocked: bool
    expires_at: datetime | None = None
    reason: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(token_digest=self.token_digest)
        if self.expires_at is not None:
            out += _aware(expires_at=self.expires_at)
        return out


@dataclass(frozen=True, kw_only=True)
class SessionClaimed(Event):
    """A session started for a driver's token where the session itself carries none (an
    operator platform's remote start names the session, not the token)."""

    TYPE: ClassVar[str] = "driver.session_claimed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "claimed_session": 128}
    claimed_session: str  # not `session_id`: the session may not be reported yet
    token_digest: str

    def body_problems(self) -> list[str]:
        return _empty(claimed_session=self.claimed_session, token_digest=self.token_digest)


@dataclass(frozen=True, kw_only=True)
class LedgerPosted(Event):
    """Money moved: one balanced entry of the settlement ledger (core/ledger.py). The
    event id derives from the entry's idempotency key, so a resend is stored once."""

    TYPE: ClassVar[str] = "ledger.posted"
    entry: Entry

    def body_problems(self) -> list[str]:
        return entry_problems(self.entry)


@dataclass(frozen=True, kw_only=True)
class DisputeOpened(Event):
    """An operator's figures for a session (a T/CEC check_charge_orders line, an OCPI
    CDR) disagree with the platform's own beyond the tolerance: a dispute is open in the
    ledger with both figures, for an administrator to decide (a dispute entry). Keyed by
    the session and where the figures came from, so a resent statement or CDR opens
    nothing new."""

    TYPE: ClassVar[str] = "settlement.dispute_opened"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "dispute_id": 200,
        "disputed_session": 128,
        "origin": 16,
        "document_id": 200,
        "currency": 3,
    }
    dispute_id: str
    disputed_session: str  # not `session_id`: a CDR may name a session not reported yet
    operator_id: OperatorId
    origin: str  # "tcec" (check_charge_orders) or "ocpi" (a CDR)
    document_id: str  # the reconciliation or the CDR that stated the figures
    stated_energy_wh: int | None = None
    stated_amount: Decimal | None = None
    recorded_energy_wh: int | None = None
    recorded_amount: Decimal | None = None
    currency: str = "CNY"

    def body_problems(self) -> list[str]:
        out = _empty(
            dispute_id=self.dispute_id,
            disputed_session=self.disputed_session,
            operator_id=self.operator_id,
            origin=self.origin,
            document_id=self.document_id,
        )
        for name, wh in (("stated", self.stated_energy_wh), ("recorded", self.recorded_energy_wh)):
            if wh is not None and not -MAX_SESSION_ENERGY_WH <= wh <= MAX_SESSION_ENERGY_WH:
                out.append(f"{name} energy {wh} Wh out of range")
        for name, amount in (("stated", self.stated_amount), ("recorded", self.recorded_amount)):
            if amount is not None and (not amount.is_finite() or abs(amount) > MAX_BILL_AMOUNT):
                out.append(f"{name} amount {amount} out of range")
        if len(self.currency) != 3 or not self.currency.isalpha():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        return out


@dataclass(frozen=True, kw_only=True)
class TokenRekeyed(Event):
    """A token registered under the unkeyed digest of earlier versions, now held under the
    deployment's keyed digest (core.drivers.TokenKey.digest). The old digest stays known, so
    the sessions that name it still find their driver."""

    TYPE: ClassVar[str] = "driver.token_rekeyed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "new_digest": 64}
    token_digest: str
    new_digest: str

    def body_problems(self) -> list[str]:
        out = _empty(token_digest=self.token_digest, new_digest=self.new_digest)
        if self.token_digest == self.new_digest:
            out.append("a token is re-keyed to another digest")
        return out
