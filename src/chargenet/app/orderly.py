"""Orderly charging as a service: read the electrical system and the active sessions from
state, plan with `analytics.orderly`, send each session its schedule through the order
path (OCPP TxProfile), and flag chargers that draw more than they were given.

Re-planned when a session starts or ends, when a vehicle or driver states its needs, when
a site's or feeder's limit changes, and every `replan_every_s` (prices move on). Only
stations with a stated grid connection are managed; the others charge as they like.

Assumptions where state says nothing (docs/orderly.md):
- an AC connector up to 7.4 kW draws on one phase (rotating over L1-L3 by EVSE number,
  as installers wire them), above that on three; DC draws on three, balanced;
- AC sessions never go below 6 A (IEC 61851-1 §6.3: the lowest duty cycle a vehicle
  must follow) unless paused; DC sessions have no minimum;
- energy still wanted and departure, when neither vehicle nor driver stated them, are the
  station's median session energy and stay over the last 30 days (else 20 kWh and 8 h
  for AC, 30 kWh and 1 h for DC).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chargenet.analytics.orderly import (
    Need,
    Node,
    Plan,
    Problem,
    plan,
    slots,
    valley_energy_wh,
)
from chargenet.app.ingest import Refused as PipelineRefused
from chargenet.app.orders import Order, OrderResult, OrderService
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    AlarmCleared,
    AlarmRaised,
    ChargingNeedsStated,
    DemandResponseCalled,
    DemandResponseScope,
    Event,
    FeederStated,
    GridConnectionStated,
    MeterSampled,
    SessionEnded,
    SessionStarted,
    Source,
    event_meta,
)
from chargenet.core.ids import AlarmId, OperatorId, OrderId, SessionId, StationId
from chargenet.core.supervision import OrderKind, OrderOutcome, Severity, TargetKind
from chargenet.core.tariffs import DayTariff, GridTou, PeriodClass
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id, stable_id

log = logging.getLogger(__name__)

ONE_PHASE_MAX_W = 7_400  # 32 A × 230 V: above this an AC connector uses three phases
MIN_CURRENT_A = 6.0  # IEC 61851-1: the lowest current a vehicle must follow
STEP_S = 900.0  # the plan's fine slots (15 min), then hourly
FINE_SLOTS = 4
HORIZON_S = 24 * 3600.0
LIMIT_CODE = "ChargingLimitExceeded"
# Prices per kWh by grid period when no tariff is given: the 1093 notice's spreads.
CLASS_PRICE = {
    PeriodClass.CRITICAL: 1.3,
    PeriodClass.PEAK: 1.0,
    PeriodClass.FLAT: 0.65,
    PeriodClass.VALLEY: 0.3,
}


@dataclass(frozen=True, slots=True)
class ActiveSession:
    session_id: str
    connector_id: str
    charger_id: str
    station_id: str
    protocol: str | None
    evse_no: int
    power_type: str  # AC / DC
    max_power_w: int
    started_at: datetime
    energy_wh: int | None = None  # delivered so far
    stated_energy_wh: int | None = None  # what the vehicle or driver said it wants in all
    departure_at: datetime | None = None
    stated_max_w: int | None = None
    stated_min_w: int | None = None
    discharge_max_w: int | None = None  # vehicle-to-grid, where charger and vehicle can
    dischargeable_wh: int | None = None  # the energy above its minimum state it may give


@dataclass(frozen=True, slots=True)
class SiteLimit:
    station_id: str
    capacity_w: int
    phases: int
    voltage_v: int
    feeder_id: str | None = None
    pv_peak_w: int = 0
    storage_power_w: int = 0
    area_code: str | None = None


@dataclass(frozen=True, slots=True)
class DemandResponse:
    dr_id: str
    scope: str  # all / area / feeder / station
    scope_id: str
    start: datetime
    end: datetime
    share: float
    program: str = ""

    def covers(self, site: SiteLimit) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "station":
            return site.station_id == self.scope_id
        if self.scope == "feeder":
            return site.feeder_id == self.scope_id
        return bool(site.area_code) and str(site.area_code).startswith(
            self.scope_id.rstrip("0") or self.scope_id
        )


@dataclass(frozen=True, slots=True)
class FeederLimit:
    feeder_id: str
    capacity_w: int
    phases: int


@dataclass(frozen=True, slots=True)
class SiteHistory:
    energy_wh: float  # median per session
    stay_s: float  # median plug-in time


class OrderlyQueries(Protocol):
    def grid_connections(self, at: datetime) -> list[SiteLimit]: ...

    def feeders(self, at: datetime) -> list[FeederLimit]: ...

    def active_sessions(self, station_ids: Sequence[str]) -> list[ActiveSession]: ...

    def history(self, station_ids: Sequence[str], since: datetime) -> dict[str, SiteHistory]:
        """Median energy and stay of the stations' ended sessions since a time."""
        ...

    def owner(self, kind: str, ident: str) -> Holder | None:
        """The operator and area of a station or session (None: unknown)."""
        ...

    def demand_response(self, start: datetime, end: datetime) -> list[DemandResponse]:
        """Demand-response events overlapping [start, end)."""
        ...

    def ended_sessions(
        self,
        start: datetime,
        end: datetime,
        area: str | None,
        operator: str | None,
        station: str | None = None,
    ) -> list[tuple[str, datetime, datetime, int]]:
        """(operator, start, end, energy Wh) of sessions ended in [start, end) at stations
        in the area and of the operator, or at one station (None: any)."""
        ...

    def live_power(self, station_id: str) -> dict[str, int]:
        """Each connector's newest metered power (W) at a station, where known."""
        ...


