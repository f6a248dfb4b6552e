"""`chargenet import FILE…`: areas, statistics, operators, stations, chargers, swap stations
and targets from CSV or JSON files (docs/import-formats.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from chargenet.adapters.files.importer import (
    IMPORT_ORDER,
    FileResult,
    ImportKind,
    guess_kind,
    read_file,
)
from chargenet.app.ingest import Disposition
from chargenet.entrypoints.cli.main import DbOption, consoles

import_app = typer.Typer()


@import_app.command("import")
def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or JSON files"),
    ],
    kind: Annotated[
        ImportKind | None,
        typer.Option(help="What the files hold; guessed from each file name when omitted"),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows of a file that has bad ones")
    ] = False,
    db: DbOption = None,
) -> None:
    """Import areas, statistics, operators, stations, chargers, swap stations or targets.

    Every bad row is reported (file:line: field: reason). A file with bad rows imports
    nothing unless --skip-bad is given. Formats: docs/import-formats.md.
    """
    from chargenet.bootstrap import bootstrap
    from chargenet.entrypoints.cli.main import _progress, _settings

    settings = _settings(db)
    jobs: list[tuple[Path, ImportKind]] = []
    for path in files:
        chosen = kind or guess_kind(path)
        if chosen is None:
            consoles.err.print(f"[red]{path}: cannot tell what it holds; pass --kind[/red]")
            raise typer.Exit(2)
        jobs.append((path, chosen))
    jobs.sort(key=lambda job: IMPORT_ORDER.index(job[1]))
    platform = bootstrap(settings)
    failed = False
    now = platform.clock.now()
    for path, chosen in jobs:
        result = read_file(path, chosen, now)
        if result.errors and not skip_bad:
            _report(result)
            consoles.err.print(
                f"[red]{path}: {len(result.errors)} bad rows; nothing imported "
                "(fix them, or pass --skip-bad)[/red]"
            )
            failed = True
            continue
        _report(result)
        with _progress() as progress:
            task = progress.add_task(f"{path.name} ({chosen.value})", total=len(result.events))

            def advance(done: int, task_id: TaskID = task) -> None:
                progress.update(task_id, completed=done)

            outcomes = platform.ingestor.ingest(
                result.events, atomic=not skip_bad, progress=advance
            )
        counts = {d: 0 for d in Disposition}
        for outcome in outcomes:
            counts[outcome.disposition] += 1
            if outcome.disposition is Disposition.REJECTED:
                lines = ",".join(str(n) for n in result.lines.get(outcome.event_id, []))
                where = outcome.field or "(record)"
                consoles.err.print(f"{path.name}:{lines}: {where}: {outcome.reason}")
        if counts[Disposition.WITHHELD] or (counts[Disposition.REJECTED] and not skip_bad):
            consoles.err.print(f"[red]{path}: refused rows; nothing imported from this file[/red]")
            failed = True
        consoles.out.print(
            f"{path.name}: {result.rows} rows, {counts[Disposition.ACCEPTED]} imported, "
            f"{counts[Disposition.DUPLICATE]} unchanged, {counts[Disposition.REJECTED]} refused, "
            f"{len(result.errors)} bad rows skipped"
        )
    platform.close()
    if failed:
        raise typer.Exit(1)


def _report(result: FileResult) -> None:
    for error in result.errors:
        consoles.err.print(str(error))
