"""The durable outbox: deliveries to partners that must arrive (docs/supervision.md,
"The outbox").

A delivery is written to the `deliveries` table in the same transaction as the event that
causes it (`EventIngestor`: attached to a submission, or made by a `DeliveryRule` from an
accepted event), so a delivery exists exactly when its cause is in the log — a crash
between the two cannot lose one or invent one. A worker sends what is due through the
`Sender` of its kind, retries with exponential backoff and survives restarts (the table
is the queue). Each delivery has a stable `delivery_id` the receiver deduplicates by:
delivery is at least once, processing exactly once by that id.

Deliveries of one `queue` ("ocpi:<partner>") are sent one after another in the order they
were made, by whichever worker of any process holds the queue's head: a failed attempt
holds back the rest of its queue until it is delivered or given up, as a partner expects
an object's changes in order.

What a delivery is about (`ref`, e.g. an order id) lets a later answer be recorded against
it (`answered`), and the kind's `Settled` callback turns the final answer into events (an
order's outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chargenet.core.events import Event
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)

PENDING, DELIVERED, ANSWERED, FAILED = "pending", "delivered", "answered", "failed"
HOLD_S = 60.0  # how long a delivery's first attempt belongs to its caller; also the lease
SUPERSEDED = '{"superseded": true}'  # the answer of a delivery settled by a later one
COLLAPSE_EVERY_S = 60.0  # how often a stalled queue's superseded backlog is settled


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """What to deliver: `kind` picks the sender ("webhook.order",
    "tcec.notification_stationStatus"), `destination` whom (an operator's channel, a
    partner's OperatorID), `payload` what (JSON text the sender formats for its wire)."""

    delivery_id: str  # stable: the receiver's deduplication key
    kind: str
    destination: str
    payload: str
    ref: str = ""  # what it is about (an order id), for answers that come later
    # The caller makes the first attempt itself (`OutboxWorker.attempt_now`): the worker
    # leaves it alone for HOLD_S, then takes over if that attempt never happened.
    held: bool = False
    queue: str = ""  # sent in order with the other deliveries of this queue


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    delivery_id: str
    kind: str
    destination: str
    payload: str
    ref: str
    state: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    event_id: str | None = None  # the event that caused it
    last_error: str | None = None
    answer: str | None = None
    finished_at: datetime | None = None
    queue: str = ""


DeliveryRule = Callable[[Event], Sequence[NewDelivery]]
"""Deliveries an accepted event causes (run in the writer, inside the event's savepoint:
pure, no I/O)."""


class DeliveryStore(Protocol):
    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]:
        """Due pending deliveries, each leased until `lease_until` so that no other round
        (or process) sends it meanwhile; a queue's deliveries only from its head, in
        order."""
        ...

    def release(self, ids: Sequence[int], lease_until: datetime, at: datetime) -> None:
        """Give back claimed deliveries that were not attempted: due again at `at`."""
        ...

    def add(self, items: Sequence[NewDelivery], when: datetime) -> None:
        """Queue deliveries that no event causes."""
        ...

    def collapse(self, queue: str, kinds: Sequence[str], when: datetime) -> int:
        """Settle, without sending, the waiting deliveries of `queue` whose kind starts
        with one of `kinds` and that have a later one for the same destination and ref
        waiting; how many."""
        ...

    def claim(
        self, delivery_id: str, now: datetime, lease_until: datetime
    ) -> DeliveryRecord | None:
        """Lease one pending delivery now, due or not (None: not pending, or leased)."""
        ...

    def next_due(self) -> datetime | None: ...

    def delivered(self, id_: int, when: datetime, answer: str | None) -> None: ...

    def attempt_failed(
        self, id_: int, when: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Count a failed attempt; `retry_at` None gives the delivery up."""
        ...

    def newer_pending(self, record: DeliveryRecord) -> bool:
        """Whether a later delivery of the same kind, destination and ref waits too."""
        ...

    def prune(self, before: datetime) -> int:
        """Forget settled deliveries finished before `before`; how many."""
        ...

    def answered(self, kind: str, ref: str, when: datetime, answer: str) -> int:
        """Record a later answer to the deliveries of `kind` about `ref`; how many."""
        ...

    def items(
        self, state: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        """The latest deliveries, newest first; `kind` is a prefix ("tcec.")."""
        ...


@dataclass(frozen=True, slots=True)
class Sent:
    """A sender's result: the receiver's answer (JSON text, may be None for an empty
    acknowledgement) or an error; `permanent` errors are not retried."""

    ok: bool
    answer: str | None = None
    error: str = ""
    permanent: bool = False


class Sender(Protocol):
    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent: ...


Settled = Callable[[DeliveryRecord, Sent], Awaitable[None]]
"""Told once a delivery is settled by the worker: delivered, or given up."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry after base × factor^(attempts − 1), at most `max_s`; given up after
    `attempts` in all. `factor` 1 is a fixed interval (what T/CEC 102 Part 4 asks)."""

    base_s: float = 5.0
    max_s: float = 3600.0
    attempts: int = 12
    factor: float = 2.0

    def delay(self, attempts: int) -> float:
        return float(min(self.base_s * self.factor ** max(attempts - 1, 0), self.max_s))


class OutboxWorker:
    def __init__(
        self,
        store: DeliveryStore,
        clock: Clock,
        backoff: Backoff | None = None,
        *,
        timeout_s: float = 10.0,
        lease_s: float = HOLD_S,
        keep_s: float = 7 * 86400.0,
    ) -> None:
        self.store = store
        self._clock = clock
        self.backoff = backoff or Backoff()
        self._timeout = timeout_s
        self._lease = timedelta(seconds=lease_s)
        self._senders: dict[str, Sender] = {}
        self._settled: dict[str, Settled] = {}
        self._backoffs: dict[str, Backoff] = {}
        self._latest_only: dict[str, bool] = {}
        self._keep = timedelta(seconds=keep_s)
        self._pruned_at: datetime | None = None
        self._collapsed_at: dict[str, datetime] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def register(
        self,
        kind_prefix: str,
        sender: Sender | None = None,
        settled: Settled | None = None,
        backoff: Backoff | None = None,
        *,
        latest_only: bool = False,
    ) -> None:
        """Send deliveries whose kind starts with `kind_prefix` through `sender`, tell
        `settled` how they ended, resend them by `backoff` (the longest prefix decides).
        `latest_only`: the sender sends the current state of what `ref` names, so a
        delivery with a later one waiting for the same destination and ref is settled
        without sending (an outage's backlog of one connector's changes is one push)."""
        if latest_only:
            self._latest_only[kind_prefix] = True
        if sender is not None:
            self._senders[kind_prefix] = sender
        if settled is not None:
            self._settled[kind_prefix] = settled
        if backoff is not None:
            self._backoffs[kind_prefix] = backoff

    def backoff_for(self, kind: str) -> Backoff:
        prefix = self._prefix(self._backoffs, kind)
        return self.backoff if prefix is None else self._backoffs[prefix]

    @staticmethod
    def _prefix(table: Mapping[str, object], kind: str) -> str | None:
        found = [prefix for prefix in table if kind.startswith(prefix)]
        return max(found, key=len) if found else None

    def wake(self, *_: object) -> None:
        """Something new is due: look now instead of at the next planned round. Safe from
        any thread (the writer's bus listener calls it)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def attempt_now(self, delivery_id: str, timeout_s: float | None = None) -> Sent | None:
        """Make the next attempt of one delivery now (a caller waiting for its answer);
        None when it is not pending or another round holds it. A failure leaves it to
        the worker's resends; the caller's answer is this attempt's."""
        now = self._clock.now()
        record = await asyncio.to_thread(self.store.claim, delivery_id, now, now + self._lease)
        if record is None:
            return None
        return await self._attempt(record, timeout_s, settle=False)

    async def _attempt(
        self, record: DeliveryRecord, timeout_s: float | None = None, *, settle: bool = True
    ) -> Sent:
        prefix = self._prefix(self._senders, record.kind)
        sender = None if prefix is None else self._senders[prefix]
        if self._prefix(self._latest_only, record.kind) is not None and (
            await asyncio.to_thread(self.store.newer_pending, record)
        ):
            sent = Sent(True, answer=SUPERSEDED)
        elif sender is None:
            sent = Sent(False, error=f"no sender for {record.kind}")
        else:
            try:
                sent = await sender.send(record, timeout_s or self._timeout)
            except Exception as exc:  # a sender's bug is a failed attempt, not a lost item
                log.exception("delivery %s failed in its sender", record.delivery_id)
                sent = Sent(False, error=f"{type(exc).__name__}: {exc}")
        now = self._clock.now()
        if sent.ok:
            await asyncio.to_thread(self.store.delivered, record.id, now, sent.answer)
        else:
            attempts = record.attempts + 1
            backoff = self.backoff_for(record.kind)
            give_up = sent.permanent or attempts >= backoff.attempts
            retry_at = None if give_up else now + timedelta(seconds=backoff.delay(attempts))
            await asyncio.to_thread(self.store.attempt_failed, record.id, now, sent.error, retry_at)
            log.warning(
                "delivery %s (%s to %s) attempt %d failed: %s%s",
                record.delivery_id,
                record.kind,
                record.destination,
                attempts,
                sent.error,
                "; giving up" if give_up else "",
            )
            if not give_up:
                return sent
        if settle:
            prefix = self._prefix(self._settled, record.kind)
            if prefix is not None:
                callback = self._settled[prefix]
                try:
                    await callback(record, sent)
                except Exception:
                    log.exception("settling delivery %s failed", record.delivery_id)
        return sent

    async def run_once(self, limit: int = 100) -> int:
        """Attempt every delivery that is due; how many were attempted. Once an hour,
        settled deliveries older than the keeping time are forgotten."""
        now = self._clock.now()
        if self._pruned_at is None or now - self._pruned_at >= timedelta(hours=1):
            self._pruned_at = now
            await asyncio.to_thread(self.store.prune, now - self._keep)
        until = now + self._lease
        due = await asyncio.to_thread(self.store.claim_due, now, until, limit)
        stopped: set[str] = set()  # queues whose head failed: the rest waits behind it
        held_back: list[int] = []
        for record in due:
            if record.queue in stopped:
                held_back.append(record.id)
                continue
            sent = await self._attempt(record)
            if record.queue and not sent.ok and not self._gave_up(record, sent):
                stopped.add(record.queue)
        await asyncio.to_thread(self.store.release, held_back, until, now)
        for queue in stopped:
            await self._collapse(queue, now)
        return len(due) - len(held_back)

    async def _collapse(self, queue: str, now: datetime) -> None:
        """A queue held back by its head (a partner away) gathers a row per change; those
        of objects changed again since would be settled unsent on reaching them anyway
        (`latest_only`), so they are settled now, at most once a minute: the backlog stays
        about one row per object however long the partner is away."""
        last = self._collapsed_at.get(queue)
        if last is not None and now - last < timedelta(seconds=COLLAPSE_EVERY_S):
            return
        self._collapsed_at[queue] = now
        kinds = list(self._latest_only)
        try:
            settled = await asyncio.to_thread(self.store.collapse, queue, kinds, now)
        except Exception:
            log.exception("settling the superseded deliveries of %s failed", queue)
            return
        if settled:
            log.info("queue %s: %d superseded deliveries settled unsent", queue, settled)

    def _gave_up(self, record: DeliveryRecord, sent: Sent) -> bool:
        return sent.permanent or record.attempts + 1 >= self.backoff_for(record.kind).attempts

    async def run(self, idle_s: float = 5.0) -> None:
        """The background job: attempt due deliveries, sleep until the next is due."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()  # of this loop (a platform may run in several in turn)
        while True:
            try:
                await self.run_once()
                next_due = await asyncio.to_thread(self.store.next_due)
            except Exception:
                log.exception("outbox round failed")
                next_due = None
            wait = idle_s
            if next_due is not None:
                wait = min(wait, max((next_due - self._clock.now()).total_seconds(), 0.01))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await wait_at_most(self._wake.wait(), wait)
