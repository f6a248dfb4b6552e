"""`chargenet supervise`: uptime, status history, zombie cases, alarms, stop orders and
scorecards from the command line. Reports print as tables or export to CSV/XLSX
(`--out report.xlsx`). Stop orders go through the running server (`--url`, `--token`),
which holds the chargers' connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from chargenet.adapters import tabular
from chargenet.app.filings import EVCHART_COLUMNS, UK_POINT_COLUMNS, UK_REPORT_COLUMNS
from chargenet.app.leases import singleton
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.oversight import ExclusionReason, ZombieOutcome
from chargenet.core.supervision import TargetKind

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

app = typer.Typer(
    help="Supervision: uptime (NEVI, UK), zombie piles, alarms, stop orders, scorecards.",
    no_args_is_help=True,
)

Db = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $CHARGENET_DATABASE_URL)")
]
Area = Annotated[str | None, typer.Option(help="Area code (province, city, county…)")]
Operator = Annotated[str | None, typer.Option(help="Operator id")]
Out = Annotated[
    Path | None, typer.Option(help="Write the report to a .csv or .xlsx file instead of printing")
]
When = Annotated[str | None, typer.Option(help="ISO 8601 (local time when no offset)")]
UnitOption = Annotated[
    str | None, typer.Option(help="Count time per port (default) or per connector")
]
Url = Annotated[str, typer.Option(help="The running chargenet server")]
Token = Annotated[str, typer.Option(envvar="CHARGENET_API_TOKEN", help="API token of a regulator")]


def _platform(db: str | None) -> Platform:
    return bootstrap(Settings.from_env(database_url=db))


def _when(platform: Platform, text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(platform.settings.local_timezone))
    return value


def _period(platform: Platform, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    stop = _when(platform, end, platform.clock.now())
    return _when(platform, start, stop - timedelta(days=30)), stop


def _run(platform: Platform, work: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        await platform.start()
        try:
            return await work()
        finally:
            await platform.stop()

    return asyncio.run(go())


def _show(
    rows: Sequence[Mapping[str, Any]], out: Path | None, title: str, columns: Sequence[str] = ()
) -> None:
    if out is not None:
        fmt = out.suffix.lstrip(".").lower()
        out.write_bytes(tabular.render(rows, fmt, sheet=title))
        console.print(f"{len(rows)} rows written to {out}")
        return
    if not rows:
        console.print(f"{title}: nothing")
        return
    names = list(columns) or tabular.columns_of(rows)
    table = Table(title=title)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*["" if (v := tabular.flat(row.get(n))) is None else str(v) for n in names])
    console.print(table)


@app.command()
def uptime(
    area: Area = None,
    operator: Operator = None,
    station: Annotated[str | None, typer.Option(help="Station id")] = None,
    start: When = None,
    end: When = None,
    by: Annotated[
        str,
        typer.Option(help="connector|port|charger|station|operator|province|city|county|all"),
    ] = "station",
    unit: UnitOption = None,
    out: Out = None,
    db: Db = None,
) -> None:
    """NEVI uptime and UK reliability over a period (default: the last 30 days)."""
    platform = _platform(db)
    begin, stop = _period(platform, start, end)
    rows = platform.supervision.uptime(Scope(area, operator, station), begin, stop, by, unit)
    _show(
        rows,
        out,
        "uptime",
        (
            "group",
            "name",
            "ports",
            "connectors",
            "hours",
            "outage_hours",
            "excluded_hours",
            "offline_hours",
            "faulted_hours",
            "nevi_uptime",
            "uk_reliability",
            "ports_meeting_nevi",
        ),
    )


@app.command()
def nevi(
    year: Annotated[int, typer.Option(help="Report year")],
    month: Annotated[int, typer.Option(help="Report month")],
    area: Area = None,
    operator: Operator = None,
    by: Annotated[str, typer.Option(help="port|connector|charger|station|operator|all")] = "port",
    unit: UnitOption = None,
    out: Out = None,
    db: Db = None,
) -> None:
    """23 CFR 680.116(b): monthly over the previous 12 months, > 97 % per port."""
    platform = _platform(db)
    rows = platform.supervision.nevi_monthly(Scope(area, operator), year, month, by, unit)
    _show(
        rows,
        out,
        "nevi",
        (
            "period",
            "group",
            "hours",
            "outage_hours",
            "excluded_hours",
            "nevi_uptime",
            "ports_meeting_nevi",
        ),
    )


@app.command()
def uk(
    year: Annotated[int, typer.Option(help="Calendar year")],
    area: Area = None,
    all_points: Annotated[
        bool, typer.Option(help="Every point, not only public rapid ones")
    ] = False,
    unit: UnitOption = None,
    out: Out = None,
    db: Db = None,
) -> None:
    """UK PCPR 2023: each operator's rapid network reliability over a year (99 %)."""
    platform = _platform(db)
    rows = platform.supervision.uk_reliability(Scope(area), year, not all_points, unit)
    _show(
        rows,
        out,
        "uk",
        (
            "group",
            "name",
            "ports",
            "connectors",
            "uk_up_hours",
            "uk_down_hours",
            "uk_ineligible_hours",
            "uk_reliability",
            "meets_uk_99",
        ),
    )