@dataclass(frozen=True, slots=True)
class Holder:
    operator_id: str
    area_code: str | None
    station_id: str


class Refused(PipelineRefused):
    """The store refused what was stated (with its reason)."""


def median_history(rows: Sequence[tuple[float, float]]) -> SiteHistory | None:
    """A station's typical session from its ended ones: (energy Wh, stay s) each."""
    if len(rows) < 5:
        return None
    return SiteHistory(statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))


def dr_limits(
    limit_w: float, events: Sequence[DemandResponse], now: datetime, durations: Sequence[float]
) -> tuple[float, ...] | None:
    """The limit in each slot under demand-response events: the lowest share of the
    events overlapping the slot (a slot partly inside an event takes the event's limit,
    so the target holds from its first second)."""
    if not events:
        return None
    out, at = [], now
    for d in durations:
        end = at + timedelta(seconds=d)
        shares = [e.share for e in events if e.start < end and e.end > at]
        out.append(limit_w * min(shares, default=1.0))
        at = end
    return tuple(out)


@dataclass
class Sent:
    """What a session was last given, and when the charger accepted it."""

    limit_w: float
    at: datetime
    accepted: bool
    order: Order | None = None  # the last profile sent


@dataclass
class Snapshot:
    problem: Problem
    sessions: list[ActiveSession]
    sites: dict[str, SiteLimit]
    started: datetime


@dataclass
class OrderlyConfig:
    replan_every_s: float = 300.0
    lp_budget_s: float = 1.0
    tolerance: float = 0.10  # above the limit by more than this share …
    tolerance_w: float = 500.0  # … plus this many W is exceeding it
    grace_s: float = 90.0  # time a charger has to follow a new limit
    resend_change: float = 0.05  # a new limit is sent when it differs by more than this


