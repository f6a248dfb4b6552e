"""Text from outside made storable and bounded, the same way on every backend.

Everything that enters (OCPP frames, OCPI and T/CEC pushes, imports, API edits) carries
free text written by someone else. Two kinds of character cannot be kept as they are:
NUL, which PostgreSQL `text` and `jsonb` refuse outright (SQLite keeps it, so the same
call would be stored on one backend and lost on the other), and the other C0/C1 control
characters and unpaired surrogates, which no reader can show and some break JSON and
terminals. They are removed (surrogates become U+FFFD) before an event is validated, so
that what is acknowledged is exactly what is stored, on every backend. Tab, line feed and
carriage return are kept: addresses and notes have lines.

Lengths: every text field of an event and of the records in it has a limit (`text_limit`),
checked in `Event.problems()` so that an over-long text is refused by a rule, with its
reason, on every backend alike, never by a database column that one backend enforces and
the other does not. Where the store's column for a field is narrower than the default, the
class names the field in `TEXT_LIMITS`; tests/adapters/storage/test_text_everywhere.py
keeps these limits and the columns in agreement.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

# C0 controls except \t \n \r, DEL, C1 controls, and unpaired UTF-16 surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]")

MAX_TEXT = 4_000
"""Characters in any one text field of an event, unless its type says otherwise."""
MAX_ID = 128
"""Characters in an identifier (every field named `*_id`): what the store's key columns hold."""


