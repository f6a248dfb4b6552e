"""The hot path's SQL, run on the driver's own cursor.

Status changes, meter samples and session events arrive by the thousand per second. Built
through SQLAlchemy each statement costs ~150 µs in Python before the database sees it; on
the driver's cursor with pre-rendered text it costs a few µs. Everything else (registry,
areas, targets) stays on SQLAlchemy Core, where clarity beats microseconds.

Values are bound exactly as the SQLAlchemy column types bind them (see types.py), so rows
written here and rows written through Core are indistinguishable.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from chargenet.adapters.storage.types import to_micro_units

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")

# After a batch's plain insert met a row already held, this connection's next inserts of
# that statement go the careful way at once (`insert_new`): where one batch repeats held
# rows (a stream redelivering a round, a charger resending), the next ones likely do too,
# and each failed try costs the rows it wrote before the one held, and the careful way on
# top. Kept on the database connection (SQLAlchemy's `info`, the pool's record of it).
CAREFUL_AFTER = 32
_UNIQUE_VIOLATION = "23505"

# Statements in psycopg's placeholders, by their text: kept for the process, not for one
# `Raw` (one a unit of work), which rendered a round's few long statements again each
# round (a regex over each, 1,100 instructions an event of a writer's round). The texts
# are the hot path's constants and a few made of field names; a text made of anything
# else would be rendered each time past the bound, as before.
_RENDERED: dict[str, str] = {}
_RENDERED_AT_MOST = 4096

# The zones PostgreSQL names UTC by, as psycopg gives a `timestamptz` of a session in one
# (`ZoneInfo` keeps one object a key): a time in one is the same wall time in `UTC`.
_UTC_ZONES: frozenset[tzinfo] = frozenset(ZoneInfo(key) for key in ("UTC", "Etc/UTC"))


class Raw:
    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self._info = conn.info
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _render(self, sql: str) -> str:
        if self.sqlite:
            return sql
        rendered = _RENDERED.get(sql)
        if rendered is None:
            rendered = _NAMED.sub(r"%(\1)s", sql)
            if len(_RENDERED) < _RENDERED_AT_MOST:
                _RENDERED[sql] = rendered
        return rendered

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> int:
        cursor = self._cursor
        cursor.execute(self._render(sql), params or {})
        return int(cursor.rowcount)

    def one(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        cursor = self._cursor
        cursor.execute(self._render(sql), params or {})
        return cursor.fetchone()

    def all(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        cursor = self._cursor
        cursor.execute(self._render(sql), params or {})
        return list(cursor.fetchall())

    def insert_new(self, plain: str, careful: str, params: dict[str, Any]) -> list[Any] | None:
        """`plain`, an INSERT of rows none of which is held yet as far as the caller knows,
        in a savepoint; where a unique key says one is held, rolled back to it and
        `careful` (the same rows through ON CONFLICT, or past a look-up of those held) run
        instead. None where `plain` wrote every row, else `careful`'s rows (empty where it
        returns none). PostgreSQL only.

        Why: a key checked before the insert (ON CONFLICT's speculative insertion, or a
        look-up) walks the key's B-tree twice a row, and ON CONFLICT writes a second WAL
        record a row (its confirmation); a plain insert walks it once. The server's CPU a
        row of the log's append and of the meter history, docs/scale.md ("Rows inserted
        without a look-up first")."""
        # SQLite's IntegrityError names no SQLSTATE: a held row would be raised, not skipped.
        assert not self.sqlite, "insert_new is PostgreSQL's"
        cursor, info = self._cursor, self._info
        left = info.get(plain, 0)
        if left:  # a recent batch met held rows: skip the try
            info[plain] = left - 1
            return self._careful(careful, params)
        cursor.execute("SAVEPOINT insert_new")
        try:
            cursor.execute(self._render(plain), params)
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise  # the transaction is lost either way: the caller rolls it back
            cursor.execute("ROLLBACK TO SAVEPOINT insert_new")
            info[plain] = CAREFUL_AFTER
            rows: list[Any] | None = self._careful(careful, params)
        else:
            rows = None
        cursor.execute("RELEASE SAVEPOINT insert_new")
        return rows

    def _careful(self, sql: str, params: dict[str, Any]) -> list[Any]:
        cursor = self._cursor
        cursor.execute(self._render(sql), params)
        return list(cursor.fetchall()) if cursor.description is not None else []

    # --- binding values as the Core types do --------------------------------------------

    def t(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        if not self.sqlite:
            return value
        # The text SQLAlchemy's SQLite DateTime writes (zero-padded "YYYY-MM-DD
        # HH:MM:SS.ffffff"), at a fraction of strftime's cost.
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def read_t(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        zone = value.tzinfo
        if zone is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        if zone is UTC:
            return value  # type: ignore[no-any-return]
        if zone in _UTC_ZONES and type(value) is datetime:
            # The same wall time (the offset is always zero), made whole: `astimezone`
            # asks the zone its offset and adds it (twice this), `replace` parses keywords
            # (four times).
            return datetime(
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
                UTC,
            )
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    @staticmethod
    def money(value: Decimal | None) -> int | None:
        return None if value is None else to_micro_units(value)

    def flag(self, value: bool | None) -> Any:
        if value is None:
            return None
        return int(value) if self.sqlite else value
