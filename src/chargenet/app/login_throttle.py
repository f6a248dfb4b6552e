"""Failed logins slow down whoever fails, and only them.

Guessing passwords must get slow, but a stranger must not be able to lock a user out by
failing on purpose: an account lock-out anyone can trigger is a denial of service (OWASP
Authentication Cheat Sheet, "Account Lockout"). So failures are counted three ways:

- per user name and client address: the first `FREE_FAILURES` cost nothing; after that
  each attempt waits twice as long as the one before (1 s, 2 s, 4 s … up to `MAX_WAIT`);
- per client address, across names: after `ADDRESS_FAILURES` in the window the address
  waits `MAX_WAIT` before each try (one address trying many names);
- per user name, across addresses: after `USER_FAILURES` in the window (a guess spread
  over many addresses) every address that has never logged in as that user waits too,
  while the places the user really logs in from keep working.

A success clears the record of its name and address and remembers the address as one the
user logs in from. Everything is bounded: the oldest records go first. The records live in
this process (the embedded default) or in the database, shared by every process behind one
address (`ThrottleRecords`; adapters/storage/shared_state.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 50
USER_FAILURES = 100
KNOWN_ADDRESSES = 20  # per user
_MAX_RECORDS = 50_000


class ThrottleRecords(Protocol):
    """Where the failures are remembered: this process's memory (`MemoryRecords`, the
    embedded default) or a database every process shares, so that a guess spread over
    several processes counts once."""

    def streak(self, username: str, address: str) -> tuple[int, datetime] | None:
        """Failures in a row of this name at this address, and the last one's time."""
        ...

    def failures(self, kind: str, key: str, since: datetime) -> list[datetime]:
        """Times of the failures (oldest first, at most `USER_FAILURES`) at or after
        `since`: `kind` "address" (any name) or "user" (from any address)."""
        ...

    def knows(self, username: str, address: str) -> bool:
        """Has this name logged in from this address (among its last `KNOWN_ADDRESSES`)?"""
        ...

    def failed(self, username: str, address: str, now: datetime) -> None: ...

    def succeeded(self, username: str, address: str, now: datetime) -> None: ...


class LoginThrottle:
    def __init__(self, records: ThrottleRecords | None = None) -> None:
        self.records = records or MemoryRecords()

    def wait(self, username: str, address: str, now: datetime) -> timedelta | None:
        """How long this name at this address must wait before trying again; None: try."""
        waits = [self._streak_wait(username, address, now)]
        by_address = self.records.failures("address", address, now - WINDOW)
        if len(by_address) >= ADDRESS_FAILURES:
            waits.append(by_address[-1] + MAX_WAIT - now)
        by_user = self.records.failures("user", username, now - WINDOW)
        if len(by_user) >= USER_FAILURES and not self.records.knows(username, address):
            waits.append(by_user[-1] + MAX_WAIT - now)
        longest = max((w for w in waits if w is not None), default=None)
        return longest if longest is not None and longest > timedelta(0) else None

    def failed(self, username: str, address: str, now: datetime) -> None:
        self.records.failed(username, address, now)

    def succeeded(self, username: str, address: str, now: datetime) -> None:
        self.records.succeeded(username, address, now)

    def _streak_wait(self, username: str, address: str, now: datetime) -> timedelta | None:
        streak = self.records.streak(username, address)
        if streak is None:
            return None
        count, last = streak
        if now - last > WINDOW:
            return None
        extra = count - FREE_FAILURES
        if extra <= 0:
            return None
        wait = min(timedelta(seconds=2 ** min(extra - 1, 20)), MAX_WAIT)
        return last + wait - now


@dataclass
class _Streak:
    count: int
    last: datetime


class MemoryRecords:
    """The records in this process's memory, bounded: the oldest records go first."""

    def __init__(self) -> None:
        self._streaks: OrderedDict[tuple[str, str], _Streak] = OrderedDict()
        self._times: dict[str, OrderedDict[str, deque[datetime]]] = {
            "address": OrderedDict(),
            "user": OrderedDict(),
        }
        self._known: OrderedDict[str, OrderedDict[str, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def streak(self, username: str, address: str) -> tuple[int, datetime] | None:
        with self._lock:
            found = self._streaks.get((username, address))
        return None if found is None else (found.count, found.last)

    def failures(self, kind: str, key: str, since: datetime) -> list[datetime]:
        with self._lock:
            times = self._times[kind].get(key)
            if not times:
                return []
            while times and times[0] < since:
                times.popleft()
            return list(times)

    def knows(self, username: str, address: str) -> bool:
        with self._lock:
            return address in self._known.get(username, {})

    def failed(self, username: str, address: str, now: datetime) -> None:
        with self._lock:
            streak = self._streaks.pop((username, address), None)
            count = streak.count + 1 if streak is not None else 1
            self._put(self._streaks, (username, address), _Streak(count, now))
            for kind, key in (("address", address), ("user", username)):
                table = self._times[kind]
                times = table.pop(key, None) or deque(maxlen=USER_FAILURES)
                times.append(now)
                self._put(table, key, times)

    def succeeded(self, username: str, address: str, now: datetime) -> None:
        with self._lock:
            self._streaks.pop((username, address), None)
            known = self._known.pop(username, None) or OrderedDict()
            known.pop(address, None)
            known[address] = now
            while len(known) > KNOWN_ADDRESSES:
                known.popitem(last=False)
            self._put(self._known, username, known)

    @staticmethod
    def _put(table: OrderedDict, key: object, value: object) -> None:  # type: ignore[type-arg]
        table[key] = value
        while len(table) > _MAX_RECORDS:
            table.popitem(last=False)
