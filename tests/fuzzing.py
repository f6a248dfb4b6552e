"""Hypothesis strategies shared by the protocol fuzz tests: valid documents with a few of
their values replaced by what a careless or hostile peer sends."""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Small and bounded in time: each fuzz test runs in the suite (./dev test) on every CI run,
# with the same cases each time (derandomized). CHARGENET_FUZZ_SCALE=20 runs twenty times
# as many, drawn afresh: a deeper search, by hand, before a release.
SCALE = int(os.environ.get("CHARGENET_FUZZ_SCALE", "1"))


def fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "x" * 300,
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "2025-13-45T99:99:99Z",
        "NaN",
        "1e400",
        "%_",
        "忻州",
    ]
)
# Past what a column holds first: Hypothesis draws early members of a list more often.
ODD_NUMBERS = st.sampled_from(
    [2**63, 10**30, -(2**63) - 1, 1e308, -1e308, 2**31, -1, 0, 1e-320, 0.1]
)
JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    ODD_NUMBERS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    ODD_TEXT,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document where a value sits."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(inner, (*prefix, index)))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _at(document: Any, place: tuple[Any, ...]) -> Any:
    for step in place:
        if (isinstance(document, dict) and step in document) or (
            isinstance(document, list) and isinstance(step, int) and step < len(document)
        ):
            document = document[step]
        else:
            return None
    return document


@st.composite
def mutated(draw: st.DrawFn, valid: Any, keep: tuple[str, ...] = ()) -> Any:
    """`valid` with one to three values replaced by junk, removed, or given a stranger
    beside them. Top-level keys in `keep` stay as they are."""
    document = copy.deepcopy(valid)
    places = [p for p in _paths(document) if not (len(p) == 1 and p[0] in keep)]
    numbers = [p for p in places if _is_number(_at(document, p))]
    for _ in range(draw(st.integers(1, 3))):
        if not places:
            break
        if bool(numbers) and draw(st.booleans()):
            # Numbers past what a field, a column or a float holds, where numbers are.
            place = draw(st.sampled_from(numbers))
            parent = _at(document, place[:-1])
            if isinstance(parent, dict | list) and _is_number(_at(document, place)):
                parent[place[-1]] = draw(ODD_NUMBERS)
            continue
        place = draw(st.sampled_from(places))
        parent = _at(document, place[:-1])
        last = place[-1]
        if not (
            (isinstance(parent, dict) and last in parent)
            or (isinstance(parent, list) and isinstance(last, int) and last < len(parent))
        ):
            continue  # an earlier change took this place away
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace":
            parent[last] = draw(JUNK)
        elif action == "remove":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JUNK)
    return document


JSON_DOCUMENTS: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