@dataclass
class OrderlyService:
    queries: OrderlyQueries
    orders: OrderService
    pipeline: IngestPipeline
    clock: Clock
    zone: ZoneInfo
    tou: GridTou | None = None
    tariff: DayTariff | None = None
    config: OrderlyConfig = field(default_factory=OrderlyConfig)
    sent: dict[str, Sent] = field(default_factory=dict)  # by session
    by_connector: dict[str, str] = field(default_factory=dict)  # connector → session
    flagged: set[str] = field(default_factory=set)  # sessions with an open alarm
    last_plan: Plan | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    # --- planning ---------------------------------------------------------------------

    def prices(self, now: datetime, durations: Sequence[float]) -> list[float]:
        """Price per kWh of each slot: the day tariff where one is set, else the grid
        period's class price."""
        out, at = [], now
        for d in durations:
            local = (at + timedelta(seconds=d / 2)).astimezone(self.zone).time()
            if self.tariff is not None:
                total = self.tariff.total_at(local)
                out.append(float(total) if total is not None else 0.0)
            elif self.tou is not None:
                out.append(CLASS_PRICE[self.tou.class_at(local)])
            else:
                out.append(1.0)
            at += timedelta(seconds=d)
        return out

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        sites = {s.station_id: s for s in self.queries.grid_connections(now)}
        feeders = {f.feeder_id: f for f in self.queries.feeders(now)}
        sessions = self.queries.active_sessions(list(sites))
        history = self.queries.history(list(sites), now - timedelta(days=30))
        nodes = [
            Node(node_id=f"feeder:{f.feeder_id}", limit_w=float(f.capacity_w), phases=f.phases)
            for f in feeders.values()
        ]
        durations = slots(STEP_S, FINE_SLOTS, HORIZON_S)
        events = self.queries.demand_response(now, now + timedelta(seconds=sum(durations)))
        for site in sites.values():
            parent = f"feeder:{site.feeder_id}" if site.feeder_id in feeders else None
            # Storage can discharge at its power on top of the connection; PV is not
            # counted on (it may be dark): a deployer states it in capacity_w if firm.
            limit = float(site.capacity_w + site.storage_power_w)
            nodes.append(
                Node(
                    node_id=site.station_id,
                    limit_w=limit,
                    phases=site.phases,
                    parent=parent,
                    limits_w=dr_limits(
                        limit, [e for e in events if e.covers(site)], now, durations
                    ),
                )
            )
        needs = [
            self.need(
                s,
                sites[s.station_id],
                history.get(s.station_id),
                now,
                discharge=self.can_discharge(s, sites[s.station_id]),
            )
            for s in sessions
        ]
        problem = Problem(needs, nodes, durations, self.prices(now, durations))
        return Snapshot(problem, sessions, sites, now)

    def can_discharge(self, s: ActiveSession, site: SiteLimit) -> bool:
        """Vehicle-to-grid only where the vehicle (or its driver) stated it may give energy
        and its charger's protocol carries a discharging schedule: a discharge planned but
        not carried out would leave the site's other sessions above its limit. OCPP 1.6
        and 2.0.1 profiles carry none (docs/orderly.md)."""
        if not s.discharge_max_w:
            return False
        probe = self.order_for(s, site, [-float(s.discharge_max_w)])
        return self.orders.check(probe) is None

    def need(
        self,
        s: ActiveSession,
        site: SiteLimit,
        history: SiteHistory | None,
        now: datetime,
        *,
        discharge: bool = False,
    ) -> Need:
        dc = s.power_type.upper() == "DC"
        phases = 3 if dc or s.max_power_w > ONE_PHASE_MAX_W else 1
        if site.phases == 1:
            phases = 1
        max_w = float(min(s.max_power_w, s.stated_max_w or s.max_power_w))
        min_w = 0.0 if dc else MIN_CURRENT_A * site.voltage_v * phases
        if s.stated_min_w is not None:
            min_w = max(min_w, float(s.stated_min_w))
        default_energy, default_stay = (30_000.0, 3600.0) if dc else (20_000.0, 8 * 3600.0)
        if history is not None:
            default_energy, default_stay = history.energy_wh, history.stay_s
        delivered = float(s.energy_wh or 0)
        wanted = float(s.stated_energy_wh) if s.stated_energy_wh is not None else default_energy
        departure = s.departure_at or s.started_at + timedelta(seconds=default_stay)
        # A vehicle still plugged in past its expected time charges as if leaving within
        # the hour, so it is never starved by an estimate that proved wrong.
        left_s = max((departure - now).total_seconds(), 3600.0)
        return Need(
            session_id=s.session_id,
            node=s.station_id,
            max_w=max_w,
            min_w=min(min_w, max_w),
            energy_wh=max(0.0, wanted - delivered),
            departure_s=left_s,
            phases=phases,
            phase=(s.evse_no - 1) % 3,
            arrived_s=(now - s.started_at).total_seconds(),
            discharge_w=float(s.discharge_max_w or 0) if discharge else 0.0,
            dischargeable_wh=float(s.dischargeable_wh or 0) if discharge else 0.0,
        )

    def replan(self) -> tuple[Snapshot, Plan]:
        snap = self.snapshot()
        result = plan(snap.problem, lp_budget_s=self.config.lp_budget_s)
        self.last_plan = result
        return snap, result

    # --- enforcement ------------------------------------------------------------------

    def order_for(self, s: ActiveSession, site: SiteLimit, row: Sequence[float]) -> Order:
        """The session's schedule as a TxProfile: AC in A per phase (what AC chargers
        take, OCPP 1.6 §3.13.1), DC in W; equal neighbouring slots merged."""
        dc = s.power_type.upper() == "DC"
        phases = 3 if dc or s.max_power_w > ONE_PHASE_MAX_W else 1
        if site.phases == 1:
            phases = 1
        durations = slots(STEP_S, FINE_SLOTS, HORIZON_S)
        parts: list[str] = []
        start, last = 0.0, None
        for watts, d in zip(row, durations, strict=False):
            value = watts if dc else watts / (site.voltage_v * phases)
            value = round(value, 1)
            if value != last:
                parts.append(f"{int(start)}:{value}")
                last = value
            start += d
        parameters = {
            "session_id": s.session_id,
            "schedule": ",".join(parts[:24]),
            "unit": "W" if dc else "A",
        }
        if not dc:
            parameters["phases"] = str(phases)
        return Order(
            order_id=OrderId(new_id()),
            kind=OrderKind.SET_SESSION_PROFILE,
            charger_id=s.charger_id,
            protocol=s.protocol,
            target_kind=TargetKind.CONNECTOR,
            target_id=s.connector_id,
            evse_no=s.evse_no,
            parameters=parameters,
            reason="orderly charging",
            issued_by="orderly",
        )

    async def enforce(self, snap: Snapshot, result: Plan) -> list[OrderResult]:
        """Send every session whose limit changed its new schedule, all at once."""
        rows = dict(zip(result.session_ids, range(len(result.session_ids)), strict=True))
        jobs, keys = [], []
        for s in snap.sessions:
            i = rows[s.session_id]
            now_w = float(result.power_w[i, 0])
            self.by_connector[s.connector_id] = s.session_id
            held = self.sent.get(s.session_id)
            # A lower limit always goes out (the site's sum must hold); a higher one when
            # it is worth a message.
            if (
                held is not None
                and held.accepted
                and held.limit_w - 1.0 <= now_w
                and now_w - held.limit_w <= max(self.config.resend_change * held.limit_w, 100.0)
            ):
                continue
            order = self.order_for(s, snap.sites[s.station_id], result.power_w[i].tolist())
            if self.orders.check(order) is not None:
                continue  # its charger's protocol carries no profiles (an operator platform)
            jobs.append(self.orders.issue(order))
            keys.append((s.session_id, now_w, order))
        results = list(await asyncio.gather(*jobs)) if jobs else []
        at = self.clock.now()
        for (sid, now_w, order), res in zip(keys, results, strict=True):
            self.sent[sid] = Sent(now_w, at, res.outcome is OrderOutcome.ACCEPTED, order)
        live = {s.session_id for s in snap.sessions}
        clears = [self.clear(self.sent.pop(sid)) for sid in [k for k in self.sent if k not in live]]
        await asyncio.gather(*clears)
        self.by_connector = {c: s for c, s in self.by_connector.items() if s in live}
        return results

    async def clear(self, held: Sent) -> OrderResult | None:
        """A session has ended: its limit is cleared where a profile outlives the session
        (an operator platform's, OCPI ChargingProfiles DELETE); an OCPP TxProfile ends
        with its transaction, and its controller says so (nothing is sent)."""
        if held.order is None or not held.accepted:
            return None
        clear = replace(
            held.order,
            order_id=OrderId(new_id()),
            kind=OrderKind.CLEAR_CHARGING_LIMIT,
            parameters={"session_id": held.order.parameters.get("session_id", "")},
            reason="orderly charging: the session ended",
        )
        if self.orders.check(clear) is not None:
            return None
        return await self.orders.issue(clear)

    async def run_once(self) -> tuple[Snapshot, Plan, list[OrderResult]]:
        snap, result = await asyncio.to_thread(self.replan)
        sent = await self.enforce(snap, result)
        # Re-planned on every arrival and departure: only a plan that changed a charger's
        # limit is worth a line at INFO (a busy log blocks a process whose output is a pipe).
        log.log(
            logging.INFO if sent else logging.DEBUG,
            "orderly: %d sessions planned by %s in %.3f s, %d limits sent",
            len(snap.sessions),
            result.solver,
            result.seconds,
            len(sent),
        )
        return snap, result, sent

    # --- keeping to limits ------------------------------------------------------------

    def check(self, event: MeterSampled) -> list[Event]:
        """An alarm when a connector draws more than its limit once the charger has had
        time to follow it; cleared when it is back under."""
        sid = self.by_connector.get(event.connector_id)
        held = self.sent.get(sid) if sid else None
        if sid is None or held is None or event.power_w is None or not held.accepted:
            return []
        if (event.occurred_at - held.at).total_seconds() < self.config.grace_s:
            return []
        allowed = held.limit_w * (1 + self.config.tolerance) + self.config.tolerance_w
        alarm = AlarmId(stable_id("orderly-limit", sid))
        source = Source(adapter="orderly")
        if event.power_w > allowed and sid not in self.flagged:
            self.flagged.add(sid)
            return [
                AlarmRaised(
                    **event_meta(new_id(), source, event.occurred_at, self.clock.now()),
                    alarm_id=alarm,
                    target_kind=TargetKind.CONNECTOR,
                    target_id=event.connector_id,
                    code=LIMIT_CODE,
                    severity=Severity.WARNING,
                    message=(
                        f"session {sid} drew {event.power_w} W against a limit of "
                        f"{held.limit_w:.0f} W"
                    )[:500],
                )
            ]
        if event.power_w <= allowed and sid in self.flagged:
            self.flagged.discard(sid)
            return [
                AlarmCleared(
                    **event_meta(new_id(), source, event.occurred_at, self.clock.now()),
                    alarm_id=alarm,
                    reason="back under its limit",
                )
            ]
        return []

    async def observe(self, events: Sequence[Event]) -> None:
        """Bus listener: meter samples are checked; what changes the problem wakes the
        planner."""
        alarms: list[Event] = []
        for event in events:
            if isinstance(event, MeterSampled):
                alarms += self.check(event)
            elif isinstance(
                event,
                SessionStarted
                | SessionEnded
                | ChargingNeedsStated
                | GridConnectionStated
                | FeederStated
                | DemandResponseCalled,
            ):
                self._wake.set()
        if alarms:
            await self.pipeline.submit(alarms)

    async def run(self) -> None:
        """Re-plan whenever woken (debounced by a second) and at least every few minutes."""
        while True:
            try:
                await wait_at_most(self._wake.wait(), self.config.replan_every_s)
                await asyncio.sleep(1.0)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("orderly charging: re-planning failed")

    # --- statements through the API ---------------------------------------------------

    async def _submit(self, event: Event) -> None:
        [outcome] = await self.pipeline.submit([event])
        if not outcome.ok:
            raise Refused(outcome.reason)

    async def state_grid_connection(
        self, by_operator: str | None, station_id: str, valid_from: datetime | None, **values: Any
    ) -> GridConnectionStated:
        now = self.clock.now()
        event = GridConnectionStated(
            **event_meta(new_id(), Source(adapter="api", operator_id=_op(by_operator)), now),
            station_id=StationId(station_id),
            valid_from=valid_from or now,
            **values,
        )
        await self._submit(event)
        return event

    async def state_feeder(
        self, feeder_id: str, name: str, valid_from: datetime | None, **values: Any
    ) -> FeederStated:
        now = self.clock.now()
        event = FeederStated(
            **event_meta(new_id(), Source(adapter="api"), now),
            feeder_id=feeder_id,
            name=name,
            valid_from=valid_from or now,
            **values,
        )
        await self._submit(event)
        return event

    async def state_needs(
        self,
        by_operator: str | None,
        session_id: str,
        energy_wh: int | None,
        departure_at: datetime | None,
        discharge_max_w: int | None = None,
        dischargeable_wh: int | None = None,
    ) -> ChargingNeedsStated:
        """A driver's wish (through its operator's app or an admin): energy and departure,
        and what a bidirectional vehicle may give back (the operator knows its charger
        and the driver's vehicle can: OCPP 2.0.1 has no field for it)."""
        now = self.clock.now()
        event = ChargingNeedsStated(
            **event_meta(new_id(), Source(adapter="api", operator_id=_op(by_operator)), now),
            session_id=SessionId(session_id),
            energy_wh=energy_wh,
            departure_at=departure_at,
            discharge_max_w=discharge_max_w,
            dischargeable_wh=dischargeable_wh,
        )
        await self._submit(event)
        return event

    def site(self, station_id: str) -> dict[str, Any]:
        """A station's limit in force, its load now and each managed session's limit."""
        now = self.clock.now()
        limit = next(
            (s for s in self.queries.grid_connections(now) if s.station_id == station_id), None
        )
        if limit is None:
            raise UnknownReference("grid connection of station", station_id)
        power = self.queries.live_power(station_id)
        sessions = self.queries.active_sessions([station_id])
        rows = []
        for s in sessions:
            held = self.sent.get(s.session_id)
            rows.append(
                {
                    "session_id": s.session_id,
                    "connector_id": s.connector_id,
                    "power_w": power.get(s.connector_id),
                    "limit_w": None if held is None else round(held.limit_w),
                    "limit_accepted": None if held is None else held.accepted,
                    "exceeding": s.session_id in self.flagged,
                }
            )
        return {
            "station_id": station_id,
            "capacity_w": limit.capacity_w,
            "phases": limit.phases,
            "feeder_id": limit.feeder_id,
            "load_w": sum(v for v in power.values() if v),
            "sessions": rows,
        }

    async def call_demand_response(
        self,
        dr_id: str,
        scope: DemandResponseScope,
        scope_id: str,
        start: datetime,
        end: datetime,
        share: float,
        called_by: str,
        program: str = "",
        adapter: str = "api",
    ) -> DemandResponseCalled:
        """Record a demand-response event (the planner wakes on it)."""
        event = DemandResponseCalled(
            **event_meta(new_id(), Source(adapter=adapter), self.clock.now()),
            dr_id=dr_id,
            scope=scope,
            scope_id=scope_id,
            start=start,
            end=end,
            share=share,
            called_by=called_by,
            program=program,
        )
        await self._submit(event)
        return event

    def managed_load_w(self) -> int:
        """The metered load of every managed station now (W): what a VEN reports."""
        now = self.clock.now()
        return sum(
            sum(v for v in self.queries.live_power(s.station_id).values() if v)
            for s in self.queries.grid_connections(now)
        )

    def valley_share(
        self,
        start: datetime,
        end: datetime,
        area: str | None,
        operator: str | None,
        station: str | None = None,
    ) -> dict[str, Any]:
        """Share of the energy charged in the grid's valley hours, in all and per operator
        (the aim of orderly charging: move charging off the peak)."""
        tou = self.tou
        if tou is None:
            raise UnknownReference("grid time-of-use periods for region", "configured")

        def valley(at: datetime) -> bool:
            return tou.is_valley(at.astimezone(self.zone).time())

        by_operator: dict[str, list[float]] = {}
        for op, begun, ended, energy in self.queries.ended_sessions(
            start, end, area, operator, station
        ):
            row = by_operator.setdefault(op, [0.0, 0.0, 0.0])
            row[0] += energy
            row[1] += valley_energy_wh(begun, ended, energy, valley)
            row[2] += 1
        total = sum(r[0] for r in by_operator.values())
        inside = sum(r[1] for r in by_operator.values())
        return {
            "start": start,
            "end": end,
            "area": area,
            "grid_periods": tou.name,
            "energy_wh": round(total),
            "valley_energy_wh": round(inside),
            "valley_share": round(inside / total, 4) if total else None,
            "operators": [
                {
                    "operator_id": op,
                    "sessions": int(r[2]),
                    "energy_wh": round(r[0]),
                    "valley_share": round(r[1] / r[0], 4) if r[0] else None,
                }
                for op, r in sorted(by_operator.items())
            ],
        }


def _op(operator_id: str | None) -> OperatorId | None:
    return None if operator_id is None else OperatorId(operator_id)
