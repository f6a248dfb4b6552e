"""Domain events: everything that enters chargenet becomes one of these.

An event is a fact as its source states it: what happened (`occurred_at`, the source's
own clock) and when chargenet heard of it (`received_at`, ours). Events are frozen,
typed and versioned (`TYPE`, `VERSION`); an adapter builds them, the ingest path
validates them (`problems()`), appends them to the durable log and applies them to state.
Adapters give resent messages the same `event_id`, which is what makes ingest idempotent.

What every event is: its identity, source, times and checks; the type registry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, TypedDict

from chargenet.core.ids import (
    ChargerId,
    EventId,
    OperatorId,
)
from chargenet.core.text import add_long_texts

EVENT_TYPES: dict[str, type[Event]] = {}

# Bounds on live values: beyond these a reading is broken, not news.
MAX_ENERGY_REGISTER_WH = 10**12  # a meter register (1 TWh) — anything above is garbage
MAX_POWER_W = 4_000_000
MAX_CURRENT_A = 5_000
MAX_VOLTAGE_V = 2_000


@dataclass(frozen=True, kw_only=True)
class Source:
    """Who told us: the adapter (ocpp, ocpi, tcec, import, api, demo) and, when known, the
    operator on whose behalf, or the charger speaking for itself over its own connection.
    A sender that names an operator or a charger may only write about what it holds
    (core/ownership.py)."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"adapter": 32}

    adapter: str
    operator_id: OperatorId | None = None
    charger_id: ChargerId | None = None


def _aware(**fields: datetime) -> list[str]:
    return [
        f"{name} must be timezone-aware"
        for name, value in fields.items()
        if value.tzinfo is None or value.utcoffset() is None
    ]


class EventMeta(TypedDict):
    """The fields every event carries, for building events with `**meta`."""

    event_id: EventId
    source: Source
    occurred_at: datetime
    received_at: datetime


def event_meta(
    event_id: str, source: Source, occurred_at: datetime, received_at: datetime | None = None
) -> EventMeta:
    return {
        "event_id": EventId(event_id),
        "source": source,
        "occurred_at": occurred_at,
        "received_at": received_at or occurred_at,
    }


@dataclass(frozen=True, kw_only=True)
class Event:
    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    # Text fields whose limit is not core.text's default (MAX_ID for *_id, else MAX_TEXT).
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"event_id": 200}

    event_id: EventId
    source: Source
    occurred_at: datetime
    received_at: datetime

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:
            if cls.TYPE in EVENT_TYPES:
                raise TypeError(f"event type {cls.TYPE!r} defined twice")
            EVENT_TYPES[cls.TYPE] = cls

    def problems(self) -> list[str]:
        """Why this event cannot be accepted; empty when it can."""
        out: list[str] = []
        if not self.event_id:
            out.append("event_id is empty")
        if not self.source.adapter:
            out.append("source adapter is empty")
        # `_aware`'s test, spelled out: every event stored is asked. UTC (what the codec
        # decodes "…Z" to) has an offset: asked without a call.
        occurred, received = self.occurred_at, self.received_at
        tz = occurred.tzinfo
        if tz is not UTC and (tz is None or occurred.utcoffset() is None):
            out.append("occurred_at must be timezone-aware")
        tz = received.tzinfo
        if tz is not UTC and (tz is None or received.utcoffset() is None):
            out.append("received_at must be timezone-aware")
        add_long_texts(self, out)
        return out + self.body_problems()

    def body_problems(self) -> list[str]:
        return []


def _empty(**fields: str | None) -> list[str]:
    return [f"{name} is empty" for name, value in fields.items() if not value or not value.strip()]


def _blank(name: str, value: str | None) -> list[str]:
    """`_empty` of one field, without its keywords' dict and its list's loop (the meter
    values' and status reports' check: every one a writer stores)."""
    return [] if value and value.strip() else [f"{name} is empty"]
