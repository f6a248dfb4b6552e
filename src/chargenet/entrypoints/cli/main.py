"""`chargenet`: run the platform, the demo city, imports and database chores."""

from __future__ import annotations

import logging
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from chargenet import __version__
from chargenet.adapters.files.importer import (
    IMPORT_ORDER,
    FileResult,
    ImportKind,
    guess_kind,
    read_file,
)
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event
from chargenet.entrypoints.cli import (
    plan_build,  # noqa: F401  (registers its commands)
    supervise,
)
from chargenet.entrypoints.cli.ocpi import ocpi_app
from chargenet.entrypoints.cli.ocpp import (
    demo_fleet_job,
    gateway_job,
    ocpp_app,
    set_fleet_passwords,
)
from chargenet.entrypoints.cli.plan import plan_app
from chargenet.entrypoints.cli.report import report_app
from chargenet.entrypoints.cli.simulate import simulate_app
from chargenet.entrypoints.cli.tcec import app as tcec_app
from chargenet.entrypoints.cli.users import users_app

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    name="chargenet",
    help="Supervision and service platform for EV charging and battery-swapping infrastructure.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(
    help="Database: schema migrations and rebuilding state from the log.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(plan_app, name="plan")
app.add_typer(ocpi_app, name="ocpi")
app.add_typer(tcec_app, name="tcec")
app.add_typer(supervise.app, name="supervise")
app.add_typer(users_app, name="users")
app.add_typer(report_app, name="report")
app.add_typer(ocpp_app, name="ocpp")
app.add_typer(simulate_app, name="simulate")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///path.db or postgresql+psycopg://…). "
        "Default: $CHARGENET_DATABASE_URL or sqlite:///var/chargenet.db",
    ),
]


def _settings(db: str | None, **overrides: Any) -> Settings:
    settings = Settings.from_env(database_url=db, **overrides)
    # Rich's console finds sys.stderr when it writes, so the handler survives test runners
    # and redirections that swap the stream.
    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.addHandler(RichHandler(console=err, show_path=False))
    root.setLevel(settings.log_level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def _tokens(given: list[str] | None) -> list[str]:
    import os

    tokens = list(given or [])
    tokens += [t for t in os.environ.get("CHARGENET_API_TOKENS", "").split(",") if t.strip()]
    return tokens


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port")] = None,
    token: Annotated[
        list[str] | None,
        typer.Option(
            help="API token for non-public reads (repeatable; also $CHARGENET_API_TOKENS)"
        ),
    ] = None,
    ocpp_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the OCPP gateway (default $CHARGENET_OCPP_PORT or 9000; "
            "0: any free port, logged)"
        ),
    ] = None,
) -> None:
    """Run the platform: HTTP API and the protocol endpoints on one port, the OCPP gateway
    on its own (--ocpp-port: two servers on one host need two)."""
    import uvicorn

    from chargenet.entrypoints.web import create_app, protocol_parts

    settings = _settings(db, host=host, port=port, ocpp_port=ocpp_port)
    platform = bootstrap(settings)
    tokens = _tokens(token)
    if not tokens:
        tokens = [secrets.token_urlsafe(24)]
        err.print(f"No API token given; generated one for this run: [bold]{tokens[0]}[/bold]")
    parts = protocol_parts(platform)
    parts["background"] = [
        *parts["background"],
        *supervise.JOBS,
        gateway_job(settings.host, settings.ocpp_port),
    ]
    web = create_app(platform, api_tokens=tokens, **parts)
    _print_urls(settings, settings.ocpp_port)
    uvicorn.run(web, host=settings.host, port=settings.port, log_level=settings.log_level.lower())


