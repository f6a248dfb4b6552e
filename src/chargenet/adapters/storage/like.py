"""LIKE patterns built from text that is not ours (a search box, an id from a URL or a
partner): `%` and `_` in it are literal characters, not wildcards. Every LIKE in the store
is built here. SQLite has no default escape character, so each pattern names one."""

from __future__ import annotations

from sqlalchemy import ColumnElement

ESCAPE = "/"


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character itself) made literal."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(
    column: ColumnElement[str], text: str, *, any_case: bool = False
) -> ColumnElement[bool]:
    pattern = f"%{escape_like(text)}%"
    if any_case:
        return column.ilike(pattern, escape=ESCAPE)
    return column.like(pattern, escape=ESCAPE)


def starts_with(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    return column.like(f"{escape_like(text)}%", escape=ESCAPE)
