"""In-process bus. Publishing never blocks the writer: each subscriber has a bounded
queue, and a subscriber that falls behind loses its oldest events (and is told how many),
rather than stalling ingest for everyone."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence

from chargenet.core.events import Event

log = logging.getLogger(__name__)


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

    def publish(self, events: Sequence[Event]) -> None:
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
