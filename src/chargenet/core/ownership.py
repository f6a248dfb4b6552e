"""Who may write about what: a sender writes only about what is its own.

An event says who told us (`Source`): a charger speaking for itself over its own
connection (`charger_id`), or an operator's platform (`operator_id`). Such a sender may
only report on, or register, what it holds: a charger its own connectors and sessions, an
operator its own stations, chargers, connectors, swap stations and sessions. An event that
names anything else is refused whole, with the reason, before it changes any state; what
the platform itself decides (rules, orders, imports by an administrator) names no sender
and is not limited.

The store looks up who holds each thing an event names (`references`) and asks
`refusal`; this module holds the rule, the store only the lookups.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from chargenet.core.errors import NotPermitted
from chargenet.core.events import Event, Source
from chargenet.core.supervision import TargetKind
from chargenet.core.text import declared_classes


class NotTheSenders(NotPermitted):
    """An event about something that belongs to someone other than its sender."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a thing: its operator and, for a connector, a session or a charger, the
    charger it belongs to (a charger holds itself)."""

    operator_id: str | None
    charger_id: str | None = None


# Field names that name a thing of the registry or the live state, and the thing's kind.
_REFERENCE_FIELDS = {
    "connector_id": "connector",
    "charger_id": "charger",
    "station_id": "station",
    "session_id": "session",
    "swap_station_id": "swap_station",
}
_TARGETS = {kind.value: kind.value for kind in TargetKind}


def references(event: Event) -> list[tuple[str, str]]:
    """(kind, id) of everything the event names: its own fields, the alarm or order target,
    and the fields of the records it carries (a station's operator, a charger's station)."""
    cls = type(event)
    written = _WRITTEN.get(cls) or _write(cls)
    out = written(event)
    if out is None:  # a value of a type not met, or a record: the walk
        out = list(_named(event))
    targeted = (_FIELDS.get(cls) or _fields_of(cls))[3]
    if targeted:
        target_kind = getattr(event, "target_kind", None)
        target_id = getattr(event, "target_id", None)
        if target_kind is not None and target_id:
            out.append((_TARGETS[str(target_kind)], str(target_id)))
    return out


def _named(value: Any) -> Iterator[tuple[str, str]]:
    kinds, values_of, naming, _ = _FIELDS.get(type(value)) or _fields_of(type(value))
    values = values_of(value)
    if _PLAIN.issuperset(map(type, values)):
        for i in naming:
            kind, item = kinds[i], values[i]
            if kind is not None and isinstance(item, str) and item:
                yield kind, item
        return
    for kind, item in zip(kinds, values, strict=True):
        if kind is not None and isinstance(item, str):
            if item:
                yield kind, item
        elif _is_record(type(item)):  # a record inside (not a class)
            yield from _named(item)


# An event class → what it names, written out (`_write`): a list, or None for the walk.
_WRITTEN: dict[type, Callable[[Any], list[tuple[str, str]] | None]] = {}


def _write(cls: type) -> Callable[[Any], list[tuple[str, str]] | None]:
    """`_named` of the events of `cls`, written out once: a few lines a field, without
    the `attrgetter` of every field and the set of their types (half of what the walk cost
    a meter value). A naming field's text is named; a value None or of a type its field is
    declared with, or of one known to be no record, is passed over; anything else (a
    record, a type not met yet, a text that is a subclass) answers None, and the caller
    walks (`_named`, whose answer this must be: tests/adapters/storage/test_ownership.py).
    The declarations only choose what is asked first: the values decide."""
    kinds, _, _, _ = _FIELDS.get(cls) or _fields_of(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    declared = declared_classes(cls)
    scope: dict[str, Any] = {"plain": _PLAIN}
    lines = ["def named(v):", "    out = []"]
    for name, kind in zip(names, kinds, strict=True):
        none_ok, classes = declared.get(name, (False, ()))
        lines.append(f"    x = v.{name}")
        ind = "    "
        if none_ok:
            lines.append(f"{ind}if x is not None:")
            ind += "    "
        if kind is not None:
            lines += [
                f"{ind}if type(x) is str:",
                f"{ind}    if x:",
                f"{ind}        out.append(({kind!r}, x))",
                f"{ind}else:",
                f"{ind}    return None",
            ]
            continue
        known = []
        for c in classes:
            scope[f"c{len(scope)}"] = c
            known.append(f"t is not c{len(scope) - 1}")
        lines += [
            f"{ind}t = type(x)",
            f"{ind}if {' and '.join([*known, 't not in plain'])}:",
            f"{ind}    return None",
        ]
    lines.append("    return out")
    exec("\n".join(lines), scope)  # our own code: field names (identifiers) and kinds
    named: Callable[[Any], list[tuple[str, str]] | None] = scope["named"]
    _WRITTEN[cls] = named
    return named


_RECORDS: dict[type, bool] = {}
_PLAIN: set[type] = set()  # the types asked about that are not records


def _is_record(cls: type) -> bool:
    """Whether values of `cls` are records (dataclasses): asked once per type (a store
    asks it for every field of every event a sender sends)."""
    found = _RECORDS.get(cls)
    if found is None:
        found = _RECORDS[cls] = hasattr(cls, "__dataclass_fields__")
        if not found:
            _PLAIN.add(cls)
    return found


_Fields = tuple[tuple[str | None, ...], Callable[[Any], tuple[Any, ...]], tuple[int, ...], bool]
_FIELDS: dict[type, _Fields] = {}


def _fields_of(cls: type) -> _Fields:
    """A dataclass's fields but its source: the kind of thing each names if it names one,
    a getter of their values (in one call), where the naming ones are, and whether it may
    have a target (`target_kind`, `target_id`: a field or anything else of that name).
    Read once per class (`dataclasses.fields` builds its answer at every call, for every
    event the store checks)."""
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name != "source")
    kinds = tuple(
        "operator" if name == "operator_id" else _REFERENCE_FIELDS.get(name) for name in names
    )
    naming = tuple(i for i, kind in enumerate(kinds) if kind is not None)
    targeted = hasattr(cls, "target_kind") or hasattr(cls, "target_id")
    targeted = targeted or any(n in ("target_kind", "target_id") for n in names)
    found = _FIELDS[cls] = (kinds, _getter(names), naming, targeted)
    return found


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The attributes `names` of an object as a tuple: for more than one, in one call of
    `operator.attrgetter` (in C)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        name = names[0]
        return lambda value: (getattr(value, name),)
    return lambda value: ()


def refusal(source: Source, kind: str, ident: str, holder: Holder) -> NotTheSenders | None:
    """Why `source` may not write about `kind` `ident` held by `holder`; None when it may."""
    if source.charger_id is not None and holder.charger_id != source.charger_id:
        owner = f"charger {holder.charger_id}" if holder.charger_id else "no charger of yours"
        return NotTheSenders(
            f"{kind} {ident!r} belongs to {owner}, not to the sender {source.charger_id}"
        )
    if source.operator_id is not None and holder.operator_id != source.operator_id:
        return NotTheSenders(
            f"{kind} {ident!r} belongs to operator {holder.operator_id},"
            f" not to the sender {source.operator_id}"
        )
    return None


def speaks_for_someone(source: Source) -> bool:
    """Whether the sender is limited to what it holds (a charger or an operator)."""
    return source.charger_id is not None or source.operator_id is not None
