"""Users and login sessions in the store's database (see app/accounts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from chargenet.adapters.storage.tables_dashboard import user_sessions, users
from chargenet.app.accounts import LoginSession, User
from chargenet.core.access import Role


class SqlUserStore:
    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self._engine = engine
        self._read = read_engine or engine

    @staticmethod
    def _user(row: Any) -> User:
        return User(
            username=row.username,
            role=Role(row.role),
            password_hash=row.password_hash,
            display_name=row.display_name,
            operator_id=row.operator_id,
            area_code=row.area_code,
            disabled=bool(row.disabled),
            created_at=row.created_at,
        )

    def user(self, username: str) -> User | None:
        with self._read.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return self._user(row) if row is not None else None

    def users(self) -> list[User]:
        with self._read.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [self._user(r) for r in rows]

    def save_user(self, user: User) -> None:
        values = {
            "role": user.role.value,
            "password_hash": user.password_hash,
            "display_name": user.display_name,
            "operator_id": user.operator_id,
            "area_code": user.area_code,
            "disabled": user.disabled,
        }
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(users).where(users.c.username == user.username).values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(users).values(
                        username=user.username, created_at=user.created_at, **values
                    )
                )

    def delete_user(self, username: str) -> bool:
        with self._engine.begin() as conn:
            return bool(conn.execute(delete(users).where(users.c.username == username)).rowcount)

    def save_session(self, session: LoginSession) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(user_sessions).values(
                    token_digest=session.token_digest,
                    username=session.username,
                    csrf_token=session.csrf_token,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                )
            )

    def session(self, token_digest: str) -> LoginSession | None:
        with self._read.connect() as conn:
            row = conn.execute(
                select(user_sessions).where(user_sessions.c.token_digest == token_digest)
            ).first()
        if row is None:
            return None
        return LoginSession(
            token_digest=row.token_digest,
            username=row.username,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    def delete_session(self, token_digest: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(user_sessions).where(user_sessions.c.token_digest == token_digest))

    def delete_sessions_of(self, username: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(user_sessions).where(user_sessions.c.username == username))

    def delete_expired_sessions(self, now: datetime) -> int:
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    delete(user_sessions).where(user_sessions.c.expires_at <= now)
                ).rowcount
            )
