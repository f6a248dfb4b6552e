"""Async front of the ingest path: many producers, one writer, batched commits.

Producers (OCPP connections, OCPI requests, the demo) `submit` events and await their
outcome, which arrives once the events are durable. One writer task drains the queue in
batches and runs the synchronous ingestor in a single worker, so the database sees one
writer and one commit per batch however many chargers talk at once. The queue is
bounded: when the store falls behind, producers wait (back-pressure) instead of memory
growing without limit.

The worker is a thread by default. A `WriterProcess` moves the writing into a process of
its own: the store's Python work (validation, SQL, projections) then no longer competes
for the interpreter lock with the protocol servers in this process, which only pickle
events across (~5 µs each). Events stored there are published here, on this process's bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from chargenet.app.ingest import Attached, Disposition, EventIngestor, Outcome
from chargenet.app.ports import EventPublisher
from chargenet.core.events import Event
from chargenet.core.text import storable

log = logging.getLogger(__name__)

_Item = tuple[Sequence[Event], Attached | None, "asyncio.Future[list[Outcome]]"]
Ingest = Callable[[list[Event], Attached | None], list[Outcome]]


class Submitter(Protocol):
    """Where producers hand events in and wait until they are durable: this pipeline, or
    in a cluster the stream an intake node publishes to (adapters/bus/jetstream.py)."""

    async def submit(self, events: Sequence[Event]) -> list[Outcome]: ...


@dataclass(frozen=True)
class WriterProcess:
    """How to write in another process: an executor factory (one worker, whose initializer
    opens the store) and a picklable function that ingests a batch there without
    publishing. `publisher` receives, in this process, the events that were accepted."""

    executor: Callable[[], Executor]
    ingest: Ingest
    publisher: EventPublisher


class IngestPipeline:
    def __init__(
        self,
        ingestor: EventIngestor,
        *,
        max_batch: int = 2000,
        max_pending: int = 20_000,
        process: WriterProcess | None = None,
    ) -> None:
        self._ingestor = ingestor
        self._process = process
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item] | None = None
        self._max_pending = max_pending
        self._writer: asyncio.Task[None] | None = None
        self._writing = False  # a batch taken from the queue is not answered yet
        self._executor: Executor | None = None
        self.batches = 0
        self.events = 0

    async def start(self) -> None:
        if self._writer is not None:
            return
        self._queue = asyncio.Queue(maxsize=self._max_pending)
        # Made here, not in __init__, so that a stopped pipeline can start again.
        if self._process is not None:
            self._executor = self._process.executor()
        else:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._writer = asyncio.create_task(self._write_loop(), name="ingest-writer")

    async def stop(self) -> None:
        """Write out everything submitted so far, then stop."""
        if self._writer is None or self._queue is None:
            return
        await self._queue.join()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @property
    def idle(self) -> bool:
        """Nothing submitted is waiting or being written: every caller has its answer
        and the writer waits for the next batch."""
        return not self._writing and (self._queue is None or self._queue.empty())

    async def submit(
        self, events: Sequence[Event], deliveries: Attached | None = None
    ) -> list[Outcome]:
        """Queue events and wait until they are stored (or refused); `deliveries` are
        queued in the outbox with their cause (app/outbox.py)."""
        if not events:
            return []
        if self._queue is None:
            raise RuntimeError("IngestPipeline.start() was not awaited")
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        await self._queue.put((events, deliveries, future))
        return await future

    async def _write_loop(self) -> None:
        assert self._queue is not None and self._executor is not None
        process = self._process
        ingest = process.ingest if process is not None else self._ingest_here
        while True:
            await self._write_next(self._queue, self._executor, ingest)

    def _ingest_here(self, events: list[Event], deliveries: Attached | None) -> list[Outcome]:
        return self._ingestor.ingest(events, deliveries=deliveries)

    async def _write_next(
        self,
        queue: asyncio.Queue[_Item],
        executor: Executor,
        ingest: Ingest,
    ) -> None:
        """Write the next batch and answer its callers. One call per batch, so that nothing
        of a batch outlives it: a loop holding its last batch kept up to 2,000 events and
        their futures alive until more came (after a mass disconnect, the whole burst of
        offline notices), scattered through memory the allocator could not give back."""
        process = self._process
        loop = asyncio.get_running_loop()
        first = await queue.get()
        self._writing = True
        items = [first]
        count = len(first[0])
        while count < self._max_batch and not queue.empty():
            item = queue.get_nowait()
            items.append(item)
            count += len(item[0])
        batch = [event for events, _, _ in items for event in events]
        attached = {k: v for _, more, _ in items if more for k, v in more.items()} or None
        try:
            outcomes = await loop.run_in_executor(executor, ingest, batch, attached)
        except Exception as exc:  # a store failure fails this batch's callers, not the loop
            log.exception("ingest batch of %d events failed", len(batch))
            for _, _, future in items:
                if not future.done():
                    future.set_exception(exc)
        else:
            if process is not None:
                accepted = [
                    storable(event)  # as the writer stored it
                    for event, outcome in zip(batch, outcomes, strict=True)
                    if outcome.disposition is Disposition.ACCEPTED
                ]
                if accepted:
                    process.publisher.publish(accepted)
            self.batches += 1
            self.events += len(batch)
            start = 0
            for events, _, future in items:
                if not future.done():
                    future.set_result(outcomes[start : start + len(events)])
                start += len(events)
        finally:
            self._writing = False
            for _ in items:
                queue.task_done()
