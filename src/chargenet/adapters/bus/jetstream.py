"""NATS JetStream as the durability point of a clustered intake (a first path).

An intake node publishes each event to a stream and answers its sender (a charger, a
partner) only once JetStream has stored it: the publish acknowledgement comes after the
stream has persisted the message (NATS docs, JetStream "Publishing": a PubAck is the
server's confirmation that the message is stored). A writer pulls batches from a durable
consumer, stores them through the ingestor and acknowledges each message only after its
batch is in the log: at least once. Duplicates go twice over: JetStream drops a message
whose `Nats-Msg-Id` (the event_id) it has seen within the stream's duplicate window, and
the log's own uniqueness of event_id answers anything later as a duplicate.

The unit of order is the bucket, a hash of the charger (or connector, station…) the event
is about (64 of them): a charger's events share one bucket. Buckets are published in
`partitions` (a divisor of 64, the same for every intake and writer of a deployment:
`CHARGENET_STREAM_PARTITIONS`), partition k holding buckets 64k/P to 64(k+1)/P - 1, on
subject `chargenet.events.p<P>.<k>` (with 64 partitions, the earlier one subject a
bucket: `chargenet.events.<bucket>`). Fewer subjects make each stream message carry more
events (what waits while a subject's message is on its way goes in the next), so NATS, the
intake's request and the writer's acknowledgement are paid per many events; several
writers split the partitions. Each partition has a durable consumer of its own (one filter
subject: NATS 2.9 and later). A writer first drains, in order, what the stream still holds
of its buckets under another layout (an upgrade, or a changed partition count), then
takes its partitions (`JetStreamWriter`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

import msgspec

from chargenet.adapters import codec
from chargenet.app.ingest import Disposition, Outcome
from chargenet.core.events import Event

log = logging.getLogger(__name__)

STREAM = "CHARGENET_EVENTS"
SUBJECT = "chargenet.events"
BUCKETS = 64
# Partitions by default (docs/scale.md, "Partitions": on 4 subjects a stream message
# carried 8-11x the events it did on 64, and up to 4 writers can split the work).
PARTITIONS = 4
# A round asks each of a writer's partitions for at least this many messages; after a round
# that found nothing, the next waits this long, twice that after another, up to a second.
_MIN_SHARE = 16
_FIRST_WAIT_S = 0.05
# Every bucket is asked at least this often (the rest of the time only those whose last
# answer brought something); a request not answered within _LOST_S is made again.
_SWEEP_S = 0.1
_LOST_S = 5.0
# What a stopped writer left is asked for this long (at least) after its acknowledgement
# time is over (`JetStreamWriter._subscribe`).
_TAKEOVER_MARGIN_S = 1.0
# A message of several events (JetStreamIntake) names how many in this header; at most this
# many bytes of events go in one (NATS refuses a payload over 1 MB by default).
BATCH = "Chargenet-Batch"
_BATCH_BYTES = 256 * 1024
BATCH_EVENTS = 64  # events at most in one stream message (JetStreamIntake's default)
# A batch of events on the wire (a stream message's, a relay's): (type, version, event).
_BATCH_ITEMS = msgspec.json.Decoder(list[tuple[str, int, msgspec.Raw]])
_KEYS = ("charger_id", "connector_id", "station_id", "session_id", "operator_id")


def bucket_of(key: str) -> int:
    return zlib.crc32(key.encode()) % BUCKETS


# Per event type, which of `_KEYS` it has (in that order).
_KEYS_OF: dict[type, tuple[str, ...]] = {}


# A key's bucket, remembered: an intake sees its chargers' few keys again and again (a
# dict of at most 65,536 keys, emptied when full: a look-up cheaper than an lru_cache's).
_KEY_BUCKETS: dict[str, int] = {}
_KEY_BUCKETS_MAX = 1 << 16


def _key_bucket(key: str) -> int:
    bucket = bucket_of(_charger_of(key))
    if len(_KEY_BUCKETS) >= _KEY_BUCKETS_MAX:
        _KEY_BUCKETS.clear()
    _KEY_BUCKETS[key] = bucket
    return bucket


def event_bucket(event: Event) -> int:
    """The event's bucket, by the first of charger, connector, station, session or
    operator it names (all in one bucket when it names none)."""
    keys = _KEYS_OF.get(type(event))
    if keys is None:
        keys = _KEYS_OF[type(event)] = tuple(k for k in _KEYS if hasattr(event, k))
    key = ""
    for k in keys:
        v = getattr(event, k)
        if v:
            key = str(v)
            break
    bucket = _KEY_BUCKETS.get(key)
    return _key_bucket(key) if bucket is None else bucket


@dataclass(frozen=True)
class Layout:
    """How buckets are published: in `partitions` subjects (a divisor of 64)."""

    partitions: int = PARTITIONS

    def __post_init__(self) -> None:
        if self.partitions < 1 or BUCKETS % self.partitions:
            raise ValueError(f"partitions divide {BUCKETS}: 1, 2, 4 … 64, not {self.partitions}")

    def partition(self, bucket: int) -> int:
        return bucket * self.partitions // BUCKETS

    def buckets(self, partition: int) -> range:
        width = BUCKETS // self.partitions
        return range(partition * width, (partition + 1) * width)

    def subject(self, prefix: str, partition: int) -> str:
        if self.partitions == BUCKETS:  # the first layout's subjects, unchanged
            return f"{prefix}.{partition}"
        return f"{prefix}.p{self.partitions}.{partition}"

    def consumer(self, durable: str, partition: int) -> str:
        if self.partitions == BUCKETS:
            return f"{durable}-{partition}"
        return f"{durable}-p{self.partitions}-{partition}"

    def subjects(self, prefix: str) -> list[str]:
        """Each bucket's subject, by bucket."""
        return [self.subject(prefix, self.partition(b)) for b in range(BUCKETS)]

    def partitions_of(self, buckets: Iterable[int]) -> list[int]:
        """The partitions that are exactly these buckets; ValueError when the buckets
        split a partition (its events would go to two writers)."""
        wanted = set(buckets)
        found = sorted({self.partition(b) for b in wanted})
        for k in found:
            if not set(self.buckets(k)) <= wanted:
                width = BUCKETS // self.partitions
                raise ValueError(
                    f"with {self.partitions} partitions a writer takes whole ones of "
                    f"{width} buckets (0-{width - 1}, {width}-{2 * width - 1} …): "
                    f"buckets {min(self.buckets(k))}-{max(self.buckets(k))} are one"
                )
        return found

    @staticmethod
    def of_subject(prefix: str, subject: str) -> tuple[Layout, int] | None:
        """The layout and partition of a subject under `prefix`; None for another's."""
        if not subject.startswith(prefix + "."):
            return None
        rest = subject[len(prefix) + 1 :].split(".")
        try:
            if len(rest) == 1:
                layout, k = Layout(BUCKETS), int(rest[0])
            elif len(rest) == 2 and rest[0].startswith("p"):
                layout, k = Layout(int(rest[0][1:])), int(rest[1])
            else:
                return None
        except ValueError:
            return None
        return (layout, k) if 0 <= k < layout.partitions else None


