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
    return tuple(kind.__required_keys__)


def row_of(kind: Callable[..., R], r: Mapping[Any, Any], **converted: Any) -> R:
    """`kind`'s fields from `r` by name, except those in `converted`."""
    return kind(**{k: r[k] for k in _keys(kind) if k not in converted}, **converted)
