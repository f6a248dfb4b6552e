"""What the forwarder pushes of each stored event (`keys_of`) does not depend on whether
its type was asked about before: the types with nothing to push are remembered, and only
those."""

from __future__ import annotations

import dataclasses

import pytest

from chargenet.adapters.ocpi import forward
from chargenet.core.events import ConnectorStatusChanged, Event, MeterSampled, ObjectStated
from chargenet.core.events.statements import StatedKind
from tests.adapters.test_codec import SAMPLES


@pytest.fixture
def forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forward, "_UNKEYED", set())


def _keys(events: list[Event]) -> list[list[forward.Key]]:
    return [forward.keys_of(e) for e in events]


@pytest.mark.usefixtures("forgotten")
def test_every_sample_has_the_same_keys_asked_first_and_again() -> None:
    first = _keys(SAMPLES)
    assert _keys(SAMPLES) == first == [forward._keys_of(e) or [] for e in SAMPLES]
    [status] = [e for e in SAMPLES if isinstance(e, ConnectorStatusChanged)]
    assert forward.keys_of(status) == [("status", status.connector_id)]
    assert MeterSampled in forward._UNKEYED
    assert ConnectorStatusChanged not in forward._UNKEYED


@pytest.mark.usefixtures("forgotten")
def test_a_statement_with_nothing_to_push_does_not_hide_the_next_one() -> None:
    """A hub's ClientInfo is not forwarded, a location's statement is: the first says
    nothing about its type."""
    [stated] = [e for e in SAMPLES if isinstance(e, ObjectStated)]
    client_info = dataclasses.replace(stated, kind=StatedKind.CLIENT_INFO)
    location = dataclasses.replace(stated, kind=StatedKind.LOCATION, object_id="S1")
    assert forward.keys_of(client_info) == []
    assert forward.keys_of(location) == [("location", "S1")]
