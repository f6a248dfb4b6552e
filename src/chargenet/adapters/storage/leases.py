"""Leases on background jobs in the database (app/leases.py; table `leases`).

Taking or renewing is one transaction: an UPDATE of the row if it is the holder's own or
expired, else an INSERT that does nothing if the row exists. On PostgreSQL two nodes asking
at once are ordered by the row lock (the loser's UPDATE finds the winner's unexpired row;
its INSERT conflicts); on SQLite writer transactions are serialised (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from chargenet.adapters.storage.tables_outbox import leases


class SqlLeases:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        t = leases
        with self._engine.begin() as conn:
            renewed = conn.execute(
                update(t)
                .where(t.c.name == name, or_(t.c.holder == holder, t.c.expires_at <= now))
                .values(holder=holder, expires_at=until)
            )
            if renewed.rowcount:
                return True
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            taken = conn.execute(
                dialect.insert(t)
                .values(name=name, holder=holder, expires_at=until)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(t.c.name)  # a row only if inserted (rowcount is not reliable)
            ).first()
            return taken is not None

    def release(self, name: str, holder: str) -> None:
        t = leases
        with self._engine.begin() as conn:
            conn.execute(delete(t).where(t.c.name == name, t.c.holder == holder))

    def holder(self, name: str, now: datetime) -> str | None:
        t = leases
        with self._engine.connect() as conn:
            row = conn.execute(
                select(t.c.holder).where(t.c.name == name, t.c.expires_at > now)
            ).first()
        return None if row is None else str(row[0])
