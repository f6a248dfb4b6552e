"""chargenet as an OpenADR 2.0b VEN (`openleadr`): the grid operator's VTN sends events,
each interval becomes a demand-response event on the log (`dr.called`), which the orderly
planner turns into lower site limits for its time; the VEN reports the metered load of
the managed stations (`real_power`) so the VTN sees the shed. docs/orderly.md.

Signals understood (OpenADR 2.0b profile, §8.2 signal names and types):
- LOAD_CONTROL / x-loadControlCapacity: the payload is the share of the limit that may be
  drawn (0..1);
- SIMPLE / level: 0 normal, 1 moderate (75 %), 2 high (50 %), 3 special (25 %).
Targets: `resource_id`s name stations, or feeders as "feeder:ID"; none: every managed
station. A cancelled event ends now. Anything else is answered optOut.

Opt-outs (OpenADR 2.0b §8.1, oadrCreatedEvent optType): stations configured never to shed
are left out of every event (an event for all or a feeder becomes one call per remaining
station); an event none of whose targets can shed — all opted out, or none a managed
station chargenet controls — is answered optOut and changes nothing.

Reports (TELEMETRY_USAGE, OpenADR 2.0b §8.3): the metered load of the managed stations
(`reading`) and its baseline (`baseline`, the CAISO 10-in-10 of
`analytics/demand_response.py`), both in kW, every `report_every_s`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from openleadr import OpenADRClient, enums

from chargenet.analytics.demand_response import quarter_floor
from chargenet.app.orderly import DemandResponse, OrderlyService, SiteLimit
from chargenet.app.orderly_figures import OrderlyFigures
from chargenet.core.events import DemandResponseScope

log = logging.getLogger(__name__)

SIMPLE_LEVELS = {0: 1.0, 1: 0.75, 2: 0.5, 3: 0.25}


@dataclass(frozen=True)
class VenConfig:
    vtn_url: str  # e.g. https://vtn.example/OpenADR2/Simple/2.0b
    ven_name: str = "chargenet"
    report_every_s: float = 60.0
    opt_out: frozenset[str] = field(default_factory=frozenset)  # stations that never shed


@dataclass(frozen=True, slots=True)
class Call:
    """One interval of a VTN event as chargenet will record it."""

    dr_id: str
    scope: DemandResponseScope
    scope_id: str
    start: datetime
    end: datetime
    share: float
    program: str


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def calls(event: dict[str, Any], now: datetime) -> list[Call] | None:
    """The demand-response calls an OpenADR event asks for; None when chargenet cannot
    follow it (an unknown signal: the VEN opts out)."""
    descriptor = event["event_descriptor"]
    event_id = str(descriptor["event_id"])
    cancelled = descriptor.get("event_status") == "cancelled"
    resources: Sequence[str] = (event.get("targets_by_type") or {}).get("resource_id") or []
    scopes: list[tuple[DemandResponseScope, str]] = []
    for resource in resources:
        if resource.startswith("feeder:"):
            scopes.append((DemandResponseScope.FEEDER, resource.removeprefix("feeder:")))
        else:
            scopes.append((DemandResponseScope.STATION, resource))
    if not scopes:
        scopes = [(DemandResponseScope.ALL, "")]
    out: list[Call] = []
    for signal in event.get("event_signals") or []:
        name, kind = signal.get("signal_name"), signal.get("signal_type")
        for n, interval in enumerate(signal.get("intervals") or []):
            payload = float(interval["signal_payload"])
            if name == "LOAD_CONTROL" and kind == "x-loadControlCapacity":
                share = min(max(payload, 0.0), 1.0)
            elif name == "SIMPLE" and kind == "level":
                share = SIMPLE_LEVELS.get(int(payload), 0.25)
            else:
                return None
            start = _utc(interval["dtstart"])
            duration: timedelta = interval["duration"]
            end = start + duration if duration > timedelta(0) else start + timedelta(days=1)
            if cancelled:
                end = max(start, min(end, now))
            for scope, scope_id in scopes:
                out.append(
                    Call(
                        dr_id=f"openadr:{event_id}:{n}:{scope.value}:{scope_id}"[:128],
                        scope=scope,
                        scope_id=scope_id,
                        start=start,
                        end=end,
                        share=share,
                        program=event_id[:200],
                    )
                )
    return out


def sheddable(
    wanted: Sequence[Call], managed: Sequence[SiteLimit], opt_out: frozenset[str]
) -> list[Call]:
    """The calls for stations that can shed: without the opted-out stations (a call for
    all or a feeder becomes one per remaining managed station when any is opted out) and
    without stations chargenet does not manage."""
    ids = {s.station_id for s in managed}
    out: list[Call] = []
    for call in wanted:
        if call.scope is DemandResponseScope.STATION:
            if call.scope_id in ids and call.scope_id not in opt_out:
                out.append(call)
            continue
        rule = DemandResponse(call.dr_id, call.scope.value, call.scope_id, call.start, call.end, 1)
        covered = [s.station_id for s in managed if rule.covers(s)]
        if not opt_out.intersection(covered):
            if covered:
                out.append(call)
            continue
        for station in covered:
            if station not in opt_out:
                out.append(
                    replace(
                        call,
                        dr_id=f"{call.dr_id}:{station}"[:128],
                        scope=DemandResponseScope.STATION,
                        scope_id=station,
                    )
                )
    return out


class Ven:
    def __init__(
        self,
        config: VenConfig,
        orderly: OrderlyService,
        now: Callable[[], datetime],
        figures: OrderlyFigures | None = None,
    ) -> None:
        self.config = config
        self.orderly = orderly
        self.figures = figures
        self.now = now
        self._baseline: tuple[datetime, float] | None = None
        self.client = OpenADRClient(ven_name=config.ven_name, vtn_url=config.vtn_url)
        self.client.add_handler("on_event", self.on_event)
        self.client.add_handler("on_update_event", self.on_event)
        # One telemetry report: the aggregated load in kW, and beside it (when the load
        # figures are there) its baseline as a projection.
        telemetry: dict[str, Any] = {
            "resource_id": "chargenet",
            "measurement": "real_power",
            "unit": "W",
            "scale": "k",
            "sampling_rate": timedelta(seconds=config.report_every_s),
            "report_specifier_id": "chargenet-telemetry",
            "report_duration": timedelta(hours=1),
        }
        self.client.add_report(callback=self.load_kw, **telemetry)
        if figures is not None:
            self.client.add_report(
                callback=self.baseline_kw,
                report_type=enums.REPORT_TYPE.BASELINE,
                reading_type=enums.READING_TYPE.PROJECTED,
                **telemetry,
            )

    def load_kw(self) -> float:
        return self.orderly.managed_load_w() / 1000.0

    async def baseline_kw(self) -> float:
        """The baseline of the current quarter hour (computed once per quarter, off the
        event loop)."""
        assert self.figures is not None
        quarter = quarter_floor(self.now())
        if self._baseline is None or self._baseline[0] != quarter:
            self._baseline = (quarter, await asyncio.to_thread(self.figures.baseline_now_w))
        return self._baseline[1] / 1000.0

    async def on_event(self, event: dict[str, Any]) -> str:
        wanted = calls(event, self.now())
        if wanted is None:
            log.warning("OpenADR event %s: a signal chargenet cannot follow; optOut", event)
            return "optOut"
        managed = self.orderly.queries.grid_connections(self.now())
        can = sheddable(wanted, managed, self.config.opt_out)
        if wanted and not can:
            log.warning(
                "OpenADR event %s: none of its targets can shed (opted out or not managed); optOut",
                event["event_descriptor"]["event_id"],
            )
            return "optOut"
        for call in can:
            await self.orderly.call_demand_response(
                call.dr_id,
                call.scope,
                call.scope_id,
                call.start,
                call.end,
                call.share,
                called_by=f"openadr:{self.config.vtn_url}"[:128],
                program=call.program,
                adapter="openadr",
            )
        return "optIn"

    async def run(self) -> None:
        await self.client.run()

    async def stop(self) -> None:
        await self.client.stop()
