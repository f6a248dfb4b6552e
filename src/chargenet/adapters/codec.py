"""Event ⇄ JSON, shared by every adapter that stores or ships events (log, bus, API).

Events are encoded whole (meta and body). Decoding validates types with msgspec and runs
upcasters for older versions, so a log written years ago still reads as today's events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import msgspec

from chargenet.core.events import EVENT_TYPES, Event
from chargenet.core.text import known_storable_by_id

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}

# (type, from_version) → function turning that version's dict into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownEventType(ValueError):
    pass


# Events whose encoding is known already (`reusing`): id → (the event, its bytes).
_known: ContextVar[dict[int, tuple[Event, bytes]] | None] = ContextVar("known", default=None)


def encode(event: Event) -> bytes:
    known = _known.get()
    if known is not None:
        hit = known.get(id(event))
        if hit is not None and hit[0] is event:
            return hit[1]
    return _encoder.encode(event)


def encode_batch(items: list[tuple[str, int, Event]]) -> bytes:
    """`[(type, version, event), …]` in one call: the same bytes as each event `encode`d
    and placed as it is (`msgspec.Raw`) in the list, which `encode` of a known event would
    answer too (the bytes it was decoded from are what `encode` makes)."""
    return _encoder.encode(items)


@contextmanager
def reusing(encoded: Iterable[tuple[Event, bytes]]) -> Iterator[None]:
    """Within (and in threads started within: `asyncio.to_thread` copies the context),
    `encode` of one of these very events answers the bytes it was decoded from instead of
    encoding it again: a writer decodes what an intake encoded and stores and relays the
    same events (the log's payload column, the relay's messages). Only bytes `decode_kept`
    kept, which `encode` would have made itself (`encode(decode(b)) == b` for an event of
    today's version: tests/adapters/test_codec.py); an event changed on the way (made
    storable, core/text.py) is another object and is encoded anew.

    Also, `storable` answers an event as it is when its bytes are ASCII without a
    backslash or a DEL: JSON writes every string in it as it is then, and each is printable
    ASCII, which `storable` would leave (a control character is escaped, anything beyond
    ASCII is not ASCII); its walk over every field was a tenth of a writer's instructions."""
    known = {id(event): (event, data) for event, data in encoded}
    # Those whose every string is printable ASCII (and so is all of the JSON): in one pass,
    # without a call an event.
    printable = {
        key: event
        for key, (event, data) in known.items()
        if data.isascii() and b"\\" not in data and b"\x7f" not in data
    }
    token = _known.set(known)
    try:
        with known_storable_by_id(printable):
            yield
    finally:
        _known.reset(token)


def to_builtins(event: Event) -> dict[str, Any]:
    """JSON-ready dict (strings for times and decimals), with type and version."""
    body: dict[str, Any] = msgspec.to_builtins(event)
    return {"type": event.TYPE, "version": event.VERSION, **body}


def _decoder(event_type: str) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(event_type)
    if decoder is None:
        cls = EVENT_TYPES.get(event_type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {event_type!r}")
        decoder = _decoders[event_type] = msgspec.json.Decoder(cls)
    return decoder


def decode(event_type: str, version: int, payload: bytes | str) -> Event:
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    if version != cls.VERSION:
        data: dict[str, Any] = msgspec.json.decode(payload)
        while version < cls.VERSION:
            data = UPCASTERS[(event_type, version)](data)
            version += 1
        converted: Event = msgspec.convert(data, cls)
        return converted
    event: Event = _decoder(event_type).decode(payload)
    return event


def decode_kept(event_type: str, version: int, payload: bytes) -> tuple[Event, bytes | None]:
    """The event, and `payload` when `encode` would give it back (today's version, not
    upcast) for `reusing`; None otherwise."""
    event = decode(event_type, version, payload)
    return event, payload if version == type(event).VERSION else None


def decode_all_kept(items: Iterable[tuple[str, int, Any]]) -> list[tuple[Event, bytes | None]]:
    """`decode_kept` of each (type, version, payload) of a batch (a payload in bytes or
    any buffer, a `msgspec.Raw`), the payloads kept as bytes. Today's versions straight to
    their decoders: a writer decodes every event it stores this way."""
    out: list[tuple[Event, bytes | None]] = []
    for event_type, version, raw in items:
        payload = bytes(raw)
        cls = EVENT_TYPES.get(event_type)
        if cls is not None and version == cls.VERSION:
            decoder = _decoders.get(event_type) or _decoder(event_type)
            out.append((decoder.decode(payload), payload))
        else:
            out.append(decode_kept(event_type, version, payload))
    return out
