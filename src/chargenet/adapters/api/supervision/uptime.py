"""Uptime and reliability (NEVI, UK), their filings, and a connector's status history."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from chargenet.adapters.api.supervision.auth import Viewer
from chargenet.adapters.api.supervision.context import (
    Context,
    Format,
    Unit,
    When,
    call,
    export,
    filing,
    scope_for,
)
from chargenet.app.filings import EVCHART_COLUMNS, UK_POINT_COLUMNS, UK_REPORT_COLUMNS
from chargenet.app.supervision_ports import Scope
from chargenet.core.access import Audience, declared

router = APIRouter(tags=["supervision"])


@router.get("/uptime", **declared(Audience.MEMBER))
async def uptime(
    principal: Viewer,
    supervision: Context,
    area: str | None = None,
    operator: str | None = None,
    station: str | None = None,
    start: When = None,
    end: When = None,
    by: Annotated[
        Literal[
            "connector",
            "port",
            "charger",
            "station",
            "operator",
            "province",
            "city",
            "county",
            "all",
        ],
        Query(description="Group rows by"),
    ] = "station",
    unit: Unit = None,
    format: Format = "json",
) -> Any:
    """NEVI uptime and UK reliability over [start, end) (default: the last 30 days; time
    after now is not counted), with hours offline (no data), faulted, out of service and
    below the minimum power kept apart."""
    scope = scope_for(principal, Scope(area, operator, station))
    begin, stop = supervision.period(start, end)
    rows = await call(supervision.service.uptime, scope, begin, stop, by, unit)
    return export(rows, format, "uptime")


@router.get("/uptime/nevi", **declared(Audience.MEMBER))
async def nevi(
    principal: Viewer,
    supervision: Context,
    year: Annotated[int, Query(ge=2000, le=2100)],
    month: Annotated[int, Query(ge=1, le=12)],
    area: str | None = None,
    operator: str | None = None,
    station: str | None = None,
    by: Literal["port", "connector", "charger", "station", "operator", "all"] = "port",
    unit: Unit = None,
    format: Format = "json",
) -> Any:
    """23 CFR 680.116(b): each of the 12 months up to the report month, and the 12
    months together (`period` "12m"); a port passes at > 97 %. Per port (one vehicle
    at a time, whatever its cables) unless `unit=connector`."""
    scope = scope_for(principal, Scope(area, operator, station))
    rows = await call(supervision.service.nevi_monthly, scope, year, month, by, unit)
    return export(rows, format, f"nevi-{year}-{month:02d}")


@router.get("/uptime/uk", **declared(Audience.MEMBER))
async def uk(
    principal: Viewer,
    supervision: Context,
    year: Annotated[int, Query(ge=2000, le=2100)],
    area: str | None = None,
    operator: str | None = None,
    rapid_only: bool = True,
    unit: Unit = None,
    format: Format = "json",
) -> Any:
    """PCPR 2023 reg. 7: each operator's public rapid (≥ 50 kW) network over a year."""
    scope = scope_for(principal, Scope(area, operator))
    rows = await call(supervision.service.uk_reliability, scope, year, rapid_only, unit)
    return export(rows, format, f"uk-{year}")


@router.get("/uptime/nevi/evchart", **declared(Audience.MEMBER))
async def evchart(
    principal: Viewer,
    supervision: Context,
    year: Annotated[int, Query(ge=2000, le=2100)],
    quarter: Annotated[int, Query(ge=1, le=4)],
    area: str | None = None,
    operator: str | None = None,
    station: str | None = None,
    format: Literal["zip", "xlsx", "json"] = "zip",
) -> Any:
    """NEVI's quarterly data submission (23 CFR 680.112) in EV-ChART's data format: one
    CSV per module (station, port, session, uptime, outage) in a ZIP, or one XLSX with a
    sheet each. Uptime is each port's over the 12 months ending with the quarter
    (680.116(b)); outages are those that began in the quarter, with EV-ChART's numeric
    exclusion reasons."""
    scope = scope_for(principal, Scope(area, operator, station))
    sheets = await call(supervision.filings.evchart, scope, year, quarter)
    return filing(sheets, EVCHART_COLUMNS, format, f"evchart-{year}-q{quarter}")


@router.get("/uptime/uk/annual-report", **declared(Audience.MEMBER))
async def uk_annual(
    principal: Viewer,
    supervision: Context,
    year: Annotated[int, Query(ge=2000, le=2100)],
    area: str | None = None,
    operator: str | None = None,
    format: Literal["xlsx", "zip", "json"] = "xlsx",
) -> Any:
    """PCPR 2023 reg. 8: each operator's annual report on its network of rapid charge
    points — how many it operated and the network's reliability (reg. 7: 99 %) — with
    each charge point's reliability and the basis of the measure."""
    scope = scope_for(principal, Scope(area, operator))
    sheets = await call(supervision.filings.uk_annual, scope, year)
    columns = {"report": UK_REPORT_COLUMNS, "charge_points": UK_POINT_COLUMNS}
    return filing(sheets, columns, format, f"uk-reliability-{year}")


@router.get("/connectors/{connector_id}/history", **declared(Audience.MEMBER))
async def history(
    principal: Viewer, supervision: Context, connector_id: str, start: When = None, end: When = None
) -> Any:
    """Status intervals with causes, outages with their excluded parts, and figures."""
    await supervision.check_target(principal, "connector", connector_id)
    begin, stop = supervision.period(start, end)
    return await call(supervision.service.history, connector_id, begin, stop)
