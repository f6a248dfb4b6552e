"""Safety incidents (R33): recording them against station, charger, connector, session
and operator; assembling a timeline from the log that names the events it is built from;
closing them with the party found responsible. Docs: docs/supervision.md, "Incidents".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypedDict

from chargenet.app.ingest import Refused
from chargenet.app.pipeline import IngestPipeline
from chargenet.core.errors import UnknownReference
from chargenet.core.events import IncidentClosed, IncidentReported, Source, event_meta
from chargenet.core.ids import ChargerId, ConnectorId, SessionId, StationId
from chargenet.core.supervision.incidents import IncidentKind, Responsible
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id
from chargenet.kit.timeutil import require_utc

# A logged event as `codec.to_builtins` gives it, with seq, type and event_id: its fields
# depend on its type (core/events), so no row type can name them.
LogEntry = dict[str, Any]
# What this service composes from rows (a timeline), not a port row.
Row = dict[str, Any]
SOURCE = Source(adapter="api")


class IncidentRow(TypedDict):
    incident_id: str
    kind: str  # an `IncidentKind` value
    station_id: str
    charger_id: str | None
    connector_id: str | None
    session_id: str | None
    operator_id: str
    area_code: str | None
    occurred_at: datetime
    reported_at: datetime
    reported_by: str
    injuries: int
    deaths: int
    description: str
    state: str  # open | closed
    responsible: str | None  # a `Responsible` value, once closed
    finding: str | None
    closed_at: datetime | None
    closed_by: str | None


# What a timeline is made of: the equipment's own story (statuses, presence, notices,
# battery, parking, firmware and maintenance), the platform's (alarms, orders, stop
# orders, zombie cases, exclusions) and the charging (sessions).
SUBJECT_TYPES = (
    "connector.status_changed",
    "charger.presence_changed",
    "equipment.noticed",
    "station.noticed",
    "battery.reported",
    "parking.reported",
    "charger.inventory_reported",
    "session.started",
    "alarm.raised",
    "order.issued",
    "stop_order.issued",
    "zombie.detected",
    "outage.excluded",
    "charger.registered",
    "charger.retired",
)
FOLLOW_TYPES = (
    "session.ended",
    "stop_order.lifted",
    "alarm.cleared",
    "alarm.acknowledged",
    "order.acknowledged",
    "zombie.notified",
    "zombie.escalated",
    "zombie.closed",
)
MAX_ENTRIES = 5_000


class IncidentQueries(Protocol):
    def incident(self, incident_id: str) -> IncidentRow | None: ...

    def incidents(
        self, area: str | None, operator: str | None, limit: int, offset: int
    ) -> tuple[list[IncidentRow], int]: ...

    def equipment_of(self, station_id: str) -> tuple[list[str], list[str]]: ...

    def log_about(
        self,
        types: Sequence[str],
        names: Sequence[str],
        start: datetime,
        end: datetime,
        received_from: datetime,
        limit: int,
    ) -> list[LogEntry]: ...


@dataclass(frozen=True, slots=True)
class TimelineOptions:
    before: timedelta = timedelta(hours=72)  # how far back from the incident
    after: timedelta = timedelta(hours=1)
    # Reports may arrive late: the log is read from this long before the window opens.
    late_arrival: timedelta = timedelta(days=1)


def _summary(entry: Row) -> str:
    t = str(entry["type"])
    if t == "connector.status_changed":
        code = f" ({entry['error_code']})" if entry.get("error_code") else ""
        return f"{entry['connector_id']} {entry['status']}{code}"
    if t == "charger.presence_changed":
        return f"{entry['charger_id']} {'online' if entry.get('online') else 'offline'}"
    if t == "equipment.noticed":
        state = " cleared" if entry.get("cleared") else ""
        info = entry.get("info") or ""
        return f"{entry['charger_id']} {entry['kind']} {entry['code']}{state} {info}".strip()
    if t == "station.noticed":
        return f"{entry['station_id']} {entry['code']} {entry.get('info') or ''}".strip()
    if t == "battery.reported":
        return (
            f"{entry['connector_id']} battery {entry.get('temperature_max_c')} °C, "
            f"SOC {entry.get('soc_percent')} %"
        )
    if t == "alarm.raised":
        message = entry.get("message", "")
        return f"alarm {entry['code']} ({entry['severity']}) on {entry['target_id']}: {message}"
    if t in ("alarm.cleared", "alarm.acknowledged"):
        return f"{t.split('.')[1]} alarm {entry['alarm_id']}"
    if t == "order.issued":
        return f"order {entry['kind']} to {entry['target_id']}: {entry.get('reason', '')}"
    if t == "order.acknowledged":
        return f"order {entry['order_id']}: {entry['outcome']} {entry.get('detail', '')}".strip()
    if t.startswith("session."):
        energy = f", {entry['energy_wh']} Wh" if entry.get("energy_wh") is not None else ""
        return f"session {entry['session_id']} {t.split('.')[1]}{energy}"
    if t.startswith("stop_order."):
        return f"stop order {entry['stop_id']} {t.split('.')[1]}"
    return t


class IncidentService:
    def __init__(
        self,
        pipeline: IngestPipeline,
        queries: IncidentQueries,
        clock: Clock,
        options: TimelineOptions | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.queries = queries
        self.clock = clock
        self.options = options or TimelineOptions()

    async def _submit(self, event: Any) -> None:
        [outcome] = await self.pipeline.submit([event])
        if not outcome.ok:
            raise Refused(outcome.reason)

    async def report(
        self,
        *,
        kind: IncidentKind,
        station_id: str,
        occurred_at: datetime,
        by: str,
        charger_id: str | None = None,
        connector_id: str | None = None,
        session_id: str | None = None,
        injuries: int = 0,
        deaths: int = 0,
        description: str = "",
    ) -> IncidentRow:
        incident_id = new_id()
        await self._submit(
            IncidentReported(
                **event_meta(new_id(), SOURCE, require_utc(occurred_at), self.clock.now()),
                incident_id=incident_id,
                kind=kind,
                station_id=StationId(station_id),
                charger_id=ChargerId(charger_id) if charger_id else None,
                connector_id=ConnectorId(connector_id) if connector_id else None,
                session_id=SessionId(session_id) if session_id else None,
                injuries=injuries,
                deaths=deaths,
                description=description,
                reported_by=by,
            )
        )
        return await self._row(incident_id)

    async def close(
        self, incident_id: str, responsible: Responsible, finding: str, by: str
    ) -> IncidentRow:
        await self._row(incident_id)
        await self._submit(
            IncidentClosed(
                **event_meta(new_id(), SOURCE, self.clock.now()),
                incident_id=incident_id,
                responsible=responsible,
                finding=finding,
                by=by,
            )
        )
        return await self._row(incident_id)

    async def _row(self, incident_id: str) -> IncidentRow:
        row = await asyncio.to_thread(self.queries.incident, incident_id)
        if row is None:
            raise UnknownReference("incident", incident_id)
        return row

    def timeline(self, incident: IncidentRow, before: timedelta | None = None) -> Row:
        """The incident's timeline from the log: every status, presence, notice, battery
        and parking report, alarm, order, stop order, zombie step and session about its
        station's equipment in the window, oldest first, each naming its event; and the
        list of those events (`built_from`)."""
        at: datetime = incident["occurred_at"]
        start = at - (before or self.options.before)
        end = at + self.options.after
        chargers, connectors = self.queries.equipment_of(incident["station_id"])
        names = [incident["station_id"], *chargers, *connectors]
        if incident["session_id"]:
            names.append(incident["session_id"])
        found = self.queries.log_about(
            SUBJECT_TYPES, names, start, end, start - self.options.late_arrival, MAX_ENTRIES
        )
        # Answers to alarms and orders, ends of sessions, liftings and later steps of zombie
        # cases name only the alarm, order, session, stop or case: a second pass finds them.
        followed = sorted(
            {e["alarm_id"] for e in found if e["type"] == "alarm.raised"}
            | {e["order_id"] for e in found if e["type"] == "order.issued"}
            | {e["case_id"] for e in found if e["type"] == "zombie.detected"}
            | {e["session_id"] for e in found if e["type"] == "session.started"}
            | {e["stop_id"] for e in found if e["type"] == "stop_order.issued"}
        )
        if followed:
            found += self.queries.log_about(
                FOLLOW_TYPES, followed, start, end, start - self.options.late_arrival, MAX_ENTRIES
            )
            found.sort(key=lambda e: (e["occurred_at"], e["seq"]))
        entries = []
        for e in found:
            entries.append(
                {
                    "at": e["occurred_at"],
                    "type": e["type"],
                    "event_id": e["event_id"],
                    "source": (e.get("source") or {}).get("adapter"),
                    "summary": _summary(e),
                    "focus": any(
                        e.get(k) and e.get(k) == incident.get(k)
                        for k in ("charger_id", "connector_id", "session_id")
                    ),
                }
            )
        return {
            "incident_id": incident["incident_id"],
            "window": {"start": start, "end": end},
            "entries": entries,
            "built_from": [e["event_id"] for e in entries],
            "truncated": len(entries) >= MAX_ENTRIES,
        }
