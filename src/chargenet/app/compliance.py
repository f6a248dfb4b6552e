"""Interface compliance: every message an operator platform sends, counted per partner,
day, endpoint and answer code, and every refusal kept with its reason (R38: the quality of
the data an operator reports is part of its scorecard, docs/supervision.md).

Counting happens in memory on the request path and is written in one transaction per
flush (the background job every few seconds, and at shutdown), so a push costs no extra
write of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypedDict

MAX_REFUSALS_PER_FLUSH = 1_000  # per partner: a flood of refusals is counted, not all kept


@dataclass(frozen=True, slots=True)
class TrafficKey:
    protocol: str
    partner_id: str
    operator_id: str
    day: date
    endpoint: str
    ret: int


@dataclass(frozen=True, slots=True)
class Refusal:
    protocol: str
    partner_id: str
    operator_id: str
    at: datetime
    endpoint: str
    ret: int
    reason: str


class RefusalRow(TypedDict):
    """A refused message as kept: when, which endpoint, the answer code and why."""

    refusal_id: int
    protocol: str
    partner_id: str
    operator_id: str
    at: datetime
    endpoint: str
    ret: int
    reason: str


class InterfaceLog(Protocol):
    def record(self, counts: Sequence[tuple[TrafficKey, int]], refusals: Sequence[Refusal]) -> None:
        """Add the counts and keep the refusals, in one transaction."""
        ...

    def refusals(self, partner_id: str | None, limit: int = 100) -> list[RefusalRow]:
        """The latest refusals, newest first (of one partner, or of all)."""
        ...


class InterfaceRecorder:
    def __init__(self, log: InterfaceLog) -> None:
        self._log = log
        self._lock = threading.Lock()
        self._counts: dict[TrafficKey, int] = {}
        self._refusals: list[Refusal] = []
        self._kept: dict[str, int] = {}

    def note(
        self,
        *,
        protocol: str,
        partner_id: str,
        operator_id: str,
        at: datetime,
        endpoint: str,
        ret: int,
        reason: str = "",
    ) -> None:
        key = TrafficKey(protocol, partner_id, operator_id, at.date(), endpoint[:64], int(ret))
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            if ret != 0 and self._kept.get(partner_id, 0) < MAX_REFUSALS_PER_FLUSH:
                self._kept[partner_id] = self._kept.get(partner_id, 0) + 1
                self._refusals.append(
                    Refusal(
                        protocol, partner_id, operator_id, at, endpoint[:64], int(ret), reason[:500]
                    )
                )

    def flush(self) -> None:
        with self._lock:
            counts, refusals = list(self._counts.items()), self._refusals
            self._counts, self._refusals, self._kept = {}, [], {}
        if not counts and not refusals:
            return
        try:
            self._log.record(counts, refusals)
        except Exception:
            with self._lock:  # keep them for the next flush
                for key, n in counts:
                    self._counts[key] = self._counts.get(key, 0) + n
                self._refusals = refusals + self._refusals
            raise
