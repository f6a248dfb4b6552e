"""JSON behind the regulator dashboard: overview, live map, plan vs actual, alarm and order
lists, map layers and the monthly report download. Regulators (and admins) only, each
inside its jurisdiction; map layers are public (the finder draws them too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Regulator, bind, services
from chargenet.app.figures import Figures, Month
from chargenet.app.finder import LiveIndex, StationEntry
from chargenet.app.supervision_ports import SupervisionLists
from chargenet.core.access import Audience, Principal, declared
from chargenet.core.status import ConnectorStatus


@dataclass(frozen=True)
class MapLayers:
    """What the maps draw besides stations (no online tiles): area boundaries as a GeoJSON
    FeatureCollection (properties: code, name_zh, name_en, level) and roads as polylines."""

    boundaries: dict[str, Any] | None = None
    roads: list[dict[str, Any]] = field(default_factory=list)


Area = Annotated[str | None, Query(description="Area code; default your jurisdiction")]
ReportRenderer = Callable[[str, Month, str], tuple[bytes, str, str]]  # → body, file name, type


class ReportUnavailable(RuntimeError):
    """The renderer cannot make this format now (no Chromium to print a PDF with): 503,
    the HTML and XLSX versions still work. The composition root translates the report
    adapter's own error into this one, so the API imports no other adapter."""


REPORT_FORMATS = ("xlsx", "pdf", "html")
# How long the live map waits for the index to apply an action's event (`?after=`): the
# index follows the bus milliseconds behind, seconds under a storm; past this the page
# gets what is there and asks again on its next refresh.
AFTER_WAIT_S = 5.0


