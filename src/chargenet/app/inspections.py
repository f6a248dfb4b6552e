"""Random inspections, 双随机一公开 (R38): draw targets and inspectors at random with a
recorded seed, record each inspection's findings and the rectification, and publish the
results. The draw itself is pure (core/supervision/inspections.py); anyone can redraw
from the recorded seed and pools (`verify`)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypedDict

from chargenet.app.ingest import Refused
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.errors import Invalid, UnknownReference
from chargenet.core.events import (
    InspectionDrawn,
    InspectionRecorded,
    InspectionRectified,
    Source,
    event_meta,
)
from chargenet.core.ids import StationId
from chargenet.core.supervision.inspections import (
    MAX_SEED,
    InspectionResult,
    draw,
    draw_problems,
)
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id

SOURCE = Source(adapter="api")


class AssignmentRow(TypedDict):
    """A station drawn for inspection, its team, and what they found."""

    draw_id: str
    station_id: str
    position: int  # order of the draw
    operator_id: str
    inspectors: list[str]
    result: str | None  # an `InspectionResult` value, once inspected
    findings: str | None
    rectify_by: date | None
    inspected_at: datetime | None
    inspected_by: str | None
    rectified_at: datetime | None
    rectification: str | None
    station_name: str
    area_code: str | None


class DrawRow(TypedDict):
    draw_id: str
    title: str
    seed: int
    team: int
    area_code: str | None
    inspectors: list[str]  # the pool, sorted
    targets: list[str]  # station ids, sorted
    drawn_by: str
    drawn_at: datetime
    assignments: list[AssignmentRow]


class VerifiedDrawRow(DrawRow):
    reproduced: bool  # what its seed and pools give (`verify`)


class InspectionResultRow(TypedDict):
    """A line of the public list: a drawn public station, its draw and its result."""

    draw_id: str
    title: str
    drawn_at: datetime
    seed: int
    station_id: str
    station_name: str
    area_code: str | None
    operator_id: str
    operator_name: str
    inspectors: list[str]
    result: str | None
    findings: str | None
    rectify_by: date | None
    inspected_at: datetime | None
    rectified_at: datetime | None
    rectification: str | None


class InspectionQueries(Protocol):
    def station_pool(self, area: str | None, public_only: bool) -> list[str]: ...

    def station_area(self, station_id: str) -> str | None: ...

    def draw(self, draw_id: str) -> DrawRow | None: ...

    def results(
        self, area: str | None, limit: int, offset: int
    ) -> tuple[list[InspectionResultRow], int]: ...


def verify(row: DrawRow) -> bool:
    """Whether a recorded draw is what its seed and pools give."""
    redrawn = draw(
        row["seed"], row["inspectors"], row["targets"], len(row["assignments"]), row["team"]
    )
    return [(a.target_id, list(a.inspectors)) for a in redrawn] == [
        (a["station_id"], a["inspectors"]) for a in row["assignments"]
    ]


class InspectionService:
    def __init__(self, pipeline: IngestPipeline, queries: InspectionQueries, clock: Clock) -> None:
        self.pipeline = pipeline
        self.queries = queries
        self.clock = clock

    async def _submit(self, event: Any) -> None:
        [outcome] = await self.pipeline.submit([event])
        if not outcome.ok:
            raise Refused(outcome.reason)

    async def draw(
        self,
        *,
        title: str,
        inspectors: Sequence[str],
        count: int,
        by: str,
        team: int = 2,
        area: str | None = None,
        targets: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> VerifiedDrawRow:
        """Draw `count` stations (from `targets`, else the public stations in service in
        `area`) and a team of `team` inspectors for each; the seed is chosen at random
        unless given (a publicly drawn number, say), and recorded."""
        pool = (
            sorted(set(targets))
            if targets is not None
            else await asyncio.to_thread(self.queries.station_pool, area, True)
        )
        seed = secrets.randbelow(MAX_SEED) if seed is None else seed
        names = sorted({i.strip() for i in inspectors if i.strip()})
        problems = draw_problems(seed, names, pool, count, team)
        if problems:
            raise Invalid("; ".join(problems))
        draw_id = new_id()
        await self._submit(
            InspectionDrawn(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                draw_id=draw_id,
                title=title,
                seed=seed,
                team=team,
                inspectors=tuple(names),
                targets=tuple(pool),
                assignments=draw(seed, names, pool, count, team),
                drawn_by=by,
                area_code=area,
            )
        )
        return await self.get(draw_id)

    async def get(self, draw_id: str) -> VerifiedDrawRow:
        row = await asyncio.to_thread(self.queries.draw, draw_id)
        if row is None:
            raise UnknownReference("inspection draw", draw_id)
        return VerifiedDrawRow(**row, reproduced=verify(row))

    async def record(
        self,
        draw_id: str,
        station_id: str,
        result: InspectionResult,
        findings: str,
        by: str,
        rectify_by: date | None = None,
    ) -> VerifiedDrawRow:
        await self._submit(
            InspectionRecorded(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                draw_id=draw_id,
                station_id=StationId(station_id),
                result=result,
                findings=findings,
                by=by,
                rectify_by=rectify_by,
            )
        )
        return await self.get(draw_id)

    async def rectified(self, draw_id: str, station_id: str, note: str, by: str) -> VerifiedDrawRow:
        await self._submit(
            InspectionRectified(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                draw_id=draw_id,
                station_id=StationId(station_id),
                note=note,
                by=by,
            )
        )
        return await self.get(draw_id)
