"""`chargenet ocpp …`: charger passwords; commands to connected chargers (reset, unlock,
trigger a message, read and change configuration) through the running server's API, which
holds the chargers' connections; and the background jobs that run the OCPP gateway and the
demo's OCPP fleet inside the web app."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from chargenet.kit.secrets import hash_secret, new_secret

if TYPE_CHECKING:
    from chargenet.bootstrap import Platform

log = logging.getLogger(__name__)
console = Console()
err = Console(stderr=True)

ocpp_app = typer.Typer(
    help="OCPP gateway: charger passwords, commands to connected chargers.",
    no_args_is_help=True,
)

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
    and 2). Only a hash is stored. A running gateway (every intake node) stops taking the
    old password within CHARGENET_OCPP_CREDENTIALS_POLL_S (5 s), and closes a connection
    the charger made with it (1008): it must log in again with the new one."""
    # Only an engine and the credentials table: a password is set in a blink.
    from chargenet.adapters.storage.queries_ocpp import OcppQueries
    from chargenet.entrypoints.cli.light import store_engine
    from chargenet.kit.clock import SystemClock

    with store_engine(db, err) as engine:
        queries = OcppQueries(engine, engine)
        now = SystemClock().now()
        if queries.endpoint(charger_id) is None:
            err.print(f"[red]no charger {charger_id!r} is registered[/red]")
            raise typer.Exit(1)
        if clear:
            queries.set_secret(charger_id, None, now)
            console.print(f"{charger_id}: password removed")
            return
        secret = password or new_secret()
        if not MIN_PASSWORD <= len(secret) <= 40:
            err.print("[red]an OCPP password has 16 to 40 characters[/red]")
            raise typer.Exit(2)
        queries.set_secret(charger_id, hash_secret(secret), now)
        console.print(f"{charger_id}: password set" + ("" if password else f": [bold]{secret}"))


# --- commands through the running server ------------------------------------------------

