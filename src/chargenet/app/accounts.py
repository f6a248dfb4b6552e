"""People who log in: users with a role and a scope, their passwords and their sessions.

Users are access configuration, not facts about the infrastructure, so they are not in the
event log: the log is served to regulators and forwarded to other instances, and password
hashes have no business there. Passwords are hashed with scrypt (stdlib, memory-hard) at
OWASP's recommended cost; the parameters travel inside each hash, so raising them later
re-hashes a user's password at their next login. Session tokens are random and kept only
as SHA-256 digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from chargenet.app.login_throttle import LoginThrottle
from chargenet.core.access import Principal, Role
from chargenet.core.errors import Conflict, Invalid
from chargenet.kit.clock import Clock

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 8
SESSION_LIFETIME = timedelta(hours=12)


class AccountError(Invalid):
    """A user cannot be created or changed as asked (the message says why)."""


class AccountExists(AccountError, Conflict):
    """A user of that name exists already."""


class LoginRefused(Exception):
    """Wrong name or password, a disabled user, or too many failures (kept vague on purpose)."""

    def __init__(self, reason: str, retry_after_s: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    password_hash: str
    display_name: str = ""
    operator_id: str | None = None
    area_code: str | None = None
    disabled: bool = False
    created_at: datetime | None = None

    def principal(self) -> Principal:
        return Principal(
            name=self.username,
            role=self.role,
            operator_id=self.operator_id,
            area_code=self.area_code,
        )


@dataclass(frozen=True, slots=True)
class LoginSession:
    token_digest: str
    username: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime


class UserStore(Protocol):
    def user(self, username: str) -> User | None: ...

    def users(self) -> list[User]: ...

    def save_user(self, user: User) -> None: ...

    def delete_user(self, username: str) -> bool: ...

    def save_session(self, session: LoginSession) -> None: ...

    def session(self, token_digest: str) -> LoginSession | None: ...

    def delete_session(self, token_digest: str) -> None: ...

    def delete_sessions_of(self, username: str) -> None: ...

    def delete_expired_sessions(self, now: datetime) -> int: ...


# --- passwords ----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    """scrypt; the default cost is OWASP's N=2^15, r=8, p=3 (32 MiB, same work as 2^17/p=1)."""

    n: int = 2**15
    r: int = 8
    p: int = 3

    def _derive(self, password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
        )

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        key = self._derive(password, salt, self.n, self.r, self.p)
        return f"scrypt$n={self.n},r={self.r},p={self.p}${_b64(salt)}${_b64(key)}"

    def verify(self, password: str, encoded: str) -> bool:
        try:
            scheme, params, salt, key = encoded.split("$")
            values = dict(item.split("=") for item in params.split(","))
            n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        except (ValueError, KeyError):
            return False
        if scheme != "scrypt":
            return False
        return hmac.compare_digest(self._derive(password, _unb64(salt), n, r, p), _unb64(key))

    def outdated(self, encoded: str) -> bool:
        return not encoded.startswith(f"scrypt$n={self.n},r={self.r},p={self.p}$")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the service --------------------------------------------------------------------------


class AccountService:
    def __init__(
        self,
        store: UserStore,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.throttle = throttle or LoginThrottle()
        self._decoy: str | None = None

    def _decoy_hash(self) -> str:
        """A hash the unknown-user path verifies against, so that a wrong name costs the
        same time as a wrong password and does not reveal which names exist."""
        if self._decoy is None:
            self._decoy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy

    # users

    def add_user(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        operator_id: str | None = None,
        area_code: str | None = None,
        display_name: str = "",
        replace_existing: bool = False,
    ) -> User:
        problems = user_problems(username, password, role, operator_id, area_code)
        if problems:
            raise AccountError("; ".join(problems))
        if not replace_existing and self.store.user(username) is not None:
            raise AccountExists(f"user {username!r} exists already")
        user = User(
            username=username,
            role=role,
            password_hash=self.hasher.hash(password),
            display_name=display_name,
            operator_id=operator_id,
            area_code=area_code,
            created_at=self.clock.now(),
        )
        self.store.save_user(user)
        return user

    def set_password(self, username: str, password: str) -> None:
        user = self._existing(username)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
        self.store.save_user(replace(user, password_hash=self.hasher.hash(password)))
        self.store.delete_sessions_of(username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        user = self._existing(username)
        self.store.save_user(replace(user, disabled=disabled))
        if disabled:
            self.store.delete_sessions_of(username)

    def remove_user(self, username: str) -> None:
        self.store.delete_sessions_of(username)
        if not self.store.delete_user(username):
            raise AccountError(f"no user {username!r}")

    def _existing(self, username: str) -> User:
        user = self.store.user(username)
        if user is None:
            raise AccountError(f"no user {username!r}")
        return user

    # logging in and out

    def login(
        self, username: str, password: str, address: str = ""
    ) -> tuple[User, str, LoginSession]:
        """Check a password; returns the user, the new session's token and the session.
        `address` is the client's: failures slow down that name at that address (and
        floods from one address or on one name), never the user everywhere
        (app/login_throttle.py)."""
        now = self.clock.now()
        wait = self.throttle.wait(username, address, now)
        if wait is not None:
            seconds = max(1, math.ceil(wait.total_seconds()))
            raise LoginRefused("too many failed logins; try again later", seconds)
        user = self.store.user(username)
        ok = self.hasher.verify(password, user.password_hash if user else self._decoy_hash())
        if user is None or not ok or user.disabled:
            self.throttle.failed(username, address, now)
            raise LoginRefused("wrong user name or password")
        self.throttle.succeeded(username, address, now)
        if self.hasher.outdated(user.password_hash):
            user = replace(user, password_hash=self.hasher.hash(password))
            self.store.save_user(user)
        token = secrets.token_urlsafe(32)
        session = LoginSession(
            token_digest=token_digest(token),
            username=user.username,
            csrf_token=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
        self.store.delete_expired_sessions(now)
        self.store.save_session(session)
        return user, token, session

    def resolve(self, token: str) -> tuple[User, LoginSession] | None:
        """The user and session behind a session token, if it is live."""
        session = self.store.session(token_digest(token))
        if session is None:
            return None
        if session.expires_at <= self.clock.now():
            self.store.delete_session(session.token_digest)
            return None
        user = self.store.user(session.username)
        if user is None or user.disabled:
            return None
        return user, session

    def logout(self, token: str) -> None:
        self.store.delete_session(token_digest(token))


def user_problems(
    username: str,
    password: str,
    role: Role,
    operator_id: str | None,
    area_code: str | None,
) -> list[str]:
    out: list[str] = []
    if not USERNAME.match(username):
        out.append("a user name has 2..64 letters, digits or _.@-")
    if len(password) < MIN_PASSWORD_LENGTH:
        out.append(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if role is Role.PUBLIC:
        out.append("public is the role of anonymous visitors, not of a user")
    if role is Role.OPERATOR and not operator_id:
        out.append("an operator user needs an operator id")
    if role is not Role.OPERATOR and operator_id:
        out.append("only operator users have an operator id")
    if role is not Role.REGULATOR and area_code:
        out.append("only regulator users have a jurisdiction (area)")
    return out
