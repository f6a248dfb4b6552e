"""Access tokens chargenet issues to partners, and the replay guard of the envelope.

The embedded set-up keeps both in memory: a token is worth two hours and a partner that
meets 4002 after a restart simply asks for a new one (that is the protocol's own
recovery); the replay guard only needs to remember as long as the time window. Several
chargenet processes behind one address share them in the database instead
(adapters/storage/shared_state.py): a token issued by one is honoured by all, and a
message one has seen is a replay at every other.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chargenet.adapters.tcec.crypto import Vault
from chargenet.kit.clock import Clock
from chargenet.kit.timeutil import from_micros, to_micros


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    ttl_s: int


class Tokens(Protocol):
    def issue(self, partner_id: str) -> IssuedToken: ...

    def partner_of(self, token: str) -> str | None: ...

    def revoke(self, partner_id: str) -> None: ...


class SeenMessages(Protocol):
    """The messages seen within the time window."""

    def add(self, key: tuple[str, str, str], expires: datetime, now: datetime) -> str | None:
        """Remember `key` until `expires`; "seen" when it was already there, "full" when
        no more can be remembered, else None."""
        ...


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


class TokenRecords(Protocol):
    """Live tokens kept where every process finds them (the database)."""

    def keep(
        self, partner_id: str, digest: str, sealed: str, expires_us: int, now_us: int
    ) -> str: ...

    def find(self, digest: str) -> tuple[str, int, str] | None: ...

    def drop(self, partner_id: str) -> None: ...


class SharedTokenIssuer:
    """TokenIssuer's rule (one live token per partner, the same one while it lives) over
    records every process shares; tokens are stored sealed with the master key and found
    by digest."""

    def __init__(
        self, records: TokenRecords, vault: Vault, clock: Clock, ttl_s: int = 7200
    ) -> None:
        self._records = records
        self._vault = vault
        self._clock = clock
        self._ttl = ttl_s

    def issue(self, partner_id: str) -> IssuedToken:
        now = self._clock.now()
        token = secrets.token_hex(16)
        expires = now + timedelta(seconds=self._ttl)
        sealed = self._records.keep(
            partner_id,
            _digest(token),
            self._vault.seal_text(token),
            to_micros(expires),
            to_micros(now),
        )
        live = self._vault.open_text(sealed)
        if live == token:
            return IssuedToken(token, expires, self._ttl)
        found = self._records.find(_digest(live))
        live_until = from_micros(found[1]) if found is not None else expires
        left = int((live_until - now).total_seconds())
        return IssuedToken(live, live_until, max(left, 1))

    def partner_of(self, token: str) -> str | None:
        found = self._records.find(_digest(token))
        if found is None or found[1] <= to_micros(self._clock.now()):
            return None
        return found[0]

    def revoke(self, partner_id: str) -> None:
        self._records.drop(partner_id)


class ReplayGuard:
    """Refuses a (partner, TimeStamp, Seq) seen before within the window, and any TimeStamp
    outside the window. Entries are forgotten once their TimeStamp has left the window."""

    def __init__(
        self,
        clock: Clock,
        window_s: int = 300,
        capacity: int = 1_000_000,
        seen: SeenMessages | None = None,
    ) -> None:
        self._clock = clock
        self._window = timedelta(seconds=window_s)
        self._seen = seen or MemorySeen(capacity)

    def check(self, partner_id: str, sent_at: datetime, timestamp: str, seq: str) -> str | None:
        """Why the message must be refused, or None (and it is remembered)."""
        now = self._clock.now()
        if abs(now - sent_at) > self._window:
            return (
                f"TimeStamp {timestamp} is more than {int(self._window.total_seconds())} s "
                "from our clock"
            )
        answer = self._seen.add((partner_id, timestamp, seq), sent_at + self._window, now)
        if answer == "seen":
            return f"message {timestamp}/{seq} was received before (replay)"
        if answer == "full":
            return "too many messages in the time window"
        return None


class MemorySeen:
    """The messages seen, in this process's memory (bounded by `capacity`)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str, str], datetime] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str], expires: datetime, now: datetime) -> str | None:
        with self._lock:
            self._forget(now)
            if key in self._seen:
                return "seen"
            if len(self._seen) >= self._capacity:
                return "full"
            self._seen[key] = expires
        return None

    def _forget(self, now: datetime) -> None:
        # Insertion order is close to expiry order; stop at the first entry still live.
        while self._seen:
            _, expires = next(iter(self._seen.items()))
            if expires > now:
                break
            self._seen.popitem(last=False)
