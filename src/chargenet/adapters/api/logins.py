"""Logging in to the dashboard: a session cookie, and CSRF care for calls that change things.

The session cookie is HttpOnly, SameSite=Strict and Secure whenever the request came over
HTTPS (or `secure_cookies` says so, behind a TLS proxy). Because browsers add cookies to
cross-site requests on their own, a state-changing call (POST, PUT, PATCH, DELETE) that
rests on the cookie must also send the session's CSRF token in `X-CSRF-Token`; the
token is handed out at login and kept in a readable `chargenet_csrf` cookie for the page's
scripts. Bearer-token calls need no CSRF token: a browser never adds those by itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import bind, caller, services
from chargenet.app.accounts import SESSION_LIFETIME, AccountService, LoginRefused, User
from chargenet.core.access import Audience, Principal, Role, declared

SESSION_COOKIE = "chargenet_session"
CSRF_COOKIE = "chargenet_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionCookies:
    """An authenticator: the principal of a live dashboard session."""

    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts

    def principal(self, request: Request) -> Principal | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        found = self.accounts.resolve(token)
        if found is None:
            return None  # expired or logged out: the caller is anonymous
        user, session = found
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token")
        return user.principal()


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    username: str
    role: str
    display_name: str
    operator_id: str | None
    area_code: str | None
    csrf_token: str | None = Field(
        default=None, description="Send it as X-CSRF-Token on state-changing calls"
    )


def _me(user: User, csrf: str | None) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "display_name": user.display_name or user.username,
        "operator_id": user.operator_id,
        "area_code": user.area_code,
        "csrf_token": csrf,
    }


@dataclass(frozen=True)
class Logins:
    accounts: AccountService
    cookies: SessionCookies
    secure_cookies: bool | None = None

    def secure(self, request: Request) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return request.url.scheme == "https"


Context = Annotated[Logins, Depends(services(Logins))]
router = APIRouter(prefix="/api/v1/auth", tags=["login"])


def login_router(
    accounts: AccountService,
    authenticators: Sequence[Authenticator] = (),
    *,
    secure_cookies: bool | None = None,
) -> APIRouter:
    return bind(router, Logins(accounts, SessionCookies(accounts), secure_cookies), authenticators)


@router.post("/login", response_model=Me, **declared(Audience.PUBLIC))
async def login(
    credentials: Credentials, logins: Context, request: Request, response: Response
) -> Any:
    """Log in with a user name and password; sets the session cookie."""
    try:
        address = request.client.host if request.client else ""
        user, token, session = await run_in_threadpool(
            logins.accounts.login, credentials.username, credentials.password, address
        )
    except LoginRefused as exc:
        if exc.retry_after_s is not None:
            raise HTTPException(
                status_code=429,
                detail=str(exc),
                headers={"Retry-After": str(exc.retry_after_s)},
            ) from exc
        raise HTTPException(status_code=401, detail=str(exc)) from exc
    age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=age,
        httponly=True,
        samesite="strict",
        secure=logins.secure(request),
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf_token,
        max_age=age,
        httponly=False,
        samesite="strict",
        secure=logins.secure(request),
        path="/",
    )
    return _me(user, session.csrf_token)


@router.post("/logout", status_code=204, **declared(Audience.PUBLIC))
async def logout(logins: Context, request: Request, response: Response) -> None:
    """End the session (needs X-CSRF-Token); the cookie is cleared."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(logins.cookies.principal, request)  # the CSRF check
        await run_in_threadpool(logins.accounts.logout, token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", response_model=Me, **declared(Audience.MEMBER))
async def me(logins: Context, request: Request) -> Any:
    """Who is calling: the session cookie's user (with its CSRF token), or whoever a
    bearer token speaks for; 401 for an anonymous call."""
    token = request.cookies.get(SESSION_COOKIE)
    found = await run_in_threadpool(logins.accounts.resolve, token) if token else None
    if found is not None:
        user, session = found
        return _me(user, session.csrf_token)
    principal = await run_in_threadpool(caller, request)
    if principal.role is Role.PUBLIC:
        raise HTTPException(status_code=401, detail="not logged in")
    if principal.role is Role.DRIVER:
        raise HTTPException(status_code=403, detail="drivers: /api/v1/driver/me")
    return {
        "username": principal.name,
        "role": principal.role.value,
        "display_name": principal.name,
        "operator_id": principal.operator_id,
        "area_code": principal.area_code,
    }
