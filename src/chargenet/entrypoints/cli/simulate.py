"""`chargenet simulate`: a fleet of OCPP chargers talking to a gateway over WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Annotated

import typer
from rich.console import Console

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.demo.ocpp_fleet import Fleet, FleetConfig, SimCharger
from chargenet.kit.aio import wait_at_most
from chargenet.kit.secrets import derived_secret, hash_secret

console = Console()
err = Console(stderr=True)

simulate_app = typer.Typer(help="Simulate OCPP chargers (1.6 and 2.0.1) against a gateway.")

DEFAULT_SECRET = "chargenet-sim"


@simulate_app.callback(invoke_without_command=True)
def simulate(
    url: Annotated[
        str | None,
        typer.Option(
            help="Gateway base URL; chargers connect to URL/{id}. "
            "Default ws://127.0.0.1:$CHARGENET_OCPP_PORT/ocpp"
        ),
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database with the chargers to simulate")
    ] = None,
    count: Annotated[int, typer.Option(help="Simulate at most this many chargers")] = 100,
    register: Annotated[
        int,
        typer.Option(
            help="First register this many new chargers (half 1.6, half 2.0.1) "
            "at a simulated station, with passwords"
        ),
    ] = 0,
    prefix: Annotated[str, typer.Option(help="Id prefix of registered chargers")] = "SIM",
    speed: Annotated[float, typer.Option(help="How many times faster than real life")] = 10.0,
    seconds: Annotated[
        float, typer.Option(help="Stop after this long and print totals (0: run until Ctrl-C)")
    ] = 0.0,
    fleet_secret: Annotated[
        str | None,
        typer.Option(
            help="Passwords are derived from this secret per charger "
            "(default $CHARGENET_FLEET_SECRET or a fixed development value)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the fleet's activity")] = 1,
) -> None:
    """Drive N chargers over real WebSockets: sessions with meter values every simulated
    minute, faults and repairs, disconnects with queued transactions replayed on reconnect.
    Chargers come from the database (protocol ocpp1.6/ocpp2.0.1), or are registered first
    with --register."""
    settings = Settings.from_env(database_url=db)
    secret = fleet_secret or os.environ.get("CHARGENET_FLEET_SECRET", DEFAULT_SECRET)
    platform = bootstrap(settings)
    try:
        assert platform.ocpp_queries is not None
        if register:
            from chargenet.demo.ocpp_world import fleet_chargers, fleet_events

            specs = fleet_chargers(prefix, register, secret, seed)
            events = fleet_events(
                specs,
                station_id=f"{prefix}-S1",
                operator_id=f"{prefix}-OP",
                operator_name=f"{prefix} simulated operator",
                name=f"{prefix} simulated station",
                lat=38.4167,
                lon=112.7340,
                area_code=None,
                now=platform.clock.now(),
                seed=seed,
            )
            refused = [o for o in platform.ingestor.ingest(events) if not o.ok]
            if refused:
                err.print(f"[red]registration refused: {refused[0].reason}[/red]")
                raise typer.Exit(1)
            for spec in specs:
                assert spec.password is not None
                platform.ocpp_queries.set_secret(
                    spec.charger_id, hash_secret(spec.password), platform.clock.now()
                )
            console.print(f"registered {len(specs)} chargers {specs[0].charger_id}…")
        endpoints = platform.ocpp_queries.endpoints(["ocpp1.6", "ocpp2.0.1"])
    finally:
        platform.close()
    chargers = [
        SimCharger(
            charger_id=e.charger_id,
            version=str(e.protocol),
            powers_w=tuple(
                ref.max_power_w for key, ref in sorted(e.connectors.items()) if key[1] == 1
            ),
            password=derived_secret(secret, e.charger_id),
        )
        for e in endpoints
        if not e.retired and e.connectors
    ][:count]
    if not chargers:
        err.print("[red]no OCPP chargers in the database (try --register 20)[/red]")
        raise typer.Exit(1)
    base = url or f"ws://127.0.0.1:{settings.ocpp_port}/ocpp"
    fleet = Fleet(chargers, FleetConfig(url=base.rstrip("/"), speed=speed, seed=seed))
    console.print(f"{len(chargers)} chargers → {base}/{{id}} at ×{speed:g}")
    started = time.monotonic()

    async def run() -> None:
        task = asyncio.create_task(fleet.run())
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await wait_at_most(asyncio.shield(task), seconds or None)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    totals = fleet.totals()
    console.print(
        f"after {time.monotonic() - started:.0f} s: {totals['connects']} connections, "
        f"{totals['sessions']} sessions, {totals['sent']} messages answered, "
        f"{totals['queued']} queued while offline"
    )
