"""Admission control at the OCPP gateway's door: while the intake is saturated, a new
connection is refused with 503 and a jittered Retry-After before the WebSocket upgrade, so
that in a reconnect storm the waiting happens at the chargers' connect (which they retry
with back-off) rather than inside every accepted charger's first answers.

Two measures of saturation, each with its bound (0: no bound):

* arriving — connections from their HTTP request to their first answer (the handshake,
  the "connected" presence and the BootNotification's events on their way to the store).
  A charger leaves this count when its first answer goes out, when its socket closes, or
  at the latest `arrival_timeout_s` after it came (one that sends nothing, or whose
  upgrade failed after we admitted it, must not hold a place for ever). The bound moves
  between `min_arriving` and `max_arriving` with the time those first answers take: cut
  by a quarter when one takes longer than `arrival_target_s` (at most once per that
  time), raised by one with each that does not (from `min_arriving` at the start). How
  many can arrive at once without waiting is the node's rate times the target (Little's
  law), and the rate depends on what else the machine does: a fixed bound was either too
  high on a busy machine (each admitted charger waited seconds behind the others) or too
  low on a quiet one.
* backlog — events submitted to the pipeline (the intake lanes, in a cluster) and not yet
  durable, over every connection: a storm's later frames (StatusNotifications, …) load the
  lanes too, after their chargers' first answers.

Refusing costs one HTTP exchange, far less than a handshake, a connection and the events
of its boot, but not nothing: 10,000 chargers told to return within 10 s came back a
thousand times a second, and refusing them took the CPU the admitted ones needed. So the
Retry-After spread follows the queue at the door: W chargers waiting, told to return
within S seconds, knock about 2W/S times a second, and the node lets in A a second; W/A
is how long they will wait, so each second the spread is multiplied by refusals / (2 ×
admissions) (at most doubled or halved), between `retry_after_s` and `retry_after_max_s`:
the returns come at about the rate the node takes them. Nothing already accepted is
dropped.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class AdmissionConfig:
    # connections between their request and their first answer: the bound's range (off by
    # default, as max_backlog: the platform's settings say why)
    max_arriving: int = 0
    min_arriving: int = 16
    arrival_target_s: float = 0.5  # first answers slower than this lower the bound; 0: fixed
    max_backlog: int = 0  # events submitted and not yet durable
    # A refused charger is told to come back after 1..N seconds (uniformly drawn: chargers
    # refused together do not all return together), N from retry_after_s up to
    # retry_after_max_s as the refusals outnumber what the node lets in (`spread`).
    retry_after_s: int = 10
    retry_after_max_s: int = 300
    arrival_timeout_s: float = 10.0


class Arrival:
    """One admitted connection's place among the arriving; `leave` is idempotent."""

    __slots__ = ("_admission", "_came", "_timer")

    def __init__(self, admission: Admission, came: float) -> None:
        self._admission: Admission | None = admission
        self._came = came
        self._timer: asyncio.TimerHandle | None = None

    def answered(self) -> None:
        """Its first answer went out: how long that took steers the bound."""
        admission = self._admission
        if admission is not None:
            admission.took(time.monotonic() - self._came)
            admission.admitted()
        self.leave()

    def timed_out(self) -> None:
        admission = self._admission
        if admission is not None:
            admission.took(time.monotonic() - self._came)
        self.leave()

    def leave(self) -> None:
        """Gone, or no first answer to learn from (refused, closed)."""
        admission, self._admission = self._admission, None
        if admission is None:
            return
        admission.arriving -= 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class Admission:
    """The counts and the decision; the gateway refuses and answers."""

    def __init__(self, config: AdmissionConfig) -> None:
        self.config = config
        self.arriving = 0
        self.backlog = 0
        # The bound on arriving now. It starts low and doubles with each round of timely
        # first answers: a storm that meets a fresh node (a restart, a new node behind the
        # balancer) must not all come in before the first answer says how fast it is.
        self.limit = min(config.min_arriving, config.max_arriving)
        self._cut_at = -float("inf")
        self.spread = float(max(1, config.retry_after_s))  # Retry-After is drawn in 1..this
        self._second = 0  # the second being counted: refusals and first answers in it
        self._refused_now = 0
        self._answered_now = 0

    def busy(self) -> str | None:
        """Why a new connection must wait now (None: admit it)."""
        config = self.config
        if config.max_arriving and self.arriving >= self.limit:
            return "arriving"
        if config.max_backlog and self.backlog >= config.max_backlog:
            return "backlog"
        return None

    def enter(self) -> Arrival:
        self.arriving += 1
        arrival = Arrival(self, time.monotonic())
        loop = asyncio.get_running_loop()
        arrival._timer = loop.call_later(self.config.arrival_timeout_s, arrival.timed_out)
        return arrival

    def took(self, seconds: float) -> None:
        """A first answer took this long (or a charger had none in the timeout)."""
        config = self.config
        if not config.max_arriving or not config.arrival_target_s:
            return
        if seconds > config.arrival_target_s:
            now = time.monotonic()
            # Answers already on their way when the bound was cut are as slow: one cut per
            # target's time, not one per slow answer.
            if now - self._cut_at >= config.arrival_target_s:
                self._cut_at = now
                self.limit = max(min(config.min_arriving, config.max_arriving), self.limit * 3 // 4)
        elif self.limit < config.max_arriving:
            self.limit += 1

    def retry_after(self) -> int:
        """Seconds a refused charger is told to wait (the refusal is counted)."""
        self._tick()
        self._refused_now += 1
        return random.randint(1, max(1, round(self.spread)))

    def admitted(self) -> None:
        """A charger had its first answer: one more the node took in."""
        self._tick()
        self._answered_now += 1

    def _tick(self) -> None:
        second = int(time.monotonic())
        if second == self._second:
            return
        config = self.config
        if self._refused_now:
            ratio = self._refused_now / (2 * max(self._answered_now, 1))
            ratio = min(2.0, max(0.5, ratio))
        else:
            ratio = 0.5  # nobody knocking: the queue is gone
        low = max(1, config.retry_after_s)
        self.spread = min(max(low, config.retry_after_max_s), max(low, self.spread * ratio))
        self._second, self._refused_now, self._answered_now = second, 0, 0
