"""`chargenet report`: the monthly report (R16) as XLSX and print-ready HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chargenet.adapters.reports.monthly import render_monthly
from chargenet.app.figures import Figures, Month
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.errors import UnknownReference
from chargenet.entrypoints.dashboard import report_sources

console = Console()
err = Console(stderr=True)
report_app = typer.Typer(help="Reports for officials.", no_args_is_help=True)


@report_app.command("monthly")
def monthly(
    area: Annotated[str, typer.Option(help="Area code, e.g. 140900 (Xinzhou)")],
    month: Annotated[str, typer.Option(help="YYYY-MM, e.g. 2025-05")],
    out: Annotated[Path, typer.Option(help="Folder to write into")] = Path("."),
    db: Annotated[str | None, typer.Option("--db", help="Database URL")] = None,
) -> None:
    """Write the month's figures per county as an Excel workbook and print-ready HTML, with
    planning's progress and supervision's figures (uptime, alarms, zombie piles, stop
    orders) per county."""
    try:
        parsed = Month.parse(month)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    settings = Settings.from_env(database_url=db)
    platform = bootstrap(settings)
    figures = Figures(platform.read, platform.clock, settings.local_timezone, platform.planning)
    progress, supervision = report_sources(platform)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for fmt in ("xlsx", "html"):
            body, name, _ = render_monthly(
                figures, area, parsed, fmt, settings.local_timezone, progress, supervision
            )
            (out / name).write_bytes(body)
            console.print(f"wrote {out / name}")
    except UnknownReference as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.close()