def _filing(
    tables: dict[str, list[dict[str, Any]]],
    columns: dict[str, tuple[str, ...]],
    out: Path | None,
    name: str,
    show: str,
) -> None:
    """Write a filing (`--out x.zip`: a CSV per table; `x.xlsx`: a sheet each), or print
    its `show` table."""
    if out is None:
        _show(tables[show], None, name, columns.get(show, ()))
        return
    fmt = out.suffix.lstrip(".").lower()
    out.write_bytes(tabular.render_sheets(tables, columns, fmt, f"{name}-"))
    counts = ", ".join(f"{k} {len(v)}" for k, v in tables.items())
    console.print(f"{name} written to {out} ({counts})")


@app.command()
def evchart(
    year: Annotated[int, typer.Option(help="Calendar year")],
    quarter: Annotated[int, typer.Option(help="Quarter, 1 to 4")],
    area: Area = None,
    operator: Operator = None,
    out: Annotated[
        Path | None, typer.Option(help="A .zip (one CSV per module) or .xlsx file")
    ] = None,
    db: Db = None,
) -> None:
    """NEVI's quarterly data submission in EV-ChART's format (23 CFR 680.112): stations,
    ports, sessions, 12-month uptime per port (680.116(b)) and outages."""
    platform = _platform(db)
    tables = platform.filings.evchart(Scope(area, operator), year, quarter)
    _filing(tables, EVCHART_COLUMNS, out, f"evchart-{year}-q{quarter}", "uptime")


@app.command("uk-report")
def uk_report(
    year: Annotated[int, typer.Option(help="Calendar year")],
    area: Area = None,
    operator: Operator = None,
    out: Annotated[Path | None, typer.Option(help="A .xlsx or .zip file")] = None,
    db: Db = None,
) -> None:
    """UK PCPR 2023 reg. 8: each operator's annual report on its rapid network's
    reliability, with each charge point's."""
    platform = _platform(db)
    tables = platform.filings.uk_annual(Scope(area, operator), year)
    columns = {"report": UK_REPORT_COLUMNS, "charge_points": UK_POINT_COLUMNS}
    _filing(tables, columns, out, f"uk-reliability-{year}", "report")


@app.command()
def history(
    connector: Annotated[str, typer.Argument(help="Connector id")],
    start: When = None,
    end: When = None,
    out: Out = None,
    db: Db = None,
) -> None:
    """A connector's status intervals with causes, and its outages."""
    platform = _platform(db)
    begin, stop = _period(platform, start, end)
    result = platform.supervision.history(connector, begin, stop)
    _show(
        result["intervals"],
        out,
        f"history of {connector}",
        ("start", "end", "status", "reported", "cause"),
    )
    if out is None:
        _show(
            result["outages"],
            None,
            "outages",
            ("start", "end", "status", "cause", "seconds", "excluded_seconds", "reasons"),
        )


