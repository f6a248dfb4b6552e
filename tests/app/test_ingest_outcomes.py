"""The batch path's outcomes, made with their slots set straight (app/ingest.py
`_outcome`), are the outcomes `Outcome(event_id, disposition)` makes: equal, alike in
every field, hashed alike, immutable alike."""

from __future__ import annotations

import dataclasses

import pytest

from chargenet.app.ingest import Disposition, Outcome, _outcome


@pytest.mark.parametrize("disposition", list(Disposition))
@pytest.mark.parametrize("event_id", ["ev-1", "", "é" * 300])
def test_an_outcome_made_fast_is_the_outcome_made_plainly(
    event_id: str, disposition: Disposition
) -> None:
    fast, plain = _outcome(event_id, disposition), Outcome(event_id, disposition)
    assert type(fast) is Outcome
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert fast.ok == plain.ok
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.reason = "changed"  # type: ignore[misc]
