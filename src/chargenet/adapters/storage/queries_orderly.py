"""Read queries of orderly charging (app/orderly.py: OrderlyQueries)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, Table, bindparam, func, or_, select, text

from chargenet.adapters.storage.rollup import HOUR_US, meter_hours, meter_params
from chargenet.adapters.storage.schema import (
    chargers,
    connector_live,
    connectors,
    sessions,
    stations,
)
from chargenet.adapters.storage.tables_orderly import (
    charging_needs,
    dr_events,
    feeders,
    grid_connections,
    load_hourly,
    load_quarters,
)
from chargenet.adapters.storage.tables_supervision import meter_hourly
from chargenet.app.orderly import (
    ActiveSession,
    DemandResponse,
    FeederLimit,
    Holder,
    SiteHistory,
    SiteLimit,
    median_history,
)
from chargenet.app.orderly_figures import MeterHour
from chargenet.core.sessions import SessionState
from chargenet.kit.timeutil import from_micros, to_micros

CHUNK = 500


class OrderlyReads:
    def __init__(self, read_engine: Engine) -> None:
        self._read = read_engine

    def _in_force(self, t: Table, key: str, at: datetime) -> list[Row[Any]]:
        """Each key's row with the latest valid_from not after `at`."""
        latest = (
            select(t.c[key].label("k"), func.max(t.c.valid_from).label("v"))
            .where(t.c.valid_from <= at)
            .group_by(t.c[key])
            .subquery()
        )
        query = select(t).join(latest, (t.c[key] == latest.c.k) & (t.c.valid_from == latest.c.v))
        with self._read.connect() as conn:
            return list(conn.execute(query).all())

    def grid_connections(self, at: datetime) -> list[SiteLimit]:
        with self._read.connect() as conn:
            areas = dict(conn.execute(select(stations.c.station_id, stations.c.area_code)).all())
        return [
            SiteLimit(
                station_id=r.station_id,
                capacity_w=int(r.capacity_w),
                phases=int(r.phases),
                voltage_v=int(r.voltage_v),
                feeder_id=r.feeder_id,
                pv_peak_w=int(r.pv_peak_w),
                storage_power_w=int(r.storage_power_w),
                area_code=areas.get(r.station_id),
            )
            for r in self._in_force(grid_connections, "station_id", at)
        ]

    def feeders(self, at: datetime) -> list[FeederLimit]:
        return [
            FeederLimit(feeder_id=r.feeder_id, capacity_w=int(r.capacity_w), phases=int(r.phases))
            for r in self._in_force(feeders, "feeder_id", at)
        ]

    def active_sessions(self, station_ids: Sequence[str]) -> list[ActiveSession]:
        out: list[ActiveSession] = []
        ids = list(station_ids)
        with self._read.connect() as conn:
            for start in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    select(
                        sessions.c.session_id,
                        sessions.c.connector_id,
                        sessions.c.charger_id,
                        sessions.c.station_id,
                        sessions.c.started_at,
                        sessions.c.energy_wh,
                        chargers.c.protocol,
                        connectors.c.evse_no,
                        connectors.c.power_type,
                        connectors.c.max_power_w,
                        charging_needs.c.energy_wh.label("stated_energy_wh"),
                        charging_needs.c.departure_at,
                        charging_needs.c.max_power_w.label("stated_max_w"),
                        charging_needs.c.min_power_w.label("stated_min_w"),
                        charging_needs.c.discharge_max_w,
                        charging_needs.c.dischargeable_wh,
                    )
                    .join(connectors, connectors.c.connector_id == sessions.c.connector_id)
                    .join(chargers, chargers.c.charger_id == sessions.c.charger_id)
                    .outerjoin(charging_needs, charging_needs.c.session_id == sessions.c.session_id)
                    .where(
                        sessions.c.station_id.in_(ids[start : start + CHUNK]),
                        sessions.c.state == SessionState.ACTIVE.value,
                    )
                    .order_by(sessions.c.started_at, sessions.c.session_id)
                ).all()
                out += [
                    ActiveSession(
                        session_id=r.session_id,
                        connector_id=r.connector_id,
                        charger_id=r.charger_id,
                        station_id=r.station_id,
                        protocol=r.protocol,
                        evse_no=int(r.evse_no),
                        power_type=r.power_type,
                        max_power_w=int(r.max_power_w),
                        started_at=r.started_at,
                        energy_wh=r.energy_wh,
                        stated_energy_wh=r.stated_energy_wh,
                        departure_at=r.departure_at,
                        stated_max_w=r.stated_max_w,
                        stated_min_w=r.stated_min_w,
                        discharge_max_w=r.discharge_max_w,
                        dischargeable_wh=r.dischargeable_wh,
                    )
                    for r in rows
                ]
        return out

    def history(self, station_ids: Sequence[str], since: datetime) -> dict[str, SiteHistory]:
        found: dict[str, list[tuple[float, float]]] = {}
        ids = list(station_ids)
        with self._read.connect() as conn:
            for start in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    select(
                        sessions.c.station_id,
                        sessions.c.energy_wh,
                        sessions.c.started_at,
                        sessions.c.ended_at,
                    ).where(
                        sessions.c.station_id.in_(ids[start : start + CHUNK]),
                        sessions.c.started_at >= since,
                        sessions.c.ended_at.is_not(None),
                        sessions.c.energy_wh.is_not(None),
                    )
                ).all()
                for r in rows:
                    stay = (r.ended_at - r.started_at).total_seconds()
                    if stay > 0:
                        found.setdefault(r.station_id, []).append((float(r.energy_wh), stay))
        out = {}
        for station, values in found.items():
            typical = median_history(values)
            if typical is not None:
                out[station] = typical
        return out

    def owner(self, kind: str, ident: str) -> Holder | None:
        if kind == "station":
            query = select(stations.c.operator_id, stations.c.area_code, stations.c.station_id)
            query = query.where(stations.c.station_id == ident)
        elif kind == "session":
            query = (
                select(stations.c.operator_id, stations.c.area_code, stations.c.station_id)
                .join(sessions, sessions.c.station_id == stations.c.station_id)
                .where(sessions.c.session_id == ident)
            )
        else:
            return None
        with self._read.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else Holder(row.operator_id, row.area_code, row.station_id)

    def live_power(self, station_id: str) -> dict[str, int]:
        query = (
            select(connector_live.c.connector_id, connector_live.c.power_w)
            .join(connectors, connectors.c.connector_id == connector_live.c.connector_id)
            .where(connectors.c.station_id == station_id, connector_live.c.power_w.is_not(None))
        )
        with self._read.connect() as conn:
            return {r.connector_id: int(r.power_w) for r in conn.execute(query)}

    def demand_response(self, start: datetime, end: datetime) -> list[DemandResponse]:
        query = select(dr_events).where(dr_events.c.start_at < end, dr_events.c.end_at > start)
        with self._read.connect() as conn:
            return [
                DemandResponse(
                    dr_id=r.dr_id,
                    scope=r.scope,
                    scope_id=r.scope_id,
                    start=r.start_at,
                    end=r.end_at,
                    share=float(r.share),
                    program=r.program,
                )
                for r in conn.execute(query)
            ]

    def ended_sessions(
        self,
        start: datetime,
        end: datetime,
        area: str | None,
        operator: str | None,
        station: str | None = None,
    ) -> list[tuple[str, datetime, datetime, int]]:
        query = (
            select(
                sessions.c.operator_id,
                sessions.c.started_at,
                sessions.c.ended_at,
                sessions.c.energy_wh,
            )
            .join(stations, stations.c.station_id == sessions.c.station_id)
            .where(
                sessions.c.ended_at >= start,
                sessions.c.ended_at < end,
                sessions.c.energy_wh > 0,
            )
        )
        if operator is not None:
            query = query.where(sessions.c.operator_id == operator)
        if station is not None:
            query = query.where(sessions.c.station_id == station)
        if area is not None:
            query = query.where(
                or_(
                    stations.c.area_code == area,
                    *(stations.c[c] == area for c in ("province_code", "city_code", "county_code")),
                )
            )
        with self._read.connect() as conn:
            return [
                (r.operator_id, r.started_at, r.ended_at, int(r.energy_wh))
                for r in conn.execute(query)
            ]

    # --- load over time (app/orderly_figures.py: LoadQueries) -------------------------------

    def load(
        self,
        station_ids: Sequence[str],
        start: datetime,
        end: datetime,
        only: Sequence[datetime] | None = None,
    ) -> dict[str, dict[datetime, float]]:
        """Each station's metered load (W) per quarter hour in [start, end) (only at the
        quarters starting at `only`, when given): the sum of its connectors' mean samples."""
        q = load_quarters
        out: dict[str, dict[datetime, float]] = {}
        ids = list(station_ids)
        when = [q.c.at_us >= to_micros(start), q.c.at_us < to_micros(end)]
        if only is not None:
            when.append(q.c.at_us.in_(sorted({to_micros(at) for at in only})))
        with self._read.connect() as conn:
            for first in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    select(q.c.station_id, q.c.at_us, func.sum(q.c.sum_w * 1.0 / q.c.samples))
                    .where(q.c.station_id.in_(ids[first : first + CHUNK]), *when)
                    .group_by(q.c.station_id, q.c.at_us)
                ).all()
                for station, at_us, watts in rows:
                    out.setdefault(station, {})[from_micros(at_us)] = float(watts)
        return out

    def hourly_load(
        self, station_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, dict[datetime, tuple[float, float, datetime]]]:
        """Each station's load per hour starting in [start, end) from the hourly roll-up
        (what outlives the quarters' retention): (mean W over the hour's four quarters, the
        highest quarter's W, when that quarter began)."""
        h = load_hourly
        out: dict[str, dict[datetime, tuple[float, float, datetime]]] = {}
        ids = list(station_ids)
        with self._read.connect() as conn:
            for first in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    select(h.c.station_id, h.c.at_us, h.c.load_w_sum, h.c.peak_w, h.c.peak_at_us)
                    .where(
                        h.c.station_id.in_(ids[first : first + CHUNK]),
                        h.c.at_us >= to_micros(start),
                        h.c.at_us < to_micros(end),
                    )
                    .order_by(h.c.station_id, h.c.at_us)
                ).all()
                for station, at_us, total, peak, peak_at in rows:
                    out.setdefault(station, {})[from_micros(at_us)] = (
                        total / 4,
                        peak,
                        from_micros(peak_at),
                    )
        return out

    def station_connectors(self, station_id: str) -> list[str]:
        with self._read.connect() as conn:
            return list(
                conn.execute(
                    select(connectors.c.connector_id)
                    .where(connectors.c.station_id == station_id)
                    .order_by(connectors.c.connector_id)
                ).scalars()
            )

    def hourly_energy(
        self, connector_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, dict[datetime, MeterHour]]:
        """Each connector's energy, highest power and samples per UTC hour wholly in
        [start, end), hours with samples only: from its samples where they are kept, from
        the hourly roll-up where retention has dropped them."""
        lo = to_micros(start) + (-to_micros(start)) % HOUR_US  # the first whole hour
        hi = to_micros(end) - to_micros(end) % HOUR_US
        out: dict[str, dict[datetime, MeterHour]] = {}
        if hi <= lo:
            return out
        ids = list(connector_ids)
        h = meter_hourly
        fresh = text(meter_hours(True)).bindparams(bindparam("ids", expanding=True))
        with self._read.connect() as conn:
            for first in range(0, len(ids), CHUNK):
                chunk = ids[first : first + CHUNK]
                rolled = conn.execute(
                    select(
                        h.c.connector_id, h.c.at_us, h.c.energy_wh, h.c.max_power_w, h.c.samples
                    ).where(h.c.connector_id.in_(chunk), h.c.at_us >= lo, h.c.at_us < hi)
                ).all()
                kept = conn.execute(fresh, {**meter_params(lo, hi), "ids": chunk}).all()
                for cid, at_us, wh, watts, n in [*rolled, *kept]:
                    hours = out.setdefault(cid, {})
                    at = from_micros(at_us)
                    # An hour both rolled up and with samples kept: the samples count, a
                    # late one included, unless they are fewer than the roll-up's (samples
                    # that came after retention dropped the rest of the hour's).
                    had = hours.get(at)
                    if had is None or int(n) >= had.samples:
                        hours[at] = MeterHour(
                            int(wh), None if watts is None else int(watts), int(n)
                        )
        return {cid: dict(sorted(hours.items())) for cid, hours in out.items()}

    def limit_history(self, station_ids: Sequence[str]) -> dict[str, list[tuple[datetime, int]]]:
        """Each station's stated limits (capacity + storage power) by `valid_from`, oldest
        first."""
        g = grid_connections
        out: dict[str, list[tuple[datetime, int]]] = {}
        ids = list(station_ids)
        with self._read.connect() as conn:
            for first in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    select(g.c.station_id, g.c.valid_from, g.c.capacity_w + g.c.storage_power_w)
                    .where(g.c.station_id.in_(ids[first : first + CHUNK]))
                    .order_by(g.c.station_id, g.c.valid_from)
                ).all()
                for station, valid_from, watts in rows:
                    out.setdefault(station, []).append((valid_from, int(watts)))
        return out

    def arrivals(self, station_ids: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """When each station's sessions began, since a time."""
        out: dict[str, list[datetime]] = {}
        ids = list(station_ids)
        with self._read.connect() as conn:
            for first in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    select(sessions.c.station_id, sessions.c.started_at).where(
                        sessions.c.station_id.in_(ids[first : first + CHUNK]),
                        sessions.c.started_at >= since,
                    )
                ).all()
                for station, started in rows:
                    out.setdefault(station, []).append(started)
        return out

    def sites(self, station_ids: Sequence[str]) -> dict[str, tuple[str, str, float]]:
        """(name, operator, median connector power W) of each station."""
        out: dict[str, tuple[str, str, float]] = {}
        ids = list(station_ids)
        with self._read.connect() as conn:
            for first in range(0, len(ids), CHUNK):
                chunk = ids[first : first + CHUNK]
                powers: dict[str, list[int]] = {}
                for station, power in conn.execute(
                    select(connectors.c.station_id, connectors.c.max_power_w).where(
                        connectors.c.station_id.in_(chunk)
                    )
                ):
                    powers.setdefault(station, []).append(int(power or 0))
                for station, name, operator in conn.execute(
                    select(stations.c.station_id, stations.c.name, stations.c.operator_id).where(
                        stations.c.station_id.in_(chunk)
                    )
                ):
                    values = sorted(powers.get(station, [0]))
                    out[station] = (name, operator, float(values[len(values) // 2]))
        return out
