"""Admission control at the OCPP gateway's door: while the intake is saturated, a new
connection is refused with 503 and a Retry-After before the WebSocket upgrade (at accept), so
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
  low on a quiet one. The connections accepted and not yet read (`pending`) are bounded
  by `max_arriving` too, but not counted among the arriving: how soon a charger sends its
  request after connecting (its network, its TLS handshake) is not the node's doing.
* backlog — events submitted to the pipeline (the intake lanes, in a cluster) and not yet
  durable, over every connection: a storm's later frames (StatusNotifications, …) load the
  lanes too, after their chargers' first answers.

A connection that finds the arriving full is first held at the door (`wait_turn`): its
request read, its handshake not yet answered, first come first in, let in the moment a
place frees, for up to `hold_s`; as many as the node lets in in that time (`hold_room`),
and nobody right after a first answer was slower than the target (the node overloaded:
held chargers would keep the arriving at the bound, with no gap for the answers of those
in). A refused charger waits at least a whole second and its own back-off and cannot be
called back; a held one waits only for its place, so a burst costs nothing on a node
with room. The others are refused:

Refusing costs one HTTP exchange, far less than a handshake, a connection and the events
of its boot (the gateway answers it at accept, without a WebSocket connection object),
but not nothing; and a refused charger cannot be called back: told 300 s, it stays away
300 s however soon the door frees. So each is given its place in a queue of returns,
booked one after the other at the rate the node lets chargers in (first answers a second,
measured while it refuses) times RETURN_HEADROOM (too early costs one more cheap
refusal, too late leaves the node idle), and told the whole second its place falls in: a
burst of N refused chargers is spread over N / (rate × headroom) seconds, never more
(nor more than `retry_after_max_s`: past it, the overflow is spread over the cap's second
half). The rate is the best of the node's last few saturated seconds (`booking_rate`),
never taken below `min_rate` until it has measured enough since it was last idle, and
from then on whatever it is: a node that lets in fewer than the floor and is sent the
floor refuses most returns again, each refusal costs it work, and on a loaded machine a
storm of 10,000 booked so never ended. Before the
node has measured anything (a storm's first burst, all refused in its first second) the
rate is `start_rate`, optimistic: the errors are not alike. A charger booked too late
cannot be called back and the node idles; one booked too soon costs one more refusal
(~113 µs) and is booked again, after the others, at the rate measured by then. So the
queue corrects itself towards what the node takes: a charger that comes back to a
still-full door is booked again, after the others. Nothing already
accepted is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from chargenet.kit.aio import wait_at_most

# Returns are booked this much faster than the node was measured to let chargers in:
# the bound on arriving rises only while chargers come, so a queue booked at exactly the
# measured rate would never let the node find it can take more.
RETURN_HEADROOM = 1.5
# After a cut of the bound on arriving, nobody is held for this many times the target.
HOLD_PAUSE = 4
# The rate returns are booked at: the most the node let in in any of its last RATE_WINDOW
# saturated seconds (recent: a storm's first seconds, when the bound on arriving is still
# low, leave it within seconds; the most, since a second's count falls short of what the
# node can take whenever returns came late or the bound was still growing). Until
# MEASURED_ENOUGH of them since the door was last idle (and after the start rate's
# returns), never below the floor (`min_rate`); from then on what it measured, even below
# the floor: a node that lets in 100 a second and is sent 300 refuses two in three again.
RATE_WINDOW = 5
MEASURED_ENOUGH = 5
# A door with no saturated second for this long has been idle: what it measured says
# little of the next storm, and the floor rules again until it has measured enough.
IDLE_S = 30.0
RATE_WEIGHT = 0.3  # each of those first seconds' weight in the guess
MIN_SAMPLE = 10  # a saturated second with fewer first answers counts as this many
MIN_RATE = 1.0


@dataclass(frozen=True)
class AdmissionConfig:
    # connections between their request and their first answer: the bound's range (off by
    # default, as max_backlog: the platform's settings say why)
    max_arriving: int = 0
    min_arriving: int = 16
    arrival_target_s: float = 0.5  # first answers slower than this lower the bound; 0: fixed
    max_backlog: int = 0  # events submitted and not yet durable
    # A connection that finds the arriving full is held at the door (its request read, not
    # yet answered) up to this long for a place, first come first in, while fewer are held
    # than the node lets in in that time (its rate × hold_s); beyond, it is refused. 0: no
    # one is held (refused at once, as before).
    hold_s: float = 2.0
    # Refused chargers are booked to return at the rate the node lets them in, measured,
    # and never slower than this many a second until it has measured MEASURED_ENOUGH
    # seconds (since it was last idle, and after the start rate's returns): a storm's
    # first burst is refused before anything is measured, and in its first seconds the
    # node answers few (its bound on arriving starts low, and it is busy refusing): booked
    # at what it took then, the burst was told to wait minutes and the node idled later.
    # Once measured, below it too: a node slower than the floor, sent the floor, refuses
    # most returns again, and refusals are cheap (`Refusal`) but not free.
    min_rate: float = 200.0
    # The rate assumed until the node has measured one (optimistic): a storm's first burst
    # is refused and booked in its first second, before anything is measured, and a
    # charger told too long cannot be called back, whereas one booked too soon costs one
    # more refusal and is booked again, after the others, at the rate measured meanwhile.
    # Booked at the floor, 9,500 chargers refused at once were spread over 32 s while the
    # node let in ~1,000 a second.
    start_rate: float = 1000.0
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
        admission.wake()


class Admission:
    """The counts and the decision; the gateway refuses and answers."""

    def __init__(self, config: AdmissionConfig) -> None:
        self.config = config
        self.arriving = 0
        self.pending = 0  # accepted connections whose request is not yet read
        self.backlog = 0
        # Connections held at the door for a place among the arriving, first come first in
        # (`wait_turn`); a done future is one whose charger has been let in or gave up.
        self.waiting: deque[asyncio.Future[None]] = deque()
        # The bound on arriving now. It starts low and grows by one with each timely first
        # answer (it doubles each round, as TCP's slow start): a storm that meets a fresh
        # node (a restart, a new node behind the balancer) must not all come in before the
        # first answer says how fast it is. The chargers over it are held at the door, not
        # refused, so on a node with room a burst waits only the few rounds this takes.
        # (Started at its maximum, a storm of 2,000 on a busy node let 500 in at once and
        # their acks took 3.1 s at p99: docs/scale.md.)
        self.limit = min(config.min_arriving, config.max_arriving)
        self._cut_at = -float("inf")
        # Chargers a second the node let in (first answers) in its last saturated seconds
        # (the door full: someone refused or held), the latest last; cleared when idle.
        self._window: deque[int] = deque(maxlen=RATE_WINDOW)
        self._measured_now = 0  # saturated seconds measured since the door was last idle
        self._last_full = -float("inf")  # the last saturated second
        self._flood_until = -float("inf")  # the last return booked on the start rate
        # The node's rate: a guess (the start rate) until it has measured one second.
        self.rate = max(MIN_RATE, config.min_rate, config.start_rate)
        self._measured = False  # the rate is still the start rate's guess
        self.booked = -float("inf")  # when the last refused charger was told to return
        self._overflow = -float("inf")  # the last return spread past the cap (`retry_after`)
        self._second = int(time.monotonic())  # the second being counted
        self._refused_now = 0
        self._held_now = 0
        self._answered_now = 0

    def full(self) -> bool:
        """No place among the arriving for a newcomer now (it would wait, or be refused)."""
        return bool(self.config.max_arriving) and (
            self.arriving >= self.limit or bool(self.waiting)
        )

    def hold_room(self) -> int:
        """How many may be held at the door: as many as the node lets in in `hold_s`.
        Until it has measured its rate, at the floor (`min_rate`), not the start rate: a
        charger held is a WebSocket connection with its request parsed (≈ 3× a refusal at
        accept), and one held in vain is refused after it, the dearer way; whereas the
        start rate errs on the side of short returns, which cost only a cheap refusal."""
        if self.config.hold_s <= 0:
            return 0
        # The node has just shown it is overloaded (a first answer slower than the target
        # cut the bound): hold nobody for a while. Held chargers keep the arriving at the
        # bound, with no gap for the answers of those already in; refused ones return
        # spread over the queue of returns (on a busy machine a storm of 2,000 held had
        # its ack p99 at 1.6–3.1 s against 0.8–1.1 s refused: docs/scale.md).
        if time.monotonic() - self._cut_at < HOLD_PAUSE * self.config.arrival_target_s:
            return 0
        rate = self.rate if self._measured else max(MIN_RATE, self.config.min_rate)
        return int(rate * self.config.hold_s)

    def busy(self, accepting: bool = False) -> str | None:
        """Why a new connection must be refused now (None: admit it, or hold it if `full`).
        `accepting`: asked at accept, before its request is read; the connections accepted
        and not yet read (`pending`) are bounded too, by `max_arriving`, and while the
        arriving are full by the room left to hold: a storm's connections are accepted
        hundreds at a time, before any request of theirs is read. They are not counted
        among the arriving, whose bound follows the node's answers: how soon a charger
        sends its request (its network, its TLS handshake) is not the node's doing."""
        config = self.config
        if config.max_arriving:
            full = self.full()
            if accepting:
                if self.pending >= config.max_arriving or (
                    full and self.pending + len(self.waiting) >= self.hold_room()
                ):
                    return "arriving"
            elif full and len(self.waiting) >= self.hold_room():
                return "arriving"
        if config.max_backlog and self.backlog >= config.max_backlog:
            return "backlog"
        return None

    async def wait_turn(self) -> bool:
        """Held at the door until a place among the arriving is this connection's (True:
        counted among them, `enter(counted=True)` next) or `hold_s` has passed (False)."""
        self._tick(time.monotonic())
        self._held_now += 1
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        self.wake()
        try:
            await wait_at_most(turn, self.config.hold_s)
        except TimeoutError:
            self._forget(turn)
            # A place given in the loop turn in which the hold ran out (the timeout's
            # cancellation then wins over the result): it is this connection's, take it.
            return turn.done() and not turn.cancelled()
        except asyncio.CancelledError:
            self._forget(turn)
            if turn.done() and not turn.cancelled():  # given a place it will not take
                self.arriving -= 1
                self.wake()
            raise
        return True

    def _forget(self, turn: asyncio.Future[None]) -> None:
        # near the front: the first held are the first to go
        with contextlib.suppress(ValueError):
            self.waiting.remove(turn)

    def wake(self) -> None:
        """Give the free places to the connections held, in their order."""
        waiting = self.waiting
        while waiting and self.arriving < self.limit:
            turn = waiting.popleft()
            if not turn.done():
                self.arriving += 1
                turn.set_result(None)

    def enter(self, counted: bool = False) -> Arrival:
        """`counted`: its place was given by `wait_turn`."""
        if not counted:
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
            self.wake()

    def retry_after(self) -> int:
        """Seconds a refused charger is told to wait: its place in the queue of returns."""
        now = time.monotonic()
        self._tick(now)
        self._refused_now += 1
        rate = self.booking_rate()
        gap = 1.0 / (rate * RETURN_HEADROOM)
        # After the last one booked; at the soonest a second from now (Retry-After counts
        # whole seconds, and a charger adds its own fraction of one, so it comes back
        # within the second its place falls in); behind those held at the door.
        cap = max(1, self.config.retry_after_max_s)
        soonest = now + max(1.0, len(self.waiting) / rate)
        booked = max(self.booked + gap, soonest)
        if booked <= now + cap:
            self.booked = booked
            if not self._measured:
                self._flood_until = booked
            return max(1, min(cap, math.floor(booked - now + 1e-9)))
        # Past the cap (a storm larger than the cap's worth of returns, or a node that
        # lets in almost nobody): the queue ends at the cap (it holds the returns told,
        # else chargers refused long after the burst had gone would still be told the
        # cap), and the overflow is spread evenly over the cap's second half rather than
        # all told the cap, which would bring them back together in one second.
        self.booked = now + cap
        half = max(1.0, cap / 2)
        self._overflow = max(self._overflow + gap, now + cap - half)
        if self._overflow > now + cap:
            self._overflow = now + cap - half
        return max(1, min(cap, math.floor(self._overflow - now + 1e-9)))

    def booking_rate(self) -> float:
        """Chargers a second returns are booked for (before the headroom): the start rate
        until anything is measured; then the most any of the last saturated seconds let in
        (a windowed maximum: a second's count is at most what the node can take), never
        below the floor (`min_rate`) until MEASURED_ENOUGH of them since the door was last
        idle, and whatever it is from then on (at least MIN_RATE)."""
        if self._measured_now >= MEASURED_ENOUGH:
            return max(MIN_RATE, self.rate)
        return max(MIN_RATE, self.rate, self.config.min_rate)

    def admitted(self) -> None:
        """A charger had its first answer: one more the node took in."""
        self._tick(time.monotonic())
        self._answered_now += 1

    def queue_s(self) -> float:
        """How far ahead returns are booked (0: nobody is told to wait)."""
        return max(0.0, self.booked - time.monotonic())

    def _tick(self, now: float) -> None:
        second = int(now)
        if second == self._second:
            return
        # What was counted happened in that one second; the seconds since (if any) had
        # neither refusals nor first answers, and say nothing of the rate.
        answered = self._answered_now
        if self._refused_now or self._held_now:
            # The door was full: what it took is what it can take now.
            if self._second - self._last_full > IDLE_S:
                self._window.clear()  # a new storm: the last one's seconds say little
                self._measured_now = 0
            self._last_full = self._second
            # The seconds while the returns booked on the start rate's guess come back
            # (far more than the node takes, each refused at a cost) say what it takes
            # while flooded, not what it will take once they are booked at its rate: a
            # storm's first seconds on a slow node measured none at all.
            # A second with next to no answers (a node that answered nobody while it
            # refused: its CPU went to the refusals) counts as MIN_SAMPLE: booked at 0, the
            # returns would all go to the cap, not to be called back; booked at MIN_SAMPLE
            # × headroom, few enough come back for it to answer again. (Left out instead,
            # the floor went on drowning it: simulated, a node at 50 a second whose
            # refusals cost a fifth of an admission let nobody in.)
            if self._second >= self._flood_until:
                self._window.append(max(answered, MIN_SAMPLE))
                self._measured_now += 1
            if self._measured_now >= MEASURED_ENOUGH:
                self.rate = max(MIN_RATE, max(self._window))
            else:
                # Its first seconds (few answers: the bound on arriving starts low, and the
                # node is busy refusing) move the guess a little at a time, as before.
                self.rate = max(MIN_RATE, (1 - RATE_WEIGHT) * self.rate + RATE_WEIGHT * answered)
            self._measured = True
        elif answered > self.rate:
            # Nobody refused: the node took what came, which says only that it can take
            # at least that many.
            self.rate = answered
            if self._window:
                self._window.append(answered)
        if second - self._last_full > IDLE_S:
            self._measured_now = 0  # idle: the floor rules again until measured enough
        self._second, self._refused_now, self._answered_now = second, 0, 0
        self._held_now = 0


