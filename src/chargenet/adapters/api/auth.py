"""Authentication and role checks for the HTTP API.

A request's principal comes from `Authorization: Bearer <token>` (or whatever other
authenticators the composition root adds, e.g. dashboard sessions). Tokens are compared
by SHA-256 digest in constant time; only digests are kept. Non-public endpoints refuse
anonymous calls with 401 and calls outside the role with 403.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from fastapi import HTTPException, Request

from chargenet.core.access import ANONYMOUS, Principal, Role


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator(Protocol):
    def principal(self, request: Request) -> Principal | None:
        """The principal a request speaks for, or None when it does not say."""
        ...


class StaticTokens:
    """Fixed bearer tokens (configuration, CLI `--token`), each mapped to a principal."""

    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self._by_digest = {token_digest(t): p for t, p in principals.items()}

    @classmethod
    def admins(cls, tokens: Iterable[str]) -> StaticTokens:
        return cls({t: Principal(name="api-token", role=Role.ADMIN) for t in tokens})

    def principal(self, request: Request) -> Principal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = token_digest(token.strip())
        for known, principal in self._by_digest.items():
            if hmac.compare_digest(digest, known):
                return principal
        return None  # perhaps another authenticator knows it


def identify(request: Request, authenticators: Sequence[Authenticator]) -> Principal:
    """The request's principal (anonymous when none is given), kept on `request.state`."""
    for auth in authenticators:
        principal = auth.principal(request)
        if principal is not None:
            request.state.principal = principal
            return principal
    if request.headers.get("authorization"):
        # Credentials nobody accepts are an error, not a quiet fall-back to anonymous.
        raise HTTPException(
            status_code=401,
            detail="credentials not accepted",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.principal = ANONYMOUS
    return ANONYMOUS


def admit(principal: Principal, minimum: Role) -> Principal:
    """The principal if at least `minimum`: anonymous calls are 401, roles below 403."""
    if principal.role is Role.PUBLIC:
        raise HTTPException(
            status_code=401,
            detail="authentication required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.role.rank < minimum.rank:
        raise HTTPException(status_code=403, detail=f"needs role {minimum.value} or above")
    return principal


def current_principal(authenticators: Sequence[Authenticator]) -> Callable[[Request], Principal]:
    """A dependency giving the request's principal (anonymous when none is given)."""

    def dependency(request: Request) -> Principal:
        return identify(request, authenticators)

    return dependency


def require(
    authenticators: Sequence[Authenticator], minimum: Role
) -> Callable[[Request], Principal]:
    """A dependency refusing anonymous calls (401) and roles below `minimum` (403)."""

    def dependency(request: Request) -> Principal:
        return admit(identify(request, authenticators), minimum)

    return dependency
