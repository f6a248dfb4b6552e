"""Reads for battery-swap stations' supervision figures (R40)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import battery_swaps, swap_stations
from chargenet.adapters.storage.tables_supervision_data import swap_batteries, swap_status_history
from chargenet.analytics.supervision.swap import pack_figures, uptime_seconds
from chargenet.app.swap import PackRow, SwapFiguresRow, SwapOwnerRow
from chargenet.kit.timeutil import to_micros


class SwapReads:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = ReadModel(engine)

    def packs(self, swap_station_id: str) -> list[PackRow]:
        t = swap_batteries
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.swap_station_id == swap_station_id).order_by(t.c.pack_id)
            ).mappings()
            return [row_of(PackRow, r) for r in rows]

    def owner(self, swap_station_id: str) -> SwapOwnerRow | None:
        s = swap_stations
        with self._engine.connect() as conn:
            row = conn.execute(
                select(s.c.operator_id, s.c.area_code).where(s.c.swap_station_id == swap_station_id)
            ).first()
        return None if row is None else SwapOwnerRow(operator_id=row[0], area_code=row[1])

    def figures(
        self, area: str | None, operator: str | None, start: datetime, end: datetime
    ) -> list[SwapFiguresRow]:
        """Per swap station in service: swaps in [start, end) and per day, uptime from its
        status reports, and its packs (count, ready, faulty, mean SoH, worn)."""
        s = swap_stations
        days = max((end - start).total_seconds() / 86_400, 1e-9)
        start_us, end_us = to_micros(start), to_micros(end)
        with self._engine.connect() as conn:
            stmt = select(s.c.swap_station_id, s.c.name, s.c.operator_id).where(
                s.c.retired_at.is_(None)
            )
            if area:
                stmt = stmt.where(self._read.area_column(conn, area, s))
            if operator:
                stmt = stmt.where(s.c.operator_id == operator)
            stations = list(conn.execute(stmt.order_by(s.c.swap_station_id)).mappings())
            ids = [r["swap_station_id"] for r in stations]
            swaps: dict[str, int] = dict(
                conn.execute(
                    select(battery_swaps.c.swap_station_id, func.count())
                    .where(
                        battery_swaps.c.swap_station_id.in_(ids),
                        battery_swaps.c.occurred_at >= start,
                        battery_swaps.c.occurred_at < end,
                    )
                    .group_by(battery_swaps.c.swap_station_id)
                ).all()
            )
            h = swap_status_history
            reports: dict[str, list[tuple[int, str]]] = {}
            for sid, at, status in conn.execute(
                select(h.c.swap_station_id, h.c.at_us, h.c.status)
                .where(h.c.swap_station_id.in_(ids), h.c.at_us < end_us)
                .order_by(h.c.swap_station_id, h.c.at_us)
            ):
                reports.setdefault(sid, []).append((at, status))
            b = swap_batteries
            packs: dict[str, list[tuple[str, float | None]]] = {}
            for sid, state, soh in conn.execute(
                select(b.c.swap_station_id, b.c.state, b.c.soh_percent).where(
                    b.c.swap_station_id.in_(ids)
                )
            ):
                packs.setdefault(sid, []).append((state, soh))
        out = []
        for row in stations:
            sid = row["swap_station_id"]
            up, known = uptime_seconds(reports.get(sid, []), start_us, end_us)
            n = int(swaps.get(sid, 0))
            out.append(
                SwapFiguresRow(
                    swap_station_id=sid,
                    name=row["name"],
                    operator_id=row["operator_id"],
                    swaps=n,
                    swaps_per_day=round(n / days, 2),
                    uptime_percent=round(up / known * 100, 2) if known else None,
                    hours_with_status=round(known / 3600, 2),
                    **pack_figures(packs.get(sid, [])),
                )
            )
        return out
