"""Zombie piles: the cases, their closing, the operator's rectification, the sweep."""

from typing import Any

from fastapi import APIRouter, Response

from chargenet.adapters.api.params import Offset
from chargenet.adapters.api.supervision.auth import Admin, Regulator, Reporter, Viewer, reporter
from chargenet.adapters.api.supervision.context import (
    Context,
    Format,
    Limit,
    call,
    export,
    scope_for,
)
from chargenet.adapters.api.supervision.schemas import (
    CloseCaseIn,
    RectificationIn,
)
from chargenet.app.supervision_ports import Scope
from chargenet.core.access import Audience, declared

router = APIRouter(tags=["supervision"])


@router.get("/zombies", **declared(Audience.MEMBER))
async def zombies(
    principal: Viewer,
    supervision: Context,
    response: Response,
    area: str | None = None,
    operator: str | None = None,
    open_only: bool = True,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = "json",
) -> Any:
    scope = scope_for(principal, Scope(area, operator))
    rows, total = await call(supervision.queries.zombie_cases, scope, open_only, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return export(rows, format, "zombies")


@router.get("/zombies/{case_id}", **declared(Audience.MEMBER))
async def zombie(principal: Viewer, supervision: Context, case_id: str) -> Any:
    """A case with its full history of steps."""
    return await supervision.check_row(
        principal, await call(supervision.queries.zombie_case, case_id), f"case {case_id!r}"
    )


@router.post("/zombies/{case_id}/close", **declared(Audience.REGULATOR))
async def close_zombie(
    principal: Regulator, supervision: Context, case_id: str, body: CloseCaseIn
) -> Any:
    """Close a case: rectified, dismissed, or retired (the exit mechanism: the charger
    leaves the registry)."""
    await supervision.check_row(
        principal, await call(supervision.queries.zombie_case, case_id), f"case {case_id!r}"
    )
    await supervision.service.close_zombie(case_id, body.outcome, body.note, principal.name)
    return await call(supervision.queries.zombie_case, case_id)


@router.post("/zombies/{case_id}/rectification", **declared(Audience.OPERATOR))
async def report_rectification(
    principal: Reporter, supervision: Context, case_id: str, body: RectificationIn
) -> Any:
    """The operator reports what it did about its case (repaired, reconnected, asked
    for the exit). The case stays open until the rules stop holding or a regulator
    closes it; the report is one of its steps."""
    reporter(principal)
    await supervision.check_row(
        principal, await call(supervision.queries.zombie_case, case_id), f"case {case_id!r}"
    )
    await supervision.service.report_rectification(case_id, body.note, principal.name)
    return await call(supervision.queries.zombie_case, case_id)


@router.post("/zombies/sweep", **declared(Audience.ADMIN))
async def sweep(
    principal: Admin,
    supervision: Context,
) -> Any:
    """Run the zombie rules now (they also run periodically with `chargenet serve`)."""
    return await supervision.service.sweep_zombies()
