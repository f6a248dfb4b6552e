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
import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

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


def storable(value: T) -> T:
    """`value` (an event, a record, a tuple, a mapping, a string …) with every string in it
    made storable; the very same object when nothing needed to change."""
    return _clean(value)  # type: ignore[no-any-return]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, tuple):
        cleaned = tuple(_clean(v) for v in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping):
        pairs = [(_clean(k), _clean(v)) for k, v in value.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True)):
            return value
        return type(value)(pairs) if isinstance(value, dict) else dict(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _field_names(type(value)):
            old = getattr(value, name)
            new = _clean(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return names


def text_limit(owner: type, name: str) -> int:
    """How many characters the text field `name` of dataclass `owner` may hold: what the
    class (or a base) says in `TEXT_LIMITS`, else `MAX_ID` for identifiers (`*_id`), else
    `MAX_TEXT`."""
    for klass in owner.__mro__:
        limits = klass.__dict__.get("TEXT_LIMITS")
        if limits and name in limits:
            return int(limits[name])
    return MAX_ID if name.endswith("_id") else MAX_TEXT


def long_texts(value: Any, path: str = "") -> Iterator[str]:
    """Problems for text fields of `value` (an event or a record, and the records in it)
    longer than their limit (`text_limit`)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return
    owner = type(value)
    for name in _field_names(owner):
        where = f"{path}.{name}" if path else name
        yield from _too_long(getattr(value, name), text_limit(owner, name), where)


def _too_long(value: Any, limit: int, where: str) -> Iterator[str]:
    if isinstance(value, str):
        if len(value) > limit:
            yield f"{where} is {len(value)} characters, more than {limit}"
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _too_long(item, limit, where)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _too_long(key, limit, where)
            yield from _too_long(item, limit, where)
    else:
        yield from long_texts(value, where)
