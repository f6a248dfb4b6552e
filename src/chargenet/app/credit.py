"""Operators' credit records (信用惩戒) and demonstration designations (R38)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, Protocol, TypedDict

from chargenet.app.ingest import Refused
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    CreditAppealDecided,
    CreditAppealed,
    CreditPenalized,
    DemonstrationDesignated,
    Source,
    event_meta,
)
from chargenet.core.ids import OperatorId
from chargenet.core.supervision.credit import DemonstrationKind
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id

SOURCE = Source(adapter="api")


class PenaltyRow(TypedDict):
    """A credit penalty (信用惩戒) on an operator, with its appeal."""

    penalty_id: str
    operator_id: str
    area_code: str | None  # None: decided platform-wide
    points: int
    reason: str
    basis: str
    decided_on: date
    decided_by: str
    recorded_at: datetime
    appeal_state: str  # none | pending | upheld | overturned
    appeal_grounds: str | None
    appealed_at: datetime | None
    appeal_note: str | None
    appeal_decided_at: datetime | None
    appeal_decided_by: str | None


class DemonstrationRow(TypedDict):
    designation_id: str
    kind: str  # a `DemonstrationKind` value
    name: str
    area_code: str
    year: int
    basis: str
    designated_by: str
    designated_at: datetime


class CreditQueries(Protocol):
    def penalty(self, penalty_id: str) -> PenaltyRow | None: ...

    def penalties(self, area: str | None, operator: str | None, limit: int) -> list[PenaltyRow]: ...

    def demonstrations(self, area: str | None) -> list[DemonstrationRow]: ...


class CreditService:
    def __init__(self, pipeline: IngestPipeline, queries: CreditQueries, clock: Clock) -> None:
        self.pipeline = pipeline
        self.queries = queries
        self.clock = clock

    async def _submit(self, event: Any) -> None:
        [outcome] = await self.pipeline.submit([event])
        if not outcome.ok:
            raise Refused(outcome.reason)

    async def penalty(self, penalty_id: str) -> PenaltyRow:
        row = await asyncio.to_thread(self.queries.penalty, penalty_id)
        if row is None:
            raise UnknownReference("penalty", penalty_id)
        return row

    async def penalize(
        self,
        *,
        operator_id: str,
        points: int,
        reason: str,
        basis: str,
        decided_on: date,
        by: str,
        area_code: str | None,
    ) -> PenaltyRow:
        penalty_id = new_id()
        await self._submit(
            CreditPenalized(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                penalty_id=penalty_id,
                operator_id=OperatorId(operator_id),
                points=points,
                reason=reason,
                basis=basis,
                decided_on=decided_on,
                by=by,
                area_code=area_code,
            )
        )
        return await self.penalty(penalty_id)

    async def appeal(self, penalty_id: str, grounds: str, by: str) -> PenaltyRow:
        await self.penalty(penalty_id)
        await self._submit(
            CreditAppealed(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                penalty_id=penalty_id,
                grounds=grounds,
                by=by,
            )
        )
        return await self.penalty(penalty_id)

    async def decide(self, penalty_id: str, upheld: bool, note: str, by: str) -> PenaltyRow:
        await self.penalty(penalty_id)
        await self._submit(
            CreditAppealDecided(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                penalty_id=penalty_id,
                upheld=upheld,
                note=note,
                by=by,
            )
        )
        return await self.penalty(penalty_id)

    async def designate(
        self,
        *,
        kind: DemonstrationKind,
        name: str,
        area_code: str,
        year: int,
        basis: str,
        by: str,
    ) -> DemonstrationRow:
        designation_id = new_id()
        await self._submit(
            DemonstrationDesignated(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                designation_id=designation_id,
                kind=kind,
                name=name,
                area_code=area_code,
                year=year,
                basis=basis,
                by=by,
            )
        )
        rows = await asyncio.to_thread(self.queries.demonstrations, area_code)
        return next(r for r in rows if r["designation_id"] == designation_id)
