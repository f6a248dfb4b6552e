"""Whether a row a read port returned is what its `TypedDict` says: the same keys, and each
value of the declared type (on every backend: tests/adapters/storage/test_read_rows.py)."""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Any, NotRequired, Required, is_typeddict


def mismatches(value: object, hint: Any, path: str = "row") -> list[str]:
    """What in `value` disagrees with the type `hint`, one line each; [] when nothing."""
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return []
    if hint is None or hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not None"]
    if origin in (typing.Union, types.UnionType):
        options = [mismatches(value, h, path) for h in typing.get_args(hint)]
        return [] if any(not o for o in options) else [f"{path}: {value!r} is not {hint}"]
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} is not a dict ({hint.__name__})"]
        # From the hints, not __required_keys__: Python 3.11 cannot see NotRequired in
        # annotations kept as text (`from __future__ import annotations`).
        hints = {}
        required = set()
        total = getattr(hint, "__total__", True)
        for k, h in typing.get_type_hints(hint, include_extras=True).items():
            if typing.get_origin(h) is NotRequired:
                (h,) = typing.get_args(h)
            elif typing.get_origin(h) is Required:
                (h,) = typing.get_args(h)
                required.add(k)
            elif total:
                required.add(k)
            hints[k] = h
        out = [f"{path}.{k}: missing" for k in required - value.keys()]
        out += [f"{path}.{k}: not in {hint.__name__}" for k in value.keys() - hints.keys()]
        for k in value.keys() & hints.keys():
            out += mismatches(value[k], hints[k], f"{path}.{k}")
        return out
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} is not a list"]
        (item,) = typing.get_args(hint)
        return [m for i, v in enumerate(value) for m in mismatches(v, item, f"{path}[{i}]")]
    if origin is tuple:
        parts = typing.get_args(hint)
        if not isinstance(value, tuple) or len(value) != len(parts):
            return [f"{path}: {value!r} is not a tuple of {len(parts)}"]
        return [
            m
            for i, (v, h) in enumerate(zip(value, parts, strict=True))
            for m in mismatches(v, h, f"{path}[{i}]")
        ]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} is not a dict"]
        key, item = typing.get_args(hint)
        return [
            m
            for k, v in value.items()
            for m in [*mismatches(k, key, f"{path} key"), *mismatches(v, item, f"{path}[{k!r}]")]
        ]
    if hint is int and isinstance(value, bool):
        return [f"{path}: {value!r} is a bool, not an int"]
    if hint is date and isinstance(value, datetime):
        return [f"{path}: {value!r} is a datetime, not a date"]
    if hint is datetime and isinstance(value, datetime) and value.utcoffset() is None:
        return [f"{path}: {value!r} is naive"]
    if isinstance(hint, type) and not isinstance(value, hint):
        return [f"{path}: {value!r} is {type(value).__name__}, not {hint.__name__}"]
    return []
