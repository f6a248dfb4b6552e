"""`chargenet report`: the monthly report (R16) as XLSX, print-ready HTML and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chargenet.app.figures import Month
from chargenet.core.errors import UnknownReference

console = Console()
err = Console(stderr=True)
report_app = typer.Typer(help="Reports for officials.", no_args_is_help=True)


@report_app.command("monthly")
def monthly(
    area: Annotated[str, typer.Option(help="Area code, e.g. 140900 (Xinzhou)")],
    month: Annotated[
        str | None,
        typer.Option(
            help="YYYY-MM, e.g. 2025-05. Default: the last whole month", show_default=False
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder to write into")] = Path("."),
    db: Annotated[str | None, typer.Option("--db", help="Database URL")] = None,
) -> None:
    """Write the month's figures per county as an Excel workbook, print-ready HTML and PDF
    (when Chromium is installed), with
    planning's progress and supervision's figures (uptime, alarms, zombie piles, stop
    orders) per county."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from chargenet.config import Settings

    try:
        zone = ZoneInfo(Settings.from_env().local_timezone)
        parsed = Month.parse(month) if month else Month.before(datetime.now(zone).date())
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    from chargenet.adapters.reports.monthly import render_monthly
    from chargenet.adapters.reports.pdf import PdfUnavailable
    from chargenet.app.figures import Figures
    from chargenet.bootstrap import bootstrap
    from chargenet.entrypoints.dashboard import report_sources

    settings = Settings.from_env(database_url=db)
    platform = bootstrap(settings)
    figures = Figures(platform.read, platform.clock, settings.local_timezone, platform.planning)
    progress, supervision, grid = report_sources(platform)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for fmt in ("xlsx", "html", "pdf"):
            try:
                body, name, _ = render_monthly(
                    figures,
                    area,
                    parsed,
                    fmt,
                    settings.local_timezone,
                    progress,
                    supervision,
                    grid,
                )
            except PdfUnavailable as exc:
                err.print(f"[yellow]no PDF: {exc}[/yellow]")
                continue
            (out / name).write_bytes(body)
            console.print(f"wrote {out / name}")
    except UnknownReference as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.close()
