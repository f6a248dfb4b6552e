"""Supervision: uptime, status history, outage exclusions, zombie cases, safety alarms,
stop orders and operator scorecards — the application side.

Reads go through `SupervisionQueries`; the arithmetic is in `chargenet.analytics`;
everything that changes state is an event submitted through the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from chargenet.analytics.supervision import timeline, uptime
from chargenet.analytics.supervision.alarms import AlarmEngine, OpenAlarm
from chargenet.analytics.supervision.hours import not_serving_windows
from chargenet.analytics.supervision.scorecards import (
    OperatorMetrics,
    Scorecard,
    ScoreConfig,
    ranked,
    scorecard,
)
from chargenet.analytics.supervision.statusclass import (
    CODE,
    NEVI_OUTAGE,
    NEVI_TARGET_PERCENT,
    UK_RAPID_MIN_POWER_W,
    UK_TARGET_PERCENT,
)
from chargenet.analytics.supervision.uptime import FOREVER
from chargenet.analytics.supervision.zombies import ChargerFacts, OpenCase, Step, sweep
from chargenet.app.ingest import Refused as PipelineRefused
from chargenet.app.orders import Order, OrderResult, OrderService
from chargenet.app.pipeline import IngestPipeline
from chargenet.app.supervision_config import SupervisionConfig
from chargenet.app.supervision_ports import (
    DeliveryRow,
    ExclusionRow,
    FleetRow,
    OrderTargetRow,
    Row,
    Scope,
    SupervisionQueries,
    UnitRow,
)
from chargenet.core.errors import Conflict, Invalid, UnknownReference
from chargenet.core.events import (
    AlarmAcknowledged,
    AlarmCleared,
    ChargerRetired,
    Event,
    OutageExcluded,
    OutageExclusionWithdrawn,
    Source,
    StationPublicHoursSet,
    StopOrderIssued,
    StopOrderLifted,
    StopOrderRectificationReported,
    ZombieClosed,
    ZombieDetected,
    ZombieEscalated,
    ZombieOperatorNotified,
    ZombieRectificationReported,
    event_meta,
)
from chargenet.core.ids import AlarmId, ChargerId, EventId, OperatorId, OrderId, StationId
from chargenet.core.oversight import ExclusionReason, ZombieOutcome
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import OrderKind, TargetKind
from chargenet.kit.aio import wait_at_most
from chargenet.kit.cache import VersionedCache
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id, stable_id
from chargenet.kit.timeutil import from_micros, require_utc, to_micros

log = logging.getLogger(__name__)
T = TypeVar("T")

SOURCE = Source(adapter="supervision")
GROUPINGS = (
    "connector",
    "port",
    "charger",
    "station",
    "operator",
    "province",
    "city",
    "county",
    "all",
)
# What time is counted for: a port (23 CFR 680.104: it charges one vehicle at a time,
# through whichever of its connectors; an EVSE in PCPR 2023 reg. 2), or each connector.
UNITS = ("port", "connector")
_STATUS_CODE = {s.value: CODE[s] for s in ConnectorStatus}


class Refused(PipelineRefused):
    """The pipeline refused what supervision submitted (the reason is the refusal's)."""


@dataclass(frozen=True)
class Measured:
    """Seconds per unit (port or connector), period, status and flag, with the connectors
    (`fleet`) and units they belong to."""

    fleet: list[FleetRow]  # connectors
    units: list[UnitRow]  # one per unit
    unit: str  # "port" or "connector"
    unit_of: uptime.I64  # each connector's unit index
    service_from: uptime.I64  # each connector's service, µs (FOREVER: never began)
    service_until: uptime.I64
    seconds: uptime.F64  # (units, periods, statuses, flags)
    repairs: tuple[uptime.I64, uptime.F64]  # uptime.repair_seconds over the whole span
    edges: list[datetime]

    def only(self, keep: list[int]) -> Measured:
        """The same, for the units `keep` (indices) and their connectors."""
        renumber = np.full(len(self.units), -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep))
        conns = np.flatnonzero(renumber[self.unit_of] >= 0)
        new_conn = np.full(len(self.fleet), -1, dtype=np.int64)
        new_conn[conns] = np.arange(len(conns))
        repair_conn, repair_s = self.repairs
        kept = new_conn[repair_conn] >= 0
        return Measured(
            [self.fleet[i] for i in conns],
            [self.units[i] for i in keep],
            self.unit,
            renumber[self.unit_of[conns]],
            self.service_from[conns],
            self.service_until[conns],
            self.seconds[keep],
            (new_conn[repair_conn[kept]], repair_s[kept]),
            self.edges,
        )


def month_start(year: int, month: int, zone: str) -> datetime:
    return datetime.combine(date(year, month, 1), time(0), tzinfo=ZoneInfo(zone))


