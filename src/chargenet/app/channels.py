"""Operators' own channels for orders and notices (a signed webhook), where the protocol
their equipment speaks cannot carry them (docs/supervision.md, "Orders and notices that
reach the operator")."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from chargenet.core.errors import Invalid
from chargenet.kit.clock import Clock


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    operator_id: str
    url: str
    secret_sealed: str  # the signing secret, sealed under the master key
    enabled: bool
    updated_at: datetime


class ChannelStore(Protocol):
    def channel(self, operator_id: str) -> ChannelRecord | None: ...

    def save(self, record: ChannelRecord) -> None: ...

    def remove(self, operator_id: str) -> bool: ...

    def order_operator(self, order_id: str) -> str | None:
        """The operator whose equipment an order is about (None: no such order)."""
        ...


class ChannelService:
    """Setting and removing an operator's channel; the signing secret is made here, shown
    once, and kept only sealed under the master key (`seal`)."""

    def __init__(
        self,
        store: ChannelStore,
        seal: Callable[[str], str],
        clock: Clock,
    ) -> None:
        self.store = store
        self._seal = seal
        self._clock = clock

    def set(self, operator_id: str, url: str, *, enabled: bool = True) -> str:
        """Set the operator's webhook; returns the new signing secret (shown once)."""
        problem = url_problem(url)
        if problem:
            raise Invalid(problem)
        secret = secrets.token_urlsafe(32)
        self.store.save(
            ChannelRecord(
                operator_id=operator_id,
                url=url,
                secret_sealed=self._seal(secret),
                enabled=enabled,
                updated_at=self._clock.now(),
            )
        )
        return secret


def url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"a channel is an http(s) URL, not {url[:100]!r}"
    if len(url) > 500:
        return "a channel URL has at most 500 characters"
    return None
