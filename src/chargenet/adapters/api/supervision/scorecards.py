"""Operator scorecards and station stars (R38)."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from chargenet.adapters.api.supervision.auth import Viewer
from chargenet.adapters.api.supervision.context import (
    Context,
    Format,
    When,
    call,
    export,
    scope_for,
)
from chargenet.app.supervision_ports import Scope
from chargenet.core.access import Audience, declared

router = APIRouter(tags=["supervision"])


@router.get("/scorecards", **declared(Audience.MEMBER))
async def scorecards(
    principal: Viewer,
    supervision: Context,
    area: str | None = None,
    operator: str | None = None,
    start: When = None,
    end: When = None,
    format: Format = "json",
) -> Any:
    """Operator scorecards and stars, ranked within the area (R38)."""
    scope = scope_for(principal, Scope(area, operator))
    begin, stop = supervision.period(start, end)
    cards = await call(supervision.service.scorecards, scope, begin, stop)
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
    return export(rows, format, "scorecards")


@router.get("/station-stars", **declared(Audience.MEMBER))
async def station_stars(
    principal: Viewer,
    supervision: Context,
    area: str | None = None,
    operator: str | None = None,
    start: When = None,
    end: When = None,
    format: Format = "json",
) -> Any:
    """Star-rated stations (R38) by the documented criteria, best first."""
    scope = scope_for(principal, Scope(area, operator))
    begin, stop = supervision.period(start, end)
    rows = await call(supervision.service.station_stars, scope, begin, stop)
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
    return export(rows, format, "station-stars")
