"""Operators' channels (app/channels.py) in `operator_channels`."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from chargenet.adapters.storage.projections._sql import _insert_for
from chargenet.adapters.storage.schema import orders
from chargenet.adapters.storage.tables_supervision_data import operator_channels
from chargenet.app.channels import ChannelRecord


class SqlChannelStore:
    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self._engine = engine
        self._read = read_engine or engine

    def channel(self, operator_id: str) -> ChannelRecord | None:
        t = operator_channels
        with self._read.connect() as conn:
            row = conn.execute(select(t).where(t.c.operator_id == operator_id)).first()
        if row is None:
            return None
        m = row._mapping
        return ChannelRecord(
            operator_id=m["operator_id"],
            url=m["url"],
            secret_sealed=m["secret_sealed"],
            enabled=m["enabled"],
            updated_at=m["updated_at"],
        )

    def save(self, record: ChannelRecord) -> None:
        values = {
            "operator_id": record.operator_id,
            "url": record.url,
            "secret_sealed": record.secret_sealed,
            "enabled": record.enabled,
            "updated_at": record.updated_at,
        }
        with self._engine.begin() as conn:
            stmt = _insert_for(conn, operator_channels).values(values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["operator_id"],
                    set_={k: stmt.excluded[k] for k in values if k != "operator_id"},
                )
            )

    def remove(self, operator_id: str) -> bool:
        with self._engine.begin() as conn:
            done = conn.execute(
                delete(operator_channels).where(operator_channels.c.operator_id == operator_id)
            )
        return bool(done.rowcount)

    def order_operator(self, order_id: str) -> str | None:
        with self._read.connect() as conn:
            row = conn.execute(
                select(orders.c.operator_id).where(orders.c.order_id == order_id)
            ).first()
        return None if row is None else row[0]
