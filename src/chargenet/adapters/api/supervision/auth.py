"""Who may call the supervision routes: each type a dependency giving the caller."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from chargenet.adapters.api.auth import require
from chargenet.adapters.api.supervision.context import Context
from chargenet.core.access import Principal, Role


def _at_least(minimum: Role) -> Callable[..., Principal]:
    def dependency(request: Request, supervision: Context) -> Principal:
        return require(supervision.authenticators, minimum)(request)

    return dependency


Viewer = Annotated[Principal, Depends(_at_least(Role.OPERATOR))]
"""Operators (their own equipment) and regulators (their area); admins."""
Regulator = Annotated[Principal, Depends(_at_least(Role.REGULATOR))]
Admin = Annotated[Principal, Depends(_at_least(Role.ADMIN))]
Reporter = Viewer
"""Who reports a rectification: the operator whose equipment it is (`reporter`)."""


def reporter(principal: Principal) -> None:
    """Checked after the body is read, so a malformed report is a 422 whoever sends it."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "the operator reports a rectification; regulators decide")
