"""Safety incidents (R33) under /api/v1/supervision/incidents, for regulators (their
jurisdiction) and admins: report one against a station (and its charger, connector,
session), list and read them, close one with the party found responsible, and get its
timeline from the log — as JSON, CSV or XLSX — or the whole file for the investigating
authority (`/export`, JSON or XLSX)."""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool
from openpyxl import Workbook
from pydantic import BaseModel, Field

from chargenet.adapters import tabular
from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Regulator, bind, services
from chargenet.adapters.api.params import Offset
from chargenet.app.incidents import IncidentRow, IncidentService
from chargenet.app.queries import StateQueries
from chargenet.core.access import Audience, Principal, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.supervision.incidents import IncidentKind, Responsible

Text = Annotated[str, Field(max_length=4000)]
Id = Annotated[str, Field(min_length=1, max_length=128)]


class IncidentIn(BaseModel):
    kind: IncidentKind
    station_id: Id
    occurred_at: datetime = Field(description="when it happened (ISO 8601 with its offset)")
    charger_id: Id | None = None
    connector_id: Id | None = None
    session_id: Id | None = None
    injuries: int = Field(default=0, ge=0, le=10_000)
    deaths: int = Field(default=0, ge=0, le=10_000)
    description: Text = ""


class CloseIn(BaseModel):
    responsible: Responsible
    finding: Annotated[str, Field(min_length=1, max_length=4000)]


def _attachment(body: bytes, fmt: str, name: str) -> Response:
    return Response(
        body,
        media_type=tabular.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _workbook(incident: IncidentRow, timeline: dict[str, Any]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="incident")
    for key, value in incident.items():
        sheet.append([key, tabular.flat(value)])
    sheet = book.create_sheet(title="timeline")
    columns = ["at", "type", "summary", "source", "focus", "event_id"]
    sheet.append(columns)
    for entry in timeline["entries"]:
        sheet.append([tabular.flat(entry.get(c)) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Incidents:
    service: IncidentService
    read: StateQueries


Context = Annotated[Incidents, Depends(services(Incidents))]
router = APIRouter(prefix="/api/v1/supervision/incidents", tags=["supervision: incidents"])


def incidents_router(
    service: IncidentService, read: StateQueries, authenticators: Sequence[Authenticator]
) -> APIRouter:
    return bind(router, Incidents(service, read), authenticators)


async def _visible(incidents: Incidents, principal: Principal, incident_id: str) -> IncidentRow:
    row = await run_in_threadpool(incidents.service.queries.incident, incident_id)
    if row is None or not principal.in_scope(None, row.get("area_code")):
        # Outside the jurisdiction it is as if it did not exist.
        raise UnknownReference("incident", incident_id)
    return row


@router.post("", status_code=201, **declared(Audience.REGULATOR))
async def report(principal: Regulator, incidents: Context, body: IncidentIn) -> Any:
    """Record a fire, explosion, electric shock or other safety incident."""
    station = await run_in_threadpool(incidents.read.station, body.station_id)
    if station is None or not principal.in_scope(None, station.get("area_code")):
        raise UnknownReference("station", body.station_id)
    if body.occurred_at.tzinfo is None:
        raise HTTPException(422, "occurred_at needs its UTC offset")
    return await incidents.service.report(
        kind=body.kind,
        station_id=body.station_id,
        occurred_at=body.occurred_at.astimezone(UTC),
        by=principal.name,
        charger_id=body.charger_id,
        connector_id=body.connector_id,
        session_id=body.session_id,
        injuries=body.injuries,
        deaths=body.deaths,
        description=body.description,
    )


@router.get("", **declared(Audience.REGULATOR))
async def list_incidents(
    principal: Regulator,
    incidents: Context,
    response: Response,
    area: str | None = None,
    operator: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> Any:
    """Incidents in the caller's jurisdiction, newest first."""
    rows, total = await run_in_threadpool(
        incidents.service.queries.incidents, principal.area_within(area), operator, limit, offset
    )
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/{incident_id}", **declared(Audience.REGULATOR))
async def incident(principal: Regulator, incidents: Context, incident_id: str) -> Any:
    return await _visible(incidents, principal, incident_id)


@router.post("/{incident_id}/close", **declared(Audience.REGULATOR))
async def close(principal: Regulator, incidents: Context, incident_id: str, body: CloseIn) -> Any:
    """Record the investigation's finding and the party found responsible."""
    await _visible(incidents, principal, incident_id)
    return await incidents.service.close(
        incident_id, body.responsible, body.finding, principal.name
    )


@router.get("/{incident_id}/timeline", **declared(Audience.REGULATOR))
async def timeline(
    principal: Regulator,
    incidents: Context,
    incident_id: str,
    hours_before: Annotated[float, Query(gt=0, le=24 * 90)] = 72,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Any:
    """What the log holds about the incident's station and equipment before it: each
    entry names the event it comes from (`event_id`; all of them in `built_from`)."""
    row = await _visible(incidents, principal, incident_id)
    result = await run_in_threadpool(incidents.service.timeline, row, timedelta(hours=hours_before))
    if format == "json":
        return result
    body = tabular.render(result["entries"], format, sheet="timeline")
    return _attachment(body, format, f"incident-{incident_id}-timeline")


@router.get("/{incident_id}/export", **declared(Audience.REGULATOR))
async def export(
    principal: Regulator,
    incidents: Context,
    incident_id: str,
    hours_before: Annotated[float, Query(gt=0, le=24 * 90)] = 72,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """The file for the investigating authority: the incident and its timeline."""
    row = await _visible(incidents, principal, incident_id)
    result = await run_in_threadpool(incidents.service.timeline, row, timedelta(hours=hours_before))
    if format == "xlsx":
        return _attachment(_workbook(row, result), "xlsx", f"incident-{incident_id}")
    document = {"incident": row, "timeline": result, "exported_at": datetime.now(UTC)}
    return Response(
        json.dumps(document, default=str, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}.json"'},
    )
