"""`chargenet ocpp …`: charger passwords; and the background jobs that run the OCPP gateway
and the demo's OCPP fleet inside the web app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from rich.console import Console

from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.kit.secrets import hash_secret, new_secret

log = logging.getLogger(__name__)
console = Console()
err = Console(stderr=True)

ocpp_app = typer.Typer(help="OCPP gateway: charger passwords.", no_args_is_help=True)

MIN_PASSWORD = 16  # OCPP: 16–40 characters


@ocpp_app.command("set-password")
def set_password(
    charger_id: Annotated[str, typer.Argument(help="The charger's OCPP identity (charger_id)")],
    password: Annotated[
        str | None,
        typer.Option(help="The password (16–40 characters); generated and printed when omitted"),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the charger's password")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL")] = None,
) -> None:
    """Set (or clear) the Basic-auth password a charger logs in with (security profiles 1
    and 2). Only a hash is stored; a running gateway picks the change up at the next login."""
    platform = bootstrap(Settings.from_env(database_url=db))
    try:
        if platform.read.charger(charger_id) is None:
            err.print(f"[red]no charger {charger_id!r} is registered[/red]")
            raise typer.Exit(1)
        assert platform.ocpp_queries is not None
        if clear:
            platform.ocpp_queries.set_secret(charger_id, None, platform.clock.now())
            console.print(f"{charger_id}: password removed")
            return
        secret = password or new_secret()
        if not MIN_PASSWORD <= len(secret) <= 40:
            err.print("[red]an OCPP password has 16 to 40 characters[/red]")
            raise typer.Exit(2)
        platform.ocpp_queries.set_secret(charger_id, hash_secret(secret), platform.clock.now())
        console.print(f"{charger_id}: password set" + ("" if password else f": [bold]{secret}"))
    finally:
        platform.close()


Job = Callable[[Platform], Awaitable[None]]


def gateway_job(host: str, port: int) -> Job:
    """The OCPP gateway as a background job of the web app."""

    async def ocpp_gateway(platform: Platform) -> None:
        assert platform.ocpp is not None
        try:
            await platform.ocpp.serve_forever(host, port)
        except OSError as exc:  # say so now, not at shutdown: the API keeps serving
            log.error("the OCPP gateway cannot listen on %s:%s: %s", host, port, exc)
            raise

    return ocpp_gateway


def demo_fleet_job(seed: int, speed: float, host: str) -> Job:
    """The demo's OCPP chargers, talking to the gateway of the same process."""

    async def ocpp_fleet(platform: Platform) -> None:
        from chargenet.demo.ocpp_fleet import Fleet, FleetConfig
        from chargenet.demo.ocpp_world import demo_fleet

        gateway = platform.ocpp
        assert gateway is not None
        while gateway.port is None:
            await asyncio.sleep(0.2)
        url = f"ws://{host}:{gateway.port}/ocpp"
        chargers = demo_fleet(seed)
        log.warning("OCPP gateway on %s/{id}: %d demo chargers connecting", url, len(chargers))
        await Fleet(chargers, FleetConfig(url=url, speed=speed, seed=seed)).run()

    return ocpp_fleet


def set_fleet_passwords(platform: Platform, seed: int) -> None:
    """Give the demo's OCPP chargers their (derived) passwords, once."""
    from chargenet.demo.ocpp_world import demo_fleet

    assert platform.ocpp_queries is not None
    missing = [
        c
        for c in demo_fleet(seed)
        if (e := platform.ocpp_queries.endpoint(c.charger_id)) is not None and e.secret_hash is None
    ]
    for charger in missing:
        assert charger.password is not None
        platform.ocpp_queries.set_secret(
            charger.charger_id, hash_secret(charger.password), platform.clock.now()
        )
