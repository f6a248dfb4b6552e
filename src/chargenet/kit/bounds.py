"""Bounds on what comes in from outside, shared by every adapter that reads it: integers the
store can hold, and JSON documents a parser can take.

- Integers. SQLite INTEGER and PostgreSQL BIGINT are signed 64-bit: a larger Python int
  sent as a query parameter fails in the driver (OverflowError, "bigint out of range"),
  after validation has passed. `StoredInt` says the bound where the parameter is
  declared, so the caller is told (422 with the bound) and the store is never asked.
- JSON. Python's parsers (json, msgspec) recurse once per level and raise RecursionError
  near 1,000 levels; what they do accept can still be deep enough to exhaust the stack of
  whatever walks it next. `loads` and `nesting_problem` refuse documents nested deeper
  than `MAX_DEPTH` before any parser sees them; `read_capped` refuses bodies over a size
  limit while they are still arriving, without holding more than the limit.

`annotated_types` is plain typing metadata (PEP 593), read by pydantic and so by FastAPI;
it lets this module say a bound without importing a web framework.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable
from typing import Annotated, Any

from annotated_types import Ge, Le

INT64_MAX = 2**63 - 1

StoredInt = Annotated[int, Ge(0), Le(INT64_MAX)]
"""A whole number ≥ 0 the store can hold (offsets, sequence numbers, counts)."""

# The deepest documents the protocols define are about 7 levels (an OCPI CDR's tariffs →
# elements → price components); 32 leaves room for any extension and none for an attack.
MAX_DEPTH = 32


class DocumentRefused(ValueError):
    """A document not taken: over the size limit, nested too deep, or not JSON."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


# A JSON string, its closing quote optional so that an unterminated one runs to the end
# instead of being tried again at every later quote. Possessive: each byte is read once.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def nesting_problem(raw: bytes | str, max_depth: int = MAX_DEPTH) -> str | None:
    """Why the document is nested too deep to parse, or None. Brackets inside strings do
    not count. Strings and everything else but brackets are dropped at C speed; the walk
    over what is left stops at the first level past the limit."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return None  # cannot be deeper than it has brackets
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
        else:
            depth -= 1
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON document as Python values, or DocumentRefused saying why not: too deep, not
    UTF-8, not JSON (NaN and Infinity are not JSON either)."""
    problem = nesting_problem(raw, max_depth)
    if problem:
        raise DocumentRefused(problem)
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:  # unreachable after the depth check; kept as the last guard
        raise DocumentRefused(f"nested deeper than {max_depth} levels") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError, int digits
        raise DocumentRefused(f"not valid JSON: {exc}") from None


async def read_capped(
    chunks: AsyncIterable[bytes], limit: int, declared_length: str | None = None
) -> bytes:
    """A request body read chunk by chunk, refused (DocumentRefused, too_large) as soon as
    it says or turns out to be longer than `limit` bytes."""
    declared = (declared_length or "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise DocumentRefused(f"the body is over {limit} bytes", too_large=True)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise DocumentRefused(f"the body is over {limit} bytes", too_large=True)
        parts.append(chunk)
    return b"".join(parts)
