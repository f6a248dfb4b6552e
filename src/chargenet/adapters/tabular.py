"""Rows → CSV or XLSX (openpyxl), shared by the API's and the CLI's exports.

Nested values are flattened (lists joined with ", ", mappings as JSON); times are written
as UTC ISO 8601, numbers stay numbers (XLSX) so that spreadsheets can sum them.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from openpyxl import Workbook

FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


def flat(value: Any) -> Any:
    """A cell value: scalars as they are, times ISO, containers as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    if isinstance(value, Iterable):
        return ", ".join(str(flat(v)) for v in value)
    return str(value)


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    columns = list(columns or columns_of(rows))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := flat(row.get(c))) is None else v for c in columns])
    # A byte-order mark lets spreadsheet programs read the Chinese names as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    sheet: str = "report",
) -> bytes:
    return to_xlsx_sheets({sheet: (rows, columns)})


Sheets = Mapping[str, tuple[Sequence[Mapping[str, Any]], Sequence[str] | None]]


def to_xlsx_sheets(sheets: Sheets) -> bytes:
    """One workbook, a sheet per name: (rows, columns or None for the rows' own)."""
    book = Workbook(write_only=True)
    for name, (rows, given) in sheets.items():
        columns = list(given or columns_of(rows))
        ws = book.create_sheet(title=name[:31])
        ws.append(columns)
        for row in rows:
            ws.append([flat(row.get(c)) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_zip_csv(sheets: Sheets, prefix: str = "") -> bytes:
    """A ZIP archive of one CSV per sheet, named `<prefix><name>.csv`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (rows, columns) in sheets.items():
            archive.writestr(f"{prefix}{name}.csv", to_csv(rows, columns))
    return buffer.getvalue()


def render(rows: Sequence[Mapping[str, Any]], fmt: str, sheet: str = "report") -> bytes:
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "xlsx":
        return to_xlsx(rows, sheet=sheet)
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def render_sheets(
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    columns: Mapping[str, Sequence[str]],
    fmt: str,
    prefix: str = "",
) -> bytes:
    """Several tables (a filing): XLSX with a sheet each, or ZIP with a CSV each; each
    table in the columns given for it, else its rows' own."""
    given = {name: (rows, columns.get(name)) for name, rows in tables.items()}
    if fmt == "xlsx":
        return to_xlsx_sheets(given)
    if fmt == "zip":
        return to_zip_csv(given, prefix)
    raise ValueError(f"unknown format {fmt!r} for several tables; use xlsx or zip")
