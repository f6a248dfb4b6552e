"""The shared input bounds: JSON nesting and body size."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.kit.bounds import (
    MAX_DEPTH,
    DocumentRefused,
    loads,
    nesting_problem,
    read_capped,
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_the_depth_scan_agrees_with_the_parsed_document(value: object) -> None:
    text = json.dumps(value)
    assert (nesting_problem(text, 3) is not None) == (depth(value) > 3)
    assert (nesting_problem(text.encode(), 3) is not None) == (depth(value) > 3)
    if depth(value) <= MAX_DEPTH:
        assert loads(text) == value


def test_a_hundred_thousand_brackets_are_refused_not_a_recursion_error() -> None:
    with pytest.raises(DocumentRefused, match="nested deeper than 32 levels"):
        loads(b"[" * 100_000)
    with pytest.raises(DocumentRefused, match="nested deeper"):
        loads('{"a":' * 600 + "1" + "}" * 600)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 1000, "quoted": '\\"[[[' * 100})
    assert nesting_problem(text) is None
    assert loads(text)["note"] == "[" * 1000


def test_what_is_not_json_is_refused_with_a_reason() -> None:
    for raw in (b"NaN", b"[Infinity]", b"\xff\xfe\xfa", b"{", b"1" * 5000):
        with pytest.raises(DocumentRefused, match="not valid JSON"):
            loads(raw)


def test_hostile_quoting_is_scanned_in_linear_time() -> None:
    # Unterminated strings and escapes everywhere: a scanner that backtracked at each
    # quote would take minutes on these.
    for raw in (b'"\\"' * 400_000 + b"[" * 40, b'"\\"[' * 300_000, b"[" + b"[]," * 300_000):
        started = time.perf_counter()
        nesting_problem(raw)
        assert time.perf_counter() - started < 2.0


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_bodies_over_the_limit_are_refused_as_they_arrive() -> None:
    assert asyncio.run(read_capped(_chunks(b"ab", b"cd"), 4)) == b"abcd"
    with pytest.raises(DocumentRefused, match="over 4 bytes") as refused:
        asyncio.run(read_capped(_chunks(b"ab", b"cd", b"e"), 4))
    assert refused.value.too_large
    # Said too long up front: refused before a byte is read.
    with pytest.raises(DocumentRefused):
        asyncio.run(read_capped(_chunks(), 4, "5"))
    # A length that is not a plain number is left to the body's real size.
    assert asyncio.run(read_capped(_chunks(b"ok"), 4, "²")) == b"ok"
