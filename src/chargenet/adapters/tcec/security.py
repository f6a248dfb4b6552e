"""Access tokens chargenet issues to partners, and the replay guard of the envelope.

Both are kept in memory: a token is worth two hours and a partner that meets 4002 after a
restart simply asks for a new one (that is the protocol's own recovery); the replay
guard only needs to remember as long as the time window. Several chargenet processes
behind one address would need these shared (docs/tcec.md).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargenet.kit.clock import Clock


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    ttl_s: int


class TokenIssuer:
    """Bearer tokens for partners: one live token per partner. Asking again while it lives
    gives the same token with the time it has left (so a partner's several workers do
    not end each other's tokens); once expired, a new one is made."""

    def __init__(self, clock: Clock, ttl_s: int = 7200) -> None:
        self._clock = clock
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._by_digest: dict[str, tuple[str, datetime]] = {}
        self._by_partner: dict[str, tuple[str, datetime]] = {}

    def issue(self, partner_id: str) -> IssuedToken:
        now = self._clock.now()
        with self._lock:
            live = self._by_partner.get(partner_id)
            if live is not None and live[1] > now:
                left = int((live[1] - now).total_seconds())
                return IssuedToken(live[0], live[1], max(left, 1))
            if live is not None:
                self._by_digest.pop(_digest(live[0]), None)
            token = secrets.token_hex(16)
            expires = now + timedelta(seconds=self._ttl)
            self._by_digest[_digest(token)] = (partner_id, expires)
            self._by_partner[partner_id] = (token, expires)
        return IssuedToken(token, expires, self._ttl)

    def partner_of(self, token: str) -> str | None:
        """The partner a live token was issued to; None when unknown or expired."""
        # Looked up by SHA-256 digest: a lookup's timing says nothing useful about a
        # random 128-bit token.
        with self._lock:
            found = self._by_digest.get(_digest(token))
        if found is None or found[1] <= self._clock.now():
            return None
        return found[0]

    def revoke(self, partner_id: str) -> None:
        with self._lock:
            live = self._by_partner.pop(partner_id, None)
            if live is not None:
                self._by_digest.pop(_digest(live[0]), None)


class ReplayGuard:
    """Refuses a (partner, TimeStamp, Seq) seen before within the window, and any TimeStamp
    outside the window. Entries are forgotten once their TimeStamp has left the window."""

    def __init__(self, clock: Clock, window_s: int = 300, capacity: int = 1_000_000) -> None:
        self._clock = clock
        self._window = timedelta(seconds=window_s)
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str, str], datetime] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, partner_id: str, sent_at: datetime, timestamp: str, seq: str) -> str | None:
        """Why the message must be refused, or None (and it is remembered)."""
        now = self._clock.now()
        if abs(now - sent_at) > self._window:
            return (
                f"TimeStamp {timestamp} is more than {int(self._window.total_seconds())} s "
                "from our clock"
            )
        key = (partner_id, timestamp, seq)
        with self._lock:
            self._forget(now)
            if key in self._seen:
                return f"message {timestamp}/{seq} was received before (replay)"
            if len(self._seen) >= self._capacity:
                return "too many messages in the time window"
            self._seen[key] = sent_at + self._window
        return None

    def _forget(self, now: datetime) -> None:
        # Insertion order is close to expiry order; stop at the first entry still live.
        while self._seen:
            _, expires = next(iter(self._seen.items()))
            if expires > now:
                break
            self._seen.popitem(last=False)
