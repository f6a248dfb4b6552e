"""Every event that names a connector, charger, station, swap station or session is refused
when its sender (an operator's platform, or a charger on its own connection) does not hold
what it names — for every event type, not only the ones a protocol sends today."""

from __future__ import annotations

import dataclasses
import random

from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from chargenet.core.events import Event, Source
from chargenet.core.ids import ChargerId, EventId, OperatorId
from chargenet.core.ownership import references
from tests.adapters.test_codec import SAMPLES
from tests.builders import charger, operator, small_world, station


def _from(
    event: Event,
    n: int,
    tag: str,
    *,
    operator_id: OperatorId | None = None,
    charger_id: ChargerId | None = None,
) -> Event:
    sender = Source(adapter="test", operator_id=operator_id, charger_id=charger_id)
    return dataclasses.replace(event, event_id=EventId(f"{tag}-{n}"), source=sender)


def _naming_samples() -> list[Event]:
    named = [e for e in SAMPLES if any(references(e))]
    assert len(named) > 30  # nearly every event type names something
    return named


def test_a_sender_is_refused_for_everything_it_does_not_hold(any_platform: Platform) -> None:
    any_platform.ingestor.ingest(
        [*small_world(), charger("C2", "S1"), operator("OTHER"), station("SX", "OTHER")]
    )
    any_platform.ingestor.ingest(SAMPLES)  # the things the samples name now exist
    samples = _naming_samples()
    foreign = [_from(e, n, "op", operator_id=OperatorId("OTHER")) for n, e in enumerate(samples)]
    strangers = [_from(e, n, "cp", charger_id=ChargerId("C9")) for n, e in enumerate(samples)]
    outcomes = any_platform.ingestor.ingest([*foreign, *strangers])
    wrongly_taken = [
        (event.TYPE, event.source, o.disposition, o.reason)
        for event, o in zip([*foreign, *strangers], outcomes, strict=True)
        if o.disposition is not Disposition.REJECTED or "not to the sender" not in o.reason
    ]
    assert wrongly_taken == []


def test_the_holder_itself_is_not_refused_for_what_it_holds(any_platform: Platform) -> None:
    any_platform.ingestor.ingest([*small_world(), charger("C2", "S1")])
    any_platform.ingestor.ingest(SAMPLES)
    own = [
        _from(e, n, "own", operator_id=OperatorId("OP1")) for n, e in enumerate(_naming_samples())
    ]
    outcomes = any_platform.ingestor.ingest(own)
    refused_as_foreign = [
        (e.TYPE, o.reason)
        for e, o in zip(own, outcomes, strict=True)
        if "not to the sender" in o.reason
    ]
    assert refused_as_foreign == []


def _ref_references(value: object) -> list[tuple[str, str]]:
    """The walk `references` makes, written plainly: every field but the source, a `getattr`
    each, into every record inside."""
    kinds = {
        "connector_id": "connector",
        "charger_id": "charger",
        "station_id": "station",
        "session_id": "session",
        "swap_station_id": "swap_station",
        "operator_id": "operator",
    }
    out: list[tuple[str, str]] = []
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        if f.name == "source":
            continue
        item = getattr(value, f.name)
        kind = kinds.get(f.name)
        if kind is not None and isinstance(item, str):
            if item:
                out.append((kind, item))
        elif dataclasses.is_dataclass(type(item)):
            out += _ref_references(item)
    target_kind, target_id = getattr(value, "target_kind", None), getattr(value, "target_id", None)
    if target_kind is not None and target_id:
        out.append((str(target_kind), str(target_id)))
    return out


@dataclasses.dataclass(frozen=True)
class _One:
    station_id: str


@dataclasses.dataclass(frozen=True)
class _None:
    pass


@dataclasses.dataclass(frozen=True)
class _Holding:
    charger_id: str
    one: _One
    none: _None
    size: int = 0


def test_what_an_event_names_is_what_a_plain_walk_finds() -> None:
    """`references` reads a record's fields together (one field, or none, as well)."""
    for event in SAMPLES:
        assert list(references(event)) == _ref_references(event), event.TYPE
    holding = _Holding("C1", _One("S1"), _None())
    assert list(references(holding)) == [("charger", "C1"), ("station", "S1")]  # type: ignore[arg-type]
    assert _ref_references(holding) == [("charger", "C1"), ("station", "S1")]


def test_what_any_event_names_is_what_a_plain_walk_finds_whatever_its_fields_hold() -> None:
    """The same with the fields of every event type given other values: empty and other
    names, a number or None where a name is, a record where anything is."""
    rng = random.Random(7)
    values: list[object] = ["", "X1", "  ", None, 5, _One("S9"), _Holding("C2", _One(""), _None())]
    for _ in range(40):
        for sample in SAMPLES:
            fields = [f.name for f in dataclasses.fields(sample) if f.init]
            fields = [n for n in fields if n not in ("source", "target_kind")]
            changed = {n: rng.choice(values) for n in rng.sample(fields, min(3, len(fields)))}
            try:
                event = dataclasses.replace(sample, **changed)  # type: ignore[arg-type]
            except (ValueError, TypeError, AttributeError):  # a record that checks itself
                continue
            assert references(event) == _ref_references(event), event.TYPE
