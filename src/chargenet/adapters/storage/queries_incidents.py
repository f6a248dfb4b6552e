"""Reads for safety incidents (R33): the incidents in a scope, and the log's events about
what an incident happened at, for its timeline (app/incidents.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, RowMapping, func, or_, select

from chargenet.adapters import codec
from chargenet.adapters.storage import like
from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import chargers, connectors, events, stations
from chargenet.adapters.storage.tables_supervision_data import incidents
from chargenet.app.incidents import IncidentRow, LogEntry


class IncidentReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = ReadModel(engine)

    def incident(self, incident_id: str) -> IncidentRow | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(incidents).where(incidents.c.incident_id == incident_id))
                .mappings()
                .first()
            )
        return None if row is None else _incident(row)

    def incidents(
        self, area: str | None, operator: str | None, limit: int, offset: int
    ) -> tuple[list[IncidentRow], int]:
        with self._engine.connect() as conn:
            base = select(incidents).select_from(
                incidents.join(stations, stations.c.station_id == incidents.c.station_id)
            )
            if area:
                base = base.where(self._read.area_column(conn, area, stations))
            if operator:
                base = base.where(incidents.c.operator_id == operator)
            total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
            rows = conn.execute(
                base.order_by(incidents.c.occurred_at.desc(), incidents.c.incident_id)
                .limit(limit)
                .offset(offset)
            ).mappings()
            return [_incident(r) for r in rows], int(total)

    def equipment_of(self, station_id: str) -> tuple[list[str], list[str]]:
        """(charger ids, connector ids) ever registered at a station."""
        with self._engine.connect() as conn:
            chs = conn.execute(
                select(chargers.c.charger_id).where(chargers.c.station_id == station_id)
            ).scalars()
            cons = conn.execute(
                select(connectors.c.connector_id).where(connectors.c.station_id == station_id)
            ).scalars()
            return list(chs), list(cons)

    def _first_seq_received_from(self, conn: Any, when: datetime) -> int:
        """The first log position received at or after `when`: a binary search over `seq`
        by point lookups (the log is appended in order of receipt; `received_at` has no
        index of its own, and the hot path should not pay for one)."""
        lo = conn.execute(select(func.min(events.c.seq))).scalar() or 0
        hi = conn.execute(select(func.max(events.c.seq))).scalar() or 0
        if not hi:
            return 0
        while lo < hi:
            mid = (lo + hi) // 2
            at = conn.execute(
                select(events.c.received_at)
                .where(events.c.seq >= mid)
                .order_by(events.c.seq)
                .limit(1)
            ).scalar()
            if at is None or at >= when:
                hi = mid
            else:
                lo = mid + 1
        return int(lo)

    def log_about(
        self,
        types: Sequence[str],
        names: Sequence[str],
        start: datetime,
        end: datetime,
        received_from: datetime,
        limit: int,
    ) -> list[LogEntry]:
        """Events of `types` that occurred in [start, end] naming any of `names` (their
        payload holds the id), received since `received_from`; oldest first."""
        if not names:
            return []
        with self._engine.connect() as conn:
            first = self._first_seq_received_from(conn, received_from)
            stmt = (
                select(
                    events.c.seq,
                    events.c.event_id,
                    events.c.type,
                    events.c.version,
                    events.c.payload,
                )
                .where(
                    events.c.seq >= first,
                    events.c.type.in_(list(types)),
                    events.c.occurred_at >= start,
                    events.c.occurred_at <= end,
                    or_(*(like.contains(events.c.payload, f'"{n}"') for n in names)),
                )
                .order_by(events.c.occurred_at, events.c.seq)
                .limit(limit)
            )
            rows = conn.execute(stmt).all()
        out = []
        for seq, event_id, kind, version, payload in rows:
            event = codec.decode(kind, version, payload)
            out.append({"seq": seq, **codec.to_builtins(event), "type": kind, "event_id": event_id})
        return out


def _incident(r: RowMapping) -> IncidentRow:
    return row_of(IncidentRow, r)