def subject_for(event: Event, prefix: str = SUBJECT, partitions: int = PARTITIONS) -> str:
    """The event's subject: its bucket's partition."""
    layout = Layout(partitions)
    return layout.subject(prefix, layout.partition(event_bucket(event)))


def _charger_of(key: str) -> str:
    """A connector registered without an id of its own is named after its charger (`C1-1-1`
    is charger C1's evse 1, connector 1: core/registry/model.py `connector_key`): keyed by the
    charger, a charger's presence and its connectors' statuses share one subject, so one
    writer applies them in the order they were sent."""
    parts = key.rsplit("-", 2)
    return parts[0] if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() else key


def parse_buckets(spec: str) -> list[int]:
    """`0-31`, `5`, `0-15,32-47` → the buckets; empty: all of them."""
    if not spec.strip():
        return list(range(BUCKETS))
    found: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        low, high = int(first), int(last or first)
        if not 0 <= low <= high < BUCKETS:
            raise ValueError(f"buckets are 0–{BUCKETS - 1}, not {part.strip()!r}")
        found.update(range(low, high + 1))
    return sorted(found)


@dataclass(frozen=True)
class ClusterNames:
    """The names one deployment uses on a NATS server (several can share one)."""

    cluster: str = "chargenet"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", self.cluster):
            raise ValueError(f"a cluster name is lower-case letters, digits, _: {self.cluster!r}")

    @property
    def stream(self) -> str:
        return f"{self.cluster.upper()}_EVENTS"

    @property
    def prefix(self) -> str:
        return f"{self.cluster}.events"

    @property
    def sockets(self) -> str:
        return f"{self.cluster}_sockets"

    @property
    def nodes(self) -> str:
        return f"{self.cluster}_nodes"

    def orders(self, node: str) -> str:
        return f"{self.cluster}.node.{node}.orders"

    @property
    def stored(self) -> str:
        return f"{self.cluster}.stored"


