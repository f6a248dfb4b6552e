"""Reads for operators' credit records and demonstration designations (R38)."""

from __future__ import annotations

from sqlalchemy import Engine, RowMapping, or_, select

from chargenet.adapters.storage import like
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.tables_supervision_data import credit_penalties, demonstrations
from chargenet.app.credit import DemonstrationRow, PenaltyRow


class CreditReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def penalty(self, penalty_id: str) -> PenaltyRow | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(credit_penalties).where(credit_penalties.c.penalty_id == penalty_id)
                )
                .mappings()
                .first()
            )
        return None if row is None else _penalty(row)

    def penalties(self, area: str | None, operator: str | None, limit: int) -> list[PenaltyRow]:
        """Penalties, newest first: of an operator, and/or decided within an area (by its
        regulators, or platform-wide ones)."""
        c = credit_penalties
        stmt = select(c).order_by(c.c.decided_on.desc(), c.c.penalty_id).limit(limit)
        if operator:
            stmt = stmt.where(c.c.operator_id == operator)
        if area:
            stmt = stmt.where(or_(c.c.area_code.is_(None), like.starts_with(c.c.area_code, area)))
        with self._engine.connect() as conn:
            return [_penalty(r) for r in conn.execute(stmt).mappings()]

    def demonstrations(self, area: str | None) -> list[DemonstrationRow]:
        d = demonstrations
        stmt = select(d).order_by(d.c.year.desc(), d.c.area_code, d.c.name)
        if area:
            stmt = stmt.where(like.starts_with(d.c.area_code, area))
        with self._engine.connect() as conn:
            return [row_of(DemonstrationRow, r) for r in conn.execute(stmt).mappings()]


def _penalty(r: RowMapping) -> PenaltyRow:
    return row_of(PenaltyRow, r)
