"""Identifiers: random for new things, stable (content-derived) for things seen again."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

_NAMESPACE = uuid.UUID("5b0f3f0e-6a57-4f1c-9d0c-63686172676e")  # fixed: ids must survive restarts
_NAMESPACE_BYTES = _NAMESPACE.bytes
_SHA1_OF_NAMESPACE = hashlib.sha1(_NAMESPACE_BYTES)  # copied, then fed an id's parts


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
    return _uuid5_hex(sha.digest())


def _uuid5_hex(digest: bytes) -> str:
    """The hex of a name-based UUID (version 5, RFC 4122 variant) of this SHA-1: its first
    16 bytes with the version's and the variant's bits set in place (bytes 6 and 8), which
    is `uuid.UUID(bytes=digest[:16], version=5).hex` without the 128-bit integer and its
    formatting (a third of an id's cost, read once a meter value)."""
    head = bytearray(digest[:16])
    head[6] = head[6] & 0x0F | 0x50
    head[8] = head[8] & 0x3F | 0x80
    return head.hex()


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
    if len(parts) == 2:  # a meter value's (its time stamp, its transaction): no list made
        first, second = parts
        joined = f"{'' if first is None else str(first)}\x1f{'' if second is None else str(second)}"
    else:
        joined = "\x1f".join(["" if p is None else str(p) for p in parts])
    sha = prefix.copy()
    sha.update(joined.encode("utf-8"))
    return _uuid5_hex(sha.digest())