async def ensure_stream(
    js: Any, name: str = STREAM, prefix: str = SUBJECT, duplicate_window_s: float = 120
) -> None:
    """The stream on file storage, with its duplicate window (idempotent).

    A work queue: an event leaves the stream once a writer has acknowledged it (stored in
    the log), so the stream holds only what is not yet written and never grows without
    bound while writers keep up; and JetStream refuses two consumers whose subjects
    overlap, so no bucket can have two consumers applying a connector's events out of
    order."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    config = StreamConfig(
        name=name,
        subjects=[f"{prefix}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=duplicate_window_s,
    )
    await stream_made(lambda: js.add_stream(config))


# NATS 2.9 removes its account's directory of streams when the last stream is deleted: a
# stream created from another connection at that moment finds no directory to make its own
# in and is refused with this code ("error creating store for stream"; the server logs
# "could not create storage directory … no such file or directory"). Asked again, it is
# made. (Deployments sharing a server, each creating and deleting its streams, meet it.)
_STORE_FAILED = 10049
_STORE_TRIES = 5

_T = TypeVar("_T")


async def stream_made(make: Callable[[], Awaitable[_T]]) -> _T:
    """What `make` gives (a stream made: `add_stream`, `create_key_value`), asked again a
    few times while NATS refuses it for the race above."""
    import nats.js.errors

    for attempt in range(1, _STORE_TRIES):
        try:
            return await make()
        except nats.js.errors.APIError as exc:
            if exc.err_code != _STORE_FAILED:
                raise
        await asyncio.sleep(0.05 * attempt)
    return await make()


class _PubAck(msgspec.Struct):
    """JetStream's answer to a publish: stored (a duplicate within the window or not), or
    an error."""

    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    error: dict[str, Any] | None = None


_ACK = msgspec.json.Decoder(_PubAck)


class _Done:
    """An awaitable already done (the store of no events)."""

    def __await__(self) -> Any:
        return None
        yield


_DONE = _Done()


class _Lane:
    """One subject's events waiting to be published, and whether a message of them is on
    its way to JetStream now."""

    __slots__ = ("busy", "waiting")

    def __init__(self) -> None:
        self.waiting: deque[tuple[Event, asyncio.Future[bool]]] = deque()
        self.busy = False


class JetStreamIntake:
    """Publishes events and returns once JetStream has stored every one of them.

    Each subject (partition) is a lane with at most one message on its way to JetStream at
    a time; the events submitted meanwhile for that subject wait and go together as the
    lane's next message (up to `batch` events or `_BATCH_BYTES`), in the order they were
    submitted. One event alone is one message as before; under load a message carries
    many. So at most one message per partition awaits its acknowledgement, and a
    reconnect storm's tens of thousands of events become a few hundred messages: each
    message costs the intake, NATS and the writer the same whether it carries one event or
    fifty (a request, a stored record, an acknowledgement), and an event waits for at most
    the message ahead of it in its lane and its own, however many chargers arrived before
    it. Publishing one event a message with 500 in flight, a storm of 10,000 chargers
    (40,000 messages with presence and the socket map) queued first frames for 7 s
    (docs/scale.md, "Reconnect storm").

    The events of a batch still each carry their event_id, and the log drops any it has
    already stored. JetStream's duplicate window (`Nats-Msg-Id`) catches an event sent
    again alone, or a batch sent again whole; an event resent inside a different batch is
    dropped by the log instead."""

    def __init__(
        self,
        js: Any,
        prefix: str = SUBJECT,
        timeout_s: float = 30.0,
        batch: int = BATCH_EVENTS,
        partitions: int = PARTITIONS,
    ) -> None:
        self._js = js
        self._prefix = prefix
        self._subjects = Layout(partitions).subjects(prefix)  # by bucket
        self._timeout_s = timeout_s
        self._batch = batch
        self._lanes: dict[str, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.messages = 0  # published to JetStream (for figures)
        self.events = 0  # stored in the stream: in the messages JetStream acknowledged
        import nats.errors
        import nats.js.errors

        self._nc = js._nc  # nats-py's JetStream context keeps its connection there
        # Asked once: on Python 3.11 each `asyncio.get_running_loop()` is a getpid system
        # call (1% of an intake's CPU when asked per frame).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._no_stream = nats.js.errors.NoStreamResponseError
        self._api_error = nats.js.errors.APIError
        self._timeout = nats.errors.TimeoutError
        # JetStream's acknowledgements come to one inbox of ours, `<prefix><token>`, each
        # token a number (`_publish`).
        self._acks: dict[str, asyncio.Future[Any]] = {}
        self._ack_prefix: str | None = None
        self._ack_inbox: asyncio.Future[str] | None = None
        self._tokens = 0

    async def publish(self, events: Sequence[Event]) -> list[bool]:
        """Store the events in the stream; for each, whether JetStream had it already
        (a resend within the duplicate window). Raises when any is not stored: the
        sender must not be told it was."""
        futures = self._enqueue(events)
        if len(futures) == 1:  # most frames make one event: no gathering future for it
            return [bool(await futures[0])]
        return await self._all(futures)

    def stored(self, events: Sequence[Event]) -> Awaitable[Any]:
        """`publish` for a sender that needs nothing back: done once every event is
        stored, raising if any is not. One event's is its lane's future itself, awaited
        with no coroutine of its own."""
        if not events:
            return _DONE
        if len(events) == 1:  # (most frames make one event: no list of futures for it)
            return self._enqueue_one(events[0])
        futures = self._enqueue(events)
        if len(futures) == 1:
            return futures[0]
        return self._all(futures)

    def _enqueue_one(self, event: Event) -> asyncio.Future[bool]:
        """`_enqueue` of one event: its future."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        subject = self._subjects[event_bucket(event)]
        lane = self._lanes.get(subject)
        if lane is None:
            lane = self._lanes[subject] = _Lane()
        future: asyncio.Future[bool] = loop.create_future()
        lane.waiting.append((event, future))
        if not lane.busy:
            lane.busy = True
            task = loop.create_task(self._drain(subject, lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future

    def _enqueue(self, events: Sequence[Event]) -> list[asyncio.Future[bool]]:
        return [self._enqueue_one(event) for event in events]

    @staticmethod
    async def _all(futures: list[asyncio.Future[bool]]) -> list[bool]:
        done = await asyncio.gather(*futures, return_exceptions=True)
        for result in done:
            if isinstance(result, BaseException):
                raise result
        return [bool(d) for d in done]

    def _take(self, lane: _Lane) -> tuple[list[tuple[Event, asyncio.Future[bool]]], bytes]:
        """The lane's next message: its oldest events still awaited, up to the batch and
        its bytes (always at least one), and its payload (`_send`'s).

        A batch is encoded in one call, the events within it (`codec.encode_batch`: the
        same bytes as each encoded alone and joined, which cost a call, a context look-up
        and a `Raw` an event); when those bytes are over `_BATCH_BYTES` (so the events
        alone might be: where to cut is found by their sizes) or anything fails, the
        events go back in their order and are taken one by one as before."""
        waiting = lane.waiting
        taken: list[tuple[Event, asyncio.Future[bool]]] = []
        batch = self._batch
        while waiting and len(taken) < batch:
            item = waiting.popleft()
            if not item[1].done():
                taken.append(item)
        if taken:
            try:
                if len(taken) == 1:
                    return taken, codec.encode(taken[0][0])
                payload = codec.encode_batch([(e.TYPE, e.VERSION, e) for e, _ in taken])
            except Exception:  # `_take_each` encodes each again: an unencodable one fails alone
                pass
            else:
                # Under the limit whole, the events alone are too: one by one, all are taken.
                if len(payload) <= _BATCH_BYTES:
                    return taken, payload
            waiting.extendleft(reversed(taken))
        return self._take_each(lane)

    def _take_each(self, lane: _Lane) -> tuple[list[tuple[Event, asyncio.Future[bool]]], bytes]:
        """`_take` event by event: each encoded, until the batch or its bytes are full."""
        taken: list[tuple[Event, asyncio.Future[bool]]] = []
        encoded: list[bytes] = []
        size = 0
        while lane.waiting and len(taken) < self._batch:
            event, future = lane.waiting[0]
            if future.done():
                lane.waiting.popleft()
                continue
            try:
                data = codec.encode(event)
            except Exception as exc:
                # This event's sender alone is told (its frame answered as an error); the
                # events taken before it and after it go on. Raised out of here, it left
                # those already taken with no answer, their senders waiting for ever.
                lane.waiting.popleft()
                log.warning("an event that cannot be encoded (%s): %r", exc, event.event_id)
                future.set_exception(exc)
                continue
            if taken and size + len(data) > _BATCH_BYTES:
                break
            lane.waiting.popleft()
            taken.append((event, future))
            encoded.append(data)
            size += len(data)
        if len(taken) <= 1:
            return taken, b"".join(encoded)
        payload = codec.encode_batch(
            [(e.TYPE, e.VERSION, msgspec.Raw(d)) for (e, _), d in zip(taken, encoded, strict=True)]
        )
        return taken, payload

    async def _drain(self, subject: str, lane: _Lane) -> None:
        taken: list[tuple[Event, asyncio.Future[bool]]] = []
        try:
            while lane.waiting:
                taken, payload = self._take(lane)
                if not taken:
                    continue
                try:
                    ack = await self._send(subject, taken, payload)
                except Exception as exc:
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    self.events += len(taken)
                    duplicate = bool(ack.duplicate)
                    for _, future in taken:
                        if not future.done():
                            future.set_result(duplicate)
                taken = []
        except BaseException as exc:  # cancelled (shutting down): no waiter waits for ever
            failure = exc if isinstance(exc, Exception) else ConnectionError("intake stopped")
            for future in [f for _, f in taken] + [f for _, f in lane.waiting]:
                if not future.done():
                    future.set_exception(failure)
            lane.waiting.clear()
            raise
        finally:
            lane.busy = False

    async def _send(
        self, subject: str, taken: list[tuple[Event, asyncio.Future[bool]]], payload: bytes
    ) -> _PubAck:
        self.messages += 1
        if len(taken) == 1:
            event = taken[0][0]
            return await self._publish(
                subject,
                payload,
                {
                    "Nats-Msg-Id": event.event_id,
                    "Chargenet-Type": event.TYPE,
                    "Chargenet-Version": str(event.VERSION),
                },
            )
        # (each id followed by a NUL, hashed in one piece)
        ids = "\0".join([event.event_id for event, _ in taken])
        digest = hashlib.blake2b(f"{ids}\0".encode(), digest_size=16)
        return await self._publish(
            subject,
            payload,
            {"Nats-Msg-Id": f"batch-{digest.hexdigest()}", BATCH: str(len(taken))},
        )

    async def _publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> _PubAck:
        """nats-py's `JetStreamContext.publish` (a request to the stream's subject), with
        the acknowledgement read by msgspec (its `json.loads` and `PubAck` dataclass were a
        fiftieth of an intake's CPU) and the request made here: a number for its token,
        one timer for its timeout, where nats-py's `request` draws a NUID and random bytes
        (a system call) and waits through `asyncio.wait_for` (≈ 10 µs of CPU a stream
        message between them). Same errors: `NoStreamResponseError` when no stream
        listens on the subject, nats-py's `TimeoutError` when no answer comes in time."""
        prefix = self._ack_prefix
        if prefix is None:
            prefix = await self._inbox()
        loop = self._loop or asyncio.get_running_loop()
        self._tokens += 1
        token = str(self._tokens)
        future: asyncio.Future[Any] = loop.create_future()
        acks = self._acks
        acks[token] = future
        timer = loop.call_later(self._timeout_s, self._expire, future)
        try:
            await self._nc.publish(subject, payload, reply=prefix + token, headers=headers)
            msg = await future
        finally:
            timer.cancel()
            acks.pop(token, None)
        status = msg.headers.get("Status") if msg.headers else None
        if status == "503":  # no responders: no stream takes this subject
            raise self._no_stream
        ack = _ACK.decode(msg.data)
        if ack.error is not None:
            raise self._api_error.from_error(ack.error)
        return ack

    def _expire(self, future: asyncio.Future[Any]) -> None:
        if not future.done():
            future.set_exception(self._timeout())

    async def _inbox(self) -> str:
        """The prefix of the acknowledgements' inbox, subscribed to once."""
        if self._ack_inbox is None:
            self._ack_inbox = asyncio.ensure_future(self._subscribe_acks())
        return await asyncio.shield(self._ack_inbox)

    async def _subscribe_acks(self) -> str:
        prefix = f"{self._nc.new_inbox()}."
        try:
            await self._nc.subscribe(prefix + "*", cb=self._acknowledged)
        except BaseException:
            self._ack_inbox = None  # asked again by the next publish
            raise
        self._ack_prefix = prefix
        return prefix

    async def _acknowledged(self, msg: Any) -> None:
        prefix = self._ack_prefix
        if prefix is None:
            return
        future = self._acks.pop(msg.subject[len(prefix) :], None)
        if future is not None and not future.done():
            future.set_result(msg)


def decode_message(headers: dict[str, str] | None, data: bytes) -> list[Event]:
    """A stream message's events: one (its type and version in the headers), or a batch."""
    return [event for event, _ in _decode_kept(headers, data)]


def _decode_kept(headers: dict[str, str] | None, data: bytes) -> list[tuple[Event, bytes | None]]:
    """A stream message's events, each with the bytes the intake encoded it in when the
    writer may store and relay those instead of encoding it again (`codec.reusing`)."""
    headers = headers or {}
    kind = headers.get("Chargenet-Type")
    if kind is not None:
        return [codec.decode_kept(kind, int(headers["Chargenet-Version"]), data)]
    if BATCH not in headers:
        raise ValueError("a stream message with neither an event type nor a batch")
    return codec.decode_all_kept(_BATCH_ITEMS.decode(data))


class JetStreamPipeline:
    """An intake node's way in (`Submitter`): events go to the stream, and the sender is
    answered once JetStream has stored them; a writer stores them in the log later."""

    def __init__(self, intake: JetStreamIntake) -> None:
        self._intake = intake
        # `submit` for a sender that needs no outcome (the OCPP gateway answers a charger
        # the same whether JetStream had an event already or not): done once every event
        # is stored, raising if any is not; no `Outcome` made an event, and nothing of its
        # own between the sender and the lane: the intake's `stored` itself.
        self.stored: Callable[[Sequence[Event]], Awaitable[Any]] = intake.stored

    @property
    def events(self) -> int:
        """Events stored in the stream so far (counted by the intake as they are)."""
        return self._intake.events

    async def submit(self, events: Sequence[Event]) -> list[Outcome]:
        if not events:
            return []
        duplicates = await self._intake.publish(events)
        return [
            Outcome(e.event_id, Disposition.DUPLICATE if dup else Disposition.ACCEPTED)
            for e, dup in zip(events, duplicates, strict=True)
        ]


class _Feeds:
    """A writer's consumers (one a partition, or one a subject of another layout being
    drained), each known here by a number, asked with `no_wait` pull requests: each
    answered at once with up to the share asked, then a status (404 none, 408 no more)
    when it held fewer. JetStream sends a request's answer in one go, where a request left
    standing is served a message at a time as each arrives, which cost the NATS server
    more CPU per stored message than all the requests it saves (docs/scale.md, "The
    writer's pulls").

    A round asks only the consumers whose last answer brought messages, and every one
    when a sweep is due (every `sweep_s`, and after a round that found nothing): a quiet
    one costs a request and a status a sweep rather than every round. An event in a quiet
    partition waits at most a sweep for its round. Every consumer's answers come to one
    subscription (`<inbox>.<number>`) in the order the server sent them: each one's in
    stream order."""

    def __init__(
        self,
        nc: Any,
        next_subjects: dict[int, str],
        share: int,
        sweep_s: float,
        filters: dict[int, str],
    ) -> None:
        self._nc = nc
        self._next = next_subjects
        # A message comes with the subject it was published on (its consumer's filter: the
        # last number of an older layout's is not its feed's), a status with the request's
        # reply subject (`<inbox>.<number>`).
        self._of_filter = {subject: number for number, subject in filters.items()}
        self._requests: dict[int, bytes] = {}  # by the share asked
        self._share = share  # at most (each consumer's max_ack_pending)
        self._wants = dict.fromkeys(next_subjects, share)  # asked of each one's current answer
        self._sweep_s = sweep_s
        self._inbox = nc.new_inbox()
        self._sub: Any = None
        self._asked: dict[int, float] = {}  # buckets whose answer is not over: since when
        self._got = dict.fromkeys(next_subjects, 0)  # messages of each one's current answer
        self._active: set[int] = set()  # buckets whose last answer brought messages
        self._swept = float("-inf")
        self._arrived: deque[Any] = deque()
        self._answered = asyncio.Event()
        self.requests = 0  # pull requests sent (for figures)

    async def open(self) -> _Feeds:
        self._sub = await self._nc.subscribe(f"{self._inbox}.*", cb=self._on_message)
        return self

    async def close(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            await sub.unsubscribe()

    async def _on_message(self, message: Any) -> None:
        bucket = self._of_filter.get(message.subject)
        if bucket is None:
            bucket = int(message.subject.rpartition(".")[2])
        if _status(message) is None:
            self._arrived.append(message)
            self._got[bucket] += 1
            if self._got[bucket] < self._wants[bucket]:
                return  # more may come, or the status saying there is no more
        # The answer is over: its share came, or a status ended it.
        if self._asked.pop(bucket, None) is not None:
            if self._got[bucket]:
                self._active.add(bucket)
            else:
                self._active.discard(bucket)
            self._got[bucket] = 0
            if not self._asked:
                self._answered.set()

    async def _ask(self, sweep: bool, share: int) -> None:
        request = self._requests.get(share)
        if request is None:
            request = self._requests[share] = msgspec.json.encode({"batch": share, "no_wait": True})
        now = asyncio.get_running_loop().time()
        if sweep or now - self._swept >= self._sweep_s:
            self._swept = now
            wanted: Iterable[int] = self._next
        else:
            wanted = sorted(self._active)
        for bucket in wanted:
            since = self._asked.get(bucket)
            if since is not None and now - since < _LOST_S:
                continue  # its answer is still coming
            self._asked[bucket] = now
            self._got[bucket] = 0
            self._wants[bucket] = share
            self.requests += 1
            await self._nc.publish(self._next[bucket], request, reply=f"{self._inbox}.{bucket}")

    async def take(self, timeout_s: float, sweep: bool = False, share: int = 0) -> list[Any]:
        """What the buckets asked now answer within `timeout_s` (an answer later than that
        is taken first next time), each bucket's in stream order. All of it: a bucket asked
        while some of its share is still unacknowledged can be answered only in part, and
        JetStream then leaves a `no_wait` request open instead of ending it with a status.
        `share`: the messages each is asked for (1 to the share the feeds were made with,
        their consumers' max_ack_pending; 0: that share)."""
        self._answered.clear()
        await self._ask(sweep, min(share, self._share) if share > 0 else self._share)
        if self._asked:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._answered.wait()
        taken = list(self._arrived)
        self._arrived.clear()
        return taken


def _status(message: Any) -> str | None:
    headers = message.headers
    return headers.get("Status") if headers else None


class JetStreamWriter:
    """Pulls events from the stream, stores them, then acknowledges them.

    Bound to some buckets (all by default), which are whole partitions of the layout:
    several writers split the partitions between them. Each partition has a durable
    consumer of its own (`<durable>-p<P>-<k>`, or `<durable>-<bucket>` with 64 partitions,
    filtered on that partition's one subject), which any NATS server since 2.9 keeps: a
    consumer of several filter subjects is NATS 2.10's. A round asks this writer's
    partitions at once (`_Feeds`: those whose last answer brought something, and all of
    them every `sweep_s` or after an idle round) for an equal share each (a busy partition
    does not starve the others), stores what came in one call to the ingestor and only
    then acknowledges it. A message carries one event or many (`JetStreamIntake`): each
    round asks for as many messages as, at the last round's events a message, make about
    `batch` events (the first as if every message were full), never more than the
    consumers' max_ack_pending (`batch` / partitions messages, at least 16). Each
    partition is asked with `no_wait`: JetStream answers at once with what it holds
    (nats-py's `fetch` holds an empty one's request open until its timeout, so every round
    lasted as long as that timeout). Each consumer lets no more
    than its share be unacknowledged, so what a dead writer left is delivered again (after
    `ack_wait_s`) before anything newer: one connector's events are applied in the order
    they were sent. A round the store refused is stored again, before anything else, until
    it is stored (never skipped): what came meanwhile waits behind it. An idle writer
    pauses between rounds, longer each time up to the round's timeout, unless a message
    published on one of its partitions wakes it. One writer per set of partitions: two on
    the same ones would share their consumers and interleave.

    What the stream holds of this writer's buckets on the subjects of another layout (an
    earlier deployment's, before an upgrade or a changed partition count) is drained first,
    in order, through a consumer of each such subject, before any partition of this layout
    is asked: a connector's older events are applied before its newer ones. An older
    subject spanning buckets of two writers is drained by the one holding its first bucket;
    the other waits until the stream holds nothing more of it. Subjects are looked at once,
    when the writer starts: an intake of the other layout still publishing after that is
    not drained (upgrade the intakes first, then restart the writers: docs/scale.md)."""

    def __init__(
        self,
        js: Any,
        ingest: Callable[[list[Event]], list[Outcome]],
        durable: str = "writer",
        prefix: str = SUBJECT,
        batch: int = 500,
        *,
        stream: str | None = None,
        buckets: Sequence[int] | None = None,
        ack_wait_s: float = 30.0,
        sweep_s: float = _SWEEP_S,
        partitions: int = PARTITIONS,
    ) -> None:
        self._js = js
        self._ingest = ingest
        self._durable = durable
        self._prefix = prefix
        self._stream = stream
        self._layout = Layout(partitions)
        self._buckets = set(buckets) if buckets is not None else set(range(BUCKETS))
        self._partitions = self._layout.partitions_of(self._buckets)
        self._batch = batch
        self._share = max(_MIN_SHARE, -(-batch // len(self._partitions)))
        # Messages a partition is asked for this round: at first as if each were full.
        self._asking = -(-batch // (len(self._partitions) * BATCH_EVENTS))
        self._ack_wait_s = ack_wait_s
        self._sweep_s = sweep_s
        self._nc = js._nc  # nats-py's JetStream context keeps its connection there
        self._feeds: _Feeds | None = None
        # Another layout's subjects holding this writer's buckets: all of them (drained
        # once the stream holds none), and the consumers of those this writer drains.
        self._older: set[str] = set()
        self._draining: dict[str, str] = {}  # subject → its consumer
        self._old_feeds: _Feeds | None = None
        self._stream_name = ""
        self._held: list[Any] = []  # a round not yet stored
        self._wait_s = _FIRST_WAIT_S
        self._wakers: list[Any] = []  # while idle: a subscription a partition (`_listen`)
        self._woken = asyncio.Event()
        self.events = 0
        self.messages = 0  # stream messages stored (for figures)
        self.rounds = 0

    def consumer(self, partition: int) -> str:
        return self._layout.consumer(self._durable, partition)

    def _next_subject(self, stream: str, consumer: str) -> str:
        api = getattr(self._js, "_prefix", "$JS.API")  # nats-py's JetStream API prefix
        return f"{api}.CONSUMER.MSG.NEXT.{stream}.{consumer}"

    async def _subscribe(self) -> _Feeds:
        from nats.js.api import AckPolicy, ConsumerConfig

        stream = self._stream or await self._js.find_stream_name_by_subject(f"{self._prefix}.>")
        self._stream_name = stream
        await self._retire_wide_consumers(stream)
        left = await self._find_older(stream)
        for k in self._partitions:
            config = ConsumerConfig(
                durable_name=self.consumer(k),
                ack_policy=AckPolicy.EXPLICIT,  # a work-queue stream takes no other
                ack_wait=self._ack_wait_s,
                max_ack_pending=self._share,
                filter_subject=self._layout.subject(self._prefix, k),
            )
            info = await self._js.add_consumer(stream, config)
            left += info.num_ack_pending
        if left:
            # What a killed writer left: once its acknowledgement time is over, JetStream
            # delivers it again before anything newer; fetching sooner would get newer
            # events first and apply a connector's events out of order.
            # The server notices an expired acknowledgement time on a timer of its own, which
            # a loaded machine runs late: a pull made the moment that time is over found
            # nothing, or would get the newer events first. So a margin after it.
            wait_s = self._ack_wait_s + max(_TAKEOVER_MARGIN_S, self._ack_wait_s / 10)
            log.warning("%d events left by a stopped writer: taken again in %g s", left, wait_s)
            await asyncio.sleep(wait_s)
        if self._draining:
            draining = dict(enumerate(self._draining.items()))
            self._old_feeds = await _Feeds(
                self._nc,
                {i: self._next_subject(stream, c) for i, (_, c) in draining.items()},
                self._share,
                self._sweep_s,
                {i: subject for i, (subject, _) in draining.items()},
            ).open()
        subjects = {k: self._next_subject(stream, self.consumer(k)) for k in self._partitions}
        filters = {k: self._layout.subject(self._prefix, k) for k in self._partitions}
        return await _Feeds(self._nc, subjects, self._share, self._sweep_s, filters).open()

    async def _find_older(self, stream: str) -> int:
        """Another layout's subjects the stream holds messages of for this writer's buckets
        (`_older`), and a consumer for each of those it drains itself (`_draining`: one it
        finds filtered on the subject, else one made); returns how many of theirs await an
        acknowledgement (a stopped writer's)."""
        from nats.js.api import AckPolicy, ConsumerConfig

        info = await self._js.stream_info(stream, subjects_filter=f"{self._prefix}.>")
        held = info.state.subjects or {}
        for subject, count in sorted(held.items()):
            found = Layout.of_subject(self._prefix, subject)
            if not count or found is None or found[0] == self._layout:
                continue
            layout, k = found
            theirs = layout.buckets(k)
            if self._buckets.isdisjoint(theirs):
                continue
            self._older.add(subject)
            if theirs[0] in self._buckets:
                self._draining[subject] = layout.consumer(self._durable, k)
        existing = {c.config.filter_subject: c for c in await self._js.consumers_info(stream)}
        for subject, consumer in existing.items():
            found = Layout.of_subject(self._prefix, subject or "")
            if found is None or found[0] == self._layout or subject in self._older:
                continue
            if set(found[0].buckets(found[1])) <= self._buckets:
                # An earlier layout's consumer of this writer's buckets, its subject empty.
                await self._js.delete_consumer(stream, consumer.name)
        if not self._older:
            return 0
        log.warning(
            "the stream holds events of %d subjects of another layout: drained first (%s)",
            len(self._older),
            ", ".join(sorted(self._older)),
        )
        left = 0
        for subject in list(self._draining):
            if subject in existing:  # an earlier writer's: taken over as it is
                self._draining[subject] = existing[subject].name
                left += existing[subject].num_ack_pending
                continue
            made = await self._js.add_consumer(
                stream,
                ConsumerConfig(
                    durable_name=self._draining[subject],
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self._ack_wait_s,
                    max_ack_pending=self._share,
                    filter_subject=subject,
                ),
            )
            left += made.num_ack_pending
        return left

    async def _older_left(self) -> bool:
        """Whether the stream still holds anything of the other layout's subjects; once it
        holds nothing, their consumers this writer drained are deleted."""
        info = await self._js.stream_info(self._stream_name, subjects_filter=f"{self._prefix}.>")
        held = info.state.subjects or {}
        if any(held.get(s) for s in self._older):
            return True
        if self._old_feeds is not None:
            await self._old_feeds.close()
            self._old_feeds = None
        for consumer in self._draining.values():
            with contextlib.suppress(Exception):  # gone already: nothing to retire
                await self._js.delete_consumer(self._stream_name, consumer)
        log.warning("the other layout's subjects are drained: taking partitions now")
        self._older.clear()
        self._draining.clear()
        return False

    async def _retire_wide_consumers(self, stream: str) -> None:
        """A consumer of several subjects (an earlier writer's: all of them through
        `<prefix>.>`, or a NATS 2.10 consumer of several filters) that covers one of this
        writer's partitions is deleted: the work-queue stream would refuse a partition's
        consumer beside it. Nothing is lost: what it had not had acknowledged stays in the
        stream and goes, in order, to the partitions' consumers (the log drops what is
        stored twice)."""
        import nats.js.errors

        ours = {self._layout.subject(self._prefix, k) for k in self._partitions}
        wide = f"{self._prefix}.>"
        for info in await self._js.consumers_info(stream):
            filters = set(info.config.filter_subjects or ())
            if info.config.filter_subject:
                filters.add(info.config.filter_subject)
            if len(filters) == 1 and filters <= ours:
                continue  # a partition's own consumer
            if wide in filters or filters & ours:
                log.warning("consumer %s covers several partitions: deleted", info.name)
                # Another lane of this writer (or another writer) starting may have
                # deleted it first: gone is what is wanted.
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await self._js.delete_consumer(stream, info.name)

    async def subscribe(self) -> None:
        """Make this writer's consumers (one a partition, and one for each other layout's
        subject it drains first) and open their feeds: from its return, what the stream
        holds for these buckets is this writer's to take (what a stopped writer left is
        taken first, after its acknowledgement time). `run_once` subscribes if this was not
        called; a role says it is ready after this."""
        if self._feeds is None:
            self._feeds = await self._subscribe()

    async def close(self) -> None:
        """Stop listening for answers (what has come and is not stored goes to the next
        writer on these buckets after its acknowledgement time)."""
        await self._unlisten()
        for feeds in (self._old_feeds, self._feeds):
            if feeds is not None:
                await feeds.close()

    async def _listen(self) -> None:
        """Idle: be woken by the next message published on one of this writer's partitions
        (a core subscription to each subject, gone after one message), instead of finding
        it only at the next idle round, up to a second later. Made once the server has it
        (`subscriptions_made`): what was published before is found by the round that
        follows at once."""
        self._woken.clear()

        async def woken(_: Any) -> None:
            self._woken.set()

        for k in self._partitions:
            subject = self._layout.subject(self._prefix, k)
            self._wakers.append(await self._nc.subscribe(subject, cb=woken, max_msgs=1))
        await subscriptions_made(self._nc)

    async def _unlisten(self) -> None:
        wakers, self._wakers = self._wakers, []
        for sub in wakers:
            with contextlib.suppress(Exception):  # gone after its one message, or closed
                await sub.unsubscribe()

    @property
    def requests(self) -> int:
        """Pull requests sent so far (for figures)."""
        return sum(f.requests for f in (self._feeds, self._old_feeds) if f is not None)

    async def _take(self, timeout_s: float) -> list[Any]:
        """This round's messages: the other layout's first, while the stream holds any."""
        assert self._feeds is not None
        idle = self._wait_s > _FIRST_WAIT_S  # after an idle round: every partition
        if self._older:
            if self._old_feeds is not None:
                taken = await self._old_feeds.take(timeout_s, sweep=True)
                if taken:
                    return taken
            if await self._older_left():
                return []  # (another writer's drain, or acknowledgements on their way)
        return await self._feeds.take(timeout_s, sweep=idle, share=self._asking)

    async def run_once(self, timeout_s: float = 1.0) -> list[Outcome]:
        """One round: what came from this writer's partitions, stored through the ingestor
        in one call, acknowledged; [] when nothing came within the timeout."""
        await self.subscribe()
        if not self._held:
            self._held = await self._take(timeout_s)
            if not self._held:
                await self._idle(timeout_s)
                return []
            self._wait_s = _FIRST_WAIT_S
            await self._unlisten()
        messages = self._held
        decoded = [pair for m in messages for pair in _decode_kept(m.headers, m.data)]
        events = [event for event, _ in decoded]
        # The log's payloads and the relay's messages are the bytes the intakes encoded.
        with codec.reusing((e, data) for e, data in decoded if data is not None):
            # Refused (raises): held, and stored again by the next round before anything
            # newer.
            outcomes = await asyncio.to_thread(self._ingest, events)
        self._held = []
        # Only now: a writer dying before this leaves them to another.
        await _ack_all(self._nc, messages)
        self.rounds += 1
        self.messages += len(messages)
        self.events += len(events)
        # The next round asks each partition for what makes about `batch` events at this
        # round's events a message.
        per_message = max(1, len(events)) * len(self._partitions)
        self._asking = -(-self._batch * len(messages) // per_message)
        return outcomes

    async def _idle(self, timeout_s: float) -> None:
        """After a round that found nothing: the next after a pause, growing up to
        timeout_s, or as soon as a message is published on a partition. Listening starts
        after a second idle round in a row (a writer keeping up with its intakes finds
        nothing now and then), with no pause: the round right after it finds what came
        before. Woken, it stops: the next round takes what came. Not while an older layout
        is being drained: what this writer waits for then is that drain, not a publish."""
        if not self._wakers:
            if self._wait_s > _FIRST_WAIT_S and not self._older:
                await self._listen()
                return
            await asyncio.sleep(self._wait_s)
        else:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._wait_s):
                    await self._woken.wait()
            if self._woken.is_set():
                await self._unlisten()
                return
        self._wait_s = min(timeout_s, self._wait_s * 2)

    async def run(self) -> None:
        """Write until cancelled; a failing store is retried, never skipped."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a batch from the stream could not be stored; retrying")
                await asyncio.sleep(1.0)


async def _ack_all(nc: Any, messages: Sequence[Any]) -> None:
    """Acknowledge the messages: for each what nats-py's `Msg.ack` sends (an empty message
    to its reply subject), all in one buffer for the connection's flusher, in their order.
    A publish each cost the writer 5 µs a message in nats-py's Python (a subject check, a
    command built, its queueing), the joined frames under half a µs. An acknowledgement
    lost with the connection is no loss: the message comes again after its `ack_wait`."""
    send = getattr(nc, "_send_command", None)
    flush = getattr(nc, "_flush_pending", None)
    if (
        send is None
        or flush is None
        or not hasattr(nc, "_flush_queue")
        or any(not m.reply for m in messages)
    ):
        # Not nats-py's client as known (all three internals, or none of them: one found
        # without the others would fail after the frames were queued), or a message with no
        # reply: each acknowledged by its public `ack`.
        for m in messages:
            await m.ack()
        return
    await send(b"".join([b"PUB %s 0\r\n\r\n" % m.reply.encode() for m in messages]))
    queue = nc._flush_queue
    if queue is not None and queue.empty():
        await flush()  # wake the flusher, as a publish does


# --- what the writers stored, to every process's bus -------------------------------------

# A relay message carries up to this many bytes of events (the stream's own cap: far below
# NATS's 1 MB default payload), so a writer's round goes out as one message, not one per
# 200 events.
_RELAY_BYTES = _BATCH_BYTES


ORIGIN = "Chargenet-Origin"  # header: the node that stored what a message carries
# Header: the event types a relay message carries, comma-separated. A listener for some
# kinds only (an intake's registry changes) skips a message that carries none of them
# without reading its events; one without the header (an older writer's) is read.
KINDS = "Chargenet-Kinds"


# Event types a writer relays only on `all_subject`, not on `<cluster>.stored`: what
# chargers report all the time, most of what writers store. A listener for other kinds
# only (an intake's registry changes) hears `<cluster>.stored` alone, so NATS does not send
# it the writers' rounds of meter values at all. A type may leave this set, never join it:
# a listener of an earlier version would stop hearing it.
TELEMETRY = frozenset(
    {"connector.meter_sampled", "connector.status_changed", "charger.presence_changed"}
)


def all_subject(subject: str) -> str:
    """Where a writer relays everything it stored, in order (`subject` has what is not
    `TELEMETRY`): beside `subject`, one token as it is, so that one subscription (`_both`)
    hears the two in the order they were sent."""
    return f"{subject}_all"


def _both(subject: str) -> str:
    prefix, _, _ = subject.rpartition(".")
    return f"{prefix}.*" if prefix else "*"


def relay_stored(
    nc: Any, subject: str, origin: str | None = None
) -> Callable[[Sequence[Event]], None]:
    """A bus listener for a writer: what it stored goes out on core NATS, so that live
    subscribers in the other processes (the API's dashboard and alarm rules, an intake's
    directory of chargers, the OCPI receiver's EVSE lookups) hear of it as they would on
    one process's bus. At most once, like that bus: the log is the record, this is news.
    Called on the writer's thread. `origin` names a node that also hears the feed (an api
    node storing partners' pushes itself), so that it skips its own news.

    Everything goes on `all_subject` (in messages of up to `_RELAY_BYTES`, in the order
    stored), and what is not `TELEMETRY` on `subject` too (for listeners of other kinds:
    an intake's registry changes; an older node's). Each message says which event types
    it carries (`KINDS`), which also tells a listener of both that a message on `subject`
    is one it has on `all_subject` as well. An api node of before this hears only
    `subject`: upgrade the api nodes before the writers (docs/scale.md)."""
    loop = asyncio.get_running_loop()
    everything = all_subject(subject)

    def send(events: Sequence[Event]) -> None:
        Raw = msgspec.Raw
        items = [
            (e.TYPE, e.VERSION, Raw(data))
            for e, data in zip(events, codec.encode_all(events), strict=True)
        ]
        for part in _by_size([i for i in items if i[0] not in TELEMETRY]):
            _send_relay(loop, nc, subject, part, origin)
        for part in _by_size(items):
            _send_relay(loop, nc, everything, part, origin)

    return send


_EVENT_OF = itemgetter(2)


def _by_size(
    items: list[tuple[str, int, msgspec.Raw]],
) -> Iterator[list[tuple[str, int, msgspec.Raw]]]:
    """The items in order, in parts of at most `_RELAY_BYTES` of events (an item larger
    than that alone)."""
    if sum(map(len, map(_EVENT_OF, items))) <= _RELAY_BYTES:
        # All in one part, as the loop below would leave them (each item's size counted
        # in C rather than in a step of this generator).
        if items:
            yield list(items)
        return
    part: list[tuple[str, int, msgspec.Raw]] = []
    size = 0
    for item in items:
        length = len(item[2])
        if part and size + length > _RELAY_BYTES:
            yield part
            part, size = [], 0
        part.append(item)
        size += length
    if part:
        yield part


def _send_relay(
    loop: asyncio.AbstractEventLoop,
    nc: Any,
    subject: str,
    items: list[tuple[str, int, msgspec.Raw]],
    origin: str | None,
) -> None:
    headers = {KINDS: ",".join(sorted({kind for kind, _, _ in items}))}
    if origin:
        headers[ORIGIN] = origin
    payload = codec.encode_batch(items)
    loop.call_soon_threadsafe(_publish, nc, subject, payload, headers)


def _publish(nc: Any, subject: str, payload: bytes, headers: dict[str, str] | None) -> None:
    task = asyncio.ensure_future(nc.publish(subject, payload, headers=headers))
    _PUBLISHING.add(task)
    task.add_done_callback(_PUBLISHING.discard)


_PUBLISHING: set[asyncio.Future[Any]] = set()


async def subscriptions_made(nc: Any) -> None:
    """Return once the NATS server has every subscription `nc` has made so far: what is
    published after this, from any connection, reaches them. A single `flush` does not
    promise it: nats-py writes the flush's PING straight to the socket, ahead of the
    SUBs still waiting for its flusher task, so the server may answer the PONG before it
    reads them (under load, a message published at once was not delivered). The first
    flush has the flusher write them, before its PONG can be read; the second PING goes
    after them."""
    await nc.flush()
    await nc.flush()


async def hear_stored(
    nc: Any,
    subject: str,
    publish: Callable[[Sequence[Event]], None],
    kinds: AbstractSet[str] | None = None,
    own: str | None = None,
) -> Any:
    """Hand what the writers store to this process's bus (`publish`); returns the
    subscription. What node `own` relayed itself is skipped: its bus had it first. With
    `kinds`, only events of those types are decoded and handed on (an intake's bus listens
    for registry changes only: decoding every meter value the writers stored cost it a
    twentieth of its CPU); each message still reaches `publish`, with what is left of it,
    maybe nothing, so that a listener woken by any stored event (the outbox's) still is;
    a message whose `KINDS` header names none of them is not read at all. With kinds none
    of which is `TELEMETRY`, only `subject` is heard (the writers' rounds of meter values,
    most of what they relay, never reach this process); else `all_subject`, and what an
    older writer sends on `subject` (a message without `KINDS`), through one subscription
    (`_both`), in the order sent."""
    wanted = frozenset(kinds) if kinds is not None else None
    # Kinds none of which is telemetry: `subject` alone; NATS sends nothing of the rest.
    only = wanted is not None and wanted.isdisjoint(TELEMETRY)
    everything = all_subject(subject)

    async def handle(message: Any) -> None:
        headers = message.headers or {}
        carried = headers.get(KINDS)
        if not only:
            if message.subject == subject:
                if carried is not None:
                    return  # a writer of today's: this process hears it on `everything`
            elif message.subject != everything:
                return  # another subject beside these (`_both`)
        if own is not None and headers.get(ORIGIN) == own:
            return
        if carried is not None and wanted is not None and wanted.isdisjoint(carried.split(",")):
            publish([])  # none of those kinds: nothing to read, the bus still told
            return
        try:
            items = _BATCH_ITEMS.decode(message.data)
            events = [
                codec.decode(kind, version, bytes(raw))
                for kind, version, raw in items
                if wanted is None or kind in wanted
            ]
        except Exception:  # a newer writer's event this process cannot read: not fatal
            log.exception("stored events from a writer could not be read")
            return
        publish(events)

    return await nc.subscribe(subject if only else _both(subject), cb=handle)
