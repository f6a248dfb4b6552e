"""What orderly charging shows officials and the grid: a site's or an area's metered load
against its limit over time with the demand-response events in it, the load a VEN
reports and its baseline, each event's measured shed against what it asked for, the load
that could be shed or shifted in the next hours, and the month's figures for the monthly
report (docs/orderly.md). Computations are `analytics/demand_response.py`'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from chargenet.analytics.demand_response import (
    LOOKBACK_DAYS,
    QUARTER,
    baseline_w,
    expected_arrivals,
    flexible_w,
    measure_shed,
    quarter_floor,
    quarters,
    same_time_on,
    similar_days,
)
from chargenet.app.orderly import ActiveSession, DemandResponse, OrderlyService, SiteLimit
from chargenet.app.queries import AreaBriefRow
from chargenet.core.areas import official_prefix
from chargenet.core.errors import UnknownReference

Row = dict[str, Any]
HOUR_S = 3600.0
ONLY_MAX = 2_000  # quarters read by list; beyond, the whole span
ARRIVAL_FLOOR_W = 22_000  # above this a connector is taken as DC for an expected arrival


class MeterHour(NamedTuple):
    """A connector's metering in an hour (adapters/storage/rollup.py says how it counts)."""

    energy_wh: int
    max_power_w: int | None
    samples: int


