"""Reads for operators' credit records and demonstration designations (R38)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, or_, select

from chargenet.adapters.storage import like
from chargenet.adapters.storage.tables_supervision_data import credit_penalties, demonstrations

Row = dict[str, Any]


class CreditReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def penalty(self, penalty_id: str) -> Row | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(credit_penalties).where(credit_penalties.c.penalty_id == penalty_id)
            ).first()
        return None if row is None else dict(row._mapping)

    def penalties(self, area: str | None, operator: str | None, limit: int) -> list[Row]:
        """Penalties, newest first: of an operator, and/or decided within an area (by its
        regulators, or platform-wide ones)."""
        c = credit_penalties
        stmt = select(c).order_by(c.c.decided_on.desc(), c.c.penalty_id).limit(limit)
        if operator:
            stmt = stmt.where(c.c.operator_id == operator)
        if area:
            stmt = stmt.where(or_(c.c.area_code.is_(None), like.starts_with(c.c.area_code, area)))
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def demonstrations(self, area: str | None) -> list[Row]:
        d = demonstrations
        stmt = select(d).order_by(d.c.year.desc(), d.c.area_code, d.c.name)
        if area:
            stmt = stmt.where(like.starts_with(d.c.area_code, area))
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]
