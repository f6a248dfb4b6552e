"""NATS JetStream as the durability point of a clustered intake (a first path).

An intake node publishes each event to a stream and answers its sender (a charger, a
partner) only once JetStream has stored it: the publish acknowledgement comes after the
stream has persisted the message (NATS docs, JetStream "Publishing": a PubAck is the
server's confirmation that the message is stored). A writer pulls batches from a durable
consumer, stores them through the ingestor and acknowledges each message only after its
batch is in the log: at least once. Duplicates go twice over: JetStream drops a message
whose `Nats-Msg-Id` (the event_id) it has seen within the stream's duplicate window, and
the log's own uniqueness of event_id answers anything later as a duplicate.

Subjects are `chargenet.events.<bucket>`, the bucket a hash of the charger (or connector,
station…) the event is about, so that a charger's events share one subject and several
writers, each bound to some buckets, never reorder one connector.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from chargenet.adapters import codec
from chargenet.app.ingest import Outcome
from chargenet.core.events import Event

STREAM = "CHARGENET_EVENTS"
SUBJECT = "chargenet.events"
BUCKETS = 64
_KEYS = ("charger_id", "connector_id", "station_id", "session_id", "operator_id")


def subject_for(event: Event, prefix: str = SUBJECT) -> str:
    """The event's subject: its bucket, by the first of charger, connector, station,
    session or operator it names (all in one bucket when it names none)."""
    key = next((str(v) for k in _KEYS if (v := getattr(event, k, None))), "")
    return f"{prefix}.{zlib.crc32(key.encode()) % BUCKETS}"


async def ensure_stream(
    js: Any, name: str = STREAM, prefix: str = SUBJECT, duplicate_window_s: float = 120
) -> None:
    """The stream on file storage, with its duplicate window (idempotent)."""
    from nats.js.api import StorageType, StreamConfig

    await js.add_stream(
        StreamConfig(
            name=name,
            subjects=[f"{prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=duplicate_window_s,
        )
    )


class JetStreamIntake:
    """Publishes events and returns once JetStream has stored every one of them."""

    def __init__(self, js: Any, prefix: str = SUBJECT) -> None:
        self._js = js
        self._prefix = prefix

    async def publish(self, events: Sequence[Event]) -> list[bool]:
        """Store the events in the stream; for each, whether JetStream had it already
        (a resend within the duplicate window). Raises when any is not stored: the
        sender must not be told it was."""
        acks = await asyncio.gather(
            *(
                self._js.publish(
                    subject_for(e, self._prefix),
                    codec.encode(e),
                    headers={
                        "Nats-Msg-Id": e.event_id,
                        "Chargenet-Type": e.TYPE,
                        "Chargenet-Version": str(e.VERSION),
                    },
                )
                for e in events
            )
        )
        return [bool(a.duplicate) for a in acks]


class JetStreamWriter:
    """Pulls events from the stream, stores them, then acknowledges them."""

    def __init__(
        self,
        js: Any,
        ingest: Callable[[list[Event]], list[Outcome]],
        durable: str = "writer",
        prefix: str = SUBJECT,
        batch: int = 500,
    ) -> None:
        self._js = js
        self._ingest = ingest
        self._durable = durable
        self._prefix = prefix
        self._batch = batch
        self._sub: Any = None

    async def run_once(self, timeout_s: float = 1.0) -> list[Outcome]:
        """One batch: fetched, stored through the ingestor, acknowledged; [] when the
        stream has nothing new within the timeout."""
        import nats.errors

        if self._sub is None:
            self._sub = await self._js.pull_subscribe(f"{self._prefix}.>", durable=self._durable)
        try:
            messages = await self._sub.fetch(self._batch, timeout=timeout_s)
        except nats.errors.TimeoutError:
            return []
        events = [
            codec.decode(m.headers["Chargenet-Type"], int(m.headers["Chargenet-Version"]), m.data)
            for m in messages
        ]
        outcomes = await asyncio.to_thread(self._ingest, events)
        for m in messages:  # only now: a writer dying before this leaves them to another
            await m.ack()
        return outcomes
