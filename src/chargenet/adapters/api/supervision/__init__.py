"""Supervision endpoints under /api/v1/supervision: uptime (NEVI, UK), status history,
outage exclusions and public hours, zombie cases, alarms, stop orders, operator scorecards.

Regulators see their jurisdiction (area), operators their own equipment; anonymous calls
are 401, other roles 403. Lists and reports export as CSV or XLSX with `format=`.

One module per feature, each with its router at module level; what a route needs (the
service, the caller) comes from dependencies (`context.py`, `auth.py`). The composition
root binds this app's service and log-ins to them here, once (adapters/api/binding.py).
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import bind
from chargenet.adapters.api.supervision import (
    alarms,
    exclusions,
    scorecards,
    stop_orders,
    uptime,
    zombies,
)
from chargenet.adapters.api.supervision.context import Supervision
from chargenet.app.filings import Filings
from chargenet.app.supervision import SupervisionService

FEATURES = (uptime, exclusions, zombies, alarms, stop_orders, scorecards)


def supervision_router(
    service: SupervisionService, authenticators: Sequence[Authenticator], local_timezone: str
) -> APIRouter:
    """The feature routers under one prefix, bound to this service and these log-ins."""
    bound = Supervision(service, ZoneInfo(local_timezone), Filings(service))
    routers = [feature.router for feature in FEATURES]
    return bind(routers, bound, authenticators, prefix="/api/v1/supervision")
