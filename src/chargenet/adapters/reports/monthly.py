"""The monthly report (R16): one month's figures per county, as an Excel workbook (with a
native chart), as print-ready HTML (charts drawn as inline SVG, A4 landscape) and as PDF
(that HTML printed by headless Chromium, `adapters/reports/pdf.py`)."""

from __future__ import annotations

import html
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from chargenet.adapters.reports.columns import (
    COLUMNS,
    DR_COLUMNS,
    NOTES,
    OPERATOR_VALLEY_COLUMNS,
    ORDERLY_NOTES,
    PEAK_AREA_COLUMNS,
    PEAK_SITE_COLUMNS,
    PROGRESS_COLUMNS,
    SUPERVISION_COLUMNS,
    SUPERVISION_NOTES,
    VALLEY_COLUMNS,
    Column,
    Row,
)
from chargenet.adapters.reports.pdf import PDF, html_to_pdf
from chargenet.app.figures import (
    Figures,
    Month,
    OrderlyProvider,
    ProgressProvider,
    SupervisionProvider,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html; charset=utf-8"
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")


def render_monthly(
    figures: Figures,
    area: str,
    month: Month,
    fmt: str,
    zone: str,
    progress: ProgressProvider | None = None,
    supervision: SupervisionProvider | None = None,
    orderly: OrderlyProvider | None = None,
) -> tuple[bytes, str, str]:
    """The report for `area` and `month` as (body, file name, media type), with planning's
    progress, supervision's and orderly charging's figures per county when their providers
    are given."""
    data = figures.month(area, month, progress, supervision, orderly)
    generated = datetime.now(ZoneInfo(zone))
    name = f"chargenet-monthly-{area}-{month}"
    if fmt == "xlsx":
        return workbook(data, generated), f"{name}.xlsx", XLSX
    if fmt == "pdf":
        return html_to_pdf(page(data, generated)), f"{name}.pdf", PDF
    return page(data, generated).encode(), f"{name}.html", HTML


def title(data: Row) -> tuple[str, str]:
    area = data["area"]
    return (
        f"{area['name_zh']} 充电基础设施建设月报 {data['month']}",
        f"{area.get('name_en') or area['code']}: charging infrastructure, monthly report "
        f"{data['month']}",
    )


# --- Excel --------------------------------------------------------------------------------


def workbook(data: Row, generated: datetime) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "月报 Monthly"
    _heading(sheet, data, generated, "")
    first = 5
    rows = [*data["rows"], {**data["total"], "total": True}]
    _table(sheet, first, COLUMNS, rows)
    sheet.freeze_panes = sheet.cell(row=first + 1, column=3)
    last = first + len(data["rows"])
    if data["rows"]:
        counts_all = data["total"].get("target_metric") == "new_charging_piles"
        _chart(sheet, first, last, "ytd" if counts_all else "ytd_public")
    if data.get("progress"):
        extra = book.create_sheet("规划进度 Planning")
        _heading(extra, data, generated, "规划进度 Planning progress · ")
        _table(extra, first, PROGRESS_COLUMNS, data["progress"])
        extra.freeze_panes = extra.cell(row=first + 1, column=3)
    if data.get("supervision"):
        extra = book.create_sheet("监管 Supervision")
        _heading(extra, data, generated, "监管 Supervision · ")
        _table(extra, first, SUPERVISION_COLUMNS, data["supervision"])
        extra.freeze_panes = extra.cell(row=first + 1, column=3)
    for name, tables in orderly_tables(data):
        extra = book.create_sheet(name)
        _heading(extra, data, generated, f"{name} · ")
        row = first
        for heading, columns, rows in tables:
            extra.cell(row=row, column=1, value=heading).font = Font(bold=True)
            _table(extra, row + 1, columns, rows)
            row += len(rows) + 4
    _notes(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


Table = tuple[str, tuple[Column, ...], list[Row]]


def orderly_tables(data: Row) -> list[tuple[str, list[Table]]]:
    """Orderly charging's sheets (name, tables): valley share, peak load, demand response."""
    grid = data.get("orderly")
    if not grid:
        return []
    return [
        (
            "谷电 Valley share",
            [
                ("按区县 By area", VALLEY_COLUMNS, grid["valley_areas"]),
                ("按运营商 By operator", OPERATOR_VALLEY_COLUMNS, grid["valley_operators"]),
            ],
        ),
        (
            "负荷 Peak load",
            [
                ("按区县 By area", PEAK_AREA_COLUMNS, grid["peak_areas"]),
                ("按充电站 By station", PEAK_SITE_COLUMNS, grid["peak_sites"]),
            ],
        ),
        ("需求响应 DR", [("每次事件 Per event", DR_COLUMNS, grid["dr_events"])]),
    ]


def _heading(sheet: Any, data: Row, generated: datetime, prefix: str) -> None:
    zh, en = title(data)
    sheet["A1"] = prefix + zh
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A2"] = en
    sheet["A3"] = (
        f"数据截至 As of {data['as_of']}"
        + ("" if data["complete"] else " (月份未结束 month not yet over)")
        + f" · 生成 Generated {generated:%Y-%m-%d %H:%M %Z}"
    )


def _table(sheet: Any, first: int, columns: tuple[Column, ...], rows: list[Row]) -> None:
    """Header at row `first`, one row per item below; rows marked `total` in bold, with
    "合计" after the name."""
    for i, column in enumerate(columns, 1):
        cell = sheet.cell(row=first, column=i, value=column.header())
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(i)].width = 16 if i > 3 else 14
    sheet.row_dimensions[first].height = 34
    for r, row in enumerate(rows, first + 1):
        total = bool(row.get("total"))
        shown = {**row, "name_zh": f"{row['name_zh']} 合计"} if total else row
        for c, column in enumerate(columns, 1):
            cell = sheet.cell(row=r, column=c, value=column.value(shown))
            cell.number_format = column.number
            if total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL


def _chart(sheet: Any, first: int, last: int, done_key: str) -> None:
    keys = [c.key for c in COLUMNS]
    chart = BarChart()
    chart.type = "col"
    chart.title = "年内新增 vs 年度目标 · New this year vs target"
    chart.y_axis.title = "桩 piles"
    chart.height, chart.width = 9, 24
    for key in (done_key, "target"):
        col = keys.index(key) + 1
        chart.add_data(
            Reference(sheet, min_col=col, min_row=first, max_row=last), titles_from_data=True
        )
    names = Reference(sheet, min_col=keys.index("name_zh") + 1, min_row=first + 1, max_row=last)
    chart.set_categories(names)
    sheet.add_chart(chart, f"A{last + 4}")


def _notes(book: Workbook) -> None:
    notes = book.create_sheet("说明 Notes")
    notes.append(["指标", "Figure", "口径", "Definition"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for row in (*NOTES, *SUPERVISION_NOTES, *ORDERLY_NOTES):
        notes.append(list(row))
    for letter, width in zip("ABCD", (14, 20, 44, 60), strict=True):
        notes.column_dimensions[letter].width = width


# --- print-ready HTML ---------------------------------------------------------------------

_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       color: #1a1a1a; margin: 0 auto; max-width: 277mm; font-size: 10pt; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm; }
.sub { color: #555; margin: 0 0 4mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 1.2mm 1.6mm; text-align: right; }
th { background: #1f4e79; color: #fff; font-weight: 600; font-size: 8.5pt; }
td.t { text-align: left; } tr.total td { font-weight: 700; background: #ddebf7; }
td.name { white-space: nowrap; } /* an area's name on one line, not a character a line */
th span { display: block; font-weight: 400; opacity: .85; }
.notes td { text-align: left; } .chart { page-break-inside: avoid; margin-top: 4mm; }
h2.break { page-break-before: always; }
@media print { .noprint { display: none; } }
"""


def _fmt(value: Any, number: str) -> str:
    """A cell as its Excel number format shows it: "#,##0" with thousands separators,
    "0" without (a year is 2025, not 2,025), "0.0" with one decimal."""
    if value is None:
        return "—"
    if number == "@" or isinstance(value, bool) or not isinstance(value, int | float):
        return html.escape(str(value))
    decimals = len(number.split(".", 1)[1]) if "." in number else 0
    if decimals == 0 and not float(value).is_integer():
        decimals = 1
    separator = "," if "," in number else ""
    return f"{value:{separator}.{decimals}f}"


def _html_table(columns: tuple[Column, ...], rows: list[Row]) -> str:
    head = "".join(f"<th>{html.escape(c.zh)}<span>{html.escape(c.en)}</span></th>" for c in columns)
    body = []
    for row in rows:
        if row.get("total"):
            body.append(_tr({**row, "name_zh": f"{row['name_zh']} 合计"}, "total", columns))
        else:
            body.append(_tr(row, "", columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(data: Row, generated: datetime) -> str:
    zh, en = title(data)
    main = _html_table(COLUMNS, [*data["rows"], {**data["total"], "total": True}])
    extra = ""
    if data.get("progress"):
        extra += '<h2 class="break">规划进度 Planning progress</h2>' + _html_table(
            PROGRESS_COLUMNS, data["progress"]
        )
    if data.get("supervision"):
        extra += '<h2 class="break">监管 Supervision</h2>' + _html_table(
            SUPERVISION_COLUMNS, data["supervision"]
        )
    for name, tables in orderly_tables(data):
        extra += f'<h2 class="break">{html.escape(name)}</h2>'
        for heading, columns, rows in tables:
            extra += f"<h3>{html.escape(heading)}</h3>" + _html_table(columns, rows)
    notes = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td>"
        f"<td>{html.escape(d)}</td></tr>"
        for a, b, c, d in (*NOTES, *SUPERVISION_NOTES, *ORDERLY_NOTES)
    )
    status = "" if data["complete"] else " (月份未结束 month not yet over)"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(zh)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(zh)}</h1>
<p class="sub">{html.escape(en)}<br>数据截至 As of {data["as_of"]}{status} ·
生成 Generated {generated:%Y-%m-%d %H:%M %Z}</p>
{main}
<div class="chart"><h2>年内新增 vs 年度目标 · New this year vs year target</h2>
{bar_chart(data["rows"])}</div>
{extra}
<h2>口径 Definitions</h2><table class="notes">{notes}</table>
<p class="noprint">打印：Ctrl+P（A4 横向）· Print: Ctrl+P (A4 landscape)</p>
</body></html>"""


NAME_KEYS = ("code", "name_zh", "name_en")


def _tr(row: Row, cls: str, columns: tuple[Column, ...] = COLUMNS) -> str:
    cells = "".join(
        f'<td class="{_cell_class(c)}">{_fmt(c.value(row), c.number)}</td>' for c in columns
    )
    return f'<tr class="{cls}">{cells}</tr>'


def _cell_class(column: Column) -> str:
    if column.key in NAME_KEYS:
        return "t name"
    return "t" if column.number == "@" else ""


def bar_chart(rows: list[Row], width: int = 1000, height: int = 260) -> str:
    """Grouped bars per area: new this year (as the target counts) and the year target."""
    if not rows:
        return "<p>—</p>"
    values = [(r["ytd_against_target"] or 0, r["year_target"] or 0) for r in rows]
    top = max([max(a, b) for a, b in values] + [1])
    left, bottom, plot_h = 40, 60, height - 80
    slot = (width - left - 10) / len(rows)
    bar = slot * 0.35
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        'font-size="11" font-family="sans-serif">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        'stroke="#888"/>',
    ]
    for i, (row, (done, target)) in enumerate(zip(rows, values, strict=True)):
        x = left + i * slot + slot * 0.12
        for j, (value, colour) in enumerate(((done, "#2e75b6"), (target, "#c9c9c9"))):
            h = plot_h * value / top
            y = height - bottom - h
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{value:,.0f}</title></rect>'
            )
            parts.append(
                f'<text x="{x + j * bar + bar / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="9">{value:,.0f}</text>'
            )
        label = html.escape(row["name_zh"])
        y_label = height - bottom + 14
        parts.append(f'<text x="{x + bar:.1f}" y="{y_label}" text-anchor="middle">{label}</text>')
    parts.append(
        f'<rect x="{left}" y="{height - 22}" width="10" height="10" fill="#2e75b6"/>'
        f'<text x="{left + 14}" y="{height - 13}">年内新增 New this year</text>'
        f'<rect x="{left + 170}" y="{height - 22}" width="10" height="10" fill="#c9c9c9"/>'
        f'<text x="{left + 184}" y="{height - 13}">年度目标 Year target</text></svg>'
    )
    return "".join(parts)
