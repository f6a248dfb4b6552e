"""core/text.py's fast paths (kinds decided once per type, field lists and limits once per
class, printable ASCII without a regex) agree with the straightforward walk they replaced,
kept here as the reference: the same text kept, the same characters removed, the same
objects returned untouched, the same over-long fields refused with the same words."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargenet.core.events import Event, Source
from chargenet.core.text import (
    MAX_ID,
    MAX_TEXT,
    known_storable,
    long_texts,
    storable,
    storable_all,
    storable_text,
)
from tests.adapters.test_codec import SAMPLES

# --- the reference: the walk as it was written first, every field, every time ----------
# (benchmarks/cluster/text.py times the module against it)

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]")


def _replacement(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""


def ref_storable_text(value: str) -> str:
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(_replacement, value)


def ref_storable(value: Any) -> Any:
    if isinstance(value, str):
        return ref_storable_text(value)
    if isinstance(value, tuple):
        cleaned = tuple(ref_storable(v) for v in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if isinstance(value, list):
        items = [ref_storable(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping):
        pairs = [(ref_storable(k), ref_storable(v)) for k, v in value.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True)):
            return value
        return type(value)(pairs) if isinstance(value, dict) else dict(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _ref_field_names(type(value)):
            old = getattr(value, name)
            new = ref_storable(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


_REF_FIELDS: dict[type, tuple[str, ...]] = {}


def _ref_field_names(cls: type) -> tuple[str, ...]:
    names = _REF_FIELDS.get(cls)
    if names is None:
        names = _REF_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return names


def ref_text_limit(owner: type, name: str) -> int:
    for klass in owner.__mro__:
        limits = klass.__dict__.get("TEXT_LIMITS")
        if limits and name in limits:
            return int(limits[name])
    return MAX_ID if name.endswith("_id") else MAX_TEXT


def ref_long_texts(value: Any, path: str = "") -> Iterator[str]:
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return
    owner = type(value)
    for name in _ref_field_names(owner):
        where = f"{path}.{name}" if path else name
        yield from _ref_too_long(getattr(value, name), ref_text_limit(owner, name), where)


def _ref_too_long(value: Any, limit: int, where: str) -> Iterator[str]:
    if isinstance(value, str):
        if len(value) > limit:
            yield f"{where} is {len(value)} characters, more than {limit}"
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _ref_too_long(item, limit, where)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _ref_too_long(key, limit, where)
            yield from _ref_too_long(item, limit, where)
    else:
        yield from ref_long_texts(value, where)


# --- random text in every string of every sample event ---------------------------------

# Printable ASCII (the fast path), the controls kept (tab, LF, CR), the ones removed (NUL,
# other C0, DEL, C1), lone surrogates, and text beyond ASCII that is kept.
_CHARS = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from("\t\n\r\x00\x01\x1b\x7f\x85\x9f\ud800\udbff\udc00\udfff\ufffd\u00a0é忻€\u2028"),
    st.characters(codec="utf-8"),
)
_SHORT = st.text(_CHARS, max_size=12)
# Now and then a text around a limit (32, 128, 200, 4,000 …), by repeating a short one.
_TEXT = st.one_of(
    _SHORT,
    st.builds(lambda s, n: (s or "x") * n, _SHORT, st.sampled_from([1, 3, 17, 40, 150, 700])),
    st.builds(lambda n: "a" * n, st.sampled_from([31, 32, 33, 127, 128, 129, 200, 201, 4001])),
)


def _rewrite(value: Any, data: st.DataObject) -> Any:
    """`value` with each string in it (field, item, mapping key) perhaps replaced by a
    random one; the rest (numbers, times, enums) as it was."""
    if isinstance(value, str):
        if type(value) is not str:  # an enum member or such: its text is the code's own
            return value
        return data.draw(_TEXT) if data.draw(st.booleans()) else value
    if isinstance(value, tuple):
        return type(value)(_rewrite(v, data) for v in value)
    if isinstance(value, list):
        return [_rewrite(v, data) for v in value]
    if isinstance(value, dict):
        return {_rewrite(k, data): _rewrite(v, data) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value) if f.init]
        changed = {n: _rewrite(getattr(value, n), data) for n in fields}
        try:
            return dataclasses.replace(value, **changed)
        except (ValueError, TypeError):  # a record that checks itself (a currency …)
            return value
    return value


def _agree(event: Any) -> None:
    expected, got = ref_storable(event), storable(event)
    assert got == expected
    assert (got is event) == (expected is event)  # rebuilt exactly when the reference does
    assert list(long_texts(event)) == list(ref_long_texts(event))
    assert list(long_texts(got)) == list(ref_long_texts(expected))
    if isinstance(got, Event):  # and as an event's problems say them, in order
        said = [p for p in got.problems() if "characters, more than" in p]
        assert said == list(ref_long_texts(expected))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_fast_paths_agree_with_the_reference_on_random_text(
    sample: Event, data: st.DataObject
) -> None:
    _agree(_rewrite(sample, data))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_sample_event_agrees_and_is_kept_as_it_is(sample: Event) -> None:
    _agree(sample)
    assert storable(sample) is sample


@given(st.text(_CHARS, max_size=40))
def test_storable_text_agrees_with_the_reference(text: str) -> None:
    assert storable_text(text) == ref_storable_text(text)
    assert storable(text) == ref_storable_text(text)
    assert (storable(text) is text) == (ref_storable_text(text) is text)


@dataclasses.dataclass(frozen=True)
class _Note:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"label": 5}

    label: str
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Folder:
    owner_id: str
    notes: tuple[_Note, ...] = ()
    by_name: dict[str, _Note] = dataclasses.field(default_factory=dict)
    size: int = 0


def test_nested_records_in_tuples_and_mappings_are_cleaned_and_measured_alike() -> None:
    folder = _Folder(
        owner_id="o\x00" + "i" * MAX_ID,
        notes=(_Note("ok"), _Note("too long\x1b", tags=("a\ud800", "b" * 5000))),
        by_name={"k\x85": _Note("fine", extra={"deep\x00": ["x\x9f", _Note("l" * 6)]})},
        size=3,
    )
    _agree(folder)
    cleaned = storable(folder)
    assert cleaned.owner_id == "o" + "i" * MAX_ID
    assert cleaned.notes[1].label == "too long"
    assert cleaned.notes[1].tags[0] == "a\ufffd"
    assert cleaned.notes[0] is folder.notes[0]  # untouched records are not copied
    assert list(long_texts(cleaned)) == [
        "owner_id is 129 characters, more than 128",
        "notes.label is 8 characters, more than 5",
        "notes.tags is 5000 characters, more than 4000",
        "by_name.extra.label is 6 characters, more than 5",
    ]


def test_an_event_with_a_control_character_is_rebuilt_once_with_it_removed() -> None:
    event = SAMPLES[0]
    dirty = dataclasses.replace(event, source=Source(adapter="oc\x00pp"))
    clean = storable(dirty)
    assert clean.source.adapter == "ocpp"
    assert clean.event_id is dirty.event_id and clean.occurred_at is dirty.occurred_at
    assert storable(clean) is clean


class _Shade(enum.StrEnum):
    LONG = "l" * 70  # longer than a 64-character field's limit


# Values of every kind a field may hold, typed as declared or not: the length check
# written out per class measures by the value's type, as the walk does.
_ANY_VALUE = st.one_of(
    _TEXT,
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from([_Shade.LONG, True, b"bytes" * 50]),
    st.lists(_TEXT, max_size=3),
    st.lists(_TEXT, max_size=3).map(tuple),
    st.dictionaries(_TEXT, _TEXT, max_size=2),
    st.builds(_Note, _TEXT, st.lists(_TEXT, max_size=2).map(tuple)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_length_checks_agree_with_the_walk_whatever_a_field_holds(
    sample: Event, data: st.DataObject
) -> None:
    fields = [f.name for f in dataclasses.fields(sample) if f.init]
    chosen = data.draw(st.lists(st.sampled_from(fields), max_size=4, unique=True))
    changed = {name: data.draw(_ANY_VALUE) for name in chosen}
    try:
        event = dataclasses.replace(sample, **changed)
    except (ValueError, TypeError, AttributeError):  # a record that checks itself
        return
    assert list(long_texts(event)) == list(ref_long_texts(event))


@given(st.lists(st.sampled_from(SAMPLES), max_size=5), st.data())
def test_a_batch_is_made_storable_as_each_of_its_events(
    samples: list[Event], data: st.DataObject
) -> None:
    events = [_rewrite(sample, data) for sample in samples]
    known = [e for e in events if data.draw(st.booleans()) and storable(e) is e]
    with known_storable(known):
        made = storable_all(events)
        assert made == [storable(e) for e in events]
        assert all((m is e) == (storable(e) is e) for m, e in zip(made, events, strict=True))
    assert storable_all(events) == [storable(e) for e in events]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda e: type(e).__name__)
def test_a_text_where_a_number_or_a_time_is_declared_is_measured_as_the_walk_does(
    sample: Event,
) -> None:
    """The checks ask the fields declared to hold no text together first; a value that is
    text after all (or a record, a list) is still measured, in the walk's order."""
    for f in dataclasses.fields(sample):
        for odd in ("x" * 5000, ("y" * 4001,), _Note("z" * 6), {"k" * 4001: 1}):
            try:
                event = dataclasses.replace(sample, **{f.name: odd})  # type: ignore[arg-type]
            except (ValueError, TypeError, AttributeError):  # a record that checks itself
                continue
            assert list(long_texts(event)) == list(ref_long_texts(event)), f.name
