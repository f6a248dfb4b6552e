"""Where the interface-compliance record is written and read (app/compliance.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from chargenet.adapters.storage.projections._sql import _insert_for
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.tables_supervision_data import (
    interface_refusals,
    interface_traffic,
)
from chargenet.app.compliance import Refusal, RefusalRow, TrafficKey


class SqlInterfaceLog:
    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self._engine = engine
        self._read = read_engine or engine

    def record(self, counts: Sequence[tuple[TrafficKey, int]], refusals: Sequence[Refusal]) -> None:
        with self._engine.begin() as conn:
            for key, n in counts:
                values = {
                    "protocol": key.protocol,
                    "partner_id": key.partner_id,
                    "day": key.day,
                    "endpoint": key.endpoint,
                    "ret": key.ret,
                    "operator_id": key.operator_id,
                    "messages": n,
                }

                stmt = _insert_for(conn, interface_traffic).values(values)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["protocol", "partner_id", "day", "endpoint", "ret"],
                        set_={"messages": interface_traffic.c.messages + stmt.excluded.messages},
                    )
                )
            if refusals:
                conn.execute(
                    insert(interface_refusals),
                    [
                        {
                            "protocol": r.protocol,
                            "partner_id": r.partner_id,
                            "operator_id": r.operator_id,
                            "at": r.at,
                            "endpoint": r.endpoint,
                            "ret": r.ret,
                            "reason": r.reason,
                        }
                        for r in refusals
                    ],
                )

    def refusals(self, partner_id: str | None, limit: int = 100) -> list[RefusalRow]:
        t = interface_refusals
        query = select(t).order_by(t.c.at.desc(), t.c.refusal_id.desc()).limit(limit)
        if partner_id is not None:
            query = query.where(t.c.partner_id == partner_id)
        with self._read.connect() as conn:
            return [row_of(RefusalRow, r) for r in conn.execute(query).mappings()]


def compliance_by_operator(
    conn: Any, start: datetime, end: datetime, operators: Sequence[str] | None = None
) -> dict[str, tuple[int, int]]:
    """operator → (accepted messages, refused messages) over the UTC days of [start, end)."""
    t = interface_traffic
    query = (
        select(
            t.c.operator_id,
            func.sum(t.c.messages).filter(t.c.ret == 0),
            func.sum(t.c.messages).filter(t.c.ret != 0),
        )
        .where(t.c.day >= start.date(), t.c.day <= (end - timedelta(microseconds=1)).date())
        .group_by(t.c.operator_id)
    )
    if operators is not None:
        query = query.where(t.c.operator_id.in_(list(operators)))
    return {op: (int(ok or 0), int(bad or 0)) for op, ok, bad in conn.execute(query)}
