"""Supervision endpoints under /api/v1/supervision: uptime (NEVI, UK), status history,
outage exclusions, zombie cases, alarms, stop orders, operator scorecards.

Regulators see their jurisdiction (area), operators their own equipment; anonymous calls
are 401, other roles 403. Lists and reports export as CSV or XLSX with `format=`.
"""

# No `from __future__ import annotations` here: the routes' annotations name dependencies
# built inside supervision_router, which FastAPI can only see if they are evaluated there.

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters import tabular
from chargenet.adapters.api.auth import Authenticator, require
from chargenet.adapters.api.params import Offset
from chargenet.app.filings import (
    EVCHART_COLUMNS,
    UK_POINT_COLUMNS,
    UK_REPORT_COLUMNS,
    Filings,
)
from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_ports import Scope
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.errors import DomainError, UnknownReference
from chargenet.core.oversight import ExclusionReason, ZombieOutcome
from chargenet.core.registry.public_hours import problems as public_hours_problems
from chargenet.core.supervision import TargetKind

Format = Literal["json", "csv", "xlsx"]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Page size")]
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)
When = Annotated[
    datetime | None,
    Query(description="ISO 8601; without an offset it is read as local time"),
]
Unit = Annotated[
    Literal["port", "connector"] | None,
    Query(
        description="Count time per port (one vehicle at a time, whatever its cables; the "
        "default) or per connector"
    ),
]


class ExclusionIn(BaseModel):
    target_kind: Literal["connector", "charger", "station"]
    target_id: str
    start: datetime
    end: datetime
    reason: ExclusionReason
    note: str = Field(default="", max_length=1000)


class CloseCaseIn(BaseModel):
    outcome: ZombieOutcome
    note: str = Field(default="", max_length=1000)


class RectificationIn(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="What was done")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class PublicHoursIn(BaseModel):
    hours: str = Field(
        max_length=200,
        description="When the station is open to the public, local time: 'Mo-Fr "
        "18:00-08:00; Sa-Su 00:00-24:00', '18:00-08:00' (every day) or '24/7'; '' withdraws",
    )
    note: str = Field(default="", max_length=500)


class StopIn(BaseModel):
    target_kind: Literal["charger", "station"]
    target_id: str
    reason: str = Field(min_length=1, max_length=1000)
    alarm_id: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=300)


def _sees(principal: Principal, area: str | None, operator: str | None) -> bool:
    if principal.role is Role.OPERATOR:
        return operator is not None and principal.sees_operator(operator)
    return principal.sees_area(area)


def scope_for(principal: Principal, scope: Scope) -> Scope:
    """The scope narrowed to what the principal may see; 403 when it asks for more."""
    area, operator = scope.area, scope.operator
    if principal.role is Role.OPERATOR:
        if operator is not None and operator != principal.operator_id:
            raise HTTPException(403, "operators see their own equipment only")
        operator = principal.operator_id
    else:
        area = principal.area_within(area)
    return Scope(area, operator, scope.station, scope.charger, scope.connector)


