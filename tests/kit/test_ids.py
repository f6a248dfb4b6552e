"""Stable ids are name-based UUIDs (version 5): ids stored before stay the ids of the same
messages and things."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from chargenet.kit.ids import _NAMESPACE, new_id, stable_id, stable_id_after, stable_prefix

_PART = st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=False))


@given(st.lists(_PART, max_size=5))
def test_a_stable_id_is_the_uuid5_of_its_parts(parts: list[object]) -> None:
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    assert stable_id(*parts) == uuid.uuid5(_NAMESPACE, joined).hex


def test_stable_ids_are_kept_across_versions() -> None:
    assert stable_id("demo", 2023, "x") == "a33fb342c8215007924deb7765296740"
    assert stable_id("demo", 2023) != stable_id("demo", 7)
    assert stable_id("a", None) == stable_id("a", "")
    assert uuid.UUID(stable_id("x")).version == 5
    assert len(new_id()) == 32 and new_id() != new_id()


@given(st.lists(_PART, max_size=4), st.lists(_PART, min_size=1, max_size=4))
def test_an_id_after_a_prefix_is_the_id_of_all_its_parts(
    first: list[object], rest: list[object]
) -> None:
    # (the OCPP intake hashes a connector's part of its meter values' ids once)
    assert stable_id_after(stable_prefix(*first), *rest) == stable_id(*first, *rest)
