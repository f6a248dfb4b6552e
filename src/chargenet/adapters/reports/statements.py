"""An operator's daily settlement statement as XLSX: what the platform owed it at the
start of the local day, every movement of its account that day (charges of its sessions,
refunds, disputes, payouts), and what it is owed at the end. Opening + movements =
closing, to the cent; the sheet's own SUM formulas say the same."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from chargenet.app.settlement import MovementRow

_MONEY = "#,##0.00"


def statement_xlsx(
    operator_id: str,
    day: date,
    zone: str,
    opening: Decimal,
    movements: Sequence[MovementRow],
    currency: str,
    generated: datetime,
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "statement"
    sheet.append([f"Settlement statement — operator {operator_id}, {day.isoformat()} ({zone})"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(
        [f"generated {generated.astimezone(ZoneInfo(zone)).isoformat(timespec='seconds')}"]
    )
    sheet.append([])
    sheet.append(["opening balance", None, None, None, float(opening), currency])
    first = sheet.max_row + 2
    sheet.append(
        ["posted (local time)", "entry", "kind", "session / reference", "amount", "currency"]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for m in movements:
        sheet.append(
            [
                m["posted_at"].astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S"),
                m["entry_id"],
                m["kind"],
                m["reference"],
                float(m["amount"]),
                currency,
            ]
        )
    last = sheet.max_row
    closing = opening + sum((m["amount"] for m in movements), Decimal(0))
    sheet.append([])
    sheet.append(["movements", None, None, len(movements), f"=SUM(E{first}:E{last})", currency])
    sheet.append(["closing balance", None, None, None, float(closing), currency])
    for row in sheet.iter_rows(min_row=4, min_col=5, max_col=5):
        for cell in row:
            cell.number_format = _MONEY
    for column, width in zip("ABCDEF", (22, 34, 10, 40, 14, 9), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