@app.command()
def exclude(
    target_kind: Annotated[TargetKind, typer.Argument(help="connector, charger or station")],
    target_id: Annotated[str, typer.Argument()],
    start: Annotated[str, typer.Option(help="Start (ISO 8601)")],
    end: Annotated[str, typer.Option(help="End (ISO 8601)")],
    reason: Annotated[ExclusionReason, typer.Option(help="Why the outage is excluded")],
    note: Annotated[str, typer.Option()] = "",
    by: Annotated[str, typer.Option(help="Who marks it")] = "cli",
    db: Db = None,
) -> None:
    """Mark outage time as excluded (NEVI T_excluded) with a reason code."""
    platform = _platform(db)
    a, b = _when(platform, start, platform.clock.now()), _when(platform, end, platform.clock.now())
    exclusion_id = _run(
        platform,
        lambda: platform.supervision.exclude(target_kind, target_id, a, b, reason, note, by),
    )
    console.print(f"exclusion {exclusion_id} recorded")


@app.command()
def zombies(
    area: Area = None,
    operator: Operator = None,
    closed: Annotated[bool, typer.Option(help="Closed cases too")] = False,
    out: Out = None,
    db: Db = None,
) -> None:
    """Zombie-pile cases (open ones unless --closed)."""
    platform = _platform(db)
    rows, _ = platform.supervision.queries.zombie_cases(
        Scope(area, operator), not closed, 100_000, 0
    )
    _show(
        rows,
        out,
        "zombie piles",
        (
            "case_id",
            "charger_id",
            "operator_id",
            "rules",
            "stage",
            "since",
            "deadline",
            "escalation_level",
            "outcome",
        ),
    )


@app.command()
def case(case_id: Annotated[str, typer.Argument()], db: Db = None) -> None:
    """One zombie case with its full history."""
    platform = _platform(db)
    row = platform.supervision.queries.zombie_case(case_id)
    if row is None:
        err.print(f"[red]unknown case {case_id}[/red]")
        raise typer.Exit(1)
    case = {k: v for k, v in row.items() if k != "steps"}
    console.print_json(json.dumps(case, default=str, ensure_ascii=False))
    _show(row["steps"], None, "history", ("at", "step", "detail"))


@app.command()
def sweep(
    dry_run: Annotated[bool, typer.Option(help="Only show what the rules would do")] = False,
    db: Db = None,
) -> None:
    """Run the zombie rules now: detect, notify, escalate, close."""
    platform = _platform(db)
    if dry_run:
        steps = platform.supervision.zombie_plan()
        _show(
            [asdict(s) for s in steps],
            None,
            "zombie sweep (dry run)",
            ("kind", "charger_id", "case_id", "deadline", "level", "note"),
        )
        return
    counts = _run(platform, platform.supervision.sweep_zombies)
    console.print(counts or "nothing to do")


@app.command("close-case")
def close_case(
    case_id: Annotated[str, typer.Argument()],
    outcome: Annotated[ZombieOutcome, typer.Option(help="rectified, retired (exit) or dismissed")],
    note: Annotated[str, typer.Option()] = "",
    by: Annotated[str, typer.Option()] = "cli",
    db: Db = None,
) -> None:
    """Close a zombie case; `retired` takes the charger out of the registry."""
    platform = _platform(db)
    _run(platform, lambda: platform.supervision.close_zombie(case_id, outcome, note, by))
    console.print(f"case {case_id} closed: {outcome}")


@app.command()
def alarms(
    area: Area = None,
    operator: Operator = None,
    cleared: Annotated[bool, typer.Option(help="Cleared alarms too")] = False,
    severity: Annotated[str | None, typer.Option(help="info|warning|major|critical")] = None,
    out: Out = None,
    db: Db = None,
) -> None:
    """Safety alarms (open ones unless --cleared)."""
    platform = _platform(db)
    rows, _ = platform.supervision.queries.alarms(
        Scope(area, operator), not cleared, severity, 100_000, 0
    )
    _show(
        rows,
        out,
        "alarms",
        (
            "alarm_id",
            "severity",
            "code",
            "target_kind",
            "target_id",
            "raised_at",
            "acknowledged_at",
            "cleared_at",
            "message",
        ),
    )


