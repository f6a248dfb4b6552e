"""How a feature's module-level router reaches what one app composed for it.

Each feature module has its `router = APIRouter(...)` and its handlers at module level;
what a handler needs of the app it serves (the feature's services, the log-ins) it takes
from dependencies: `services(Kind)` and the callers below (`Anyone`, `Member`, ...). The
composition root binds them once per app, `bind(router, Kind(...), authenticators)`: the
returned router sets them on each request before the route's own dependencies run.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request

from chargenet.adapters.api.auth import Authenticator, admit, identify
from chargenet.core.access import Principal, Role

T = TypeVar("T")


def bind(
    routers: APIRouter | Sequence[APIRouter],
    services: object,
    authenticators: Sequence[Authenticator],
    *,
    prefix: str = "",
) -> APIRouter:
    """The routers (under `prefix`) serving with these services and these log-ins (one
    app's)."""
    log_ins = tuple(authenticators)

    async def bound(request: Request) -> None:
        # A router's dependencies run before a route's own, so `services` and the callers
        # find them. One feature router serves a request: nothing else sets these. Async,
        # as `services`: FastAPI would run a plain function in a worker thread, a hop each.
        request.state.services = services
        request.state.authenticators = log_ins

    outer = APIRouter(prefix=prefix, dependencies=[Depends(bound)])
    for router in [routers] if isinstance(routers, APIRouter) else routers:
        outer.include_router(router)
    return outer


def services(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving the `kind` bound to the request's router by `bind`."""
    if getattr(kind, "_is_protocol", False):
        # isinstance would refuse it on the first request; say so when the module loads.
        raise TypeError(f"{kind.__name__} is a Protocol: bind a class holding it instead")

    async def dependency(request: Request) -> T:
        found: Any = getattr(request.state, "services", None)
        if not isinstance(found, kind):
            raise TypeError(f"{request.url.path}: its router is not bound to a {kind.__name__}")
        return found

    dependency.__name__ = f"{kind.__name__.lower()}_services"
    return dependency


def caller(request: Request) -> Principal:
    """The caller by the log-ins bound to the request's router; anonymous when they do not
    say (blocking: the log-ins may read the database)."""
    return identify(request, request.state.authenticators)


def _caller(minimum: Role | None) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = caller(request)
        return principal if minimum is None else admit(principal, minimum)

    return dependency


Anyone = Annotated[Principal, Depends(_caller(None))]
"""The caller, anonymous when they do not log in (401 for credentials nobody accepts)."""
Member = Annotated[Principal, Depends(_caller(Role.OPERATOR))]
"""A login: operators, regulators, admins (401 anonymous, 403 drivers)."""
Regulator = Annotated[Principal, Depends(_caller(Role.REGULATOR))]
"""Regulators and admins."""
Admin = Annotated[Principal, Depends(_caller(Role.ADMIN))]
"""Admins only."""