def _print_urls(settings: Settings, ocpp_port: int | None = None) -> None:
    base = f"http://{settings.host}:{settings.port}"
    table = Table(title="chargenet is listening", show_header=False)
    table.add_row("Charger finder (public)", f"{base}/")
    table.add_row("Dashboard (login)", f"{base}/dashboard")
    table.add_row("API documentation (OpenAPI)", f"{base}/docs")
    table.add_row("Overview", f"{base}/api/v1/overview")
    table.add_row("Stations", f"{base}/api/v1/stations")
    table.add_row("Live connectors", f"{base}/api/v1/connectors?status=charging")
    table.add_row("Health", f"{base}/healthz")
    table.add_row("OCPI 2.2.1 versions", f"{base}/ocpi/versions")
    table.add_row("Open data (public)", f"{base}/open-data/v1/sites")
    if ocpp_port:
        table.add_row("OCPP chargers connect to", f"ws://{settings.host}:{ocpp_port}/ocpp/{{id}}")
    console.print(table)


@app.command()
def demo(
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL for the demo")
    ] = "sqlite:///var/demo.db",
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated world and its activity")] = 2023,
    fresh: Annotated[bool, typer.Option(help="Delete the demo database and build it anew")] = False,
    speed: Annotated[
        float, typer.Option(help="How many times faster than real life the city charges")
    ] = 20.0,
    token: Annotated[list[str] | None, typer.Option(help="API token (repeatable)")] = None,
    ocpp_port: Annotated[
        int, typer.Option(help="Port of the OCPP gateway (0: any free port, logged)")
    ] = 0,
) -> None:
    """Run the platform with the demo city (Xinzhou and Liuzhou), alive. Prints the URLs."""
    import uvicorn

    from chargenet.demo.control import DemoControl, Holds
    from chargenet.demo.live import live_city
    from chargenet.demo.users import demo_map_layers, ensure_demo_users
    from chargenet.demo.world import build_world
    from chargenet.entrypoints.web import create_app, protocol_parts

    settings = _settings(db, host=host, port=port)
    if fresh and settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    platform = bootstrap(settings)
    if platform.read.counts()["stations"] == 0:
        world = build_world(seed=seed, now=platform.clock.now())
        _ingest_with_progress(platform, world, "Building the demo city")
    from chargenet.demo.roads import demo_planning_roads

    platform.planning.use_roads(demo_planning_roads())
    tokens = _tokens(token) or ["demo-token"]
    holds = Holds()  # chargers under a stop order, shared by the controller and the city
    platform.orders.register(
        "demo", DemoControl(holds, platform.read, platform.pipeline.submit, platform.clock.now)
    )
    city = live_city(seed=seed, speed=speed, holds=holds)
    set_fleet_passwords(platform, seed)
    parts = protocol_parts(platform)
    parts["background"] = [
        city,
        *parts["background"],
        *supervise.JOBS,
        gateway_job(settings.host, ocpp_port),
        demo_fleet_job(seed, speed, settings.host),
    ]
    users = ensure_demo_users(platform.accounts)
    web = create_app(platform, api_tokens=tokens, map_layers=demo_map_layers(), **parts)
    _print_urls(settings)
    logins = Table(title="Demo logins (dashboard)", show_header=True)
    for column in ("user", "password", "role", "sees"):
        logins.add_column(column)
    for user in users:
        logins.add_row(user.username, user.password, user.role.value, user.scope)
    console.print(logins)
    err.print(f"API token for the event log and sessions: [bold]{tokens[0]}[/bold]")
    uvicorn.run(web, host=settings.host, port=settings.port, log_level="warning")


def _ingest_with_progress(platform: Platform, events: list[Event], description: str) -> None:
    chunk = 2000
    rejected = 0
    with _progress() as progress:
        task = progress.add_task(description, total=len(events))
        for start in range(0, len(events), chunk):
            part = events[start : start + chunk]
            outcomes = platform.ingestor.ingest(part)
            rejected += sum(o.disposition is Disposition.REJECTED for o in outcomes)
            progress.advance(task, len(part))
    if rejected:
        err.print(f"[yellow]{rejected} events were refused; see /api/v1/events/rejected[/yellow]")