Url = Annotated[str, typer.Option(help="The running chargenet server")]
Token = Annotated[
    str,
    typer.Option(envvar="CHARGENET_API_TOKEN", help="API token of an admin or the operator"),
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for the charger's answer")]
Charger = Annotated[str, typer.Argument(help="The charger's OCPP identity (charger_id)")]
Evse = Annotated[int | None, typer.Option(help="EVSE (1.6: connector) number")]
Connector = Annotated[int | None, typer.Option(help="Connector number on the EVSE (2.0.1)")]
DEFAULT_URL = "http://127.0.0.1:8080"


def _command(url: str, token: str, charger_id: str, body: dict[str, Any]) -> None:
    """POST the command, print the charger's answer; exit 0 when it accepted, else 1."""
    import httpx

    try:
        response = httpx.post(
            f"{url.rstrip('/')}/api/v1/chargers/{charger_id}/commands",
            json={k: v for k, v in body.items() if v is not None},
            headers={"Authorization": f"Bearer {token}"},
            timeout=body.get("timeout_s", 30.0) + 15,
        )
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {url}: {exc}[/red]")
        raise typer.Exit(2) from None
    try:
        result = response.json()
    except ValueError:
        result = {"detail": response.text}
    if "outcome" not in result:  # refused before reaching the charger (401, 403, 404, 422)
        err.print(f"[red]{response.status_code}: {result.get('detail', result)}[/red]")
        raise typer.Exit(1)
    colour = "green" if result["outcome"] == "accepted" else "red"
    console.print(f"{charger_id} {result['command']}: [{colour}]{result['outcome']}[/{colour}]")
    if result.get("answer") is not None:
        console.print_json(json.dumps(result["answer"], ensure_ascii=False))
    elif result.get("detail"):
        console.print(result["detail"])
    if result["outcome"] != "accepted":
        raise typer.Exit(1)


def _variables(specs: list[str], evse: int | None, connector: int | None) -> list[dict[str, Any]]:
    """COMPONENT.VARIABLE[=VALUE] → the API's variables (EVSE and connector for all)."""
    out = []
    for spec in specs:
        name, has_value, value = spec.partition("=")
        component, _, variable = name.rpartition(".")
        if not component or not variable:
            err.print(f"[red]{spec!r}: write COMPONENT.VARIABLE[=VALUE][/red]")
            raise typer.Exit(2)
        item: dict[str, Any] = {"component": component, "variable": variable}
        if evse is not None:
            item["evse_no"] = evse
            if connector is not None:
                item["connector_no"] = connector
        if has_value:
            item["value"] = value
        out.append(item)
    return out


@ocpp_app.command()
def reset(
    charger_id: Charger,
    hard: Annotated[bool, typer.Option("--hard", help="1.6 Hard / 2.0.1 Immediate")] = False,
    evse: Evse = None,
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Reset a charger (1.6 Soft/Hard, 2.0.1 OnIdle/Immediate; one EVSE on 2.0.1)."""
    body = {"command": "reset", "hard": hard, "evse_no": evse, "timeout_s": timeout}
    _command(url, token, charger_id, body)


@ocpp_app.command()
def unlock(
    charger_id: Charger,
    evse: Annotated[int, typer.Option(help="EVSE (1.6: connector) number")],
    connector: Connector = None,
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Unlock a connector (UnlockConnector)."""
    body = {
        "command": "unlock_connector",
        "evse_no": evse,
        "connector_no": connector,
        "timeout_s": timeout,
    }
    _command(url, token, charger_id, body)


@ocpp_app.command()
def trigger(
    charger_id: Charger,
    message: Annotated[str, typer.Argument(help="StatusNotification, Heartbeat, MeterValues…")],
    evse: Evse = None,
    connector: Connector = None,
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Ask a charger to send a message now (TriggerMessage)."""
    body = {
        "command": "trigger_message",
        "message": message,
        "evse_no": evse,
        "connector_no": connector,
        "timeout_s": timeout,
    }
    _command(url, token, charger_id, body)


@ocpp_app.command("get-configuration")
def get_configuration(
    charger_id: Charger,
    keys: Annotated[list[str] | None, typer.Argument(help="Keys (none: all)")] = None,
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Read a 1.6 charger's configuration keys (GetConfiguration)."""
    body = {"command": "get_configuration", "keys": keys or [], "timeout_s": timeout}
    _command(url, token, charger_id, body)


@ocpp_app.command("change-configuration")
def change_configuration(
    charger_id: Charger,
    key: Annotated[str, typer.Argument()],
    value: Annotated[str, typer.Argument()],
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Change one configuration key of a 1.6 charger (ChangeConfiguration)."""
    body = {"command": "change_configuration", "key": key, "value": value, "timeout_s": timeout}
    _command(url, token, charger_id, body)


@ocpp_app.command("get-variables")
def get_variables(
    charger_id: Charger,
    variables: Annotated[list[str], typer.Argument(help="COMPONENT.VARIABLE …")],
    evse: Evse = None,
    connector: Connector = None,
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Read variables of a 2.0.1 charger's device model (GetVariables)."""
    body = {
        "command": "get_variables",
        "variables": _variables(variables, evse, connector),
        "timeout_s": timeout,
    }
    _command(url, token, charger_id, body)


@ocpp_app.command("set-variables")
def set_variables(
    charger_id: Charger,
    variables: Annotated[list[str], typer.Argument(help="COMPONENT.VARIABLE=VALUE …")],
    evse: Evse = None,
    connector: Connector = None,
    url: Url = DEFAULT_URL,
    token: Token = "",
    timeout: Timeout = 30.0,
) -> None:
    """Set variables of a 2.0.1 charger's device model (SetVariables)."""
    items = _variables(variables, evse, connector)
    if any("value" not in item for item in items):
        err.print("[red]set-variables takes COMPONENT.VARIABLE=VALUE[/red]")
        raise typer.Exit(2)
    body = {"command": "set_variables", "variables": items, "timeout_s": timeout}
    _command(url, token, charger_id, body)


Job = Callable[["Platform"], Awaitable[None]]


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


def registry_tail_job(period_s: float) -> Job:
    """One process on its own database (`serve`, role all): registry changes another
    process writes there reach this one's bus within about `period_s`
    (adapters/storage/log_tail.py), so its caches of charger records (the gateway's, the
    OCPI look-ups') drop a retired charger and the gateway cuts it off."""

    async def registry_changes(platform: Platform) -> None:
        from chargenet.adapters.storage.log_tail import LogTail, tail_log
        from chargenet.core.registry.changes import CHARGER_RECORD_CHANGES

        # Tracked before the tail starts: an event of this process's stored after the
        # tail's first row is then known to the bus when the tail reads it back.
        platform.bus.track(CHARGER_RECORD_CHANGES)
        tail = LogTail(platform.store.read_engine, CHARGER_RECORD_CHANGES)
        platform.registry_tail = tail
        await tail_log(tail, platform.bus.publish_heard, period_s)

    return registry_changes


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
