"""A read port's typed row from a database row: every key the row type declares, read by
name (a column renamed or dropped fails on the first read), with the fields that need
converting given by the caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

R = TypeVar("R")


@cache
def _keys(kind: Any) -> tuple[str, ...]:
    # Optional keys are left to the builders that decide when a row has them.
    assert not kind.__optional_keys__, f"{kind.__name__} has optional keys"
    # In the order the type declares them (bases first), not that of the frozenset
    # `__required_keys__`, which changes with the hash seed from process to process: rows
    # an API returns as they are would otherwise give JSON in a different order each run.
    return tuple(k for k in kind.__annotations__ if k in kind.__required_keys__)


@cache
def _declared(kind: Any) -> frozenset[str]:
    return frozenset(_keys(kind))


def row_of(kind: Callable[..., R], r: Mapping[Any, Any], **converted: Any) -> R:
    """`kind`'s fields from `r` by name, except those in `converted`, in the order `kind`
    declares them."""
    keys = _keys(kind)
    assert converted.keys() <= _declared(kind), f"{sorted(converted)} not all declared"
    return kind(**{k: converted[k] if k in converted else r[k] for k in keys})