def _replacement(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""


def storable_text(value: str) -> str:
    """`value` without the characters no backend can store or no reader can show."""
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(_replacement, value)


T = TypeVar("T")

# What `storable` and `long_texts` do with a value, decided once per type (the checks, in
# this order, are what decide it: a str subclass is text, a namedtuple a tuple, and so on).
_INERT, _TEXT, _TUPLE, _LIST, _MAPPING, _RECORD = range(6)
_KINDS: dict[type, int] = {
    str: _TEXT,
    tuple: _TUPLE,
    list: _LIST,
    dict: _MAPPING,
    # The values most fields hold, which can hold no text: nothing to look at.
    **dict.fromkeys((int, bool, float, Decimal, datetime, date, time, timedelta, UUID), _INERT),
    type(None): _INERT,
}


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        if issubclass(cls, str):
            kind = _TEXT
        elif issubclass(cls, tuple):
            kind = _TUPLE
        elif issubclass(cls, list):
            kind = _LIST
        elif issubclass(cls, Mapping):
            kind = _MAPPING
        elif dataclasses.is_dataclass(cls):
            kind = _RECORD
        else:
            kind = _INERT  # enums, numbers, times …: no text inside
        _KINDS[cls] = kind
        if kind == _INERT:
            _INERT_TYPES.add(cls)
        elif kind == _TEXT:
            _TEXT_TYPES.add(cls)
    return kind


def storable(value: T) -> T:
    """`value` (an event, a record, a tuple, a mapping, a string …) with every string in it
    made storable; the very same object when nothing needed to change."""
    known = _known.get()
    if known is not None and known.get(id(value)) is value:
        return value
    return _clean(value)  # type: ignore[no-any-return]


def storable_all(values: Iterable[T]) -> list[T]:
    """`storable` of each value (an ingested batch's events), the known ones
    (`known_storable`) looked up without a call each."""
    known = _known.get()
    if known is None:
        return [_clean(value) for value in values]
    get = known.get
    return [value if get(id(value)) is value else _clean(value) for value in values]


# Objects known to hold only printable ASCII text (`known_storable`): id → the object.
_known: ContextVar[Mapping[int, object] | None] = ContextVar("known_storable", default=None)


@contextmanager
def known_storable(values: Iterable[object]) -> Iterator[None]:
    """Within (and in threads started within: `asyncio.to_thread` copies the context),
    `storable` of one of these very objects answers it as it is, without walking its
    fields: for objects whose every string the caller knows to be printable ASCII, which
    `storable` leaves as it is (a writer's events, whose JSON it holds: codec.reusing)."""
    with known_storable_by_id({id(value): value for value in values}):
        yield


@contextmanager
def known_storable_by_id(known: Mapping[int, object]) -> Iterator[None]:
    """`known_storable` of the values of `known`, a dict of them by `id` (made by the
    caller, as codec.reusing makes it with its own in one pass)."""
    token = _known.set(known)
    try:
        yield
    finally:
        _known.reset(token)


def _clean(value: Any) -> Any:
    cls = type(value)
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _kind(cls)
    if kind == _RECORD:
        return _clean_record(value, cls)
    if kind == _TEXT:
        # Printable ASCII (most ids and names) has nothing to remove: no regex needed.
        if value.isascii() and value.isprintable():
            return value
        return storable_text(value)
    if kind == _INERT:
        return value
    if kind == _TUPLE:
        cleaned = tuple(_clean(v) for v in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if kind == _LIST:
        items = [_clean(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    pairs = [(_clean(k), _clean(v)) for k, v in value.items()]
    if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True)):
        return value
    return type(value)(pairs) if isinstance(value, dict) else dict(pairs)


def _clean_record(value: Any, cls: type) -> Any:
    changes = None
    for name in _field_names(cls):
        old = getattr(value, name)
        kind = _KINDS.get(type(old))
        if kind == _INERT or (kind == _TEXT and old.isascii() and old.isprintable()):
            continue  # the common fields, with nothing to change, without a call
        new = _clean(old)
        if new is not old:
            if changes is None:
                changes = {}
            changes[name] = new
    # Rebuilt only when a string in it changed.
    return dataclasses.replace(value, **changes) if changes else value


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    """The fields of dataclass `cls` that `dataclasses.replace` can set."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


@functools.cache
def text_limit(owner: type, name: str) -> int:
    """How many characters the text field `name` of dataclass `owner` may hold: what the
    class (or a base) says in `TEXT_LIMITS`, else `MAX_ID` for identifiers (`*_id`), else
    `MAX_TEXT`. Read once per class and field: `TEXT_LIMITS` are constants."""
    for klass in owner.__mro__:
        limits = klass.__dict__.get("TEXT_LIMITS")
        if limits and name in limits:
            return int(limits[name])
    return MAX_ID if name.endswith("_id") else MAX_TEXT


@functools.cache
def _limits(cls: type) -> tuple[tuple[str, int], ...]:
    return tuple((name, text_limit(cls, name)) for name in _field_names(cls))


def long_texts(value: Any, path: str = "") -> Iterator[str]:
    """Problems for text fields of `value` (an event or a record, and the records in it)
    longer than their limit (`text_limit`)."""
    out: list[str] = []
    add_long_texts(value, out, path)
    return iter(out)


def add_long_texts(value: Any, out: list[str], path: str = "") -> None:
    """`long_texts` of `value` appended to `out` (as `Event.problems` gathers them)."""
    check = _CHECKS.get(type(value))
    if check is None:
        kind = _KINDS.get(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind != _RECORD:
            return
        check = _check_of(type(value))
    check(value, path, out)


# The types `_kind` has found to hold no text, and those it has found to be text: what a
# record's check (`_check_of`) measures without a call.
_INERT_TYPES: set[type] = {cls for cls, kind in _KINDS.items() if kind == _INERT}
_TEXT_TYPES: set[type] = {cls for cls, kind in _KINDS.items() if kind == _TEXT}

# A record class → its check: (record, path, out) → appends its over-long texts to out
# (a fourth argument, a field's limit, is taken and ignored: a record has none).
_CHECKS: dict[type, Any] = {}


def _check_of(cls: type) -> Any:
    """The length check of the records of `cls`, written out once per class: a few lines
    a field, in field order, without the loop over fields, the kind's lookup and the call
    an item that a walk costs (`_record_too_long`, the rule it must agree with:
    tests/core/test_text.py). Each field's value is asked its type: first whether it is
    None or of a type the field is declared with (`is`, without a lookup: a text is
    measured, a number or a time passed over), then, for anything else, whether it is of
    a type known to hold no text, a text, a record (to its class's check) or else (a
    tuple, a mapping, a type not met yet: to `_too_long`), as the walk sends them. The
    declarations only choose what is asked first: the values decide."""
    scope: dict[str, Any] = {
        "inert": _INERT_TYPES,
        "text": _TEXT_TYPES,
        "checks": _CHECKS,
        "_said": _said,
        "_too_long_at": _too_long_at,
    }
    declared = declared_classes(cls)
    lines = ["def check(v, path, out, limit=None):"]  # a record has no limit of its own
    for name, limit in _limits(cls):
        lines.append(f"    x = v.{name}")
        none_ok, classes = declared.get(name, (False, ()))
        ind = "    "
        if none_ok:
            lines.append(f"{ind}if x is not None:")
            ind += "    "
        texts = [c for c in classes if c in _TEXT_TYPES]
        plain = [c for c in classes if c in _INERT_TYPES]
        if texts or plain:
            lines.append(f"{ind}t = type(x)")
            named = []
            for c in texts + plain:
                scope[f"c{len(scope)}"] = c
                named.append(f"c{len(scope) - 1}")
            is_text = " or ".join(f"t is {n}" for n in named[: len(texts)])
            is_plain = " or ".join(f"t is {n}" for n in named[len(texts) :])
            if texts:
                lines += [f"{ind}if {is_text}:", *_measure(ind + "    ", name, limit)]
            if plain:
                lines += [f"{ind}{'elif' if texts else 'if'} {is_plain}:", f"{ind}    pass"]
            lines.append(f"{ind}else:")
            ind += "    "
        lines += _any_value(ind, name, limit, typed=bool(texts or plain))
    exec("\n".join(lines), scope)  # our own code: field names (identifiers) and ints
    check = _CHECKS[cls] = scope["check"]
    return check


def _measure(ind: str, name: str, limit: int) -> list[str]:
    return [
        f"{ind}if len(x) > {limit}:",
        f"{ind}    out.append(_said(path, {name!r}, len(x), {limit}))",
    ]


def _any_value(ind: str, name: str, limit: int, *, typed: bool) -> list[str]:
    """A field's value of any type, as the walk measures it."""
    return [
        *([] if typed else [f"{ind}t = type(x)"]),
        f"{ind}if t in inert:",
        f"{ind}    pass",
        f"{ind}elif t in text:",
        *_measure(ind + "    ", name, limit),
        f"{ind}else:",
        f"{ind}    c = checks.get(t)",  # a record met before (an event's source)
        f"{ind}    if c is None:",
        f"{ind}        c = _too_long_at",
        f"{ind}    c(x, f'{{path}}.{name}' if path else {name!r}, out, {limit})",
    ]


def declared_classes(cls: type) -> dict[str, tuple[bool, tuple[type, ...]]]:
    """Per field of `cls`: whether it is declared to hold None, and the classes it is
    declared with that are text or hold none (str for an id's NewType). Nothing when the
    declarations cannot be read (every value is then asked as any value is)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a declaration that names what its module does not import
        return {}
    out = {}
    for name in _field_names(cls):
        hint = hints.get(name)
        members: tuple[Any, ...] = (hint,)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            members = typing.get_args(hint)
        classes = []
        for member in members:
            while isinstance(member, typing.NewType):
                member = member.__supertype__
            if isinstance(member, type) and member is not type(None):
                _kind(member)  # known from now on: text, a record, or none
                if member in _TEXT_TYPES or member in _INERT_TYPES:
                    classes.append(member)
        out[name] = (type(None) in members, tuple(classes))
    return out


def _too_long_at(value: Any, where: str, out: list[str], limit: int) -> None:
    _too_long(value, limit, where, out)


def _said(path: str, name: str, length: int, limit: int) -> str:
    where = f"{path}.{name}" if path else name
    return f"{where} is {length} characters, more than {limit}"


def _record_too_long(value: Any, path: str, out: list[str]) -> None:
    check = _CHECKS.get(type(value))
    if check is None:
        check = _check_of(type(value))
    check(value, path, out)


def _too_long(value: Any, limit: int, where: str, out: list[str]) -> None:
    kind = _KINDS.get(type(value))
    if kind is None:
        kind = _kind(type(value))
    if kind == _TEXT:
        if len(value) > limit:
            out.append(f"{where} is {len(value)} characters, more than {limit}")
    elif kind in (_TUPLE, _LIST):
        for item in value:
            _too_long(item, limit, where, out)
    elif kind == _MAPPING:
        for key, item in value.items():
            _too_long(key, limit, where, out)
            _too_long(item, limit, where, out)
    elif kind == _RECORD:
        _record_too_long(value, where, out)
