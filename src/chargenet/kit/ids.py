"""Identifiers: random for new things, stable (content-derived) for things seen again."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5b0f3f0e-6a57-4f1c-9d0c-63686172676e")  # fixed: ids must survive restarts


def new_id() -> str:
    return uuid.uuid4().hex


def stable_id(*parts: object) -> str:
    """The same parts always give the same id, so a resent message maps to the same event."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return uuid.uuid5(_NAMESPACE, joined).hex
