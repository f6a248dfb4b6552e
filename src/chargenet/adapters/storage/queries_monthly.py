"""Reads of the monthly report (R16) about supervision: per part of an area, the alarms,
zombie cases and stop orders of a month — raised (opened, issued) in it, and open (in
force) at its end — counted from the tables' own times, so a past month reads as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select, type_coerce

from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.schema import alarms, stations
from chargenet.adapters.storage.tables_supervision import stop_orders, zombie_cases
from chargenet.adapters.storage.types import UtcDateTime
from chargenet.app.monthly import OversightCountsRow

LEVELS = ("province", "city", "county", "township", "village")


def _open_at(start_col: Any, end_col: Any, end: datetime) -> ColumnElement[bool]:
    at = type_coerce(end, UtcDateTime)
    return and_(start_col < at, or_(end_col.is_(None), end_col >= at))


def _within(col: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(col >= type_coerce(start, UtcDateTime), col < type_coerce(end, UtcDateTime))


class MonthlyReads:
    def __init__(self, engine: Engine, read: ReadModel) -> None:
        self._engine = engine
        self._read = read

    def oversight_counts(
        self, area_code: str, level: str, start: datetime, end: datetime
    ) -> dict[str, OversightCountsRow]:
        """Per area of `level` inside `area_code` (its code as key; the area itself when
        `level` is its own): alarms raised in [start, end) and open at `end`, zombie cases
        opened and open, stop orders issued and in force."""
        if level not in LEVELS:
            raise ValueError(f"level is one of {', '.join(LEVELS)}, not {level!r}")
        key = stations.c[f"{level}_code"]
        counted = (
            (
                alarms,
                alarms.c.raised_at,
                alarms.c.cleared_at,
                "alarms_raised",
                "alarms_open",
            ),
            (
                zombie_cases,
                zombie_cases.c.detected_at,
                zombie_cases.c.closed_at,
                "zombies_opened",
                "zombies_open",
            ),
            (
                stop_orders,
                stop_orders.c.issued_at,
                stop_orders.c.lifted_at,
                "stops_issued",
                "stops_in_force",
            ),
        )
        found: dict[str, dict[str, int]] = {}
        with self._engine.connect() as conn:
            inside = self._read.area_column(conn, area_code, stations)
            for table, began, ended, new_name, open_name in counted:
                stmt = (
                    select(
                        key,
                        func.count().filter(_within(began, start, end)),
                        func.count().filter(_open_at(began, ended, end)),
                    )
                    .select_from(table.join(stations, stations.c.station_id == table.c.station_id))
                    .where(inside, began < type_coerce(end, UtcDateTime))
                    .group_by(key)
                )
                for code, new, still in conn.execute(stmt):
                    if code is None:
                        continue
                    row = found.setdefault(code, {})
                    row[new_name] = int(new)
                    row[open_name] = int(still)
        return {
            code: OversightCountsRow(
                alarms_raised=row.get("alarms_raised", 0),
                alarms_open=row.get("alarms_open", 0),
                zombies_opened=row.get("zombies_opened", 0),
                zombies_open=row.get("zombies_open", 0),
                stops_issued=row.get("stops_issued", 0),
                stops_in_force=row.get("stops_in_force", 0),
            )
            for code, row in found.items()
        }
