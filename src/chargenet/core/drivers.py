"""Drivers and the tokens they charge with, and the one rule that authorises a token (R35).

A token is what a charger or a partner platform presents for a driver: an RFID card's
uid, an app token the platform issued (presented by the platform itself on a remote
start), or a vehicle's VIN where a charger authorises by vehicle. Only a digest of the
token's text is kept in facts and state (`TokenKey.digest`, keyed with the deployment's
secret), the same digest the OCPP gateway records on sessions, so a session names its
driver's token without naming the token.

`authorise` answers every intake alike (OCPP Authorize, StartTransaction,
TransactionEvent; OCPI real-time authorization; T/CEC query_equip_auth): each adapter maps
the `AuthStatus` to its protocol's words.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

DRIVER_ID = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MAX_TOKEN_CHARS = 64  # OCPP 2.0.1 idToken is 36, OCPI uid 36, 1.6 idTag 20, a VIN 17
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # ISO 3779: no I, O, Q


class TokenKind(StrEnum):
    RFID = "rfid"  # a card's uid (OCPP ISO14443/ISO15693, OCPI RFID)
    APP = "app"  # issued by the platform to a driver's app (OCPP Central, OCPI APP_USER)
    VIN = "vin"  # a vehicle identification number, for chargers that authorise by vehicle


class AuthStatus(StrEnum):
    """The answer to a token, in the order the checks are made."""

    ACCEPTED = "accepted"
    INVALID = "invalid"  # not known to the platform
    BLOCKED = "blocked"  # blocked by the driver or an administrator, or its driver closed
    EXPIRED = "expired"
    NO_CREDIT = "no_credit"  # the driver's wallet cannot pay for a charge


_DOMAIN = b"chargenet-token\x1f"
# A deployment sets its own (CHARGENET_TOKEN_SECRET); this one is public, for development.
DEVELOPMENT_TOKEN_SECRET = "chargenet-development-token-secret"


@dataclass(frozen=True, slots=True)
class TokenKey:
    """The deployment's key for token digests. Built once by the composition root from the
    settings (bootstrap) and handed to whatever computes digests: the driver services, the
    authoriser, the OCPP gateway's configuration, the OCPI receiver. No module holds it,
    so two platforms in one process (tests, tools) each digest with their own."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("the token secret cannot be empty")

    @classmethod
    def of(cls, secret: str) -> TokenKey:
        return cls(secret.encode())

    def digest(self, token: str) -> str:
        """The digest that stands for a token's text everywhere chargenet keeps it:
        HMAC-SHA256 keyed with the deployment's secret, over a domain prefix and the text,
        hex, 40 characters. A card's uid or a VIN has few enough values to be found by
        trying them all against an unkeyed hash; without the secret, which is not in the
        database, a copy of the database does not give them away. Case does not count: a
        token is a CiString in OCPP 1.6 (IdToken), 2.0.1 (idToken) and OCPI 2.2.1 (Token
        uid), and a CPO may hand back the uid it was given in another case."""
        text = token.upper().encode()
        return hmac.new(self.secret, _DOMAIN + text, hashlib.sha256).hexdigest()[:40]


# Immutable: what a deployment without CHARGENET_TOKEN_SECRET digests with (bootstrap warns).
DEVELOPMENT_TOKEN_KEY = TokenKey.of(DEVELOPMENT_TOKEN_SECRET)


def legacy_token_digest(token: str) -> str:
    """The unkeyed digest chargenet kept before digests were keyed: still found, once,
    for tokens registered then (app/settlement.py re-keys them)."""
    return hashlib.sha256(_DOMAIN + token.encode()).hexdigest()[:40]


def token_problems(kind: TokenKind, token: str) -> list[str]:
    out: list[str] = []
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isprintable() or " " in token:
        out.append(f"a token is 1..{MAX_TOKEN_CHARS} printable characters without spaces")
    if kind is TokenKind.RFID and len(token) > 20:
        # OCPP 1.6 IdToken is CiString20: a longer uid could not reach a 1.6 charger's list.
        out.append("an RFID uid has at most 20 characters")
    if kind is TokenKind.VIN and not VIN.match(token.upper()):
        out.append("a VIN has 17 letters and digits (no I, O, Q)")
    return out


@dataclass(frozen=True, slots=True)
class TokenState:
    """What the platform holds about one token."""

    digest: str
    driver_id: str
    kind: TokenKind
    blocked: bool = False
    expires_at: datetime | None = None
    driver_closed: bool = False


@dataclass(frozen=True, slots=True)
class Authorisation:
    status: AuthStatus
    driver_id: str | None = None
    expires_at: datetime | None = None  # for the charger's cache (OCPP expiryDate)


def authorise(
    token: TokenState | None,
    now: datetime,
    available: Decimal | None = None,
    minimum: Decimal = Decimal(0),
) -> Authorisation:
    """Whether a token may start a charge now. `available` is what the driver's wallet can
    still pay (balance plus its limit); None when wallets are not checked. A driver whose
    wallet cannot pay `minimum` more gets NO_CREDIT."""
    if token is None:
        return Authorisation(AuthStatus.INVALID)
    if token.blocked or token.driver_closed:
        return Authorisation(AuthStatus.BLOCKED, token.driver_id)
    if token.expires_at is not None and token.expires_at <= now:
        return Authorisation(AuthStatus.EXPIRED, token.driver_id, token.expires_at)
    if available is not None and available <= minimum:
        return Authorisation(AuthStatus.NO_CREDIT, token.driver_id, token.expires_at)
    return Authorisation(AuthStatus.ACCEPTED, token.driver_id, token.expires_at)
