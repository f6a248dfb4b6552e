"""`chargenet plan …`: policy packs, plan vs actual, coverage and gaps, siting, and the
monthly progress report."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chargenet.analytics.planning.siting import Candidate
from chargenet.analytics.planning.spatial import DEFAULT_DETOUR, Road, roads_from_geojson
from chargenet.analytics.planning.targets import ForecastMethod
from chargenet.app.ingest import Disposition
from chargenet.app.planning import (
    CandidateSpec,
    PlanningService,
    pack_events,
    shipped_packs,
    to_json,
)
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.errors import UnknownReference
from chargenet.core.planning.pack import PackError

console = Console()
err = Console(stderr=True)

plan_app = typer.Typer(
    help="Planning: policy packs, plan vs actual, coverage gaps, where to build next.",
    no_args_is_help=True,
)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL")]
AreaOption = Annotated[str, typer.Option("--area", help="Area code, e.g. 140900 (忻州市)")]
YearOption = Annotated[int, typer.Option("--year", help="Plan year")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]
RoadsOption = Annotated[
    str | None,
    typer.Option(
        "--roads",
        help="Roads: a GeoJSON file of LineStrings (class/ref/name or OSM highway tags), "
        "or 'demo' for the demo city's schematic roads",
    ),
]
DetourOption = Annotated[
    float, typer.Option(help="Straight-line distance × this = charging distance")
]
NetworkOption = Annotated[
    bool, typer.Option("--network", help="Measure distances along the roads (needs --roads)")
]


def _platform(db: str | None) -> Platform:
    return bootstrap(Settings.from_env(database_url=db))


def _service(platform: Platform, roads: str | None) -> PlanningService:
    service = platform.planning
    if roads:
        service.use_roads(_load_roads(roads))
    return service


def _load_roads(spec: str) -> list[Road]:
    if spec == "demo":
        from chargenet.demo.roads import demo_planning_roads

        return demo_planning_roads()
    try:
        return roads_from_geojson(json.loads(Path(spec).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        err.print(f"[red]{spec}: {exc}[/red]")
        raise typer.Exit(2) from exc


@contextlib.contextmanager
def _solver_banner_to_stderr() -> Iterator[None]:
    """HiGHS prints a banner on stdout when first created; keep stdout clean for JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _print_json(value: Any) -> None:
    print(json.dumps(to_json(value), ensure_ascii=False, indent=1))


def _fail_unknown(exc: UnknownReference) -> typer.Exit:
    err.print(f"[red]{exc}[/red]")
    return typer.Exit(2)


