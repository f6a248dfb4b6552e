"""In-process bus. Publishing never blocks the writer: each subscriber has a bounded
queue, and a subscriber that falls behind loses its oldest events (and is told how many),
rather than stalling ingest for everyone.

Events of some kinds may also reach the bus from the log, written by another process
(`publish_heard`, adapters/storage/log_tail.py): each of those is handed on once, whichever
way it comes first — this process's own event read back from the log, or an event read
from the log a moment before its own publish, is not handed on twice."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence

from chargenet.core.events import Event

log = logging.getLogger(__name__)

# How long the id of an event of a tracked kind is remembered: its other way to this bus
# (the log read a poll later, or this process's publish just after its commit) comes in
# well under this, or never (another process's event: no publish here).
_REMEMBER_S = 120.0


class Subscription:
    def __init__(self, bus: MemoryBus, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self._bus = bus
        self._loop = loop
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def _offer(self, events: Sequence[Event]) -> None:
        for event in events:
            if self._queue.full():
                self._queue.get_nowait()
                self.dropped += 1
            self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._bus._remove(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self.get()


class MemoryBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Callable[[Sequence[Event]], None]] = []
        self._lock = threading.Lock()
        # Kinds that may also come from the log (`track`); for them, the ids handed on by
        # `publish` (this process's) and by `publish_heard` (the log), oldest first, with
        # when: each event goes out once.
        self._tracked: frozenset[type[Event]] = frozenset()
        self._published: OrderedDict[str, float] = OrderedDict()
        self._heard: OrderedDict[str, float] = OrderedDict()

    def track(self, kinds: Collection[type[Event]]) -> None:
        """Events of these kinds will also be read from the log (`publish_heard`): remember
        the ids of those published from now on, to hand each on once."""
        with self._lock:
            self._tracked = frozenset(kinds)

    def publish(self, events: Sequence[Event]) -> None:
        tracked = self._tracked
        if tracked and any(type(e) in tracked for e in events):
            events = self._once(events, self._heard, self._published)
            if not events:
                return
        self._hand_on(events)

    def publish_heard(self, events: Sequence[Event]) -> int:
        """Hand on events read from the log (of the tracked kinds) that this bus has not
        handed on already; returns how many."""
        events = self._once(events, self._published, self._heard)
        if events:
            self._hand_on(events)
        return len(events)

    def _once(
        self,
        events: Sequence[Event],
        other: OrderedDict[str, float],
        this: OrderedDict[str, float],
    ) -> Sequence[Event]:
        """`events` less those of the tracked kinds the other way handed on already (each
        is matched once: forgotten then); the rest of the tracked kinds noted as handed on
        this way."""
        tracked = self._tracked
        kept: list[Event] = []
        now = time.monotonic()
        with self._lock:
            for event in events:
                if type(event) in tracked:
                    if other.pop(event.event_id, None) is not None:
                        continue
                    this[event.event_id] = now
                kept.append(event)
            for remembered in (other, this):
                while remembered and next(iter(remembered.values())) < now - _REMEMBER_S:
                    remembered.popitem(last=False)
        return kept if len(kept) < len(events) else events

    def _hand_on(self, events: Sequence[Event]) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
            listeners = list(self._listeners)
        for sub in subscriptions:
            try:
                sub._loop.call_soon_threadsafe(sub._offer, events)
            except RuntimeError:  # its loop is closed: the subscriber is gone
                self._remove(sub)
        for listener in listeners:
            try:
                listener(events)
            except Exception:
                log.exception("bus listener failed")

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        """An async subscription on the running loop."""
        sub = Subscription(self, asyncio.get_running_loop(), maxsize)
        with self._lock:
            self._subscriptions.append(sub)
        return sub

    def listen(self, listener: Callable[[Sequence[Event]], None]) -> None:
        """A synchronous listener, called on the writer's thread: keep it quick."""
        with self._lock:
            self._listeners.append(listener)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)
