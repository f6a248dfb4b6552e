"""Identifiers: random for new things, stable (content-derived) for things seen again."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

_NAMESPACE = uuid.UUID("5b0f3f0e-6a57-4f1c-9d0c-63686172676e")  # fixed: ids must survive restarts
_NAMESPACE_BYTES = _NAMESPACE.bytes
_SHA1_OF_NAMESPACE = hashlib.sha1(_NAMESPACE_BYTES)  # copied, then fed an id's parts
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)  # version, variant bits
_SET = (0x5000 << 64) | (0x8000 << 48)


def new_id() -> str:
    return uuid.uuid4().hex


def stable_id(*parts: object) -> str:
    """The same parts always give the same id, so a resent message maps to the same event.

    `uuid.uuid5(_NAMESPACE, joined).hex`, computed on the digest's bytes: the UUID object
    it would build and throw away was over half the cost, and the demo city and every
    message decoded make one per event."""
    joined = "\x1f".join(["" if p is None else str(p) for p in parts])  # a list: no generator
    sha = _SHA1_OF_NAMESPACE.copy()
    sha.update(joined.encode("utf-8"))
    value = int.from_bytes(sha.digest()[:16]) & _CLEAR | _SET  # version 5, RFC 4122 variant
    return f"{value:032x}"


def stable_prefix(*parts: object) -> Any:
    """The hash state of an id's first parts, for `stable_id_after`: what many ids begin
    with (a charger's meter values on one connector) hashed once rather than again for
    each id."""
    sha = _SHA1_OF_NAMESPACE.copy()
    if parts:
        sha.update(("\x1f".join(["" if p is None else str(p) for p in parts]) + "\x1f").encode())
    return sha


def stable_id_after(prefix: Any, *parts: object) -> str:
    """`stable_id(*first, *parts)` where `prefix` is `stable_prefix(*first)` (at least one
    part after the prefix: the prefix ends with its separator)."""
    joined = "\x1f".join(["" if p is None else str(p) for p in parts])
    sha = prefix.copy()
    sha.update(joined.encode("utf-8"))
    value = int.from_bytes(sha.digest()[:16]) & _CLEAR | _SET
    return f"{value:032x}"
