"""Small SQL helpers shared by projections (dialect-neutral upserts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite


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
    dialect = conn.dialect.name
    ins: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = ins.values(**values)
    updates = {k: stmt.excluded[k] for k in values if k not in keys and k not in keep}
    where = table.c.as_of <= stmt.excluded.as_of if newer_only else None
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updates, where=where)
    conn.execute(stmt)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert unless the key exists; True when a row was inserted."""
    dialect = conn.dialect.name
    ins: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    # RETURNING tells reliably whether a row went in (rowcount does not on every driver).
    key = next(iter(table.primary_key.columns))
    result = conn.execute(ins.values(**values).on_conflict_do_nothing().returning(key))
    return result.first() is not None


def fetch_row(conn: Connection, table: Table, **key: Any) -> Any:
    clause = [table.c[k] == v for k, v in key.items()]
    return conn.execute(select(table).where(*clause)).mappings().first()
