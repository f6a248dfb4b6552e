"""Partner platforms and the outbox of pushes (tables_tcec), outside the event log.

Writes go through the store's writer engine: on SQLite that keeps to one writer; each call
is one short transaction.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from chargenet.adapters.storage.tables_tcec import tcec_outbox, tcec_partners
from chargenet.app.interconnect import OutboxItem, PartnerRecord

_PARTNER_FIELDS = tuple(f.name for f in fields(PartnerRecord))
_ITEM_FIELDS = tuple(f.name for f in fields(OutboxItem))


class SqlPartnerStore:
    def __init__(self, writer: Engine, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader

    @staticmethod
    def _record(row: Any) -> PartnerRecord:
        return PartnerRecord(**{name: row[name] for name in _PARTNER_FIELDS})

    def partners(self) -> list[PartnerRecord]:
        with self._reader.connect() as conn:
            rows = conn.execute(select(tcec_partners).order_by(tcec_partners.c.partner_id))
            return [self._record(r) for r in rows.mappings()]

    def partner(self, partner_id: str) -> PartnerRecord | None:
        with self._reader.connect() as conn:
            row = (
                conn.execute(select(tcec_partners).where(tcec_partners.c.partner_id == partner_id))
                .mappings()
                .first()
            )
        return None if row is None else self._record(row)

    def save(self, record: PartnerRecord) -> None:
        values = asdict(record)
        with self._writer.begin() as conn:
            conn.execute(
                delete(tcec_partners).where(tcec_partners.c.partner_id == record.partner_id)
            )
            conn.execute(insert(tcec_partners).values(**values))

    def remove(self, partner_id: str) -> bool:
        with self._writer.begin() as conn:
            result = conn.execute(
                delete(tcec_partners).where(tcec_partners.c.partner_id == partner_id)
            )
        return bool(result.rowcount)

    def mark_pulled(self, partner_id: str, when: datetime) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                update(tcec_partners)
                .where(tcec_partners.c.partner_id == partner_id)
                .values(last_station_pull=when)
            )


class SqlOutbox:
    def __init__(self, writer: Engine, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader

    @staticmethod
    def _item(row: Any) -> OutboxItem:
        return OutboxItem(**{name: row[name] for name in _ITEM_FIELDS})

    def enqueue(
        self,
        partner_id: str,
        endpoint: str,
        payload: str,
        purpose: str,
        now: datetime,
        due: datetime,
    ) -> OutboxItem:
        values: dict[str, Any] = {
            "partner_id": partner_id,
            "endpoint": endpoint,
            "payload": payload,
            "purpose": purpose,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": due,
            "created_at": now,
        }
        with self._writer.begin() as conn:
            result = conn.execute(insert(tcec_outbox).values(**values).returning(tcec_outbox.c.id))
            return OutboxItem(id=int(result.scalar_one()), **values)

    def due(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        with self._reader.connect() as conn:
            rows = conn.execute(
                select(tcec_outbox)
                .where(tcec_outbox.c.state == "pending", tcec_outbox.c.next_attempt_at <= now)
                .order_by(tcec_outbox.c.next_attempt_at, tcec_outbox.c.id)
                .limit(limit)
            )
            return [self._item(r) for r in rows.mappings()]

    def next_due(self) -> datetime | None:
        with self._reader.connect() as conn:
            value: datetime | None = conn.execute(
                select(func.min(tcec_outbox.c.next_attempt_at)).where(
                    tcec_outbox.c.state == "pending"
                )
            ).scalar_one()
        return value

    def delivered(self, item_id: int, when: datetime, answer: str) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                update(tcec_outbox)
                .where(tcec_outbox.c.id == item_id)
                .values(
                    state="delivered",
                    attempts=tcec_outbox.c.attempts + 1,
                    answer=answer,
                    finished_at=when,
                )
            )

    def attempt_failed(
        self, item_id: int, when: datetime, error: str, retry_at: datetime | None
    ) -> None:
        values: dict[str, Any] = {
            "attempts": tcec_outbox.c.attempts + 1,
            "last_error": error[:2000],
        }
        if retry_at is None:
            values.update(state="failed", finished_at=when)
        else:
            values["next_attempt_at"] = retry_at
        with self._writer.begin() as conn:
            conn.execute(update(tcec_outbox).where(tcec_outbox.c.id == item_id).values(**values))

    def items(self, state: str | None = None, limit: int = 100) -> list[OutboxItem]:
        stmt = select(tcec_outbox).order_by(tcec_outbox.c.id.desc()).limit(limit)
        if state is not None:
            stmt = stmt.where(tcec_outbox.c.state == state)
        with self._reader.connect() as conn:
            return [self._item(r) for r in conn.execute(stmt).mappings()]
