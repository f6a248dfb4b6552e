"""Text from outside is stored the same on every backend, or refused the same, by rule.

Every text field of every event type is given awkward text (NUL, other control characters,
an unpaired surrogate, markup, more characters than a column holds) and ingested on SQLite
and on PostgreSQL. The database must never be the one to refuse: what one backend keeps,
the other keeps too, and what is refused is refused by a rule with a reason a sender can
read, before anything is acknowledged.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import String, text

from chargenet.adapters.storage.schema import metadata
from chargenet.app.ingest import Disposition, Outcome
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event
from chargenet.core.text import MAX_TEXT, storable, storable_text
from tests.adapters.test_codec import SAMPLES
from tests.builders import small_world


def _column_lengths() -> list[int]:
    """Every length a text column of the store has: one character more than each is tried."""
    return sorted(
        {
            column.type.length
            for table in metadata.tables.values()
            for column in table.columns
            if isinstance(column.type, String) and column.type.length
        }
    )


AWKWARD = (
    "bad\x00info",
    "esc\x1b[31m\x07bell\x85",
    "half \ud800 pair",
    '<img src=x onerror="window.__xss=1">站',
    *("长" * (n + 1) for n in _column_lengths()),
    "x" * (MAX_TEXT + 1),
)


def _is_text(hint: Any) -> bool:
    """Whether a field's type is free text: str, a NewType of str, or either or None."""
    if hint is str:
        return True
    if getattr(hint, "__supertype__", None) is str:
        return True
    args = typing.get_args(hint)
    return type(hint) is types.UnionType and any(_is_text(a) for a in args if a is not None)


def _text_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths to every text field of an event and of the records in it, set or not."""
    hints = typing.get_type_hints(type(value))
    for f in dataclasses.fields(value):
        if f.name == "event_id":
            continue
        current = getattr(value, f.name)
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            yield from _text_paths(current, (*path, f.name))
        elif _is_text(hints[f.name]):
            yield (*path, f.name)


def _with(value: Any, path: tuple[str, ...], new: str) -> Any:
    if not path:
        return new
    head, *rest = path
    return dataclasses.replace(value, **{head: _with(getattr(value, head), tuple(rest), new)})


def variants() -> list[Event]:
    out: list[Event] = []
    for n, sample in enumerate(SAMPLES):
        for path in _text_paths(sample):
            for k, odd in enumerate(AWKWARD):
                try:
                    variant = _with(sample, path, odd)
                except ValueError:
                    continue  # a value that checks itself (Money's currency) cannot be built
                out.append(dataclasses.replace(variant, event_id=f"odd-{n}-{'.'.join(path)}-{k}"))
    return out


def _outcomes(platform: Platform) -> list[Outcome]:
    platform.ingestor.ingest(small_world())
    platform.ingestor.ingest(SAMPLES)
    return platform.ingestor.ingest(variants())


def test_awkward_text_is_kept_or_refused_by_rule_never_by_the_database(
    platform: Platform,
) -> None:
    outcomes = _outcomes(platform)
    assert len(outcomes) > 1000
    assert [o for o in outcomes if "storage refused" in o.reason] == []
    accepted = [o for o in outcomes if o.disposition is Disposition.ACCEPTED]
    assert len(accepted) > len(outcomes) / 3  # most awkward text is cleaned and kept
    with platform.store.engine.connect() as conn:
        payloads = conn.execute(text("SELECT payload FROM events")).scalars().all()
    assert not any("\\u0000" in p or "\x00" in p for p in payloads)


@pytest.mark.postgres
def test_postgresql_decides_every_awkward_text_as_sqlite_does(
    platform: Platform, postgres_url: str
) -> None:
    on_sqlite = [(o.event_id, o.disposition, o.reason) for o in _outcomes(platform)]
    on_postgres = bootstrap(Settings(database_url=postgres_url))
    try:
        decided = [(o.event_id, o.disposition, o.reason) for o in _outcomes(on_postgres)]
    finally:
        on_postgres.close()
    assert decided == on_sqlite


def test_storable_text_removes_what_no_backend_keeps_and_nothing_else() -> None:
    assert storable_text("bad\x00info") == "badinfo"
    assert storable_text("a\tb\nc\r") == "a\tb\nc\r"
    assert storable_text("half \ud800 pair") == "half \ufffd pair"
    assert storable_text("忻州 · Xinzhou") == "忻州 · Xinzhou"
    event = SAMPLES[0]
    assert storable(event) is event  # nothing to change: the same object, no copy
