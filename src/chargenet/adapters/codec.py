"""Event ⇄ JSON, shared by every adapter that stores or ships events (log, bus, API).

Events are encoded whole (meta and body). Decoding validates types with msgspec and runs
upcasters for older versions, so a log written years ago still reads as today's events.
"""

from __future__ import annotations

import dataclasses
import threading
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
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


def encode_all(events: Iterable[Event]) -> list[bytes]:
    """`encode` of each event, in order, the known encodings (`reusing`) looked up once for
    all: a writer's relay encodes every event it stored."""
    known = _known.get()
    if known is None:
        return [_encoder.encode(e) for e in events]
    out: list[bytes] = []
    for event in events:
        hit = known.get(id(event))
        out.append(hit[1] if hit is not None and hit[0] is event else _encoder.encode(event))
    return out


def encode_batch(items: Sequence[tuple[str, int, Event | msgspec.Raw]]) -> bytes:
    """A batch of events as a stream message or a relay message holds them, `[(type,
    version, event), …]`, in one call; an event given as its bytes already encoded
    (`msgspec.Raw`) is placed as it is. The same bytes either way: `encode` of a known
    event answers the bytes it was decoded from, which are what `encode` makes."""
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
    # without a call an event. `find`, not `in`: bytes' `in` first asks its operand for an
    # integer (a byte), and the TypeError it makes of a bytes operand, then drops, cost
    # more than the search (1,500 instructions an event).
    printable = {
        key: event
        for key, (event, data) in known.items()
        if data.isascii() and data.find(b"\\") < 0 and data.find(b"\x7f") < 0
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
    upcast) for `reusing`; None otherwise. Today's versions straight to their decoders
    (`_built_decoder`, where a class allows it): a writer decodes every event it stores
    this way, in a batch or alone."""
    hit = _built_decoders.get(event_type)
    if hit is None or hit[0] != version:
        cls = EVENT_TYPES.get(event_type)
        if cls is None or version != cls.VERSION:
            event = decode(event_type, version, payload)
            return event, payload if version == type(event).VERSION else None
        hit = _built_decoder(cls)
    return hit[1](payload), payload


def decode_all_kept(items: Iterable[tuple[str, int, Any]]) -> list[tuple[Event, bytes | None]]:
    """`decode_kept` of each (type, version, payload) of a batch (a payload in bytes or
    any buffer, a `msgspec.Raw`), the payloads kept as bytes. A type of today's version
    whose decoder is made goes to it without `decode_kept`'s call."""
    out: list[tuple[Event, bytes | None]] = []
    built = _built_decoders
    for event_type, version, raw in items:
        payload = bytes(raw)
        hit = built.get(event_type)
        if hit is not None and hit[0] == version:
            out.append((hit[1](payload), payload))
        else:
            out.append(decode_kept(event_type, version, payload))
    return out


# --- decoding into objects with a dictionary of their own -------------------------------
#
# msgspec makes a dataclass by allocating it and setting each field in turn, which in
# CPython 3.11 gives it a dictionary split from the class's shared keys; a read of a field
# from such a dictionary is not specialised by the interpreter (its hint finds no value
# in the shared keys' entries) and goes the generic way each time. Every field of an event
# a writer stores is read a few dozen times (the checks, the ownership references, the
# live rows' fold, the log's rows): `Event.problems` of meter values cost 21,100
# instructions an event so, 16,200 with a plain dictionary. So the writer's batches are decoded into
# a msgspec Struct of the same fields (the same annotations, defaults and validation:
# msgspec decodes a Struct and a dataclass of one annotation alike), whose fields become
# one plain dictionary in C (`msgspec.structs.asdict`), set as the event's `__dict__`:
# decoding costs what it did, the reads after it less.
# `tests/adapters/test_codec.py` holds the two to the same objects and the same refusals.

_Decode = Callable[[bytes], Any]


class _Mirror(typing.NamedTuple):
    struct: type  # the record's fields, as a Struct: a record holding it declares this
    build: Callable[[Any], Any]  # such a Struct → the record (a record inside another)
    # payload → the record: the Struct decoded and the record built in one function, a
    # call less an event (an event's decoder; a record inside one is built by `build`)
    decode: _Decode


