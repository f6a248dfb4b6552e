"""Partner platforms (tables_tcec), outside the event log.

Writes go through the store's writer engine: on SQLite that keeps to one writer; each call
is one short transaction.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from chargenet.adapters.storage.tables_tcec import tcec_partners
from chargenet.app.interconnect import PartnerRecord

_PARTNER_FIELDS = tuple(f.name for f in fields(PartnerRecord))


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