def station_state(status: dict[str, int]) -> str:
    """One colour per station: available if any connector is; in use if all usable ones are
    busy; faulted if none is usable but some report a fault or are out of service; offline
    when none talks."""
    total = sum(status.values())
    if status["available"]:
        return "available"
    busy = status["charging"] + status["occupied"] + status["reserved"] + status["blocked"]
    if busy:
        return "busy"
    if total and status["offline"] == total:
        return "offline"
    return "faulted" if total else "offline"


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard's routes read; `tiles`: the configured base map ({url,
    attribution}), None: maps without tiles."""

    figures: Figures
    index: LiveIndex
    lists: SupervisionLists
    layers: MapLayers
    render_report: ReportRenderer | None = None
    zone: str = "Asia/Shanghai"
    currency: str = "CNY"
    trends: Callable[[str, int], dict[str, Any]] | None = None
    tiles: dict[str, str] | None = None


Context = Annotated[Dashboard, Depends(services(Dashboard))]
router = APIRouter(prefix="/api/v1", tags=["dashboard"])


def dashboard_router(
    figures: Figures,
    index: LiveIndex,
    lists: SupervisionLists,
    authenticators: Sequence[Authenticator],
    layers: MapLayers,
    render_report: ReportRenderer | None = None,
    zone: str = "Asia/Shanghai",
    currency: str = "CNY",
    trends: Callable[[str, int], dict[str, Any]] | None = None,
    tiles: dict[str, str] | None = None,
) -> APIRouter:
    dashboard = Dashboard(
        figures, index, lists, layers, render_report, zone, currency, trends, tiles
    )
    return bind(router, dashboard, authenticators)


def _jurisdiction(viewer: Principal, area: str | None) -> str:
    """The area asked for (default: the viewer's own), refused outside its scope."""
    code = viewer.area_within(area)
    if code is None:
        raise HTTPException(status_code=422, detail="say which area: ?area=<code>")
    return code


@router.get("/dashboard/overview", **declared(Audience.REGULATOR))
async def overview(dashboard: Context, viewer: Regulator, area: Area = None) -> Any:
    """Piles (R01), stations, live status, EVs and vehicle-to-pile ratios, open alarms
    and open orders of an area."""
    code = _jurisdiction(viewer, area)
    body = await run_in_threadpool(dashboard.figures.overview, code)
    _, open_alarms = await run_in_threadpool(dashboard.lists.alarms, viewer, code, True, 1)
    _, open_orders = await run_in_threadpool(dashboard.lists.orders, viewer, code, True, 1)
    return {**body, "open_alarms": open_alarms, "open_orders": open_orders}


@router.get("/dashboard/plan", **declared(Audience.REGULATOR))
async def plan(dashboard: Context, viewer: Regulator, area: Area = None) -> Any:
    """New piles per part of the area (county) and year: the plan's target and what was
    built (difference of piles in service at the year ends)."""
    return await run_in_threadpool(dashboard.figures.plan, _jurisdiction(viewer, area))


@router.get("/dashboard/trends", **declared(Audience.REGULATOR))
async def trend(
    dashboard: Context,
    viewer: Regulator,
    area: Area = None,
    months: Annotated[int, Query(ge=1, le=36, description="How many months back")] = 12,
) -> Any:
    """Per month (oldest first, this month last and `complete: false`): piles in
    service at the month's end (R01), EVs per public pile, NEVI uptime over the month,
    alarms raised in it, zombie cases and stop orders in force at its end."""
    code = _jurisdiction(viewer, area)
    if dashboard.trends is None:
        raise HTTPException(status_code=404, detail="trends are not set up here")
    return await run_in_threadpool(dashboard.trends, code, months)


@router.get("/dashboard/map", **declared(Audience.REGULATOR))
async def live_map(
    dashboard: Context,
    viewer: Regulator,
    area: Area = None,
    after: Annotated[
        str | None,
        Query(
            max_length=200,
            description="An action's X-Event-Id (stop orders): answer once the live index "
            f"has applied that event, waiting at most {AFTER_WAIT_S:g} s",
        ),
    ] = None,
) -> Any:
    """Every station of the area with its position and live state, compact:
    `[station_id, lat, lon, state, available, total, name, name_en]` each. State
    `stopped`: every charger of the station is under a stop order in force. With `after`,
    `caught_up` says whether the map holds that event (false: it had not arrived within
    the wait; ask again)."""
    code = _jurisdiction(viewer, area)
    if not dashboard.index.loaded:
        raise HTTPException(status_code=503, detail="the live index is loading")
    caught_up = None if after is None else await dashboard.index.caught_up(after, AFTER_WAIT_S)
    rows: list[list[Any]] = []
    states = {s: 0 for s in ("available", "busy", "faulted", "offline", "stopped")}
    for station in dashboard.index.in_area(code, viewer):
        summary = dashboard.index.summary(station)
        held = station.connectors and all(
            dashboard.index.stopped(c.charger_id) for c in station.connectors
        )
        state = "stopped" if held else station_state(summary)
        states[state] += 1
        rows.append(_map_row(station, state, summary))
    body: dict[str, Any] = {"area": code, "states": states, "stations": rows}
    if caught_up is not None:
        body["caught_up"] = caught_up
    return body


@router.get("/dashboard/alarms", **declared(Audience.REGULATOR))
async def alarms(
    dashboard: Context,
    viewer: Regulator,
    response: Response,
    area: Area = None,
    open: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Alarms of the area's stations, newest first (open ones by default)."""
    return await _listing(dashboard.lists.alarms, viewer, response, area, open, limit)


@router.get("/dashboard/orders", **declared(Audience.REGULATOR))
async def orders(
    dashboard: Context,
    viewer: Regulator,
    response: Response,
    area: Area = None,
    open: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Orders to the area's equipment (stop orders and others), newest first."""
    return await _listing(dashboard.lists.orders, viewer, response, area, open, limit)


async def _listing(
    fetch: Callable[..., Any],
    viewer: Principal,
    response: Response,
    area: str | None,
    open: bool,
    limit: int,
) -> Any:
    rows, total = await run_in_threadpool(fetch, viewer, _jurisdiction(viewer, area), open, limit)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/ui/config", tags=["finder"], **declared(Audience.PUBLIC))
async def ui_config(dashboard: Context) -> Any:
    """What the pages need to show times and money as people here read them, and the
    base map's tile URL template where the deployment configured one (else null)."""
    return {
        "timezone": dashboard.zone,
        "currency": dashboard.currency,
        "map_tiles": dashboard.tiles,
    }


@router.get("/map/layers", tags=["finder"], **declared(Audience.PUBLIC))
async def map_layers(dashboard: Context) -> Any:
    """Area boundaries (GeoJSON) and roads ([[lat, lon], …]) the maps draw; open data."""
    return {"boundaries": dashboard.layers.boundaries, "roads": dashboard.layers.roads}


@router.get("/reports/monthly", tags=["reports"], **declared(Audience.REGULATOR))
async def monthly_report(
    dashboard: Context,
    viewer: Regulator,
    month: Annotated[
        str | None,
        Query(description="YYYY-MM; default the last whole month", examples=["2025-05"]),
    ] = None,
    area: Area = None,
    format: Annotated[str, Query(description="xlsx, pdf or html")] = "xlsx",
) -> Response:
    """The monthly report (R16) as an Excel workbook, a PDF (A4 landscape, printed by
    headless Chromium; 503 where the server has none) or print-ready HTML."""
    code = _jurisdiction(viewer, area)
    if dashboard.render_report is None:
        raise HTTPException(status_code=404, detail="reports are not set up here")
    if format not in REPORT_FORMATS:
        raise HTTPException(status_code=422, detail="format is xlsx, pdf or html")
    try:
        parsed = (
            Month.parse(month)
            if month
            else Month.before(datetime.now(ZoneInfo(dashboard.zone)).date())
        )
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    try:
        body, name, media = await run_in_threadpool(dashboard.render_report, code, parsed, format)
    except ReportUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    disposition = "inline" if format == "html" else "attachment"
    return Response(
        content=body,
        media_type=media,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


def _map_row(station: StationEntry, state: str, summary: dict[str, int]) -> list[Any]:
    return [
        station.station_id,
        station.lat,
        station.lon,
        state,
        summary[ConnectorStatus.AVAILABLE.value],
        sum(summary.values()),
        station.name,
        station.name_en,
    ]
