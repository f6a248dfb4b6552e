"""Reads of the T/CEC interconnection and of settlement, for officials and operators:
partner platforms (never their keys), the outbox's pushes to them, reconciliations of
operators' orders, bills, tariffs and the energy operators report. Each route checks who
may see what (docs/access.md). Money is given as decimal strings.

These are chargenet's own API; the T/CEC 102 endpoints partners call are
adapters/tcec/routes.py.
"""

# No `from __future__ import annotations`: FastAPI reads the parameters' annotations.

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Anyone, bind, services
from chargenet.app.compliance import InterfaceLog
from chargenet.app.interconnect import PartnerStore, SettlementQueries
from chargenet.app.outbox import DeliveryStore
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.kit.bounds import StoredInt

Limit = Annotated[int, Query(ge=1, le=1000)]


@dataclass(frozen=True)
class Interconnection:
    """What the routes read: the partners, the outbox, settlement's records and the
    interface record (None where it is not kept)."""

    partners: PartnerStore
    deliveries: DeliveryStore
    settlement: SettlementQueries
    interface_log: InterfaceLog | None
    outbox_kinds: str
    """The prefix of the outbox's deliveries to partners ("tcec."): the T/CEC adapter's,
    given by the composition root (the API does not import protocol adapters)."""


Context = Annotated[Interconnection, Depends(services(Interconnection))]
router = APIRouter(prefix="/api/v1", tags=["interconnection and settlement"])


def interconnection_router(
    interconnection: Interconnection, authenticators: Sequence[Authenticator]
) -> APIRouter:
    return bind(router, interconnection, authenticators)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _found(row: Mapping[str, object] | None, what: str) -> Any:
    if row is None:
        raise HTTPException(status_code=404, detail=f"unknown {what}")
    return _plain(row)


# The checks below answer as these routes always have (their own 403 details); their
# audiences are the ones declared on each route.


def _member(principal: Principal) -> Principal:
    if principal.role is Role.PUBLIC:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if principal.role is Role.DRIVER:
        raise HTTPException(403, "for operators, regulators and admins")
    return principal


def _platform_wide(principal: Principal) -> Principal:
    _member(principal)
    if not principal.everywhere:
        raise HTTPException(403, "platform-wide: needs an admin or a regulator without a limit")
    return principal


def _own_operator(principal: Principal, operator: str | None) -> str | None:
    """The operator whose statements the caller may read: an operator its own, platform-wide
    callers any (statements are per operator, not divided by area)."""
    _member(principal)
    if principal.role is Role.OPERATOR:
        if operator is not None and operator != principal.operator_id:
            raise HTTPException(403, "operators see their own statements only")
        return principal.operator_id or "-"
    _platform_wide(principal)
    return operator


@router.get("/tcec/partners/{partner_id}/refusals", **declared(Audience.PLATFORM))
async def refusals(principal: Anyone, link: Context, partner_id: str, limit: Limit = 100) -> Any:
    """The partner's latest refused messages, newest first: when, which endpoint, the
    answer code (4001 signature, 4002 token, 4003 parameters, 4004 business data, 500)
    and why (interface compliance, docs/supervision.md)."""
    _platform_wide(principal)
    if link.interface_log is None:
        return []
    return await run_in_threadpool(link.interface_log.refusals, partner_id, limit)


@router.get("/tcec/partners", **declared(Audience.PLATFORM))
async def list_partners(principal: Anyone, link: Context) -> Any:
    """Partner platforms and how they are connected (keys are never shown)."""
    _platform_wide(principal)
    records = await run_in_threadpool(link.partners.partners)
    return [
        {
            "partner_id": r.partner_id,
            "operator_id": r.operator_id,
            "name": r.name,
            "base_url": r.base_url,
            "pull": r.pull,
            "datum": r.datum,
            "enabled": r.enabled,
            "can_be_called": r.outbound_keys is not None and r.base_url is not None,
            "last_station_pull": r.last_station_pull,
        }
        for r in records
    ]


@router.get("/tcec/outbox", **declared(Audience.PLATFORM))
async def list_outbox(
    principal: Anyone, link: Context, state: str | None = None, limit: Limit = 100
) -> Any:
    """Pushes to T/CEC partners (the outbox's `tcec.*` deliveries): pending (being
    resent), delivered or failed."""
    _platform_wide(principal)
    items = await run_in_threadpool(link.deliveries.items, state, link.outbox_kinds, limit)
    return [asdict(i) for i in items]


@router.get("/reconciliations", **declared(Audience.OWN))
async def list_reconciliations(
    principal: Anyone,
    link: Context,
    response: Response,
    operator: str | None = None,
    limit: Limit = 100,
    offset: StoredInt = 0,
) -> Any:
    """Operators' statements of orders checked against chargenet's records."""
    operator = _own_operator(principal, operator)
    rows, total = await run_in_threadpool(link.settlement.reconciliations, operator, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return _plain(rows)


@router.get("/reconciliations/{reconciliation_id}", **declared(Audience.OWN))
async def reconciliation(principal: Anyone, link: Context, reconciliation_id: str) -> Any:
    """One reconciliation with every difference found."""
    row = await run_in_threadpool(link.settlement.reconciliation, reconciliation_id)
    mine = _own_operator(principal, None)
    if row is not None and mine is not None and row["operator_id"] != mine:
        row = None  # another operator's: as if unknown
    return _found(row, f"reconciliation {reconciliation_id!r}")


@router.get("/sessions/{session_id}/bill", **declared(Audience.MEMBER))
async def bill(principal: Anyone, link: Context, session_id: str) -> Any:
    """A session's bill by time-of-use period, with its consistency flags: for the
    station's operator, its regulators and admins."""
    viewer = _member(principal)
    row = await run_in_threadpool(link.settlement.bill, session_id)
    if row is not None:
        scope = await run_in_threadpool(link.settlement.station_scope, row["station_id"])
        if not viewer.in_scope(row["operator_id"], scope["area_code"] if scope else None):
            row = None  # outside the caller's scope: as if unknown
    return _found(row, f"bill of {session_id!r}")


@router.get("/stations/{station_id}/tariffs", **declared(Audience.PUBLIC))
async def station_tariffs(viewer: Anyone, link: Context, station_id: str) -> Any:
    """Published prices of a station and its connectors: anyone's for a public site."""
    scope = await run_in_threadpool(link.settlement.station_scope, station_id)
    if scope is None or not viewer.sees_site(**scope):
        raise HTTPException(status_code=404, detail=f"unknown station {station_id!r}")
    return _plain(await run_in_threadpool(link.settlement.tariffs, station_id))


@router.get("/stations/{station_id}/energy", **declared(Audience.MEMBER))
async def station_energy(
    principal: Anyone,
    link: Context,
    station_id: str,
    start: Annotated[date | None, Query(description="from this day")] = None,
    end: Annotated[date | None, Query(description="up to this day (inclusive)")] = None,
) -> Any:
    """Energy the operator reports the station (scope "") and each connector delivered,
    per reported span of whole local days (T/CEC query_station_stats), in Wh."""
    viewer = _member(principal)
    scope = await run_in_threadpool(link.settlement.station_scope, station_id)
    if scope is None or not viewer.in_scope(scope["operator_id"], scope["area_code"]):
        raise HTTPException(status_code=404, detail=f"unknown station {station_id!r}")
    if start is not None and end is not None and start > end:
        raise HTTPException(status_code=422, detail="start is after end")
    return await run_in_threadpool(link.settlement.energy_reports, station_id, start, end)