def _export(rows: Sequence[dict[str, Any]], fmt: str, name: str) -> Any:
    if fmt == "json":
        return rows
    body = tabular.render(rows, fmt, sheet=name)
    return Response(
        body,
        media_type=tabular.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _filing(
    sheets: Mapping[str, Sequence[Mapping[str, Any]]],
    columns: Mapping[str, Sequence[str]],
    fmt: str,
    name: str,
) -> Any:
    """A filing of several tables: JSON as they are, XLSX a sheet each, ZIP a CSV each."""
    if fmt == "json":
        return sheets
    body = tabular.render_sheets(sheets, columns, fmt, f"{name}-")
    return Response(
        body,
        media_type=tabular.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def supervision_router(
    service: SupervisionService, authenticators: Sequence[Authenticator], local_timezone: str
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])
    viewer = require(authenticators, Role.OPERATOR)
    regulator = require(authenticators, Role.REGULATOR)
    Viewer = Annotated[Principal, Depends(viewer)]
    Regulator = Annotated[Principal, Depends(regulator)]
    zone = ZoneInfo(local_timezone)
    queries = service.queries
    filings = Filings(service)

    def instant(value: datetime | None, default: datetime) -> datetime:
        if value is None:
            return default
        value = value.replace(tzinfo=zone) if value.tzinfo is None else value
        # The years the reports take (year=2000..2100); out there, date arithmetic and the
        # conversion to UTC would overflow (0001-01-01 local is before UTC's first day).
        if not EARLIEST <= value < LATEST:
            raise HTTPException(422, f"{value.isoformat()} is outside the years 2000 to 2100")
        return value

    def period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        # By default up to the last whole minute: everyone asking within a minute asks the
        # same question, answered from the cache while its inputs stay as they were.
        stop = instant(end, service.clock.now().replace(second=0, microsecond=0))
        begin = instant(start, stop - timedelta(days=30))
        if begin >= stop:
            raise HTTPException(422, "start must be before end")
        if stop - begin > timedelta(days=400):
            raise HTTPException(422, "a period spans at most 400 days")
        return begin, stop

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # Domain errors pass to the API's handler (adapters/api/errors.py); a plain
        # ValueError here comes from computing with the caller's values (a date the
        # calendar cannot take): the request's, not a fault of the platform.
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        except ValueError as exc:
            if isinstance(exc, DomainError):
                raise
            raise HTTPException(422, str(exc)) from exc

    async def check_target(principal: Principal, kind: str, target_id: str) -> None:
        owner = await call(queries.owner, kind, target_id)
        if owner is None:
            raise UnknownReference(kind, target_id)
        if not _sees(principal, owner["area_code"], owner["operator_id"]):
            raise HTTPException(403, f"{kind} {target_id} is outside what you may see")

    async def check_row(
        principal: Principal, row: dict[str, Any] | None, what: str
    ) -> dict[str, Any]:
        if row is None:
            raise HTTPException(404, f"unknown {what}")
        owner = (
            await call(queries.owner, "station", row["station_id"])
            if row.get("station_id")
            else None
        )
        area = owner["area_code"] if owner else None
        if not _sees(principal, area, row.get("operator_id")):
            raise HTTPException(403, f"{what} is outside what you may see")
        return row

    # --- uptime ---------------------------------------------------------------------------

    @router.get("/uptime", **declared(Audience.MEMBER))
    async def uptime(
        principal: Viewer,
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
        begin, stop = period(start, end)
        rows = await call(service.uptime, scope, begin, stop, by, unit)
        return _export(rows, format, "uptime")

    @router.get("/uptime/nevi", **declared(Audience.MEMBER))
    async def nevi(
        principal: Viewer,
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
        rows = await call(service.nevi_monthly, scope, year, month, by, unit)
        return _export(rows, format, f"nevi-{year}-{month:02d}")

    @router.get("/uptime/uk", **declared(Audience.MEMBER))
    async def uk(
        principal: Viewer,
        year: Annotated[int, Query(ge=2000, le=2100)],
        area: str | None = None,
        operator: str | None = None,
        rapid_only: bool = True,
        unit: Unit = None,
        format: Format = "json",
    ) -> Any:
        """PCPR 2023 reg. 7: each operator's public rapid (≥ 50 kW) network over a year."""
        scope = scope_for(principal, Scope(area, operator))
        rows = await call(service.uk_reliability, scope, year, rapid_only, unit)
        return _export(rows, format, f"uk-{year}")

    @router.get("/uptime/nevi/evchart", **declared(Audience.MEMBER))
    async def evchart(
        principal: Viewer,
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
        sheets = await call(filings.evchart, scope, year, quarter)
        return _filing(sheets, EVCHART_COLUMNS, format, f"evchart-{year}-q{quarter}")

    @router.get("/uptime/uk/annual-report", **declared(Audience.MEMBER))
    async def uk_annual(
        principal: Viewer,
        year: Annotated[int, Query(ge=2000, le=2100)],
        area: str | None = None,
        operator: str | None = None,
        format: Literal["xlsx", "zip", "json"] = "xlsx",
    ) -> Any:
        """PCPR 2023 reg. 8: each operator's annual report on its network of rapid charge
        points — how many it operated and the network's reliability (reg. 7: 99 %) — with
        each charge point's reliability and the basis of the measure."""
        scope = scope_for(principal, Scope(area, operator))
        sheets = await call(filings.uk_annual, scope, year)
        columns = {"report": UK_REPORT_COLUMNS, "charge_points": UK_POINT_COLUMNS}
        return _filing(sheets, columns, format, f"uk-reliability-{year}")

    @router.get("/connectors/{connector_id}/history", **declared(Audience.MEMBER))
    async def history(
        principal: Viewer, connector_id: str, start: When = None, end: When = None
    ) -> Any:
        """Status intervals with causes, outages with their excluded parts, and figures."""
        await check_target(principal, "connector", connector_id)
        begin, stop = period(start, end)
        return await call(service.history, connector_id, begin, stop)

    # --- exclusions -----------------------------------------------------------------------

    @router.post("/exclusions", status_code=201, **declared(Audience.MEMBER))
    async def exclude(principal: Viewer, body: Annotated[ExclusionIn, Body()]) -> Any:
        """Mark outage time of a connector, charger or station as excluded (NEVI), with a
        reason code. Operators mark their own; regulators any in their area."""
        await check_target(principal, body.target_kind, body.target_id)
        exclusion_id = await service.exclude(
            TargetKind(body.target_kind),
            body.target_id,
            instant(body.start, body.start),
            instant(body.end, body.end),
            body.reason,
            body.note,
            principal.name,
        )
        return {"exclusion_id": exclusion_id}

    @router.delete("/exclusions/{exclusion_id}", status_code=204, **declared(Audience.REGULATOR))
    async def withdraw(principal: Regulator, exclusion_id: str) -> Response:
        await check_row(
            principal, await call(queries.exclusion, exclusion_id), f"exclusion {exclusion_id!r}"
        )
        await service.withdraw_exclusion(exclusion_id, principal.name)
        return Response(status_code=204)

    # --- public hours (R39) ---------------------------------------------------------------

    @router.put("/stations/{station_id}/public-hours", **declared(Audience.MEMBER))
    async def set_public_hours(
        principal: Viewer, station_id: str, body: Annotated[PublicHoursIn, Body()]
    ) -> Any:
        """When an institution's own station is open to the public (e.g. after work and at
        weekends). Its operator sets its own; regulators those in their area. The finder
        shows the hours and whether it is open now; uptime counts public service in them."""
        await check_target(principal, "station", station_id)
        if body.hours.strip() and (wrong := public_hours_problems(body.hours)):
            raise HTTPException(422, "; ".join(wrong))
        operator_id = principal.operator_id if principal.role is Role.OPERATOR else None
        await service.set_public_hours(
            station_id, body.hours, body.note, principal.name, operator_id
        )
        return {"station_id": station_id, "public_hours": body.hours.strip() or None}

    # --- zombie piles ---------------------------------------------------------------------

    @router.get("/zombies", **declared(Audience.MEMBER))
    async def zombies(
        principal: Viewer,
        response: Response,
        area: str | None = None,
        operator: str | None = None,
        open_only: bool = True,
        limit: Limit = 100,
        offset: Offset = 0,
        format: Format = "json",
    ) -> Any:
        scope = scope_for(principal, Scope(area, operator))
        rows, total = await call(queries.zombie_cases, scope, open_only, limit, offset)
        response.headers["X-Total-Count"] = str(total)
        return _export(rows, format, "zombies")

    @router.get("/zombies/{case_id}", **declared(Audience.MEMBER))
    async def zombie(principal: Viewer, case_id: str) -> Any:
        """A case with its full history of steps."""
        return await check_row(
            principal, await call(queries.zombie_case, case_id), f"case {case_id!r}"
        )

    @router.post("/zombies/{case_id}/close", **declared(Audience.REGULATOR))
    async def close_zombie(principal: Regulator, case_id: str, body: CloseCaseIn) -> Any:
        """Close a case: rectified, dismissed, or retired (the exit mechanism: the charger
        leaves the registry)."""
        await check_row(principal, await call(queries.zombie_case, case_id), f"case {case_id!r}")
        await service.close_zombie(case_id, body.outcome, body.note, principal.name)
        return await call(queries.zombie_case, case_id)

    Reporter = Annotated[Principal, Depends(require(authenticators, Role.OPERATOR))]

    def reporter(principal: Principal) -> None:
        if principal.role is Role.REGULATOR:
            raise HTTPException(403, "the operator reports a rectification; regulators decide")

    @router.post("/zombies/{case_id}/rectification", **declared(Audience.OPERATOR))
    async def report_rectification(principal: Reporter, case_id: str, body: RectificationIn) -> Any:
        """The operator reports what it did about its case (repaired, reconnected, asked
        for the exit). The case stays open until the rules stop holding or a regulator
        closes it; the report is one of its steps."""
        reporter(principal)
        await check_row(principal, await call(queries.zombie_case, case_id), f"case {case_id!r}")
        await service.report_rectification(case_id, body.note, principal.name)
        return await call(queries.zombie_case, case_id)

    @router.post("/zombies/sweep", **declared(Audience.ADMIN))
    async def sweep(
        principal: Annotated[Principal, Depends(require(authenticators, Role.ADMIN))],
    ) -> Any:
        """Run the zombie rules now (they also run periodically with `chargenet serve`)."""
        return await service.sweep_zombies()

    # --- alarms ---------------------------------------------------------------------------

    @router.get("/alarms", **declared(Audience.MEMBER))
    async def alarms(
        principal: Viewer,
        response: Response,
        area: str | None = None,
        operator: str | None = None,
        station: str | None = None,
        open_only: bool = True,
        severity: Literal["info", "warning", "major", "critical"] | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
        format: Format = "json",
    ) -> Any:
        scope = scope_for(principal, Scope(area, operator, station))
        rows, total = await call(queries.alarms, scope, open_only, severity, limit, offset)
        response.headers["X-Total-Count"] = str(total)
        return _export(rows, format, "alarms")

    @router.post("/alarms/{alarm_id}/acknowledge", **declared(Audience.MEMBER))
    async def acknowledge(principal: Viewer, alarm_id: str) -> Any:
        await check_row(principal, await call(queries.alarm, alarm_id), f"alarm {alarm_id!r}")
        await service.acknowledge_alarm(alarm_id, principal.name)
        return await call(queries.alarm, alarm_id)

    @router.post("/alarms/{alarm_id}/clear", **declared(Audience.MEMBER))
    async def clear(principal: Viewer, alarm_id: str, body: ReasonIn) -> Any:
        await check_row(principal, await call(queries.alarm, alarm_id), f"alarm {alarm_id!r}")
        await service.clear_alarm(alarm_id, principal.name, body.reason)
        return await call(queries.alarm, alarm_id)

    # --- stop orders ----------------------------------------------------------------------

    @router.get("/stop-orders", **declared(Audience.MEMBER))
    async def stop_orders(
        principal: Viewer,
        response: Response,
        area: str | None = None,
        operator: str | None = None,
        in_force_only: bool = False,
        limit: Limit = 100,
        offset: Offset = 0,
        format: Format = "json",
    ) -> Any:
        scope = scope_for(principal, Scope(area, operator))
        rows, total = await call(queries.stop_orders, scope, in_force_only, limit, offset)
        response.headers["X-Total-Count"] = str(total)
        return _export(rows, format, "stop-orders")

    @router.get("/stop-orders/{stop_id}", **declared(Audience.MEMBER))
    async def stop_order(principal: Viewer, stop_id: str) -> Any:
        """A stop order with each charger's delivery and answer, and its lifting."""
        return await check_row(
            principal, await call(queries.stop_order, stop_id), f"stop order {stop_id!r}"
        )

    @router.post("/stop-orders", status_code=201, **declared(Audience.REGULATOR))
    async def issue_stop(principal: Regulator, body: StopIn) -> Any:
        """Order a charger or a whole station to stop and rectify (R33). OCPP chargers get
        ChangeAvailability Inoperative; operator platforms are notified."""
        await check_target(principal, body.target_kind, body.target_id)
        result = await service.issue_stop(
            TargetKind(body.target_kind),
            body.target_id,
            body.reason,
            principal.name,
            body.alarm_id,
            body.timeout_s,
        )
        return await call(queries.stop_order, result["stop_id"])

    @router.post("/stop-orders/{stop_id}/lift", **declared(Audience.REGULATOR))
    async def lift_stop(principal: Regulator, stop_id: str, body: ReasonIn) -> Any:
        """Lift a stop order once rectified: each charger is made available again."""
        await check_row(
            principal, await call(queries.stop_order, stop_id), f"stop order {stop_id!r}"
        )
        await service.lift_stop(stop_id, principal.name, body.reason)
        return await call(queries.stop_order, stop_id)

    @router.post("/stop-orders/{stop_id}/rectification", **declared(Audience.OPERATOR))
    async def report_stop_rectification(
        principal: Reporter, stop_id: str, body: RectificationIn
    ) -> Any:
        """The operator a stop order is addressed to reports what it did to rectify. The
        order stays in force until a regulator lifts it; the stop-order lists carry the
        newest report (`rectified_at`, `rectified_by`, `rectification`)."""
        reporter(principal)
        await check_row(
            principal, await call(queries.stop_order, stop_id), f"stop order {stop_id!r}"
        )
        await service.report_stop_rectification(stop_id, body.note, principal.name)
        return await call(queries.stop_order, stop_id)

    # --- scorecards -----------------------------------------------------------------------

    @router.get("/scorecards", **declared(Audience.MEMBER))
    async def scorecards(
        principal: Viewer,
        area: str | None = None,
        operator: str | None = None,
        start: When = None,
        end: When = None,
        format: Format = "json",
    ) -> Any:
        """Operator scorecards and stars, ranked within the area (R38)."""
        scope = scope_for(principal, Scope(area, operator))
        begin, stop = period(start, end)
        cards = await call(service.scorecards, scope, begin, stop)
        rows = [asdict(c) for c in cards]
        if format != "json":
            rows = [
                {
                    "rank": r["rank"],
                    "operator_id": r["operator_id"],
                    "score": r["score"],
                    "stars": r["stars"],
                    **{f"{k}_value": v for k, v in r["values"].items()},
                    **{f"{k}_score": v for k, v in r["sub_scores"].items()},
                    "repair_p90_hours": r["repair_p90_hours"],
                }
                for r in rows
            ]
        return _export(rows, format, "scorecards")

    @router.get("/station-stars", **declared(Audience.MEMBER))
    async def station_stars(
        principal: Viewer,
        area: str | None = None,
        operator: str | None = None,
        start: When = None,
        end: When = None,
        format: Format = "json",
    ) -> Any:
        """Star-rated stations (R38) by the documented criteria, best first."""
        scope = scope_for(principal, Scope(area, operator))
        begin, stop = period(start, end)
        rows = await call(service.station_stars, scope, begin, stop)
        if format != "json":
            rows = [
                {
                    "station_id": r["station_id"],
                    "name": r["name"],
                    "operator_id": r["operator_id"],
                    "score": r["score"],
                    "stars": r["stars"],
                    "incidents": r["incidents"],
                    **{f"{k}_value": v for k, v in r["values"].items()},
                }
                for r in rows
            ]
        return _export(rows, format, "station-stars")

    return router
