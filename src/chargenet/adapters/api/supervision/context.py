"""What every supervision route works with: the service, the log-ins, the local zone,
and the checks and conversions they share."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters import tabular
from chargenet.adapters.api.binding import services
from chargenet.app.filings import Filings
from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_ports import Scope, SupervisionQueries
from chargenet.core.access import Principal, Role
from chargenet.core.errors import DomainError, UnknownReference

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


@dataclass(frozen=True)
class Supervision:
    """The supervision service as one app composed it, with what its routes need."""

    service: SupervisionService
    zone: ZoneInfo
    filings: Filings

    @property
    def queries(self) -> SupervisionQueries:
        return self.service.queries

    def instant(self, value: datetime | None, default: datetime) -> datetime:
        if value is None:
            return default
        value = value.replace(tzinfo=self.zone) if value.tzinfo is None else value
        # The years the reports take (year=2000..2100); out there, date arithmetic and the
        # conversion to UTC would overflow (0001-01-01 local is before UTC's first day).
        if not EARLIEST <= value < LATEST:
            raise HTTPException(422, f"{value.isoformat()} is outside the years 2000 to 2100")
        return value

    def period(self, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        # By default up to the last whole minute: everyone asking within a minute asks the
        # same question, answered from the cache while its inputs stay as they were.
        stop = self.instant(end, self.service.clock.now().replace(second=0, microsecond=0))
        begin = self.instant(start, stop - timedelta(days=30))
        if begin >= stop:
            raise HTTPException(422, "start must be before end")
        if stop - begin > timedelta(days=400):
            raise HTTPException(422, "a period spans at most 400 days")
        return begin, stop

    async def check_target(self, principal: Principal, kind: str, target_id: str) -> None:
        owner = await call(self.queries.owner, kind, target_id)
        if owner is None:
            raise UnknownReference(kind, target_id)
        if not _sees(principal, owner["area_code"], owner["operator_id"]):
            raise HTTPException(403, f"{kind} {target_id} is outside what you may see")

    async def check_row(
        self, principal: Principal, row: dict[str, Any] | None, what: str
    ) -> dict[str, Any]:
        if row is None:
            raise HTTPException(404, f"unknown {what}")
        owner = (
            await call(self.queries.owner, "station", row["station_id"])
            if row.get("station_id")
            else None
        )
        area = owner["area_code"] if owner else None
        if not _sees(principal, area, row.get("operator_id")):
            raise HTTPException(403, f"{what} is outside what you may see")
        return row


Context = Annotated[Supervision, Depends(services(Supervision))]
"""The app's supervision, bound by `supervision_router`."""


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


def export(rows: Sequence[dict[str, Any]], fmt: str, name: str) -> Any:
    if fmt == "json":
        return rows
    body = tabular.render(rows, fmt, sheet=name)
    return Response(
        body,
        media_type=tabular.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def filing(
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
