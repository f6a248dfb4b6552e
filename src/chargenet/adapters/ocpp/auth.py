"""Authorisation in OCPP's words: the platform's answer to a token as 1.6 IdTagInfo and
2.0.1 IdTokenInfo, and the entries of a local authorisation list (SendLocalList)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chargenet.adapters.ocpp.model import V16
from chargenet.adapters.ocpp.values import wire_time
from chargenet.core.drivers import AuthStatus, TokenKind, TokenState, authorise

# 1.6 IdTagInfo has no NoCredit: a token that cannot pay is Blocked for the charger.
_STATUS_16 = {
    AuthStatus.ACCEPTED: "Accepted",
    AuthStatus.BLOCKED: "Blocked",
    AuthStatus.EXPIRED: "Expired",
    AuthStatus.INVALID: "Invalid",
    AuthStatus.NO_CREDIT: "Blocked",
}
_STATUS_201 = {
    AuthStatus.ACCEPTED: "Accepted",
    AuthStatus.BLOCKED: "Blocked",
    AuthStatus.EXPIRED: "Expired",
    AuthStatus.INVALID: "Invalid",
    AuthStatus.NO_CREDIT: "NoCredit",
}
# 2.0.1 IdTokenEnumType: a card's uid is ISO14443; a VIN has no type of its own, and
# "Local" is the type for identifiers the charging station's owner assigns.
_TYPE_201 = {TokenKind.RFID: "ISO14443", TokenKind.VIN: "Local", TokenKind.APP: "Central"}


def status_16(status: AuthStatus) -> str:
    return _STATUS_16[status]


def status_201(status: AuthStatus) -> str:
    return _STATUS_201[status]


def token_type_201(kind: TokenKind) -> str:
    return _TYPE_201[kind]


def local_list_entries(
    tokens: Sequence[tuple[str, TokenState]], version: str, now: datetime
) -> list[dict[str, Any]]:
    """A local authorisation list in the charger's version: each token with the status it
    has now (blocked and expired ones too, so an offline charger refuses them) and its
    expiry. Wallets are not part of it: offline, a charger cannot know a balance."""
    out: list[dict[str, Any]] = []
    for uid, state in tokens:
        status = authorise(state, now).status
        if version == V16:
            info: dict[str, Any] = {"status": status_16(status)}
            if state.expires_at is not None:
                info["expiryDate"] = wire_time(state.expires_at)
            out.append({"idTag": uid[:20], "idTagInfo": info})
        else:
            info = {"status": status_201(status)}
            if state.expires_at is not None:
                info["cacheExpiryDateTime"] = wire_time(state.expires_at)
            out.append(
                {
                    "idToken": {"idToken": uid[:36], "type": token_type_201(state.kind)},
                    "idTokenInfo": info,
                }
            )
    return out