_HEAD_MAX = 16 * 1024  # an upgrade request's head is a few hundred bytes
_HEAD_TIMEOUT_S = 10.0


class Refusal(asyncio.Protocol):
    """A connection refused at accept: 503 with Retry-After, and nothing else built for it
    (no WebSocket connection object, parser, handler task or timeout; in a storm most
    attempts are these). The request's head is read before answering: closing a socket
    with unread data resets it, and the charger would see a lost connection instead of
    the 503."""

    __slots__ = ("_alive", "_head", "_retry_after", "_timer", "_transport")

    def __init__(self, retry_after: Callable[[], int], alive: set[Refusal] | None = None) -> None:
        """`alive`: where the refusals not yet closed are kept, for the gateway to close
        them when it stops (the WebSocket server knows nothing of them)."""
        self._retry_after = retry_after
        self._alive = alive
        self._head = b""
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not asyncio.Transport subclasses, but are ones)
        self._transport = cast(asyncio.Transport, transport)
        if self._alive is not None:
            self._alive.add(self)
        self._timer = asyncio.get_running_loop().call_later(_HEAD_TIMEOUT_S, self._transport.abort)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._head += data
        if b"\r\n\r\n" in self._head:
            transport.write(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
                b"Connection: close\r\n\r\nbusy\n" % self._retry_after()
            )
            transport.close()
        elif len(self._head) > _HEAD_MAX:
            transport.abort()

    def eof_received(self) -> bool | None:
        return None  # the peer left before its request was complete: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._transport = None
        if self._alive is not None:
            self._alive.discard(self)

    def abort(self) -> None:
        """The gateway stops: drop the connection now (its 503 was written, or never will be)."""
        if self._transport is not None:
            self._transport.abort()
