"""SQL helpers shared by the registry projections: dialect-neutral upserts and lookups.

Building a SQLAlchemy statement costs about a millisecond per call (coercions, cache keys),
which made registering a province's chargers take minutes. These helpers build each
statement shape once per dialect, compile it once, and then run it on the driver's
cursor with the columns' own bind and result processors — the same values SQLAlchemy
would write and read, at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite


@dataclass
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter order for positional paramstyles
    binds: dict[str, Callable[[Any], Any] | None]
    result_types: list[Any]
    # Result processors depend on the driver's column type codes: made at the first fetch.
    results: list[Callable[[Any], Any] | None] | None = None


_CACHE: dict[tuple[str, Hashable], _Compiled] = {}


def _compile(conn: Connection, key: Hashable, build: Callable[[], Executable]) -> _Compiled:
    dialect = conn.dialect
    found = _CACHE.get((dialect.name, key))
    if found is not None:
        return found
    stmt: Any = build()
    compiled = stmt.compile(dialect=dialect)
    binds = {
        name: param.type.dialect_impl(dialect).bind_processor(dialect)
        for name, param in compiled.binds.items()
    }
    result_types: list[Any] = []
    if getattr(stmt, "is_select", False) or getattr(stmt, "_returning", ()):
        columns = stmt.selected_columns if stmt.is_select else stmt._returning
        result_types = [col.type.dialect_impl(dialect) for col in columns]
    found = _Compiled(
        compiled.string,
        tuple(compiled.positiontup) if compiled.positional else None,
        binds,
        result_types,
    )
    _CACHE[(dialect.name, key)] = found
    return found


def run(
    conn: Connection, key: Hashable, build: Callable[[], Executable], params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Execute a cached statement shape; rows (if any) come back processed."""
    compiled = _compile(conn, key, build)
    bound = {}
    for name, value in params.items():
        processor = compiled.binds.get(name)
        bound[name] = processor(value) if processor is not None and value is not None else value
    args: Any = tuple(bound[n] for n in compiled.order) if compiled.order is not None else bound
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.sql, args)
        if not compiled.result_types or cursor.description is None:
            return []
        if compiled.results is None:
            compiled.results = [
                kind.result_processor(conn.dialect, column[1])
                for kind, column in zip(compiled.result_types, cursor.description, strict=True)
            ]
        return [
            tuple(p(v) if p is not None else v for p, v in zip(compiled.results, row, strict=True))
            for row in cursor.fetchall()
        ]
    finally:
        cursor.close()


def _insert_for(conn: Connection, table: Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    *,
    keep: Sequence[str] = (),
    newer_only: bool = True,
) -> None:
    """Insert or update a row by key. `keep` columns are written on insert only.

    With `newer_only` the update happens only when the row's `as_of` is not newer than the
    incoming one: late data never overwrites newer state.
    """
    columns = tuple(values)

    def build() -> Executable:
        stmt = _insert_for(conn, table).values(
            {c: bindparam(c, type_=table.c[c].type) for c in columns}
        )
        updates = {c: stmt.excluded[c] for c in columns if c not in keys and c not in keep}
        where = table.c.as_of <= stmt.excluded.as_of if newer_only else None
        return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
            index_elements=list(keys), set_=updates, where=where
        )

    run(conn, ("upsert", table.name, columns, tuple(keys), tuple(keep), newer_only), build, values)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert unless the key exists; True when a row was inserted."""
    columns = tuple(values)
    key_column = next(iter(table.primary_key.columns))

    def build() -> Executable:
        # RETURNING tells reliably whether a row went in (rowcount does not on every driver).
        return (  # type: ignore[no-any-return]
            _insert_for(conn, table)
            .values({c: bindparam(c, type_=table.c[c].type) for c in columns})
            .on_conflict_do_nothing()
            .returning(key_column)
        )

    return bool(run(conn, ("insert_ignore", table.name, columns), build, values))


def fetch_row(conn: Connection, table: Table, **key: Any) -> dict[str, Any] | None:
    """The row with these key values, as a dict, or None."""
    names = tuple(sorted(key))

    def build() -> Executable:
        return select(table).where(
            *[table.c[k] == bindparam(k, type_=table.c[k].type) for k in names]
        )

    rows = run(conn, ("fetch", table.name, names), build, key)
    if not rows:
        return None
    return dict(zip(table.c.keys(), rows[0], strict=True))
