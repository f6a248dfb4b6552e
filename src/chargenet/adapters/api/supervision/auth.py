"""Who may call the supervision routes: each type a dependency giving the caller."""

from fastapi import HTTPException

from chargenet.adapters.api import binding
from chargenet.core.access import Principal, Role

Viewer = binding.Member
"""Operators (their own equipment) and regulators (their area); admins."""
Regulator = binding.Regulator
Admin = binding.Admin
Reporter = Viewer
"""Who reports a rectification: the operator whose equipment it is (`reporter`)."""


def reporter(principal: Principal) -> None:
    """Checked after the body is read, so a malformed report is a 422 whoever sends it."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "the operator reports a rectification; regulators decide")
