"""Mapped facts → the one way in, with resends recognised.

T/CEC messages carry no id of the fact they report (a status push says "connector X is
charging" and nothing more); a resent push has a new TimeStamp and Seq. So a fact's
event id is derived from what it is about, its content and the message that first
carried it, and `ResendMemory` remembers, per subject, the content and event id last
accepted: the same content again (a resend, or an unchanged poll) maps to the same event
id and the log keeps one copy, while a return to an earlier state (available → charging →
available) is a new fact with a new id.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from chargenet.adapters.tcec import inbound, model
from chargenet.adapters.tcec.inbound import Fact, Sent
from chargenet.adapters.tcec.partners import Partner
from chargenet.app.ingest import Disposition
from chargenet.app.pipeline import IngestPipeline
from chargenet.app.queries import StateQueries
from chargenet.core.events import ChargerRetired, Event, event_meta
from chargenet.core.ids import ChargerId, EventId
from chargenet.kit.ids import stable_id


class ResendMemory:
    """(partner, subject) → (content digest, event id) of the last accepted fact."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._capacity = capacity
        self._last: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, partner_id: str, key: str, digest: str) -> str | None:
        with self._lock:
            found = self._last.get((partner_id, key))
        return found[1] if found is not None and found[0] == digest else None

    def forget(self, partner_id: str, key: str) -> None:
        with self._lock:
            self._last.pop((partner_id, key), None)

    def remember(self, partner_id: str, key: str, digest: str, event_id: str) -> None:
        with self._lock:
            self._last[(partner_id, key)] = (digest, event_id)
            self._last.move_to_end((partner_id, key))
            while len(self._last) > self._capacity:
                self._last.popitem(last=False)


@dataclass
class IntakeResult:
    accepted: int = 0
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)
    skipped: int = 0  # unchanged facts of a poll, not submitted at all

    @property
    def ok(self) -> bool:
        return not self.refused

    def add(self, other: IntakeResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.refused += other.refused
        self.skipped += other.skipped


class Intake:
    def __init__(
        self, pipeline: IngestPipeline, queries: StateQueries, memory: ResendMemory | None = None
    ) -> None:
        self.pipeline = pipeline
        self._queries = queries
        self.memory = memory or ResendMemory()

    async def submit(
        self, partner: Partner, facts: Sequence[Fact], *, skip_unchanged: bool = False
    ) -> IntakeResult:
        """Submit facts in order; with `skip_unchanged` (polls) facts whose content was
        accepted last time are not submitted at all."""
        result = IntakeResult()
        chosen: list[tuple[Fact, Event]] = []
        for fact in facts:
            event = fact.event
            if fact.key is not None and fact.digest is not None:
                prior = self.memory.recall(partner.partner_id, fact.key, fact.digest)
                if prior is not None:
                    if skip_unchanged:
                        result.skipped += 1
                        continue
                    event = replace(event, event_id=EventId(prior))
            chosen.append((fact, event))
        outcomes = await self.pipeline.submit([event for _, event in chosen])
        for (fact, event), outcome in zip(chosen, outcomes, strict=True):
            if outcome.disposition is Disposition.REJECTED:
                result.refused.append(f"{event.TYPE}: {outcome.reason}")
                continue
            if outcome.disposition is Disposition.DUPLICATE:
                result.duplicates += 1
            else:
                result.accepted += 1
            if fact.key is not None and fact.digest is not None:
                self.memory.remember(partner.partner_id, fact.key, fact.digest, event.event_id)
        return result

    async def station(
        self, partner: Partner, info: model.StationInfo, sent: Sent, *, skip_unchanged: bool = False
    ) -> IntakeResult:
        facts = inbound.station_facts(partner, info, sent)
        facts += await self._vanished_chargers(partner, info, facts, sent)
        return await self.submit(partner, facts, skip_unchanged=skip_unchanged)

    async def _vanished_chargers(
        self, partner: Partner, info: model.StationInfo, facts: list[Fact], sent: Sent
    ) -> list[Fact]:
        """Chargers a station no longer lists are retired (history keeps them)."""
        station_id = partner.station_id(info.StationID)
        rows, _ = await asyncio.to_thread(
            self._queries.chargers, station_id, None, None, False, 1000, 0
        )
        listed = inbound.charger_ids(facts)
        gone = [r["charger_id"] for r in rows if r["charger_id"] not in listed]
        for cid in gone:  # listed again later, it must be registered again
            self.memory.forget(partner.partner_id, f"charger:{cid}")
        return [
            Fact(
                ChargerRetired(
                    **event_meta(
                        stable_id(inbound.PROTOCOL, partner.partner_id, "gone", cid, sent.stamp),
                        facts[0].event.source,
                        sent.at,
                        sent.received_at,
                    ),
                    charger_id=ChargerId(cid),
                    reason="no longer listed by the operator's platform",
                )
            )
            for cid in gone
            if partner.local(cid) is not None
        ]