def month_edges(year: int, month: int, count: int, zone: str) -> list[datetime]:
    """Starts of `count` local months ending with (year, month), and the end of that month."""
    index = year * 12 + month - 1
    return [
        require_utc(month_start(i // 12, i % 12 + 1, zone))
        for i in range(index - count + 1, index + 2)
    ]


def port_id_of(row: FleetRow) -> str:
    """A port's id: its EVSE's `evse_uid`, else `<charger>-<evse_no>`."""
    return str(row["evse_uid"] or f"{row['charger_id']}-{row['evse_no']}")


def targets_of(row: FleetRow) -> tuple[tuple[str, str], ...]:
    """(target kind, id) of what an exclusion or an order may name about a connector."""
    return (
        ("connector", row["connector_id"]),
        ("charger", row["charger_id"]),
        ("station", row["station_id"]),
    )


def serves_public(row: FleetRow) -> bool:
    """A public station, or one open to the public in stated hours: PCPR 2023 reg. 3(1)(a),
    a public charge point "may only be accessed during specific hours" (R39)."""
    return bool(row["access"] == "public" or row["public_hours"])


def _hours(seconds: Any) -> float:
    return round(float(seconds) / 3600, 4)


def _pct(value: Any) -> float | None:
    return None if np.isnan(value) else round(float(value), 3)


class SupervisionService:
    def __init__(
        self,
        queries: SupervisionQueries,
        pipeline: IngestPipeline,
        orders: OrderService,
        clock: Clock,
        config: SupervisionConfig | None = None,
    ) -> None:
        self.queries = queries
        self.pipeline = pipeline
        self.orders = orders
        self.clock = clock
        self.config = config or SupervisionConfig()
        # Uptime and scorecards take seconds for a city: kept per question until what they
        # are computed from changes (`figures_version`), like planning's coverage.
        self._answers = VersionedCache(size=64)

    def _cached(self, question: tuple[Any, ...], end: datetime, compute: Callable[[], T]) -> T:
        version = getattr(self.queries, "figures_version", None)
        if version is None:
            return compute()
        inputs = version(end, self.clock.now(), scorecards=question[0] == "scorecards")
        return self._answers.get(question, inputs, compute)

    async def _submit(self, events: Sequence[Event]) -> None:
        outcomes = await self.pipeline.submit(events)
        refused = [o.reason for o in outcomes if not o.ok]
        if refused:
            raise Refused("; ".join(refused))

    # --- uptime ---------------------------------------------------------------------------

    def service(self, fleet: Sequence[FleetRow]) -> tuple[uptime.I64, uptime.I64]:
        """Each connector's time in service, µs: from its charger's commissioning — the
        `commissioned_at` its operator states, or else its first report (status of the
        connector, presence of the charger); never, without either — until it was retired,
        and never beyond now: time that has not happened is not counted."""
        now = to_micros(self.clock.now())
        since, until = [], []
        for r in fleet:
            if r["commissioned_at"] is not None:
                since.append(to_micros(r["commissioned_at"]))
            else:
                firsts = [
                    t for t in (r["first_status_us"], r["first_presence_us"]) if t is not None
                ]
                since.append(min(firsts) if firsts else FOREVER)
            retired = to_micros(r["retired_at"]) if r["retired_at"] is not None else FOREVER
            until.append(min(retired, now))
        return np.array(since, dtype=np.int64), np.array(until, dtype=np.int64)

    def _units(self, fleet: list[FleetRow], unit: str) -> tuple[list[UnitRow], uptime.I64]:
        if unit not in UNITS:
            raise Invalid(f"count uptime per one of {', '.join(UNITS)}, not {unit!r}")
        index: dict[tuple[str, ...], int] = {}
        units: list[UnitRow] = []
        unit_of = []
        for r in fleet:
            key = (r["charger_id"], str(r["evse_no"])) if unit == "port" else (r["connector_id"],)
            i = index.get(key)
            if i is None:
                i = index[key] = len(units)
                port_id = port_id_of(r) if unit == "port" else r["connector_id"]
                units.append(UnitRow(**r, port_id=port_id, port_name=port_id))
            else:
                units[i]["max_power_w"] = max(units[i]["max_power_w"], r["max_power_w"])
            unit_of.append(i)
        return units, np.array(unit_of, dtype=np.int64)

    def _min_power_w(self, row: FleetRow) -> int:
        """23 CFR 680.106(d): a DC port's minimum power, an AC Level 2 port's; a connector
        rated below it is held to its rating instead (it cannot do more)."""
        options = self.config.uptime
        rule = (
            options.nevi_min_power_dc_w
            if row["power_type"] == "dc"
            else options.nevi_min_power_ac_w
        )
        return min(rule, int(row["max_power_w"]))

    def measure(
        self,
        scope: Scope,
        edges: Sequence[datetime],
        unit: str | None = None,
        batch_chargers: int | None = None,
    ) -> Measured:
        """Seconds per port (or connector) in scope, per period between `edges`, status
        and flag. The reports are read and measured one batch of whole chargers at a time
        (`UptimeOptions.batch_chargers`), so memory holds one batch of reports and the
        per-unit result, whatever the size of the scope."""
        unit = unit or self.config.uptime.unit
        edges = [require_utc(e) for e in edges]
        fleet = self.queries.fleet(scope)
        units, unit_of = self._units(fleet, unit)
        start_us, end_us = to_micros(edges[0]), to_micros(edges[-1])
        service_from, service_until = self.service(fleet)
        by_charger: dict[str, list[int]] = {}
        for i, r in enumerate(fleet):
            by_charger.setdefault(r["charger_id"], []).append(i)
        excluded: dict[int, list[tuple[int, int]]] = {}
        for window_conn, a, b in self._exclusion_windows(fleet, scope, edges[0], edges[-1]):
            excluded.setdefault(window_conn, []).append((a, b))
        minimum = [self._min_power_w(r) for r in fleet]
        edge_us = np.array([to_micros(e) for e in edges], dtype=np.int64)
        size = max(1, batch_chargers or self.config.uptime.batch_chargers)
        chargers = sorted(by_charger)
        repairs: list[tuple[uptime.I64, uptime.F64]] = []

        def batches() -> Iterator[uptime.Batch]:
            for first in range(0, len(chargers), size):
                members = chargers[first : first + size]
                conns = [i for c in members for i in by_charger[c]]
                batch = self._batch(
                    scope,
                    fleet,
                    members,
                    conns,
                    (start_us, end_us, edges[0], edges[-1]),
                    (service_from, service_until, minimum),
                    excluded,
                )
                rc, rs = uptime.repair_seconds(batch.reports, start_us, end_us)
                repairs.append((np.asarray(conns, dtype=np.int64)[rc], rs))
                if unit == "port":
                    global_units, local = np.unique(unit_of[conns], return_inverse=True)
                    yield uptime.Batch(batch.fleet, batch.reports, global_units, local)
                else:
                    yield uptime.Batch(batch.fleet, batch.reports, unit_of[conns])

        seconds = uptime.status_seconds_batched(batches(), edge_us, len(units))
        return Measured(
            fleet,
            units,
            unit,
            unit_of,
            service_from,
            service_until,
            seconds,
            (
                np.concatenate([c for c, _ in repairs] or [np.zeros(0, dtype=np.int64)]),
                np.concatenate([s for _, s in repairs] or [np.zeros(0)]),
            ),
            list(edges),
        )

    def _batch(
        self,
        scope: Scope,
        fleet: list[FleetRow],
        members: list[str],
        conns: list[int],
        span: tuple[int, int, datetime, datetime],
        service: tuple[uptime.I64, uptime.I64, list[int]],
        excluded: dict[int, list[tuple[int, int]]],
    ) -> uptime.Batch:
        """One batch of chargers (`members`, their connectors `conns` as fleet indices),
        its reports numbered within the batch."""
        start_us, end_us, start, end = span
        service_from, service_until, minimum = service
        conn_index = {fleet[i]["connector_id"]: j for j, i in enumerate(conns)}
        charger_index = {c: j for j, c in enumerate(members)}
        ids = list(conn_index)
        s_conn, s_at, s_code = [], [], []
        for cid, at, status in self.queries.status_rows(scope, start_us, end_us, ids):
            s_conn.append(conn_index[cid])
            s_at.append(at)
            s_code.append(_STATUS_CODE[status])
        p_charger, p_at, p_online = [], [], []
        # A charger whose presence is tracked is offline until it first connects (as the
        # live view shows it), which matters from a stated commissioning on; the reports
        # then take over. (Placed at the epoch: time before commissioning is cut anyway.)
        for tracked in sorted(
            {charger_index[fleet[i]["charger_id"]] for i in conns if fleet[i]["presence_tracked"]}
        ):
            p_charger.append(tracked)
            p_at.append(0)
            p_online.append(0)
        for charger_id, at, online in self.queries.presence_rows(scope, start_us, end_us, members):
            p_charger.append(charger_index[charger_id])
            p_at.append(at)
            p_online.append(int(online))
        l_conn, l_at, l_below = [], [], []
        for cid, at, limit_w in self.queries.limit_rows(scope, start_us, end_us, ids):
            j = conn_index[cid]
            l_conn.append(j)
            l_at.append(at)
            l_below.append(int(limit_w < minimum[conns[j]]))
        x_conn, x_start, x_end = [], [], []
        for j, i in enumerate(conns):
            for a, b in excluded.get(i, ()):
                x_conn.append(j)
                x_start.append(a)
                x_end.append(b)
        c_conn, c_start, c_end = [], [], []
        if self.config.uptime.respect_opening_hours:
            for j, a, b in self._closed([fleet[i] for i in conns], start, end):
                c_conn.append(j)
                c_start.append(a)
                c_end.append(b)

        def arr(values: list[int]) -> uptime.I64:
            return np.array(values, dtype=np.int64)

        where = arr(conns)
        return uptime.Batch(
            uptime.Fleet(
                charger=arr([charger_index[fleet[i]["charger_id"]] for i in conns]),
                service_from=service_from[where],
                service_until=service_until[where],
            ),
            uptime.Reports(
                status_conn=arr(s_conn),
                status_at=arr(s_at),
                status_code=arr(s_code),
                presence_charger=arr(p_charger),
                presence_at=arr(p_at),
                presence_online=arr(p_online),
                excluded_conn=arr(x_conn),
                excluded_start=arr(x_start),
                excluded_end=arr(x_end),
                closed_conn=arr(c_conn),
                closed_start=arr(c_start),
                closed_end=arr(c_end),
                limit_conn=arr(l_conn),
                limit_at=arr(l_at),
                limit_below=arr(l_below),
            ),
            arr(list(range(len(conns)))),
        )

    def _exclusion_windows(
        self, fleet: list[FleetRow], scope: Scope, start: datetime, end: datetime
    ) -> list[tuple[int, int, int]]:
        """(fleet index, start µs, end µs) of each exclusion window of each connector."""
        by_target: dict[tuple[str, str], list[int]] = {}
        for i, r in enumerate(fleet):
            for target in targets_of(r):
                by_target.setdefault(target, []).append(i)
        out = []
        for x in self.queries.exclusions(scope, start, end):
            for cid in by_target.get((x["target_kind"], x["target_id"]), []):
                out.append((cid, to_micros(x["start_at"]), to_micros(x["end_at"])))
        return out

    def _closed(
        self, fleet: list[FleetRow], start: datetime, end: datetime
    ) -> list[tuple[int, int, int]]:
        """(index in `fleet`, start µs, end µs) of the connectors' closed hours."""
        zone = self.config.uptime.local_timezone
        windows: dict[tuple[str, str | None], list[tuple[datetime, datetime]]] = {}
        out = []
        for i, r in enumerate(fleet):
            hours = (r["opening_hours"], r["public_hours"])
            if hours == ("24/7", None):
                continue
            if hours not in windows:
                windows[hours] = not_serving_windows(*hours, start, end, zone)
            out += [(i, to_micros(a), to_micros(b)) for a, b in windows[hours]]
        return out

    @staticmethod
    def _group_keys(
        units: list[UnitRow], by: str
    ) -> tuple[np.ndarray[Any, Any], list[dict[str, str]]]:
        if by not in GROUPINGS:
            raise Invalid(f"group by one of {', '.join(GROUPINGS)}, not {by!r}")
        labels: dict[str, int] = {}
        heads: list[dict[str, str]] = []
        index = []
        for unit in units:
            # The grouping names the fields to read (station_id, county_code, …) at run
            # time: read by name from the row as a mapping.
            r: Mapping[str, object] = unit
            if by == "all":
                key, name = "all", "all"
            elif by in ("province", "city", "county"):
                key = str(r[f"{by}_code"] or "(unplaced)")
                name = key
            elif by in ("connector", "port"):
                key = unit["port_id"]
                name = unit["port_name"]
            else:
                key = str(r[f"{by}_id"])
                name = str(r.get(f"{by}_name") or key)
            if key not in labels:
                labels[key] = len(heads)
                heads.append({"group": key, "name": name})
            index.append(labels[key])
        return np.array(index, dtype=np.int64), heads

    def _figures(self, seconds: uptime.F64) -> dict[str, Any]:
        """Per-row figures from seconds of shape (rows, statuses, flags)."""
        n = uptime.nevi(seconds)
        u = uptime.uk(seconds, self.config.uptime.uk_ineligible_reliable)
        per_status = uptime.status_breakdown(seconds)
        return {
            "hours": n.total,
            "outage_hours": n.outage,
            "excluded_hours": n.excluded,
            "nevi_uptime": n.uptime,
            "offline_hours": per_status["offline"],
            "faulted_hours": per_status["faulted"],
            "unavailable_hours": per_status["unavailable"],
            "uk_up_hours": u.up,
            "uk_down_hours": u.down,
            "uk_ineligible_hours": u.ineligible,
            "uk_reliability": u.reliability,
            "below_min_power_hours": per_status["below_min_power"],
        }

    def _rows(
        self,
        heads: list[dict[str, str]],
        seconds: uptime.F64,
        counts: tuple[Any, Any, Any],
        unit: str,
    ) -> list[Row]:
        """Rows of figures; `counts` per group: units in service, those meeting NEVI's
        threshold, connectors in service."""
        ports, meeting, connectors = counts
        figures = self._figures(seconds)
        rows = []
        for g, head in enumerate(heads):
            row: Row = dict(head)
            row["unit"] = unit
            row["ports"] = int(ports[g])
            row["connectors"] = int(connectors[g])
            for name, values in figures.items():
                value = values[g]
                row[name] = (
                    _pct(value) if name in ("nevi_uptime", "uk_reliability") else _hours(value)
                )
            row["ports_meeting_nevi"] = int(meeting[g])
            rows.append(row)
        return rows

    def _unit_for(self, by: str, unit: str | None) -> str:
        """Grouped by connector, time is counted per connector; by port, per port; else as
        asked, or the configured default (port)."""
        if by == "connector":
            return "connector"
        if by == "port":
            return "port"
        return unit or self.config.uptime.unit

    def uptime(
        self,
        scope: Scope,
        start: datetime,
        end: datetime,
        by: str = "station",
        unit: str | None = None,
    ) -> list[Row]:
        """NEVI and UK figures per group over [start, end)."""

        def compute() -> list[Row]:
            measured = self.measure(scope, [start, end], self._unit_for(by, unit))
            return self._grouped(measured, by)[0]

        rows = self._cached(("uptime", scope, start, end, by, unit), end, compute)
        return [dict(r) for r in rows]  # callers may change their copy

    def _connectors_in_service(
        self, measured: Measured, groups: Any, n: int, lo: datetime, hi: datetime
    ) -> Any:
        a, b = to_micros(lo), to_micros(hi)
        since = np.maximum(measured.service_from, a)
        until = np.minimum(measured.service_until, b)
        return np.bincount(groups[measured.unit_of], weights=since < until, minlength=n)

    def _grouped(self, measured: Measured, by: str) -> tuple[list[Row], list[list[Row]]]:
        groups, heads = self._group_keys(measured.units, by)
        n = len(heads)
        k = measured.seconds.shape[1]
        edges = measured.edges

        def counts(seconds: uptime.F64, lo: datetime, hi: datetime) -> tuple[Any, Any, Any]:
            figures = uptime.nevi(seconds)
            in_service = figures.total > 0
            meeting = (figures.uptime > NEVI_TARGET_PERCENT) & in_service
            return (
                np.bincount(groups, weights=in_service, minlength=n),
                np.bincount(groups, weights=meeting, minlength=n),
                self._connectors_in_service(measured, groups, n, lo, hi),
            )

        per_unit = measured.seconds.sum(axis=1)  # whole span
        total = np.zeros((n, *per_unit.shape[1:]))
        np.add.at(total, groups, per_unit)
        rows = self._rows(heads, total, counts(per_unit, edges[0], edges[-1]), measured.unit)
        monthly = []
        if k > 1:
            for p in range(k):
                part = np.zeros((n, *per_unit.shape[1:]))
                np.add.at(part, groups, measured.seconds[:, p])
                monthly.append(
                    self._rows(
                        heads,
                        part,
                        counts(measured.seconds[:, p], edges[p], edges[p + 1]),
                        measured.unit,
                    )
                )
        return rows, monthly

    def nevi_monthly(
        self, scope: Scope, year: int, month: int, by: str = "port", unit: str | None = None
    ) -> list[Row]:
        """23 CFR 680.116(b): for the report month, each of the previous 12 months and the
        12 months together (`period` = "12m"), per group; per port unless asked otherwise.
        Months still running count up to now."""
        zone = self.config.uptime.local_timezone
        edges = month_edges(year, month, 12, zone)
        measured = self.measure(scope, edges, self._unit_for(by, unit))
        rolling, months = self._grouped(measured, by)
        out = []
        for p, rows in enumerate(months):
            label = edges[p].astimezone(ZoneInfo(zone)).strftime("%Y-%m")
            out += [{"period": label, **r} for r in rows]
        out += [{"period": "12m", **r} for r in rolling]
        return out

    def uk_reliability(
        self,
        scope: Scope,
        year: int,
        rapid_only: bool = True,
        unit: str | None = None,
        by: str = "operator",
    ) -> list[Row]:
        """PCPR 2023 reg. 7: each operator's (rapid, public) network over a calendar year,
        up to now while the year runs; `by` another grouping (charger: each charge point)."""
        zone = self.config.uptime.local_timezone
        start = require_utc(month_start(year, 1, zone))
        end = require_utc(month_start(year + 1, 1, zone))
        measured = self.measure(scope, [start, end], unit)
        keep = [
            i
            for i, r in enumerate(measured.units)
            if not rapid_only or (r["max_power_w"] >= UK_RAPID_MIN_POWER_W and serves_public(r))
        ]
        rows = self._grouped(measured.only(keep), by)[0]
        for row in rows:
            value = row["uk_reliability"]
            row["meets_uk_99"] = value is not None and value >= UK_TARGET_PERCENT
        return rows

    # --- history --------------------------------------------------------------------------

    def history(self, connector_id: str, start: datetime, end: datetime) -> Row:
        """The connector's intervals with causes, its outages (with exclusions) and figures."""
        start, end = require_utc(start), require_utc(end)
        scope = Scope(connector=connector_id)
        fleet = self.queries.fleet(scope)
        if not fleet:
            raise UnknownReference("connector", connector_id)
        pieces = self.intervals(fleet[0], start, end)
        outages = timeline.outages(pieces, self.outage_windows(fleet[0], start, end), NEVI_OUTAGE)
        figures = self.uptime(scope, start, end, by="connector")
        return {
            "connector_id": connector_id,
            "intervals": [asdict(p) | {"seconds": p.seconds} for p in pieces],
            "outages": [asdict(o) | {"seconds": o.seconds} for o in outages],
            "figures": figures[0] if figures else None,
        }

    def intervals(
        self,
        row: FleetRow,
        start: datetime,
        end: datetime,
        reports: tuple[list[timeline.StatusReport], list[timeline.PresenceReport]] | None = None,
    ) -> list[timeline.Interval]:
        """One connector's (a `fleet` row) intervals over [start, end) within its service;
        `reports`, its status and its charger's presence reports when already read (as
        `intervals_of` reads them for many at once), else read here with their causes."""
        if reports is None:
            status_rows, presence_rows = self.queries.connector_history(
                row["connector_id"], to_micros(start), to_micros(end)
            )
            reports = (
                [
                    timeline.StatusReport(
                        from_micros(r["at_us"]),
                        ConnectorStatus(r["status"]),
                        r["error_code"],
                        r["info"],
                    )
                    for r in status_rows
                ],
                [
                    timeline.PresenceReport(from_micros(r["at_us"]), bool(r["online"]), r["reason"])
                    for r in presence_rows
                ],
            )
        statuses, presence = reports
        since, until = self.service([row])
        lo = max(start, from_micros(int(since[0]))) if since[0] < FOREVER else end
        hi = min(end, from_micros(int(until[0])))
        not_yet = (
            [timeline.PresenceReport(from_micros(0), False, "not yet connected")]
            if row["presence_tracked"]
            else []
        )
        return timeline.intervals(statuses, [*not_yet, *presence], lo, max(lo, hi))

    def intervals_of(
        self, rows: Sequence[FleetRow], start: datetime, end: datetime
    ) -> dict[str, list[timeline.Interval]]:
        """Many connectors' intervals (`fleet` rows), their reports read in one pass: the
        statuses without their error codes, so the causes say only why a charger was silent
        (for outage logs, which need the statuses alone)."""
        a, b = to_micros(start), to_micros(end)
        statuses: dict[str, list[timeline.StatusReport]] = {}
        ids = [r["connector_id"] for r in rows]
        for cid, at, status in self.queries.status_rows(Scope(), a, b, ids):
            statuses.setdefault(cid, []).append(
                timeline.StatusReport(from_micros(at), ConnectorStatus(status))
            )
        presence: dict[str, list[timeline.PresenceReport]] = {}
        chargers = sorted({r["charger_id"] for r in rows})
        for charger_id, at, online in self.queries.presence_rows(Scope(), a, b, chargers):
            presence.setdefault(charger_id, []).append(
                timeline.PresenceReport(from_micros(at), bool(online))
            )
        return {
            r["connector_id"]: self.intervals(
                r,
                start,
                end,
                (statuses.get(r["connector_id"], []), presence.get(r["charger_id"], [])),
            )
            for r in rows
        }

    def outage_windows(
        self,
        row: FleetRow,
        start: datetime,
        end: datetime,
        exclusions: Sequence[ExclusionRow] | None = None,
    ) -> list[timeline.Window]:
        """The exclusions marked on a connector (a `fleet` row), its charger or station, and
        its closed hours when they are respected, over [start, end); `exclusions`, those
        of a wider scope when already read."""
        if exclusions is None:
            exclusions = self.queries.exclusions(Scope(connector=row["connector_id"]), start, end)
        windows = [
            timeline.Window(x["start_at"], x["end_at"], x["reason"])
            for x in exclusions
            if (x["target_kind"], x["target_id"]) in targets_of(row)
        ]
        if self.config.uptime.respect_opening_hours:
            windows += [
                timeline.Window(a, b, ExclusionReason.OUTSIDE_HOURS.value)
                for a, b in not_serving_windows(
                    row["opening_hours"],
                    row["public_hours"],
                    start,
                    end,
                    self.config.uptime.local_timezone,
                )
            ]
        return windows

    # --- exclusions -----------------------------------------------------------------------

    async def exclude(
        self,
        target_kind: TargetKind,
        target_id: str,
        start: datetime,
        end: datetime,
        reason: ExclusionReason,
        note: str,
        by: str,
    ) -> str:
        exclusion_id = new_id()
        await self._submit(
            [
                OutageExcluded(
                    **event_meta(new_id(), SOURCE, self.clock.now()),
                    exclusion_id=exclusion_id,
                    target_kind=target_kind,
                    target_id=target_id,
                    start=start,
                    end=end,
                    reason=reason,
                    note=note,
                    by=by,
                )
            ]
        )
        return exclusion_id

    async def set_public_hours(
        self, station_id: str, hours: str, note: str, by: str, operator_id: str | None = None
    ) -> None:
        """State when a station is open to the public (R39); "" withdraws. An operator
        speaks for its own stations only (the store refuses another's)."""
        await self._submit(
            [
                StationPublicHoursSet(
                    **event_meta(
                        new_id(),
                        Source(
                            adapter="supervision",
                            operator_id=OperatorId(operator_id) if operator_id else None,
                        ),
                        self.clock.now(),
                    ),
                    station_id=StationId(station_id),
                    hours=hours.strip(),
                    set_by=by,
                    note=note,
                )
            ]
        )

    async def withdraw_exclusion(self, exclusion_id: str, by: str, note: str = "") -> None:
        await self._submit(
            [
                OutageExclusionWithdrawn(
                    **event_meta(new_id(), SOURCE, self.clock.now()),
                    exclusion_id=exclusion_id,
                    by=by,
                    note=note,
                )
            ]
        )

    # --- zombie piles ---------------------------------------------------------------------

    def _facts(self, now: datetime) -> list[ChargerFacts]:
        rules = self.config.zombies
        window_start = now - timedelta(days=rules.session_window_days)
        out = []
        for r in self.queries.zombie_facts(Scope(), window_start, rules.min_success_energy_wh):
            out.append(
                ChargerFacts(
                    charger_id=r["charger_id"],
                    registered_at=r["registered_at"],
                    public=r["public"],
                    first_report_at=r["first_report_at"],
                    down_since=r["down_since"],
                    available_since=r["available_since"],
                    last_session_end=r["last_session_end"],
                    sessions=r["sessions"],
                    successful=r["successful"],
                    commissioned_at=r["commissioned_at"],
                )
            )
        return out

    def zombie_plan(self, now: datetime | None = None) -> list[Step]:
        """What a sweep would do now (nothing submitted)."""
        now = now or self.clock.now()
        cases, _ = self.queries.zombie_cases(Scope(), True, 10**9, 0)
        open_cases = {
            c["charger_id"]: OpenCase(
                c["case_id"],
                c["charger_id"],
                c["notified_at"] is not None,
                c["deadline"],
                c["escalation_level"],
            )
            for c in cases
        }
        return sweep(self._facts(now), open_cases, now, self.config.zombies).steps

    async def sweep_zombies(self, now: datetime | None = None) -> dict[str, int]:
        """Detect zombies and move open cases on; returns how many steps of each kind."""
        now = now or self.clock.now()
        steps = self.zombie_plan(now)
        events: list[Event] = []
        new_case: dict[str, str] = {}
        counts: dict[str, int] = {}
        for step in steps:
            counts[step.kind] = counts.get(step.kind, 0) + 1
            events += self._step_events(step, now, new_case)
        if events:
            await self._submit(events)
            await self._notify_operators(steps, new_case)
        return counts

    async def _notify_operators(self, steps: Sequence[Step], new_case: dict[str, str]) -> None:
        """Deliver each notice and escalation to the operator, as an order of kind NOTICE
        through its channel (T/CEC, or its webhook), so that its answer is tracked like any
        order's. Operators without a channel keep the notice on the platform only."""
        orders: list[Order] = []
        for step in steps:
            if step.kind not in ("notify", "escalate") or step.deadline is None:
                continue
            case_id = step.case_id or new_case.get(step.charger_id)
            if case_id is None:
                continue
            deadline = step.deadline.isoformat()
            for charger in self.queries.chargers_of(TargetKind.CHARGER.value, step.charger_id):
                order = Order(
                    order_id=OrderId(stable_id("notice", case_id, step.kind, step.level)),
                    kind=OrderKind.NOTICE,
                    charger_id=charger["charger_id"],
                    protocol=charger["protocol"],
                    target_kind=TargetKind.CHARGER,
                    target_id=charger["charger_id"],
                    parameters={
                        "zombie_case": case_id,
                        "deadline": deadline,
                        "level": str(step.level),
                    },
                    reason=(
                        f"zombie pile (R34): rectify or ask for its exit by {deadline}"
                        + (f"; escalation level {step.level}" if step.kind == "escalate" else "")
                        + (f"; {step.note}" if step.note else "")
                    ),
                    issued_by="rules",
                )
                if self.orders.check(order) is None:
                    orders.append(order)
        if orders:
            await asyncio.gather(
                *(self.orders.issue(o, self.config.notice_timeout_s) for o in orders)
            )

    def _step_events(self, step: Step, now: datetime, new_case: dict[str, str]) -> list[Event]:
        def meta(*parts: object) -> dict[str, Any]:
            return {
                "event_id": EventId(stable_id(*parts)),
                "source": SOURCE,
                "occurred_at": now,
                "received_at": now,
            }

        if step.kind == "detect" and step.finding is not None:
            case_id = stable_id("zombie", step.charger_id, step.finding.since.isoformat())
            new_case[step.charger_id] = case_id
            return [
                ZombieDetected(
                    **meta("zombie.detected", case_id),
                    case_id=case_id,
                    charger_id=ChargerId(step.charger_id),
                    rules=step.finding.rules,
                    since=step.finding.since,
                    evidence=step.finding.evidence,
                )
            ]
        case_id = step.case_id or new_case[step.charger_id]
        if step.kind == "notify" and step.deadline is not None:
            return [
                ZombieOperatorNotified(
                    **meta("zombie.notified", case_id), case_id=case_id, deadline=step.deadline
                )
            ]
        if step.kind == "escalate" and step.deadline is not None:
            return [
                ZombieEscalated(
                    **meta("zombie.escalated", case_id, step.level),
                    case_id=case_id,
                    level=step.level,
                    deadline=step.deadline,
                    note=step.note,
                )
            ]
        outcome = ZombieOutcome.RECTIFIED if step.kind == "rectified" else ZombieOutcome.RETIRED
        return [
            ZombieClosed(
                **meta("zombie.closed", case_id),
                case_id=case_id,
                outcome=outcome,
                note=step.note,
                by="rules",
            )
        ]

    async def close_zombie(self, case_id: str, outcome: ZombieOutcome, note: str, by: str) -> None:
        """A regulator's decision. Retiring is the exit mechanism: the charger leaves the
        registry (ChargerRetired) and no longer counts as a pile."""
        case = self.queries.zombie_case(case_id)
        if case is None:
            raise UnknownReference("zombie case", case_id)
        now = self.clock.now()
        events: list[Event] = [
            ZombieClosed(
                **event_meta(new_id(), SOURCE, now),
                case_id=case_id,
                outcome=outcome,
                note=note,
                by=by,
            )
        ]
        if outcome is ZombieOutcome.RETIRED:
            events.append(
                ChargerRetired(
                    **event_meta(new_id(), SOURCE, now),
                    charger_id=ChargerId(case["charger_id"]),
                    reason=f"zombie pile exit (case {case_id}): {note}",
                )
            )
        await self._submit(events)

    async def report_rectification(self, case_id: str, note: str, by: str) -> None:
        """The operator's account of what it did about an open case; the case stays open
        (the rules close it once they stop holding, or a regulator does)."""
        case = self.queries.zombie_case(case_id)
        if case is None:
            raise UnknownReference("zombie case", case_id)
        if case["stage"] == "closed":
            raise Conflict(f"case {case_id} is closed")
        await self._report(ZombieRectificationReported, case_id=case_id, note=note, by=by)

    async def report_stop_rectification(self, stop_id: str, note: str, by: str) -> None:
        """The operator's account of what it did to rectify under a stop order; the order
        stays in force until a regulator lifts it."""
        stop = self.queries.stop_order(stop_id)
        if stop is None:
            raise UnknownReference("stop order", stop_id)
        if stop["lifted_at"] is not None:
            raise Conflict(f"stop order {stop_id} is lifted")
        await self._report(StopOrderRectificationReported, stop_id=stop_id, note=note, by=by)

    async def _report(self, kind: type[Event], **fields: str) -> None:
        await self._submit([kind(**event_meta(new_id(), SOURCE, self.clock.now()), **fields)])

    # --- alarms ---------------------------------------------------------------------------

    def alarm_engine(self) -> AlarmEngine:
        open_alarms = [
            OpenAlarm(
                a["alarm_id"],
                TargetKind(a["target_kind"]),
                a["target_id"],
                a["code"],
                a["raised_at"],
            )
            for a in self.queries.open_alarms()
        ]
        return AlarmEngine(self.config.alarms, open_alarms, self.queries.rated_currents())

    async def acknowledge_alarm(self, alarm_id: str, by: str) -> None:
        if self.queries.alarm(alarm_id) is None:
            raise UnknownReference("alarm", alarm_id)
        await self._submit(
            [
                AlarmAcknowledged(
                    **event_meta(new_id(), SOURCE, self.clock.now()),
                    alarm_id=AlarmId(alarm_id),
                    by=by,
                )
            ]
        )

    async def clear_alarm(self, alarm_id: str, by: str, reason: str) -> None:
        if self.queries.alarm(alarm_id) is None:
            raise UnknownReference("alarm", alarm_id)
        await self._submit(
            [
                AlarmCleared(
                    **event_meta(new_id(), SOURCE, self.clock.now()),
                    alarm_id=AlarmId(alarm_id),
                    reason=f"{reason} ({by})",
                )
            ]
        )

    async def run_alarms(self, feed: Any) -> None:
        """The safety rules as a bus subscriber: until cancelled, turn stored events into
        alarm events. `feed` is a bus subscription (get, get_nowait, close)."""
        engine = await asyncio.to_thread(self.alarm_engine)
        tick = self.config.alarm_tick_s
        loop = asyncio.get_running_loop()
        last_tick = loop.time()
        try:
            while True:
                batch: list[Event] = []
                with contextlib.suppress(TimeoutError):
                    batch.append(await wait_at_most(feed.get(), tick))
                while len(batch) < 2_000 and (more := feed.get_nowait()) is not None:
                    batch.append(more)
                now = self.clock.now()
                out: list[Event] = []
                for event in batch:
                    out += engine.observe(event, now)
                if loop.time() - last_tick >= tick:
                    last_tick = loop.time()
                    out += engine.tick(now)
                if out:
                    try:
                        await self._submit(out)
                    except Refused as exc:
                        log.warning("alarm events refused: %s", exc)
        finally:
            feed.close()

    async def run_zombie_sweeps(self) -> None:
        """Sweep for zombie piles every `zombie_sweep_s` seconds until cancelled."""
        while True:
            try:
                counts = await self.sweep_zombies()
                if counts:
                    log.info("zombie sweep: %s", counts)
            except Exception:
                log.exception("zombie sweep failed")
            await asyncio.sleep(self.config.zombie_sweep_s)

    # --- stop orders ----------------------------------------------------------------------

    async def issue_stop(
        self,
        target_kind: TargetKind,
        target_id: str,
        reason: str,
        by: str,
        alarm_id: str | None = None,
        timeout_s: float | None = None,
    ) -> Row:
        """Record a stop order, deliver it to every charger it reaches, return the outcomes
        (each also recorded as an OrderAcknowledged) and the id of the StopOrderIssued
        (`event_id`: what a page waits for the live map to have applied)."""
        chargers = self.queries.chargers_of(target_kind.value, target_id)
        if not chargers:
            raise UnknownReference(target_kind.value, target_id)
        stop_id = new_id()
        event_id = new_id()
        await self._submit(
            [
                StopOrderIssued(
                    **event_meta(event_id, SOURCE, self.clock.now()),
                    stop_id=stop_id,
                    target_kind=target_kind,
                    target_id=target_id,
                    reason=reason,
                    issued_by=by,
                    alarm_id=AlarmId(alarm_id) if alarm_id else None,
                )
            ]
        )
        results = await self._deliver(stop_id, OrderKind.STOP, chargers, reason, by, timeout_s)
        return {"stop_id": stop_id, "deliveries": results, "event_id": event_id}

    async def lift_stop(
        self, stop_id: str, by: str, reason: str, timeout_s: float | None = None
    ) -> Row:
        """Lift a stop order once rectified: recorded, then RESUME to each charger; returns
        the outcomes and the id of the StopOrderLifted (`event_id`)."""
        stop = self.queries.stop_order(stop_id)
        if stop is None:
            raise UnknownReference("stop order", stop_id)
        if stop["lifted_at"] is not None:
            raise Conflict(f"stop order {stop_id} was lifted already")
        event_id = new_id()
        await self._submit(
            [
                StopOrderLifted(
                    **event_meta(event_id, SOURCE, self.clock.now()),
                    stop_id=stop_id,
                    by=by,
                    reason=reason,
                )
            ]
        )
        chargers = [
            OrderTargetRow(charger_id=d["charger_id"], protocol=d["protocol"])
            for d in stop["deliveries"]
        ]
        results = await self._deliver(stop_id, OrderKind.RESUME, chargers, reason, by, timeout_s)
        return {"stop_id": stop_id, "deliveries": results, "event_id": event_id}

    async def _deliver(
        self,
        stop_id: str,
        kind: OrderKind,
        chargers: Sequence[OrderTargetRow],
        reason: str,
        by: str,
        timeout_s: float | None,
    ) -> list[Row]:
        orders = [
            Order(
                order_id=OrderId(f"{stop_id}:{c['charger_id']}:{kind.value}"),
                kind=kind,
                charger_id=c["charger_id"],
                protocol=c["protocol"],
                target_kind=TargetKind.CHARGER,
                target_id=c["charger_id"],
                parameters={"stop_order": stop_id},
                reason=reason,
                issued_by=by,
            )
            for c in chargers
        ]
        results: list[OrderResult] = await asyncio.gather(
            *(self.orders.issue(o, timeout_s) for o in orders)
        )
        return [
            {
                "charger_id": o.charger_id,
                "order_id": o.order_id,
                "outcome": r.outcome.value,
                "detail": r.detail,
            }
            for o, r in zip(orders, results, strict=True)
        ]

    # --- scorecards -----------------------------------------------------------------------

    def _uptime_by(
        self, scope: Scope, edges: list[datetime], by: str
    ) -> tuple[Measured, list[Any], Any, Any, dict[int, list[float]]]:
        """Per operator or station (`by`) over one period: what was measured, the group
        keys, NEVI uptime,
        offline seconds and the repair hours of each group's outages."""
        measured = self.measure(scope, edges)
        groups, heads = self._group_keys(measured.units, by)
        per_port = measured.seconds[:, 0]
        totals = np.zeros((len(heads), *per_port.shape[1:]))
        np.add.at(totals, groups, per_port)
        repair_conn, repair_s = measured.repairs
        repairs: dict[int, list[float]] = {}
        for c, s in zip(groups[measured.unit_of[repair_conn]], repair_s, strict=True):
            repairs.setdefault(int(c), []).append(float(s) / 3600)
        offline = uptime.status_breakdown(totals)["offline"]
        return measured, heads, uptime.nevi(totals), offline, repairs

    def scorecards(self, scope: Scope, start: datetime, end: datetime) -> list[Scorecard]:
        """Operator scorecards over [start, end), ranked within the scope (an area)."""
        start, end = require_utc(start), require_utc(end)
        return self._cached(
            ("scorecards", scope, start, end), end, lambda: self._scorecards(scope, start, end)
        )

    def _scorecards(self, scope: Scope, start: datetime, end: datetime) -> list[Scorecard]:
        measured, heads, nevi, offline, repairs = self._uptime_by(scope, [start, end], "operator")
        activity = self.queries.operator_activity(
            scope, start, end, self.config.zombies.min_success_energy_wh
        )
        latency = self.queries.latency_sample(scope, start, end, 2_000)
        days = (end - start).total_seconds() / 86_400
        cards = []
        for g, head in enumerate(heads):
            op = head["group"]
            members = [r for r in measured.fleet if r["operator_id"] == op]
            act = activity.get(op, {})
            total = float(nevi.total[g])
            cards.append(
                scorecard(
                    OperatorMetrics(
                        operator_id=op,
                        connectors=len(members),
                        chargers=len({m["charger_id"] for m in members}),
                        period_days=days,
                        uptime_percent=_pct(nevi.uptime[g]),
                        repair_hours=tuple(repairs.get(g, ())),
                        open_zombies=act.get("open_zombies", 0),
                        completeness_percent=(1 - float(offline[g]) / total) * 100
                        if total
                        else None,
                        latency_s=tuple(latency.get(op, ())),
                        sessions=act.get("sessions", 0),
                        successful_sessions=act.get("successful", 0),
                        alarms=act.get("alarms", 0),
                        interface_accepted=act.get("interface_accepted", 0),
                        interface_refused=act.get("interface_refused", 0),
                        credit_points=act.get("credit_points", 0),
                    ),
                    self.config.scores,
                )
            )
        return ranked(cards)

    def station_stars(self, scope: Scope, start: datetime, end: datetime) -> list[Row]:
        """Star-rated stations (R38), by the documented criteria (`STATION_STARS`):
        uptime, repair time, data completeness, successful sessions and alarms of each
        station over [start, end), scored like operators; a safety incident at the station
        in the period holds it to one star."""
        start, end = require_utc(start), require_utc(end)
        measured, heads, nevi, offline, repairs = self._uptime_by(scope, [start, end], "station")
        activity = self.queries.station_activity(
            scope, start, end, self.config.zombies.min_success_energy_wh
        )
        days = (end - start).total_seconds() / 86_400
        out: list[Row] = []
        for g, head in enumerate(heads):
            st = head["group"]
            members = [r for r in measured.fleet if r["station_id"] == st]
            act = activity.get(st, {})
            total = float(nevi.total[g])
            card = scorecard(
                OperatorMetrics(
                    operator_id=st,
                    connectors=len(members),
                    chargers=len({m["charger_id"] for m in members}),
                    period_days=days,
                    uptime_percent=_pct(nevi.uptime[g]),
                    repair_hours=tuple(repairs.get(g, ())),
                    completeness_percent=(1 - float(offline[g]) / total) * 100 if total else None,
                    sessions=act.get("sessions", 0),
                    successful_sessions=act.get("successful", 0),
                    alarms=act.get("alarms", 0),
                ),
                STATION_STARS,
            )
            incidents = act.get("incidents", 0)
            stars = card.stars if not incidents or card.stars is None else 1
            out.append(
                {
                    "station_id": st,
                    "name": head["name"],
                    "operator_id": members[0]["operator_id"] if members else None,
                    "score": card.score,
                    "stars": stars,
                    "incidents": incidents,
                    "values": card.values,
                    "sub_scores": card.sub_scores,
                }
            )
        out.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0.0), r["station_id"]))
        return out


# Star-rated stations: the criteria (docs/supervision.md, "Star-rated stations").
STATION_STARS = ScoreConfig(
    weights={
        "uptime": 0.40,
        "repair": 0.15,
        "completeness": 0.15,
        "sessions": 0.15,
        "alarms": 0.15,
    }
)


def stop_state(lifted_at: datetime | None, deliveries: Sequence[DeliveryRow]) -> str:
    """A stop order's state from when it was lifted and its stop deliveries: issued
    (answers pending), in_force (every charger accepted or its operator was notified),
    partial (some refused, failed or did not answer), lifted."""
    if lifted_at is not None:
        return "lifted"
    outcomes = [d["outcome"] for d in deliveries]
    if not outcomes or any(o is None for o in outcomes):
        return "issued"
    if all(o in ("accepted", "notified") for o in outcomes):
        return "in_force"
    return "partial"
