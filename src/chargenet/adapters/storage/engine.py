"""Engines for the embedded default (SQLite in WAL mode) and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class UnsafeDurability(RuntimeError):
    """The database may lose what chargenet has acknowledged after a crash."""


def postgres_durability(conn: Connection) -> dict[str, str]:
    """The PostgreSQL settings an acknowledgement rests on, as the server reports them."""
    return {
        name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
        for name in ("fsync", "full_page_writes", "synchronous_commit")
    }


def durability_problems(settings: dict[str, str]) -> list[str]:
    """What in these settings can lose a committed batch in a crash. chargenet answers a
    charger or a partner only after its batch has committed, so a commit that is not on
    disk turns an acknowledged message into a lost one. `synchronous_commit` is not among
    them: the writer sets it for its own sessions (see `create_store_engine`)."""
    return [
        f"{name} = {settings[name]}: a crash can corrupt or lose committed data"
        for name in ("fsync", "full_page_writes")
        if settings.get(name, "on") != "on"
    ]


def check_postgres_durability(engine: Engine, *, allow_unsafe: bool) -> None:
    """Refuse to write to a PostgreSQL server that can lose acknowledged data, unless told
    to accept it (then warn); say so when the server's own default for synchronous_commit
    is off, which the writer's sessions override."""
    with engine.connect() as conn:
        settings = postgres_durability(conn)
        default = str(
            conn.execute(
                text("SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit'")
            ).scalar_one()
        )
    if default == "off":
        log.warning(
            "PostgreSQL's synchronous_commit default is %r; chargenet's writer sets it 'on' "
            "for its own sessions, so no acknowledged batch can be lost",
            default,
        )
    problems = durability_problems(settings)
    if not problems:
        return
    if not allow_unsafe:
        raise UnsafeDurability(
            "PostgreSQL can lose acknowledged data: "
            + "; ".join(problems)
            + ". Fix the server, or set CHARGENET_ALLOW_UNSAFE_DURABILITY=1 (tests only)."
        )
    log.warning("PostgreSQL can lose acknowledged data: %s", "; ".join(problems))


def create_store_engine(url: str, *, writer: bool, synchronous: str = "FULL") -> Engine:
    """An engine for the store. SQLite writers take the write lock at BEGIN (IMMEDIATE),
    so a reader never has to upgrade its lock and fail with "database is locked".
    PostgreSQL writers commit synchronously whatever the server's default: a commit is
    flushed to disk (and to synchronous standbys) before chargenet acknowledges anything."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, future=True)
        if writer:

            @event.listens_for(engine, "connect")
            def _synchronous(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("SHOW synchronous_commit")
                if cursor.fetchone()[0] == "off":
                    cursor.execute("SET synchronous_commit = on")
                cursor.close()
                dbapi_connection.commit()

        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8 if not writer else 1,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (needed for
        # SAVEPOINT to work with pysqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine
