"""`chargenet`: run the platform, the demo city, imports and database chores."""

from __future__ import annotations

import logging
import secrets
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chargenet import __version__
from chargenet.entrypoints.cli.lazy import Lazy, lazy_group

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy import Engine

    from chargenet.adapters.storage.history import Pruned
    from chargenet.bootstrap import Platform
    from chargenet.config import Settings
    from chargenet.core.events import Event

# Each group is imported when one of its commands runs: `chargenet --help` and light
# commands need not load the whole platform (planning's scipy and HiGHS among it).
CLI = "chargenet.entrypoints.cli"
SUBGROUPS = {
    "import": Lazy(
        f"{CLI}.imports:import_app",
        "Import areas, statistics, operators, stations, chargers, swap stations or targets.",
        group=False,
    ),
    "plan": Lazy(
        f"{CLI}.plan_build:plan_app", "Planning: policy packs, targets, coverage, siting."
    ),
    "ocpi": Lazy(f"{CLI}.ocpi:ocpi_app", "OCPI 2.2.1: operator platforms and the province."),
    "tcec": Lazy(f"{CLI}.tcec:app", "T/CEC 102 interconnection with partner platforms."),
    "supervise": Lazy(
        f"{CLI}.supervise:app",
        "Supervision: uptime, status history, zombie piles, alarms, stop orders, scorecards.",
    ),
    "users": Lazy(f"{CLI}.users:users_app", "Dashboard users and their roles."),
    "report": Lazy(f"{CLI}.report:report_app", "Reports for officials (the monthly report)."),
    "ocpp": Lazy(
        f"{CLI}.ocpp:ocpp_app", "OCPP gateway: charger passwords, commands to connected chargers."
    ),
    "simulate": Lazy(
        f"{CLI}.simulate:simulate_app", "Simulate OCPP chargers (1.6 and 2.0.1) against a gateway."
    ),
}


class _Consoles:
    """Rich consoles, made on first use (importing rich costs start-up time)."""

    _out: Console | None = None
    _err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console()
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True)
        return self._err


consoles = _Consoles()

app = typer.Typer(
    name="chargenet",
    help="Supervision and service platform for EV charging and battery-swapping infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    cls=lazy_group(SUBGROUPS),
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(
    help="Database: schema migrations and rebuilding state from the log.", no_args_is_help=True
)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///path.db or postgresql+psycopg://…). "
        "Default: $CHARGENET_DATABASE_URL or sqlite:///var/chargenet.db",
        show_default=False,
    ),
]
HostOption = Annotated[
    str | None,
    typer.Option(
        help="Interface to listen on. Default: $CHARGENET_HOST or 127.0.0.1", show_default=False
    ),
]
PortOption = Annotated[
    int | None,
    typer.Option(help="HTTP port. Default: $CHARGENET_PORT or 8080", show_default=False),
]


def _settings(db: str | None, **overrides: Any) -> Settings:
    from chargenet.config import Settings

    settings = Settings.from_env(database_url=db, **overrides)
    _log_to_console(settings.log_level)
    return settings


# What `_log_to_console` set up for the running command, undone when it ends (`_root`).
_console_log = ExitStack()


@app.callback()
def _root(ctx: typer.Context) -> None:
    ctx.call_on_close(_console_log.close)


def _log_to_console(level: str) -> None:
    """Log to stderr through rich for as long as the running command lasts.

    The handler belongs to the command: when the command ends, the handler leaves the root
    logger and the levels it set go back, so a process that runs several commands (the
    tests, through CliRunner) neither stacks handlers nor keeps printing other code's log
    lines once the command is over. A command that calls this twice gets one handler."""
    from rich.logging import RichHandler

    root, alembic = logging.getLogger(), logging.getLogger("alembic")
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        # Rich's console finds sys.stderr when it writes, so the handler survives test
        # runners and redirections that swap the stream.
        handler = RichHandler(console=consoles.err, show_path=False)
        _console_log.callback(alembic.setLevel, alembic.level)
        _console_log.callback(root.setLevel, root.level)
        _console_log.callback(root.removeHandler, handler)
        root.addHandler(handler)
    root.setLevel(level.upper())
    alembic.setLevel(logging.WARNING)


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=consoles.err,
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
    consoles.out.print(__version__)


