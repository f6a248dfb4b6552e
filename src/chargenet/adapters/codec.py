"""Event ⇄ JSON, shared by every adapter that stores or ships events (log, bus, API).

Events are encoded whole (meta and body). Decoding validates types with msgspec and runs
upcasters for older versions, so a log written years ago still reads as today's events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from chargenet.core.events import EVENT_TYPES, Event

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}

# (type, from_version) → function turning that version's dict into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownEventType(ValueError):
    pass


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


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