@app.command("import")
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
    settings = _settings(db)
    jobs: list[tuple[Path, ImportKind]] = []
    for path in files:
        chosen = kind or guess_kind(path)
        if chosen is None:
            err.print(f"[red]{path}: cannot tell what it holds; pass --kind[/red]")
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
            err.print(
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
                err.print(f"{path.name}:{lines}: {where}: {outcome.reason}")
        if counts[Disposition.WITHHELD] or (counts[Disposition.REJECTED] and not skip_bad):
            err.print(f"[red]{path}: refused rows; nothing imported from this file[/red]")
            failed = True
        console.print(
            f"{path.name}: {result.rows} rows, {counts[Disposition.ACCEPTED]} imported, "
            f"{counts[Disposition.DUPLICATE]} unchanged, {counts[Disposition.REJECTED]} refused, "
            f"{len(result.errors)} bad rows skipped"
        )
    platform.close()
    if failed:
        raise typer.Exit(1)


def _report(result: FileResult) -> None:
    for error in result.errors:
        err.print(str(error))


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the database schema up to date (creates it when empty)."""
    from chargenet.adapters.storage.store import SqlEventStore

    settings = _settings(db)
    store = SqlEventStore(
        settings.database_url, allow_unsafe_durability=settings.allow_unsafe_durability
    )
    store.upgrade()
    console.print(f"schema is current ({settings.database_url})")
    store.dispose()


@db_app.command("rebuild")
def db_rebuild(db: DbOption = None) -> None:
    """Empty every state table and re-apply the whole event log, in order."""
    settings = _settings(db)
    platform = bootstrap(settings)
    with _progress() as progress:
        task = progress.add_task("Rebuilding state from the log", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = platform.store.rebuild(step)
    console.print(f"applied {report.applied} events, skipped {report.skipped}")
    platform.close()


@db_app.command("roll-up")
def db_roll_up(
    first: Annotated[str, typer.Argument(help="first local day, YYYY-MM-DD")],
    last: Annotated[str, typer.Argument(help="last local day, YYYY-MM-DD")],
    db: DbOption = None,
) -> None:
    """Roll status history up into seconds per connector, day, status and flag
    (status_daily), by the uptime rule: what stays of those days after `db prune`."""
    from chargenet.adapters.storage.rollup import roll_up

    settings = _settings(db)
    platform = bootstrap(settings)
    rows = roll_up(
        platform.store.engine,
        platform.supervision,
        date.fromisoformat(first),
        date.fromisoformat(last),
        settings.local_timezone,
    )
    console.print(f"{rows} rows of daily status seconds")
    platform.close()


@db_app.command("prune")
def db_prune(
    keep_from: Annotated[str, typer.Argument(help="first UTC month kept, YYYY-MM")],
    db: DbOption = None,
) -> None:
    """Retention: drop status, presence and power-limit history before a month (whole
    monthly partitions on PostgreSQL), keeping each connector's last report before it, so
    uptime from that month on is unchanged. Roll the days up first (`db roll-up`)."""
    from chargenet.adapters.storage import history

    settings = _settings(db)
    platform = bootstrap(settings)
    year, month = (int(part) for part in keep_from.split("-"))
    for pruned in history.prune(platform.store.engine, history.month_start(year, month)):
        console.print(
            f"{pruned.table}: {pruned.partitions_dropped} monthly partitions dropped, "
            f"{pruned.rows_deleted} rows deleted"
        )
    platform.close()


@db_app.command("status")
def db_status(db: DbOption = None) -> None:
    """Schema revision and table sizes."""
    settings = _settings(db, auto_migrate=False)
    from chargenet.adapters.storage import migrate
    from chargenet.adapters.storage.store import SqlEventStore

    store = SqlEventStore(
        settings.database_url, allow_unsafe_durability=settings.allow_unsafe_durability
    )
    current, head = migrate.current_revision(store.engine), migrate.head_revision(store.engine)
    console.print(f"schema revision {current} (latest {head})")
    if current == head:
        platform = bootstrap(settings)
        for name, count in platform.read.counts().items():
            console.print(f"{name:>16}: {count}")
        platform.close()
    store.dispose()