class LoadQueries(Protocol):
    def load(
        self,
        station_ids: Sequence[str],
        start: datetime,
        end: datetime,
        only: Sequence[datetime] | None = None,
    ) -> dict[str, dict[datetime, float]]:
        """Each station's metered load (W) per quarter hour starting in [start, end), only
        at the quarters starting at `only` when given."""
        ...

    def limit_history(self, station_ids: Sequence[str]) -> dict[str, list[tuple[datetime, int]]]:
        """Each station's limits (W) by the time they took effect, oldest first."""
        ...

    def arrivals(self, station_ids: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """When each station's sessions began, since a time."""
        ...

    def sites(self, station_ids: Sequence[str]) -> dict[str, tuple[str, str, float]]:
        """(name, operator, median connector power W) of each station."""
        ...

    def station_connectors(self, station_id: str) -> list[str]:
        """The station's connectors."""
        ...

    def hourly_energy(
        self, connector_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, dict[datetime, MeterHour]]:
        """Each connector's metering per UTC hour wholly in [start, end), hours with
        samples only."""
        ...


def in_area(code: str | None, area: str | None) -> bool:
    return area is None or (code is not None and code.startswith(official_prefix(area)))


def limit_at(history: Sequence[tuple[datetime, int]], at: datetime) -> int:
    """The limit in force at a time (0 before the first statement)."""
    out = 0
    for valid_from, watts in history:
        if valid_from > at:
            break
        out = watts
    return out


@dataclass
class OrderlyFigures:
    orderly: OrderlyService
    loads: LoadQueries

    # --- which sites --------------------------------------------------------------------

    def managed(
        self,
        area: str | None = None,
        station: str | None = None,
        operator: str | None = None,
        at: datetime | None = None,
    ) -> list[SiteLimit]:
        """The managed stations (with a stated grid connection) in an area, or one."""
        sites = [
            s
            for s in self.orderly.queries.grid_connections(at or self.orderly.clock.now())
            if in_area(s.area_code, area) and (station is None or s.station_id == station)
        ]
        if operator is not None:
            facts = self.loads.sites([s.station_id for s in sites])
            sites = [s for s in sites if facts.get(s.station_id, ("", "", 0.0))[1] == operator]
        if station is not None and not sites:
            raise UnknownReference("grid connection of station", station)
        return sites

    def summed_load(
        self,
        station_ids: Sequence[str],
        start: datetime,
        end: datetime,
        only: Sequence[datetime] | None = None,
    ) -> dict[datetime, float]:
        total: dict[datetime, float] = {}
        for per_station in self.loads.load(station_ids, start, end, only).values():
            for at, watts in per_station.items():
                total[at] = total.get(at, 0.0) + watts
        return total

    # --- load against the limit ---------------------------------------------------------

    def energy_by_hour(self, station: str, start: datetime, end: datetime) -> Row:
        """A station's energy delivered per hour of a period from its meters, in all and
        per connector (with each connector's highest power sampled and its samples): what
        the meter history keeps, and the hourly roll-up after it."""
        hours = self.loads.hourly_energy(self.loads.station_connectors(station), start, end)
        total: dict[datetime, int] = {}
        for metered in hours.values():
            for hour, m in metered.items():
                total[hour] = total.get(hour, 0) + m.energy_wh
        return {
            "station_id": station,
            "start": start,
            "end": end,
            "energy_wh": sum(total.values()),
            "hours": [{"hour": h, "energy_wh": wh} for h, wh in sorted(total.items())],
            "connectors": {
                cid: [
                    {
                        "hour": h,
                        "energy_wh": m.energy_wh,
                        "max_power_w": m.max_power_w,
                        "samples": m.samples,
                    }
                    for h, m in metered.items()
                ]
                for cid, metered in sorted(hours.items())
            },
        }

    def load_curve(
        self,
        start: datetime,
        end: datetime,
        area: str | None = None,
        station: str | None = None,
        operator: str | None = None,
    ) -> Row:
        """Per quarter hour: metered load, the sites' limit and the limit under
        demand-response events; the events; the peak; the valley share."""
        sites = self.managed(area, station, operator)
        ids = [s.station_id for s in sites]
        limits = self.loads.limit_history(ids)
        events = [
            e
            for e in self.orderly.queries.demand_response(start, end)
            if any(e.covers(s) for s in sites)
        ]
        window = quarters(start, end)
        load = self.summed_load(ids, start, end)
        # The sites' limits together: each statement changes the sum by its difference.
        changes: list[tuple[datetime, int]] = []
        for history in limits.values():
            before = 0
            for valid_from, watts in history:
                changes.append((valid_from, watts - before))
                before = watts
        changes.sort()
        # What events take off the limit, only where an event covers a site.
        taken: dict[datetime, float] = {}
        for site in sites:
            mine = [e for e in events if e.covers(site)]
            history = limits.get(site.station_id, [])
            for q in window:
                shares = [e.share for e in mine if e.start < q + QUARTER and e.end > q]
                if shares:
                    taken[q] = taken.get(q, 0.0) + limit_at(history, q) * (1 - min(shares))
        points: list[Row] = []
        peak_w, peak_at, limit, n = 0.0, None, 0, 0
        for q in window:
            while n < len(changes) and changes[n][0] <= q:
                limit += changes[n][1]
                n += 1
            drawn = load.get(q, 0.0)
            if drawn > peak_w:
                peak_w, peak_at = drawn, q
            points.append(
                {
                    "at": q,
                    "load_w": round(drawn),
                    "limit_w": limit,
                    "dr_limit_w": round(limit - taken[q]) if taken.get(q) else None,
                }
            )
        valley = None
        if self.orderly.tou is not None:
            valley = self.orderly.valley_share(
                start, end, area if station is None else None, operator, station
            )["valley_share"]
        return {
            "start": start,
            "end": end,
            "area": area,
            "station_id": station,
            "stations": len(sites),
            "sites": [
                {"station_id": i, "name": name}
                for i, (name, _, _) in sorted(self.loads.sites(ids).items())
            ],
            "points": points,
            "peak_w": round(peak_w),
            "peak_at": peak_at,
            "dr_events": [_event_row(e) for e in sorted(events, key=lambda e: e.start)],
            "valley_share": valley,
        }

    # --- what a VEN reports -------------------------------------------------------------

    def event_days(self, sites: Sequence[SiteLimit], start: datetime, end: datetime) -> set[date]:
        """Local days on which a demand-response event covered any of the sites (left out
        of baselines: CAISO's non-event days)."""
        zone = self.orderly.zone
        days: set[date] = set()
        for e in self.orderly.queries.demand_response(start, end):
            if any(e.covers(s) for s in sites):
                day = e.start.astimezone(zone).date()
                while day <= e.end.astimezone(zone).date():
                    days.add(day)
                    day += timedelta(days=1)
        return days

    def baseline_load(
        self, ids: Sequence[str], window: Sequence[datetime], excluded: set[date]
    ) -> dict[datetime, float]:
        """The summed load at the quarters the 10-in-10 baseline of `window` reads (the
        same quarters of the similar days) and in the window itself."""
        zone = self.orderly.zone
        wanted = set(window)
        for q in window:
            for day in similar_days(q.astimezone(zone).date(), excluded):
                wanted.add(same_time_on(q, day, zone))
        if not wanted:
            return {}
        # A long event reads the whole span rather than a list too long for one statement.
        only = sorted(wanted) if len(wanted) <= ONLY_MAX else None
        return self.summed_load(ids, min(wanted), max(wanted) + QUARTER, only)

    def baseline_now_w(self) -> float:
        """The 10-in-10 baseline of every managed station for the current quarter hour (a
        VEN asks every minute: only the quarters it needs are read)."""
        now = self.orderly.clock.now()
        sites = self.managed()
        q = quarter_floor(now)
        excluded = self.event_days(sites, q - timedelta(days=LOOKBACK_DAYS + 1), q)
        load = self.baseline_load([s.station_id for s in sites], [q], excluded)
        return baseline_w(load, [q], self.orderly.zone, excluded)[0]

    # --- demand response measured -------------------------------------------------------

    def dr_performance(self, start: datetime, end: datetime, area: str | None = None) -> list[Row]:
        """Each demand-response event overlapping [start, end) at stations in the area:
        its target, the baseline, the measured load, requested and measured shed."""
        now = self.orderly.clock.now()
        out = []
        events = sorted(self.orderly.queries.demand_response(start, end), key=lambda e: e.start)
        for e in events:
            sites = [s for s in self.managed(area, at=e.start) if e.covers(s)]
            if not sites:
                continue  # an event elsewhere, or on stations no longer managed
            ids = [s.station_id for s in sites]
            limits = self.loads.limit_history(ids)
            limit = sum(limit_at(limits.get(i, []), e.start) for i in ids)
            since = e.start - timedelta(days=LOOKBACK_DAYS + 1)
            excluded = self.event_days(sites, since, e.start)
            load = self.baseline_load(ids, quarters(e.start, min(e.end, now)), excluded)
            shed = measure_shed(
                load, e.start, e.end, e.share * limit, self.orderly.zone, excluded, now
            )
            performance = shed.performance
            out.append(
                {
                    **_event_row(e),
                    "stations": len(ids),
                    "limit_w": limit,
                    "target_w": round(shed.target_w),
                    "baseline_w": round(shed.baseline_w),
                    "measured_w": round(shed.measured_w),
                    "requested_shed_w": round(shed.requested_w),
                    "measured_shed_w": round(shed.shed_w),
                    "performance_percent": (
                        None if performance is None else round(100 * performance, 1)
                    ),
                    "complete": e.end <= now,
                }
            )
        return out

    # --- flexibility ahead ----------------------------------------------------------------

    def flexibility(
        self,
        area: str | None = None,
        station: str | None = None,
        hours: int = 12,
        operator: str | None = None,
    ) -> Row:
        """Per hour ahead: what the sessions plugged in and the arrivals the sites' own
        history expects would draw charging at full power, and how much of it could be shed
        or shifted and still be delivered before they leave."""
        now = self.orderly.clock.now()
        sites = self.managed(area, station, operator)
        by_id = {s.station_id: s for s in sites}
        ids = list(by_id)
        queries = self.orderly.queries
        history = queries.history(ids, now - timedelta(days=30))
        starts = self.loads.arrivals(ids, now - timedelta(days=LOOKBACK_DAYS + 1))
        facts = self.loads.sites(ids)
        # [station][hour] = [expected from sessions, flexible from sessions, … arrivals]
        cells = {i: [[0.0, 0.0, 0.0, 0.0] for _ in range(hours)] for i in ids}
        for s in queries.active_sessions(ids):
            need = self.orderly.need(s, by_id[s.station_id], history.get(s.station_id), now)
            for h in range(hours):
                drawn, flexible = flexible_w(
                    need.max_w, need.energy_wh, 0.0, need.departure_s, h * HOUR_S, (h + 1) * HOUR_S
                )
                cells[s.station_id][h][0] += drawn
                cells[s.station_id][h][1] += flexible
        for i in ids:
            power = facts.get(i, ("", "", 0.0))[2]
            if power <= 0:
                continue
            for k in range(hours):
                window = now + timedelta(hours=k)
                count = expected_arrivals(
                    starts.get(i, []), window, window + timedelta(hours=1), self.orderly.zone
                )
                if count == 0:
                    continue
                # An expected arrival is planned like a session that began mid-hour with
                # nothing stated: the site's typical energy and stay.
                arrival = window + timedelta(minutes=30)
                typical = ActiveSession(
                    session_id="expected",
                    connector_id="",
                    charger_id="",
                    station_id=i,
                    protocol=None,
                    evse_no=1,
                    power_type="DC" if power > ARRIVAL_FLOOR_W else "AC",
                    max_power_w=int(power),
                    started_at=arrival,
                )
                need = self.orderly.need(typical, by_id[i], history.get(i), arrival)
                plugged = (k + 0.5) * HOUR_S
                for h in range(k, hours):
                    drawn, flexible = flexible_w(
                        need.max_w,
                        need.energy_wh,
                        plugged,
                        plugged + need.departure_s,
                        h * HOUR_S,
                        (h + 1) * HOUR_S,
                    )
                    cells[i][h][2] += count * drawn
                    cells[i][h][3] += count * flexible
        limits = self.loads.limit_history(ids)
        rows = []
        for h in range(hours):
            at = now + timedelta(hours=h)
            totals = [0.0, 0.0, 0.0, 0.0]
            limit_sum = 0
            for i in ids:
                cell = cells[i][h]
                limit = limit_at(limits.get(i, []), at)
                limit_sum += limit
                # Uncontrolled charging beyond the site's limit cannot happen: scaled to it.
                drawn = cell[0] + cell[2]
                scale = min(1.0, limit / drawn) if drawn > 0 else 1.0
                for n in range(4):
                    totals[n] += cell[n] * scale
            rows.append(
                {
                    "start": at,
                    "end": at + timedelta(hours=1),
                    "expected_w": round(totals[0] + totals[2]),
                    "flexible_w": round(totals[1] + totals[3]),
                    "from_sessions_w": round(totals[1]),
                    "from_arrivals_w": round(totals[3]),
                    "limit_w": limit_sum,
                }
            )
        return {"area": area, "station_id": station, "stations": len(ids), "hours": rows}

    # --- the month (monthly report) -------------------------------------------------------

    def monthly_orderly(
        self, area: AreaBriefRow, parts: Sequence[AreaBriefRow], start: datetime, end: datetime
    ) -> Row:
        """Valley share per part of the area and per operator, peak load per part and per
        managed site, and each demand-response event's performance, over [start, end)."""
        code = area["code"]
        valley: list[Row] = []
        operators: list[Row] = []
        if self.orderly.tou is not None:
            whole = self.orderly.valley_share(start, end, code, None)
            for part in parts:
                share = self.orderly.valley_share(start, end, part["code"], None)
                valley.append(_named(part) | _valley(share))
            valley.append(_named(area) | _valley(whole) | {"total": True})
            operators = whole["operators"]
        sites = self.managed(code, at=end)
        ids = [s.station_id for s in sites]
        per_station = self.loads.load(ids, start, end)
        limits = self.loads.limit_history(ids)
        facts = self.loads.sites(ids)
        peaks = []
        for part, total in [*((p, False) for p in parts), (area, True)]:
            summed: dict[datetime, float] = {}
            for s in sites:
                if in_area(s.area_code, part["code"]):
                    for q, w in per_station.get(s.station_id, {}).items():
                        summed[q] = summed.get(q, 0.0) + w
            top_at, top_w = _highest(summed)
            peaks.append(
                _named(part)
                | {"peak_w": round(top_w) if top_at else None, "peak_at": top_at}
                | ({"total": True} if total else {})
            )
        site_rows: list[Row] = []
        for s in sites:
            loads = per_station.get(s.station_id, {})
            at, watts = _highest(loads)
            limit = limit_at(limits.get(s.station_id, []), at or end)
            name, operator, _ = facts.get(s.station_id, ("", "", 0.0))
            site_rows.append(
                {
                    "code": s.station_id,
                    "name_zh": name,
                    "operator_id": operator,
                    "peak_w": round(watts) if at else None,
                    "peak_at": at,
                    "limit_w": limit,
                    "peak_percent": round(100 * watts / limit, 1) if at and limit else None,
                }
            )
        site_rows.sort(key=lambda r: -float(r["peak_w"] or 0))
        return {
            "valley_areas": valley,
            "valley_operators": operators,
            "peak_areas": peaks,
            "peak_sites": site_rows,
            "dr_events": self.dr_performance(start, end, code),
        }


def _highest(load: dict[datetime, float]) -> tuple[datetime | None, float]:
    """The quarter with the highest load and that load (None, 0 when there is none)."""
    if not load:
        return None, 0.0
    at = max(load, key=lambda q: load[q])
    return at, load[at]


def _named(area: AreaBriefRow) -> Row:
    return {"code": area["code"], "name_zh": area["name_zh"], "name_en": area["name_en"]}


def _valley(share: Row) -> Row:
    return {
        "energy_wh": share["energy_wh"],
        "valley_energy_wh": share["valley_energy_wh"],
        "valley_share": share["valley_share"],
    }


def _event_row(e: DemandResponse) -> Row:
    return {
        "dr_id": e.dr_id,
        "scope": e.scope,
        "scope_id": e.scope_id,
        "start": e.start,
        "end": e.end,
        "share": e.share,
        "program": e.program,
    }
