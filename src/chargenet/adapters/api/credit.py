"""Operators' credit records (信用惩戒) and demonstration designations (R38):

- `POST /api/v1/supervision/credit/penalties` (regulators): a penalty — operator, points,
  reason, basis (its source), decision date; `GET …/credit/penalties` lists them (operators
  their own; regulators those of the operators with a station in their jurisdiction);
- `POST …/penalties/{id}/appeal` (the operator), `POST …/penalties/{id}/decision`
  (regulators): the appeal and its outcome — an overturned penalty no longer counts;
- `POST /api/v1/supervision/demonstrations` (regulators) and the public list
  `GET /api/v1/public/demonstrations`.
"""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Member, Regulator, bind, services
from chargenet.app.credit import CreditService, PenaltyRow
from chargenet.app.queries import StateQueries
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.errors import UnknownReference
from chargenet.core.supervision.credit import MAX_POINTS, DemonstrationKind

Id = Annotated[str, Field(min_length=1, max_length=128)]


class PenaltyIn(BaseModel):
    operator_id: Id
    points: int = Field(ge=1, le=MAX_POINTS)
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    basis: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="its source: an inspection, an incident, a decision's number"
    )
    decided_on: date


class AppealIn(BaseModel):
    grounds: Annotated[str, Field(min_length=1, max_length=4000)]


class DecisionIn(BaseModel):
    upheld: bool
    note: Annotated[str, Field(max_length=4000)] = ""


class DemonstrationIn(BaseModel):
    kind: DemonstrationKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    area_code: Annotated[str, Field(min_length=1, max_length=32)]
    year: int = Field(ge=2000, le=2100)
    basis: Annotated[str, Field(max_length=200)] = ""


@dataclass(frozen=True)
class Credit:
    """The credit service and the registry reads, with the checks the routes share."""

    service: CreditService
    read: StateQueries

    async def active_here(self, principal: Principal, operator_id: str) -> bool:
        """Whether the operator has a station in the principal's jurisdiction: the
        operators a regulator supervises, and whose records it sees."""
        if principal.everywhere:
            return True
        if principal.role is not Role.REGULATOR or principal.area_code is None:
            return False
        _, present = await run_in_threadpool(
            self.read.stations, principal.area_code, operator_id, None, None, False, 1, 0
        )
        return bool(present)

    async def sees(self, principal: Principal, row: PenaltyRow) -> bool:
        if principal.role is Role.OPERATOR:
            return bool(row["operator_id"] == principal.operator_id)
        return await self.active_here(principal, row["operator_id"])

    async def visible(self, principal: Principal, penalty_id: str) -> PenaltyRow:
        row = await run_in_threadpool(self.service.queries.penalty, penalty_id)
        if row is None or not await self.sees(principal, row):
            raise UnknownReference("penalty", penalty_id)
        return row


Context = Annotated[Credit, Depends(services(Credit))]
router = APIRouter(prefix="/api/v1", tags=["supervision: credit and demonstrations"])


def credit_router(
    service: CreditService, read: StateQueries, authenticators: Sequence[Authenticator]
) -> APIRouter:
    return bind(router, Credit(service, read), authenticators)


@router.post("/supervision/credit/penalties", status_code=201, **declared(Audience.REGULATOR))
async def penalize(principal: Regulator, credit: Context, body: PenaltyIn) -> Any:
    """Record a penalty on an operator's credit record."""
    if await run_in_threadpool(credit.read.operator, body.operator_id) is None:
        raise UnknownReference("operator", body.operator_id)
    if not await credit.active_here(principal, body.operator_id):
        raise HTTPException(404, f"operator {body.operator_id!r} has no station here")
    return await credit.service.penalize(
        operator_id=body.operator_id,
        points=body.points,
        reason=body.reason,
        basis=body.basis,
        decided_on=body.decided_on,
        by=principal.name,
        area_code=None if principal.everywhere else principal.area_code,
    )


@router.get("/supervision/credit/penalties", **declared(Audience.MEMBER))
async def penalties(
    principal: Member,
    credit: Context,
    operator: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    if principal.role is Role.OPERATOR:
        if operator is not None and operator != principal.operator_id:
            raise HTTPException(403, "operators see their own record only")
        operator = principal.operator_id
    rows = await run_in_threadpool(credit.service.queries.penalties, None, operator, limit)
    seen: dict[str, bool] = {}
    out = []
    for row in rows:
        op = row["operator_id"]
        if op not in seen:
            seen[op] = await credit.sees(principal, row)
        if seen[op]:
            out.append(row)
    return out


@router.post("/supervision/credit/penalties/{penalty_id}/appeal", **declared(Audience.OPERATOR))
async def appeal(principal: Member, credit: Context, penalty_id: str, body: AppealIn) -> Any:
    """The operator appeals a penalty on its record."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "an appeal is the operator's")
    row = await credit.visible(principal, penalty_id)
    return await credit.service.appeal(row["penalty_id"], body.grounds, principal.name)


@router.post("/supervision/credit/penalties/{penalty_id}/decision", **declared(Audience.REGULATOR))
async def decide(principal: Regulator, credit: Context, penalty_id: str, body: DecisionIn) -> Any:
    """Decide an appeal: upheld (the penalty stands) or overturned."""
    row = await credit.visible(principal, penalty_id)
    return await credit.service.decide(row["penalty_id"], body.upheld, body.note, principal.name)


@router.post("/supervision/demonstrations", status_code=201, **declared(Audience.REGULATOR))
async def designate(principal: Regulator, credit: Context, body: DemonstrationIn) -> Any:
    """Designate a demonstration township, village or road."""
    area = principal.area_within(body.area_code)
    return await credit.service.designate(
        kind=body.kind,
        name=body.name,
        area_code=area,
        year=body.year,
        basis=body.basis,
        by=principal.name,
    )


@router.get("/public/demonstrations", **declared(Audience.PUBLIC))
async def public_demonstrations(credit: Context, area: str | None = None) -> Any:
    """Demonstration townships, villages and roads, newest year first."""
    return await run_in_threadpool(credit.service.queries.demonstrations, area)