# An event type → (today's version, its decoder), once `_built_decoder` has made it: what
# `decode_kept` and `decode_all_kept` ask first, one look-up and one comparison an event.
_built_decoders: dict[str, tuple[int, _Decode]] = {}
# A record class → its mirror, or None where it is decoded as msgspec decodes it (`_mirror`).
_mirrors: dict[type, _Mirror | None] = {}


# Decoders are built on first use, by whichever thread decodes first (a writer's lanes
# decode on threads of their own). One at a time: while a record's mirror is being made
# `_mirrors` holds None for it, and another thread reading that would build, and keep
# for good, a decoder on msgspec's own (slower) path.
_building = threading.Lock()


def _built_decoder(cls: type[Event]) -> tuple[int, _Decode]:
    with _building:
        built = _built_decoders.get(cls.TYPE)
        if built is None:
            mirror = _mirror(cls)
            decode_one = _decoder(cls.TYPE).decode if mirror is None else mirror.decode
            built = _built_decoders[cls.TYPE] = (cls.VERSION, decode_one)
        return built


def _mirror(cls: type) -> _Mirror | None:
    """For a dataclass whose every field its `__init__` sets, with no `__post_init__` and
    no slots: a Struct of its fields and the functions making the dataclass from one and
    from its JSON. A field declared as such a dataclass itself (an event's `source`) is
    mirrored in turn; any other annotation is the Struct's as it is (records in tuples:
    msgspec's dataclasses). None for any other class, or where the annotations cannot be
    read."""
    if cls in _mirrors:
        return _mirrors[cls]
    _mirrors[cls] = None  # while it is made (a record holding its own kind: not mirrored)
    made: _Mirror | None = None
    if (
        dataclasses.is_dataclass(cls)
        and not hasattr(cls, "__post_init__")
        and not any("__slots__" in vars(k) for k in cls.__mro__)  # slots of a base too
    ):
        try:
            made = _mirror_of(cls)
        except (TypeError, NameError, ValueError):
            made = None
    _mirrors[cls] = made
    return made


def _mirror_of(cls: type) -> _Mirror | None:
    fields = dataclasses.fields(cls)
    if any(not f.init for f in fields):
        return None
    hints = typing.get_type_hints(cls, include_extras=True)
    spec: list[Any] = []
    scope: dict[str, Any] = {
        "asdict": msgspec.structs.asdict,
        "new": object.__new__,
        "set_": object.__setattr__,
        "cls": cls,
        "UNSET": msgspec.UNSET,
    }
    body = ["    d = asdict(s)"]  # the Struct `s` → the record `o`
    defaulted: list[str] = []
    for f in fields:
        hint = hints[f.name]
        nested = _mirror(hint) if isinstance(hint, type) else None
        if nested is not None:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                return None  # a default record would be a dataclass already: not met
            hint = nested.struct
            scope[f"build_{f.name}"] = nested.build
            body.append(f"    d[{f.name!r}] = build_{f.name}(d[{f.name!r}])")
        if f.default is not dataclasses.MISSING:
            # Left out, such a field is not set on the object (its class's default
            # answers), as msgspec leaves it: not written should the event be encoded
            # anew. Marked UNSET here, which no JSON value decodes to, and dropped.
            spec.append((f.name, hint | msgspec.UnsetType, msgspec.UNSET))
            defaulted.append(f.name)
        elif f.default_factory is not dataclasses.MISSING:
            spec.append((f.name, hint, msgspec.field(default_factory=f.default_factory)))
        else:
            spec.append((f.name, hint))
    if defaulted:  # one test of the Struct's slots for all: none is left out, mostly
        left_out = " or ".join(f"s.{name} is UNSET" for name in defaulted)
        body.append(f"    if {left_out}: d = {{k: v for k, v in d.items() if v is not UNSET}}")
    body += ["    o = new(cls)", "    set_(o, '__dict__', d)", "    return o"]
    struct = msgspec.defstruct(f"_{cls.__name__}Fields", spec, kw_only=True)
    scope["decode_struct"] = msgspec.json.Decoder(struct).decode
    code = "\n".join(body)  # the class's own field names only
    # `decode` is `build` with the decoding as its first line rather than a call to it.
    decoding = "def decode(payload):\n    s = decode_struct(payload)"
    exec(f"def build(s):\n{code}\n{decoding}\n{code}", scope)
    return _Mirror(struct, scope["build"], scope["decode"])
