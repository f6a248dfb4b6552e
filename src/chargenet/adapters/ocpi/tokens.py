"""OCPI 2.2.1 Tokens, the platform as eMSP (mod_tokens.asciidoc): its drivers' cards and
VINs as Token objects for the Sender interface, and the answer to real-time authorization
(POST {tokens}/{uid}/authorize) as AuthorizationInfo, from the one authorisation rule
(core/drivers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargenet.adapters.ocpi.wire import utc_text
from chargenet.app.ocpi import Party
from chargenet.app.settlement import PublishedTokenRow
from chargenet.core.drivers import Authorisation, AuthStatus, TokenKind

# TokenType (§ 12.4.4): a card is RFID; a VIN has no type of its own: OTHER; app tokens
# are APP_USER (answered in real time, never listed: they are secrets).
TOKEN_TYPES = {TokenKind.RFID: "RFID", TokenKind.VIN: "OTHER", TokenKind.APP: "APP_USER"}
KINDS = {"RFID": TokenKind.RFID, "OTHER": TokenKind.VIN, "APP_USER": TokenKind.APP}
# AllowedType (§ 12.4.1)
ALLOWED = {
    AuthStatus.ACCEPTED: "ALLOWED",
    AuthStatus.BLOCKED: "BLOCKED",
    AuthStatus.EXPIRED: "EXPIRED",
    AuthStatus.NO_CREDIT: "NO_CREDIT",
    AuthStatus.INVALID: "NOT_ALLOWED",
}


def token(row: PublishedTokenRow, us: Party, now: datetime) -> dict[str, Any]:
    """A Token object (§ 12.3.2). `valid` says whether it may be used at all (not blocked,
    not expired, its driver's account open); `whitelist` ALLOWED lets a CPO authorise it
    from its cache while it cannot reach us, real-time otherwise (wallets change)."""
    expired = row["expires_at"] is not None and row["expires_at"] <= now
    kind = TokenKind(row["kind"])
    return {
        "country_code": us.country_code,
        "party_id": us.party_id,
        "uid": row["uid"],
        "type": TOKEN_TYPES[kind],
        "contract_id": f"{us.country_code}-{us.party_id}-{row['token_digest'][:12].upper()}",
        "visual_number": row["label"] or None,
        "issuer": "chargenet",
        "valid": not (row["blocked"] or row["closed"] or expired),
        "whitelist": "ALLOWED",
        "last_updated": utc_text(row["as_of"]),
    }


def authorization_info(
    verdict: Authorisation, token_object: dict[str, Any], reference: str
) -> dict[str, Any]:
    """AuthorizationInfo (§ 12.3.1)."""
    return {
        "allowed": ALLOWED[verdict.status],
        "token": token_object,
        "authorization_reference": reference,
    }
