"""Reads for random inspections (双随机一公开, R38): the target pool of an area, the
draws, and the public list of results."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, RowMapping, func, select

from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import operators, stations
from chargenet.adapters.storage.tables_supervision_data import (
    inspection_draws,
    inspection_targets,
)
from chargenet.app.inspections import AssignmentRow, DrawRow, InspectionResultRow


class InspectionReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = ReadModel(engine)

    def station_pool(self, area: str | None, public_only: bool) -> list[str]:
        """Stations in service in the area (the default pool of targets)."""
        with self._engine.connect() as conn:
            stmt = select(stations.c.station_id).where(stations.c.retired_at.is_(None))
            if area:
                stmt = stmt.where(self._read.area_column(conn, area, stations))
            if public_only:
                stmt = stmt.where(stations.c.access == "public")
            return sorted(conn.execute(stmt).scalars())

    def station_area(self, station_id: str) -> str | None:
        with self._engine.connect() as conn:
            return conn.execute(
                select(stations.c.area_code).where(stations.c.station_id == station_id)
            ).scalar()

    def draw(self, draw_id: str) -> DrawRow | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(inspection_draws).where(inspection_draws.c.draw_id == draw_id))
                .mappings()
                .first()
            )
            if row is None:
                return None
            return row_of(
                DrawRow,
                row,
                inspectors=json.loads(row["inspectors"]),
                targets=json.loads(row["targets"]),
                assignments=self._targets(conn, [draw_id]),
            )

    def _targets(self, conn: Any, draw_ids: list[str]) -> list[AssignmentRow]:
        t = inspection_targets
        rows = conn.execute(
            select(t, stations.c.name.label("station_name"), stations.c.area_code)
            .select_from(t.join(stations, stations.c.station_id == t.c.station_id))
            .where(t.c.draw_id.in_(draw_ids))
            .order_by(t.c.draw_id, t.c.position)
        ).mappings()
        return [_assignment(r) for r in rows]

    def results(
        self, area: str | None, limit: int, offset: int
    ) -> tuple[list[InspectionResultRow], int]:
        """The public list: each drawn public station, its draw and its result, newest
        draw first. Inspectors are named (publishing who inspected is part of 公开)."""
        d, t = inspection_draws, inspection_targets
        with self._engine.connect() as conn:
            base = (
                select(
                    d.c.draw_id,
                    d.c.title,
                    d.c.drawn_at,
                    d.c.seed,
                    t.c.station_id,
                    stations.c.name.label("station_name"),
                    stations.c.area_code,
                    t.c.operator_id,
                    operators.c.name.label("operator_name"),
                    t.c.inspectors,
                    t.c.result,
                    t.c.findings,
                    t.c.rectify_by,
                    t.c.inspected_at,
                    t.c.rectified_at,
                    t.c.rectification,
                )
                .select_from(
                    t.join(d, d.c.draw_id == t.c.draw_id)
                    .join(stations, stations.c.station_id == t.c.station_id)
                    .join(operators, operators.c.operator_id == t.c.operator_id)
                )
                .where(stations.c.access == "public")
            )
            if area:
                base = base.where(self._read.area_column(conn, area, stations))
            total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
            rows = conn.execute(
                base.order_by(d.c.drawn_at.desc(), d.c.draw_id, t.c.position)
                .limit(limit)
                .offset(offset)
            ).mappings()
            return [_result(r) for r in rows], int(total)


def _assignment(r: RowMapping) -> AssignmentRow:
    return row_of(
        AssignmentRow,
        r,
        inspectors=json.loads(r["inspectors"]),
    )


def _result(r: RowMapping) -> InspectionResultRow:
    return row_of(
        InspectionResultRow,
        r,
        inspectors=json.loads(r["inspectors"]),
    )