@plan_app.command("packs")
def packs(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List the shipped policy packs and the packs in force."""
    platform = _platform(db)
    loaded = {p.id: (p, row) for p, row in platform.planning.loaded_packs()}
    rows: list[dict[str, Any]] = []
    for name, text in shipped_packs().items():
        rows.append({"name": name, "shipped": True, "loaded": name in loaded, "bytes": len(text)})
    for pack_id in loaded:
        if pack_id not in shipped_packs():
            rows.append({"name": pack_id, "shipped": False, "loaded": True, "bytes": None})
    if as_json:
        _print_json(rows)
    else:
        table = Table("pack", "region", "version", "targets", "rules", "in force")
        for name in sorted({str(r["name"]) for r in rows}):
            pack, _row = loaded.get(name, (None, None))
            table.add_row(
                name,
                pack.region if pack else "",
                pack.version.isoformat() if pack else "",
                str(len(pack.targets)) if pack else "",
                str(len(pack.rules) + len(pack.parking)) if pack else "",
                "yes" if pack else "no",
            )
        console.print(table)
    platform.close()


@plan_app.command("load")
def load(
    packs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Shipped pack names (xinzhou, liuzhou, guangxi, shanghai) or TOML files"
        ),
    ] = None,
    all_packs: Annotated[bool, typer.Option("--all", help="Every shipped pack")] = False,
    db: DbOption = None,
) -> None:
    """Put policy packs in force: planning units, rules and every target (with revisions)."""
    shipped = shipped_packs()
    names = list(shipped) if all_packs else list(packs or [])
    if not names:
        err.print("[red]name packs to load, or pass --all[/red]")
        raise typer.Exit(2)
    platform = _platform(db)
    failed = False
    for name in names:
        text = shipped.get(name)
        if text is None:
            path = Path(name)
            if not path.is_file():
                err.print(f"[red]{name}: no such shipped pack or file[/red]")
                failed = True
                continue
            text = path.read_text(encoding="utf-8")
        try:
            events = pack_events(text, platform.clock.now())
        except PackError as exc:
            for problem in exc.problems:
                err.print(f"{name}: {problem}")
            failed = True
            continue
        outcomes = platform.ingestor.ingest(events, atomic=True)
        counts = {d: 0 for d in Disposition}
        for outcome in outcomes:
            counts[outcome.disposition] += 1
            if outcome.disposition is Disposition.REJECTED:
                err.print(f"{name}: {outcome.reason}")
        if counts[Disposition.REJECTED] or counts[Disposition.WITHHELD]:
            err.print(f"[red]{name}: refused; nothing loaded from it[/red]")
            failed = True
        else:
            console.print(
                f"{name}: {counts[Disposition.ACCEPTED]} events accepted, "
                f"{counts[Disposition.DUPLICATE]} unchanged"
            )
    platform.close()
    if failed:
        raise typer.Exit(1)


@plan_app.command("targets")
def targets(
    area: AreaOption,
    year: Annotated[int | None, typer.Option("--year")] = None,
    month: Annotated[int | None, typer.Option("--month", min=1, max=12)] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    method: Annotated[
        ForecastMethod, typer.Option(help="Year-end forecast method")
    ] = ForecastMethod.RUN_RATE,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plan vs actual: every target of the area, built vs target, forecast."""
    platform = _platform(db)
    try:
        rows = platform.planning.plan_vs_actual(
            area, year, month, date.fromisoformat(as_of) if as_of else None, method
        )
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if as_json:
        _print_json(rows)
        return
    table = Table("target", "target", "actual", "status", "expected", "forecast", "method")
    for r in rows:
        table.add_row(
            r.target_id,
            str(r.target),
            "—" if r.actual is None else str(r.actual),
            r.status.value,
            "" if r.expected_to_date is None else str(r.expected_to_date),
            "" if r.forecast is None or r.forecast.value is None else str(r.forecast.value),
            "" if r.forecast is None else r.forecast.method,
        )
    console.print(table)


@plan_app.command("coverage")
def coverage(
    area: AreaOption,
    year: YearOption,
    roads: RoadsOption = None,
    detour: DetourOption = DEFAULT_DETOUR,
    network: NetworkOption = False,
    gaps_only: Annotated[bool, typer.Option("--gaps", help="Only the unmet rules")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Coverage rules (R20–R25) and parking ratios (R24), with what each gap would take."""
    platform = _platform(db)
    service = _service(platform, roads)
    try:
        results, pack, inp = service.coverage(area, year, None, detour, network)
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if gaps_only:
        results = [r for r in results if r.status.value in ("unmet", "not_checkable")]
    if as_json:
        _print_json(
            {"area": area, "year": year, "pack": pack.id if pack else None, "rules": results}
        )
        return
    if pack is None:
        err.print(f"no policy pack governs {area}: chargenet plan load --all")
        raise typer.Exit(1)
    console.print(f"{pack.title} — {year}; distance: {inp.distance.describe()}")
    table = Table("rule", "req.", "status", "what it would take")
    for r in results:
        table.add_row(r.rule_id, r.requirement, r.status.value, r.needs)
    console.print(table)


def _read_candidates(path: Path) -> list[Candidate]:
    out = []
    with path.open(encoding="utf-8-sig") as handle:
        for n, row in enumerate(csv.DictReader(handle), 2):
            try:
                out.append(
                    Candidate(
                        f"user:{row.get('id') or n}",
                        "user",
                        float(row["lat"]),
                        float(row["lon"]),
                        row.get("name") or "",
                    )
                )
            except (KeyError, ValueError) as exc:
                err.print(f"[red]{path}:{n}: lat/lon: {exc}[/red]")
                raise typer.Exit(2) from exc
    return out


@plan_app.command("site")
def site(
    area: AreaOption,
    year: YearOption,
    roads: RoadsOption = None,
    every_km: Annotated[
        float, typer.Option(help="Candidate points every k km along roads (0: none)")
    ] = 5.0,
    candidates: Annotated[
        Path | None, typer.Option(help="Your own candidate sites: CSV with id,lat,lon,name")
    ] = None,
    only_candidates: Annotated[
        bool, typer.Option(help="Use only the --candidates file (no villages, townships, roads)")
    ] = False,
    budget: Annotated[int | None, typer.Option(help="At most this many new stations")] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit, seconds")] = 30.0,
    greedy: Annotated[bool, typer.Option(help="Skip the solver: greedy only")] = False,
    detour: DetourOption = DEFAULT_DETOUR,
    network: NetworkOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where to build next: the fewest new stations that close the coverage gaps."""
    platform = _platform(db)
    service = _service(platform, roads)
    spec = CandidateSpec(
        villages=not only_candidates,
        townships=not only_candidates,
        road_every_km=None if only_candidates or every_km <= 0 else every_km,
        user=_read_candidates(candidates) if candidates else (),
    )
    try:
        with _solver_banner_to_stderr():
            plan = service.siting(
                area,
                year,
                spec,
                detour=detour,
                network=network,
                budget=budget,
                time_limit=time_limit,
                use_highs=not greedy,
            )
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if as_json:
        _print_json(plan)
        return
    cover = plan.cover
    solved = (
        f"{cover.method} ({cover.status}): {cover.objective:g} sites, bound {cover.bound:g}, "
        f"gap {cover.gap:.1%}, {cover.seconds:.2f} s"
        if cover
        else "no distance gaps to close"
    )
    console.print(
        f"{len(plan.sites)} new stations ({plan.fixed} fixed by road gaps and empty areas); "
        f"distance gaps: {plan.demands} points, {solved}"
    )
    table = Table("site", "lat", "lon", "piles (DC)", "closes")
    for s in plan.sites:
        table.add_row(
            s.name or s.id,
            f"{s.lat:.5f}",
            f"{s.lon:.5f}",
            f"{s.piles} ({s.dc_piles})",
            ", ".join(s.reasons),
        )
    console.print(table)
    if plan.uncoverable:
        err.print(f"[yellow]{len(plan.uncoverable)} points no candidate reaches[/yellow]")
    if plan.left_open:
        console.print(
            "Not a siting matter (site kinds, parking shares): " + ", ".join(plan.left_open)
        )


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@plan_app.command("report")
def report(
    area: AreaOption,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The monthly progress report (R16) for every county-level unit of the area."""
    found = _MONTH.match(month)
    if not found or not 1 <= int(found.group(2)) <= 12:
        err.print("[red]--month must be YYYY-MM[/red]")
        raise typer.Exit(2)
    platform = _platform(db)
    try:
        data = platform.planning.progress(area, int(found.group(1)), int(found.group(2)))
    except UnknownReference as exc:
        raise _fail_unknown(exc) from exc
    finally:
        platform.close()
    if as_json:
        _print_json(data)
        return
    console.print(f"{data['area']['name_zh']} {data['month']} — due {data['due']}")
    table = Table("unit", "new in month", "new this year", "public piles", "on track", "flags")
    for unit in [*data["units"], data["region"]]:
        piles = unit["piles"]
        table.add_row(
            f"{unit['name_zh']} ({unit['area_code']})",
            str(piles["new_public_in_month"]),
            str(piles["new_public_year_to_date"]),
            str(piles["public_in_service"]),
            "yes" if unit["on_track"] else "no",
            ", ".join(unit["flags"]),
        )
    console.print(table)
