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
user logs in from. Everything is bounded: the oldest records go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 50
USER_FAILURES = 100
KNOWN_ADDRESSES = 20  # per user
_MAX_RECORDS = 50_000


@dataclass
class _Streak:
    count: int
    last: datetime


class LoginThrottle:
    def __init__(self) -> None:
        self._streaks: OrderedDict[tuple[str, str], _Streak] = OrderedDict()
        self._by_address: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._by_user: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._known: OrderedDict[str, OrderedDict[str, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, username: str, address: str, now: datetime) -> timedelta | None:
        """How long this name at this address must wait before trying again; None: try."""
        with self._lock:
            waits = [self._streak_wait(username, address, now)]
            if self._recent(self._by_address, address, now) >= ADDRESS_FAILURES:
                waits.append(self._since_last(self._by_address[address], now))
            if self._recent(
                self._by_user, username, now
            ) >= USER_FAILURES and address not in self._known.get(username, {}):
                waits.append(self._since_last(self._by_user[username], now))
        longest = max((w for w in waits if w is not None), default=None)
        return longest if longest is not None and longest > timedelta(0) else None

    def failed(self, username: str, address: str, now: datetime) -> None:
        with self._lock:
            streak = self._streaks.pop((username, address), None)
            count = streak.count + 1 if streak is not None else 1
            self._put(self._streaks, (username, address), _Streak(count, now))
            for table, key in ((self._by_address, address), (self._by_user, username)):
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

    # --- inside the lock ------------------------------------------------------------------

    def _streak_wait(self, username: str, address: str, now: datetime) -> timedelta | None:
        streak = self._streaks.get((username, address))
        if streak is None or now - streak.last > WINDOW:
            return None
        extra = streak.count - FREE_FAILURES
        if extra <= 0:
            return None
        wait = min(timedelta(seconds=2 ** min(extra - 1, 20)), MAX_WAIT)
        return streak.last + wait - now

    @staticmethod
    def _recent(table: OrderedDict[str, deque[datetime]], key: str, now: datetime) -> int:
        times = table.get(key)
        if not times:
            return 0
        while times and times[0] < now - WINDOW:
            times.popleft()
        return len(times)

    @staticmethod
    def _since_last(times: deque[datetime], now: datetime) -> timedelta:
        return times[-1] + MAX_WAIT - now if times else timedelta(0)

    @staticmethod
    def _put(table: OrderedDict, key: object, value: object) -> None:  # type: ignore[type-arg]
        table[key] = value
        while len(table) > _MAX_RECORDS:
            table.popitem(last=False)
