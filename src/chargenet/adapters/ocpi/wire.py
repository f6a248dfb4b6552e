"""OCPI 2.2.1 transport: the response envelope, status codes, time stamps, the
`Authorization: Token <base64>` header, message ids and pagination headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any
from urllib.parse import urlencode

from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE, runs_ahead

VERSION = "2.2.1"
MAX_LIMIT = 500  # X-Limit: the most objects one page holds
DEFAULT_LIMIT = 100


class Status(IntEnum):
    """OCPI status codes (status_codes.asciidoc)."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001  # also: writing another party's objects
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    # Hub errors (status_codes 4xxx): "For errors that a Hub encounters while routing
    # messages"; a receiver's own 2xxx/3xxx answer is relayed as it is.
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001  # TO address is unknown
    FORWARD_TIMEOUT = 4002  # forwarded, but the request timed out
    CONNECTION_PROBLEM = 4003  # the receiving party is not connected


class OcpiError(Exception):
    """A refusal with its OCPI status code and the HTTP status that carries it."""

    def __init__(self, status: Status, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status


class PeerFailed(Exception):
    """A call to another party failed (transport, HTTP or OCPI status)."""

    def __init__(self, message: str, status: int | None = None, http_status: int | None = None):
        super().__init__(message)
        self.status = status
        self.http_status = http_status

    @property
    def refused(self) -> bool:
        """The other party understood and refused (2xxx): sending again will not help."""
        return self.status is not None and 2000 <= self.status < 3000


def utc_text(value: datetime) -> str:
    """OCPI DateTime (types: DateTime): string(25), UTC, `Z`. `YYYY-MM-DDTHH:MM:SS` and the
    `Z` take 20 characters, so at most four fraction digits fit; chargenet sends whole
    seconds, or milliseconds when the time has a fraction (as the spec's examples do).
    The fraction is cut, never rounded up, so a `date_from` taken from a `last_updated`
    sent here still selects that object (date_from is inclusive)."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    millis = value.microsecond // 1000
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"


def parse_time(text: str, field: str = "time") -> datetime:
    """OCPI DateTime. All times are UTC; a missing designator means UTC (spec), an explicit
    offset is converted."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"{field}: {text!r} is not an RFC 3339 date-time"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the first UTC instant
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"{field}: {text!r} is out of the range of dates"
        ) from None


def stated_time(text: str, field: str, received: datetime) -> datetime:
    """A time a party states for its object (`last_updated`, a session's start or end),
    refused (2001, "invalid or missing parameters") when it lies further in the future
    than a clock may drift (kit.timeutil.CLOCK_AHEAD_TOLERANCE, the OCPP gateway's rule).
    `last_updated` decides which version of an object is newest: one days ahead would make
    every honest update after it look older and be ignored."""
    value = parse_time(text, field)
    if runs_ahead(value, received):
        minutes = int(CLOCK_AHEAD_TOLERANCE.total_seconds() // 60)
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"{field}: {text!r} lies {(value - received).total_seconds():.0f} s ahead of our"
            f" clock (more than {minutes} min allowed): check your clock; nothing was changed",
        )
    return value


def envelope(
    data: Any = None, status: Status = Status.SUCCESS, message: str | None = None, *, now: datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": int(status), "timestamp": utc_text(now)}
    if data is not None:
        body["data"] = data
    body["status_message"] = message or ("Success" if status is Status.SUCCESS else status.name)
    return body


# --- credentials tokens -------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authorization(token: str) -> str:
    """The header value for calling another 2.2.1 party."""
    return "Token " + base64.b64encode(token.encode()).decode()


def presented_tokens(header: str | None) -> list[str]:
    """The credentials token(s) a request may mean: 2.2.1 sends base64; parties still on
    2.1.1 habits send it plain, so both readings are tried."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    out = []
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        if decoded and decoded.isprintable():
            out.append(decoded)
    except (binascii.Error, UnicodeDecodeError):
        pass
    out.append(value)
    return out


# --- message ids (4.2 Unique message IDs) ------------------------------------------------

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
_MAX_ID = 64  # what we echo and log of a caller's id


def message_id() -> str:
    """A fresh id for X-Request-ID / X-Correlation-ID (the spec advises a UUID)."""
    return str(uuid.uuid4())


def echoed_id(value: str | None) -> str:
    """A caller's id to answer with: as sent when printable, else a fresh one."""
    if value and len(value) <= _MAX_ID and value.isascii() and value.isprintable():
        return value
    return message_id()


# --- message routing (4.1.8 Message Routing) ----------------------------------------------

TO_COUNTRY, TO_PARTY = "OCPI-to-country-code", "OCPI-to-party-id"
FROM_COUNTRY, FROM_PARTY = "OCPI-from-country-code", "OCPI-from-party-id"
Route = tuple[tuple[str, str], tuple[str, str]]  # ((to cc, to pid), (from cc, from pid))


def routing_headers(route: Route | None) -> dict[str, str]:
    """The four routing headers of a request to a Functional Module (4.1.8.2: SHALL be
    implemented; never on Credentials, Versions or HubClientInfo, 4.1.8.2)."""
    if route is None:
        return {}
    (to_cc, to_pid), (from_cc, from_pid) = route
    return {TO_COUNTRY: to_cc, TO_PARTY: to_pid, FROM_COUNTRY: from_cc, FROM_PARTY: from_pid}


# --- pagination ---------------------------------------------------------------------------


def page_headers(
    base_url: str, params: dict[str, str], offset: int, limit: int, returned: int, total: int
) -> dict[str, str]:
    headers = {"X-Total-Count": str(total), "X-Limit": str(MAX_LIMIT)}
    if offset + returned < total:
        following = {**params, "offset": str(offset + returned), "limit": str(limit)}
        headers["Link"] = f'<{base_url}?{urlencode(following)}>; rel="next"'
    return headers


def next_link(header: str | None) -> str | None:
    """The URL of rel="next" in a Link header."""
    if not header:
        return None
    for part in header.split(","):
        url, _, rest = part.partition(";")
        if 'rel="next"' in rest.replace(" ", "") or "rel=next" in rest.replace(" ", ""):
            return url.strip().lstrip("<").rstrip(">")
    return None
