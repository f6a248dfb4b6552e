"""Admission control at the OCPP gateway's door: while the intake is saturated, a new
connection is refused with 503 and a jittered Retry-After before the WebSocket upgrade, so
that in a reconnect storm the waiting happens at the chargers' connect (which they retry
with back-off) rather than inside every accepted charger's first answers.

Two measures of saturation, each with its bound (0: no bound):

* arriving — connections from their HTTP request to their first answer (the handshake,
  the "connected" presence and the BootNotification's events on their way to the store).
  A charger leaves this count when its first answer goes out, when its socket closes, or
  at the latest `arrival_timeout_s` after it came (one that sends nothing, or whose
  upgrade failed after we admitted it, must not hold a place for ever).
* backlog — events submitted to the pipeline (the intake lanes, in a cluster) and not yet
  durable, over every connection: a storm's later frames (StatusNotifications, …) load the
  lanes too, after their chargers' first answers.

Refusing costs one HTTP exchange, far less than a handshake, a connection and the events
of its boot; nothing already accepted is dropped.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class AdmissionConfig:
    max_arriving: int = 200  # connections between their request and their first answer
    max_backlog: int = 2_000  # events submitted and not yet durable
    # A refused charger is told to come back after 1..retry_after_s seconds (uniformly
    # drawn: chargers refused together do not all return together).
    retry_after_s: int = 10
    arrival_timeout_s: float = 10.0


class Arrival:
    """One admitted connection's place among the arriving; `leave` is idempotent."""

    __slots__ = ("_admission", "_timer")

    def __init__(self, admission: Admission, timer: asyncio.TimerHandle | None) -> None:
        self._admission: Admission | None = admission
        self._timer = timer

    def leave(self) -> None:
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

    def busy(self) -> str | None:
        """Why a new connection must wait now (None: admit it)."""
        config = self.config
        if config.max_arriving and self.arriving >= config.max_arriving:
            return "arriving"
        if config.max_backlog and self.backlog >= config.max_backlog:
            return "backlog"
        return None

    def enter(self) -> Arrival:
        self.arriving += 1
        loop = asyncio.get_running_loop()
        arrival = Arrival(self, None)
        arrival._timer = loop.call_later(self.config.arrival_timeout_s, arrival.leave)
        return arrival

    def retry_after(self) -> int:
        return random.randint(1, max(1, self.config.retry_after_s))