@app.command()
def serve(
    db: DbOption = None,
    host: HostOption = None,
    port: PortOption = None,
    token: Annotated[
        list[str] | None,
        typer.Option(
            help="API token for non-public reads (repeatable; also $CHARGENET_API_TOKENS). "
            "Default: one generated for the run and printed",
            show_default=False,
        ),
    ] = None,
    ocpp_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the OCPP gateway. Default: $CHARGENET_OCPP_PORT or 9000 "
            "(0: any free port, logged)",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        str,
        typer.Option(
            help="all: the whole platform in this process (the default). intake: holds "
            "chargers' OCPP sockets, events to NATS JetStream. writer: stream → database. "
            "api: HTTP, orders routed to the charger's intake node (docs/scale.md)"
        ),
    ] = "all",
    nats: Annotated[
        str | None,
        typer.Option(
            help="NATS server of a cluster (roles intake, writer, api). "
            "Default: $CHARGENET_NATS_URL",
            show_default=False,
        ),
    ] = None,
    node: Annotated[
        str | None,
        typer.Option(
            help="This process's name in the socket map. Default: host name and process id",
            show_default=False,
        ),
    ] = None,
    buckets: Annotated[
        str,
        typer.Option(
            help="writer: the stream's buckets it stores (0-63; e.g. 0-31), whole "
            "partitions (--partitions): writers split them. Default: all"
        ),
    ] = "",
    partitions: Annotated[
        int | None,
        typer.Option(
            help="intake, writer: the stream's 64 buckets go in this many subjects (1, 2, "
            "4 … 64), the same on every node. Default: $CHARGENET_STREAM_PARTITIONS or 4",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the platform: HTTP API and the protocol endpoints on one port, the OCPP gateway
    on its own (--ocpp-port: two servers on one host need two). With --role, one part of a
    cluster sharing PostgreSQL and NATS JetStream: any number of each role."""

    import uvicorn

    from chargenet.bootstrap import bootstrap
    from chargenet.entrypoints import cluster
    from chargenet.entrypoints.cli import ocpp, supervise
    from chargenet.entrypoints.web import create_app, protocol_parts

    if role not in cluster.ROLES:
        consoles.err.print(f"[red]--role is one of {', '.join(cluster.ROLES)}[/red]")
        raise typer.Exit(2)
    settings = _settings(
        db,
        host=host,
        port=port,
        ocpp_port=ocpp_port,
        nats_url=nats,
        stream_partitions=partitions,
    )
    if role != "all" and not settings.nats_url:
        consoles.err.print(f"[red]--role {role} needs NATS: --nats or CHARGENET_NATS_URL[/red]")
        raise typer.Exit(2)
    name = cluster.node_name(node)
    if role in ("intake", "writer"):
        from chargenet.adapters.bus.jetstream import Layout

        try:
            Layout(settings.stream_partitions)
        except ValueError as exc:
            consoles.err.print(f"[red]--partitions: {exc}[/red]")
            raise typer.Exit(2) from None
    if role == "intake":
        cluster.run_role(
            settings, cluster.run_intake(settings, name, settings.host, settings.ocpp_port)
        )
        return
    if role == "writer":
        from chargenet.adapters.bus.jetstream import Layout, parse_buckets

        try:
            chosen = parse_buckets(buckets)
            Layout(settings.stream_partitions).partitions_of(chosen)
        except ValueError as exc:
            consoles.err.print(f"[red]--buckets: {exc}[/red]")
            raise typer.Exit(2) from None
        cluster.run_role(settings, cluster.run_writer(settings, chosen))
        return
    platform = bootstrap(settings)
    tokens = _tokens(token)
    if not tokens:
        tokens = [secrets.token_urlsafe(24)]
        consoles.err.print(
            f"No API token given; generated one for this run: [bold]{tokens[0]}[/bold]"
        )
    parts = protocol_parts(platform)
    # An api node holds no sockets: its orders go to the intake node holding the charger.
    chargers = (
        cluster.api_job(settings, name)
        if role == "api"
        else ocpp.gateway_job(settings.host, settings.ocpp_port)
    )
    # One process on its database hears what others write there (role all: an api node
    # hears the writers' stored-event feed).
    tail = (
        [ocpp.registry_tail_job(settings.registry_poll_s)]
        if role == "all" and settings.registry_poll_s > 0
        else []
    )
    parts["background"] = [*parts["background"], *supervise.JOBS, *tail, chargers]
    # Several api nodes share the database: each singleton job runs on one of them.
    web = create_app(platform, api_tokens=tokens, warm_up=True, node=name, **parts)
    _print_urls(settings, settings.ocpp_port if role == "all" else None)
    # asyncio's own loop, as always: uvicorn would take uvloop whenever it is installed.
    uvicorn.run(
        web,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        loop="asyncio",
    )


def _print_urls(settings: Settings, ocpp_port: int | None = None) -> None:
    from rich.table import Table

    base = f"http://{settings.host}:{settings.port}"
    table = Table(title="chargenet is listening", show_header=False)
    table.add_row("Charger finder (public)", f"{base}/")
    table.add_row("Dashboard (regulators' login)", f"{base}/dashboard")
    table.add_row("Operator workspace (login)", f"{base}/workspace")
    table.add_row("API documentation (OpenAPI)", f"{base}/docs")
    table.add_row("Overview", f"{base}/api/v1/overview")
    table.add_row("Stations", f"{base}/api/v1/stations")
    table.add_row("Live connectors", f"{base}/api/v1/connectors?status=charging")
    table.add_row("Health", f"{base}/healthz")
    table.add_row("OCPI 2.2.1 versions", f"{base}/ocpi/versions")
    table.add_row("T/CEC 102 (partner platforms)", f"{base}/tcec/v1/")
    table.add_row("Open data (public)", f"{base}/open-data/v1/sites")
    if ocpp_port:
        table.add_row("OCPP chargers connect to", f"ws://{settings.host}:{ocpp_port}/ocpp/{{id}}")
    consoles.out.print(table)


@app.command()
def demo(
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL for the demo")
    ] = "sqlite:///var/demo.db",
    host: HostOption = None,
    port: PortOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated world and its activity")] = 2023,
    fresh: Annotated[bool, typer.Option(help="Delete the demo database and build it anew")] = False,
    speed: Annotated[
        float, typer.Option(help="How many times faster than real life the city charges")
    ] = 20.0,
    token: Annotated[
        list[str] | None,
        typer.Option(help="API token (repeatable). Default: demo-token", show_default=False),
    ] = None,
    ocpp_port: Annotated[
        int,
        typer.Option(help="Port of the OCPP gateway (0: a free port, chosen and printed)"),
    ] = 0,
) -> None:
    """Run the platform with the demo city (Xinzhou and Liuzhou), alive. Prints the URLs.

    The port answers at once: while the city is built (about a minute the first time)
    pages show a progress bar and the API answers 503 with Retry-After."""
    import uvicorn

    from chargenet.entrypoints.building import Building
    from chargenet.kit.net import free_port

    settings = _settings(db, host=host, port=port)
    if fresh and settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    ocpp_port = ocpp_port or free_port(settings.host)
    tokens = _tokens(token) or ["demo-token"]

    def build(progress: Any) -> Any:
        return _build_demo(settings, seed, speed, tokens, ocpp_port, progress)

    _print_urls(settings, ocpp_port)
    consoles.err.print(f"API token for the event log and sessions: [bold]{tokens[0]}[/bold]")
    uvicorn.run(
        Building(build),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        loop="asyncio",
    )


def _build_demo(
    settings: Settings,
    seed: int,
    speed: float,
    tokens: list[str],
    ocpp_port: int,
    progress: Any,
) -> Any:
    """The demo platform and its web app (run while the port already answers)."""
    progress.phase = "database"
    from rich.table import Table

    from chargenet.bootstrap import bootstrap
    from chargenet.demo.control import DemoControl, Holds
    from chargenet.demo.live import live_city
    from chargenet.demo.roads import demo_planning_roads
    from chargenet.demo.users import demo_map_layers, ensure_demo_users
    from chargenet.demo.world import build_world
    from chargenet.entrypoints.cli import ocpp, supervise
    from chargenet.entrypoints.web import create_app, protocol_parts

    platform = bootstrap(settings)
    if platform.read.counts()["stations"] == 0:
        progress.phase = "city"
        world = build_world(seed=seed, now=platform.clock.now())
        _ingest_with_progress(platform, world, "Building the demo city", progress)
    platform.planning.use_roads(demo_planning_roads())
    progress.phase = "services"
    holds = Holds()  # chargers under a stop order, shared by the controller and the city
    platform.orders.register(
        "demo", DemoControl(holds, platform.read, platform.pipeline.submit, platform.clock.now)
    )
    city = live_city(seed=seed, speed=speed, holds=holds)
    ocpp.set_fleet_passwords(platform, seed)
    parts = protocol_parts(platform)
    parts["background"] = [
        city,
        *parts["background"],
        *supervise.JOBS,
        ocpp.gateway_job(settings.host, ocpp_port),
        ocpp.demo_fleet_job(seed, speed, settings.host),
    ]
    users = ensure_demo_users(platform.accounts)
    web = create_app(
        platform, api_tokens=tokens, map_layers=demo_map_layers(), warm_up=True, **parts
    )
    logins = Table(title="Demo logins (dashboard)", show_header=True)
    for column in ("user", "password", "role", "sees"):
        logins.add_column(column)
    for user in users:
        logins.add_row(user.username, user.password, user.role.value, user.scope)
    consoles.out.print(logins)
    consoles.out.print(f"The demo city is ready: http://{settings.host}:{settings.port}/")
    return web


def _ingest_with_progress(
    platform: Platform, events: list[Event], description: str, shown: Any = None
) -> None:
    from chargenet.app.ingest import Disposition

    chunk = 2000
    rejected = 0
    if shown is not None:
        shown.total, shown.done = len(events), 0
    with _progress() as progress:
        task = progress.add_task(description, total=len(events))
        for start in range(0, len(events), chunk):
            part = events[start : start + chunk]
            outcomes = platform.ingestor.ingest(part)
            rejected += sum(o.disposition is Disposition.REJECTED for o in outcomes)
            progress.advance(task, len(part))
            if shown is not None:
                shown.done += len(part)
    if rejected:
        consoles.err.print(
            f"[yellow]{rejected} events were refused; see /api/v1/events/rejected[/yellow]"
        )


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the database schema up to date (creates it when empty)."""
    from chargenet.adapters.storage.store import SqlEventStore

    settings = _settings(db)
    store = SqlEventStore(
        settings.database_url, allow_unsafe_durability=settings.allow_unsafe_durability
    )
    store.upgrade()
    consoles.out.print(f"schema is current ({settings.database_url})")
    store.dispose()


@db_app.command("rebuild")
def db_rebuild(db: DbOption = None) -> None:
    """Empty every state table and re-apply the whole event log, in order."""
    from chargenet.bootstrap import bootstrap

    settings = _settings(db)
    platform = bootstrap(settings)
    with _progress() as progress:
        task = progress.add_task("Rebuilding state from the log", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = platform.store.rebuild(step)
    consoles.out.print(f"applied {report.applied} events, skipped {report.skipped}")
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
    from chargenet.bootstrap import bootstrap

    settings = _settings(db)
    platform = bootstrap(settings)
    rows = roll_up(
        platform.store.engine,
        platform.supervision,
        date.fromisoformat(first),
        date.fromisoformat(last),
        settings.local_timezone,
    )
    consoles.out.print(f"{rows} rows of daily status seconds")
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
    from chargenet.bootstrap import bootstrap

    settings = _settings(db)
    platform = bootstrap(settings)
    year, month = (int(part) for part in keep_from.split("-"))
    for pruned in history.prune(platform.store.engine, history.month_start(year, month)):
        consoles.out.print(
            f"{pruned.table}: {pruned.partitions_dropped} monthly partitions dropped, "
            f"{pruned.rows_deleted} rows deleted"
        )
    platform.close()


def _retain(
    settings: Settings,
    retain: Callable[[Engine, datetime, int, int], list[Pruned]],
    detail: int,
    hourly: int,
) -> None:
    """Run a retention (`rollup.retain_load`, `retain_meter`): detail older than `detail`
    months rolled up by hour and dropped, hours older than `hourly` months dropped; a too
    short retention is refused (exit 2)."""
    from chargenet.bootstrap import bootstrap

    platform = bootstrap(settings)
    try:
        done = retain(platform.store.engine, platform.clock.now(), detail, hourly)
    except ValueError as exc:
        platform.close()
        consoles.err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for pruned in done:
        consoles.out.print(
            f"{pruned.table}: {pruned.partitions_dropped} monthly partitions dropped, "
            f"{pruned.rows_deleted} rows deleted"
        )
    platform.close()


@db_app.command("prune-load")
def db_prune_load(
    quarters: Annotated[
        int | None, typer.Option(help="months of load quarters kept, this one included")
    ] = None,
    hours: Annotated[
        int | None, typer.Option(help="months of the hourly roll-up kept, this one included")
    ] = None,
    db: DbOption = None,
) -> None:
    """Retention of the metered load: quarters older than the months kept
    (CHARGENET_LOAD_QUARTERS_KEEP_MONTHS, 13) are rolled up by hour and dropped; hours older
    than CHARGENET_LOAD_HOURLY_KEEP_MONTHS (60) are dropped. Run it monthly."""
    from chargenet.adapters.storage.rollup import retain_load

    settings = _settings(db)
    _retain(
        settings,
        retain_load,
        # `is None`, not `or`: 0 months asked for is refused, not the default kept.
        settings.load_quarters_keep_months if quarters is None else quarters,
        settings.load_hourly_keep_months if hours is None else hours,
    )


@db_app.command("prune-meter")
def db_prune_meter(
    samples: Annotated[
        int | None, typer.Option(help="months of meter samples kept, this one included")
    ] = None,
    hours: Annotated[
        int | None, typer.Option(help="months of the hourly roll-up kept, this one included")
    ] = None,
    db: DbOption = None,
) -> None:
    """Retention of the meter samples: samples older than the months kept
    (CHARGENET_METER_HISTORY_KEEP_MONTHS, 13) are rolled up by hour per connector and
    dropped; hours older than CHARGENET_METER_HOURLY_KEEP_MONTHS (60) are dropped. The event
    log keeps every sample. Run it monthly."""
    from chargenet.adapters.storage.rollup import retain_meter

    settings = _settings(db)
    _retain(
        settings,
        retain_meter,
        settings.meter_history_keep_months if samples is None else samples,
        settings.meter_hourly_keep_months if hours is None else hours,
    )


@db_app.command("status")
def db_status(db: DbOption = None) -> None:
    """Schema revision and table sizes."""
    settings = _settings(db, auto_migrate=False)
    from chargenet.adapters.storage import migrate
    from chargenet.adapters.storage.store import SqlEventStore
    from chargenet.bootstrap import bootstrap

    store = SqlEventStore(
        settings.database_url, allow_unsafe_durability=settings.allow_unsafe_durability
    )
    current, head = migrate.current_revision(store.engine), migrate.head_revision(store.engine)
    consoles.out.print(f"schema revision {current} (latest {head})")
    if current == head:
        platform = bootstrap(settings)
        for name, count in platform.read.counts().items():
            consoles.out.print(f"{name:>16}: {count}")
        platform.close()
    store.dispose()