@app.command()
def ack(
    alarm_id: Annotated[str, typer.Argument()],
    by: Annotated[str, typer.Option()] = "cli",
    db: Db = None,
) -> None:
    """Acknowledge an alarm."""
    platform = _platform(db)
    _run(platform, lambda: platform.supervision.acknowledge_alarm(alarm_id, by))
    console.print(f"alarm {alarm_id} acknowledged")


@app.command("clear")
def clear_alarm(
    alarm_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option()],
    by: Annotated[str, typer.Option()] = "cli",
    db: Db = None,
) -> None:
    """Clear an alarm by hand, with the reason."""
    platform = _platform(db)
    _run(platform, lambda: platform.supervision.clear_alarm(alarm_id, by, reason))
    console.print(f"alarm {alarm_id} cleared")


@app.command()
def stops(
    area: Area = None,
    operator: Operator = None,
    in_force: Annotated[bool, typer.Option(help="Only those not lifted")] = False,
    out: Out = None,
    db: Db = None,
) -> None:
    """Stop orders with their state (issued, in_force, partial, lifted)."""
    platform = _platform(db)
    rows, _ = platform.supervision.queries.stop_orders(Scope(area, operator), in_force, 100_000, 0)
    _show(
        rows,
        out,
        "stop orders",
        (
            "stop_id",
            "target_kind",
            "target_id",
            "reason",
            "issued_by",
            "issued_at",
            "state",
            "lifted_at",
        ),
    )


def _post(url: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    response = httpx.post(
        f"{url.rstrip('/')}/api/v1/supervision{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    if response.status_code >= 400:
        err.print(f"[red]{response.status_code}: {response.text}[/red]")
        raise typer.Exit(1)
    result: dict[str, Any] = response.json()
    return result


@app.command()
def stop(
    target_kind: Annotated[str, typer.Argument(help="charger or station")],
    target_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (shown to the operator)")],
    alarm: Annotated[str | None, typer.Option(help="The alarm that prompted it")] = None,
    url: Url = "http://127.0.0.1:8080",
    token: Token = "",
) -> None:
    """Order a charger or station to stop and rectify, through the running server."""
    body = {"target_kind": target_kind, "target_id": target_id, "reason": reason, "alarm_id": alarm}
    result = _post(url, token, "/stop-orders", body)
    console.print(f"stop order {result['stop_id']}: {result['state']}")
    _show(result["deliveries"], None, "deliveries", ("charger_id", "outcome", "detail"))


@app.command()
def lift(
    stop_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="What was rectified")],
    url: Url = "http://127.0.0.1:8080",
    token: Token = "",
) -> None:
    """Lift a stop order once rectified, through the running server."""
    result = _post(url, token, f"/stop-orders/{stop_id}/lift", {"reason": reason})
    console.print(f"stop order {stop_id}: {result['state']}")


@app.command()
def scorecards(
    area: Area = None,
    start: When = None,
    end: When = None,
    out: Out = None,
    db: Db = None,
) -> None:
    """Operator scorecards and stars, ranked within the area."""
    platform = _platform(db)
    begin, stop_at = _period(platform, start, end)
    cards = platform.supervision.scorecards(Scope(area), begin, stop_at)
    rows = [
        {
            "rank": c.rank,
            "operator_id": c.operator_id,
            "score": c.score,
            "stars": "★" * (c.stars or 0),
            **{k: None if v is None else round(v, 2) for k, v in c.values.items()},
            "repair_p90": c.repair_p90_hours,
        }
        for c in cards
    ]
    _show(rows, out, "scorecards")


@singleton
async def safety_rules(platform: Platform) -> None:
    """Background job: the alarm rules as a bus subscriber."""
    await platform.supervision.run_alarms(platform.bus.subscribe())


@singleton
async def zombie_sweeps(platform: Platform) -> None:
    """Background job: the zombie-pile rules, periodically."""
    await platform.supervision.run_zombie_sweeps()


JOBS = (safety_rules, zombie_sweeps)
