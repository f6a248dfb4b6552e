"""`chargenet tcec`: partner platforms of the T/CEC 102 interconnection (docs/tcec.md).

Secrets are shown once, when they are made (`add`, `rotate`), and never again: chargenet
keeps only a hash of a partner's OperatorSecret and seals every key it must use with the
master key. Keys a partner gives chargenet are read from a prompt or the environment, so
they stay out of shell history.
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chargenet.adapters.tcec.crypto import CryptoError, KeySet
from chargenet.adapters.tcec.partners import InboundCredentials
from chargenet.adapters.tcec.pushes import TCEC_KINDS
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import OperatorRegistered, Source, event_meta
from chargenet.core.ids import OperatorId
from chargenet.core.registry.model import OperatorRecord
from chargenet.kit.ids import stable_id

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    help="T/CEC 102 partner platforms: add, keys, list, pull, outbox.", no_args_is_help=True
)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL")]
PartnerArg = Annotated[str, typer.Argument(help="The partner's OperatorID")]


def _platform(db: str | None) -> Platform:
    return bootstrap(Settings.from_env(database_url=db))


def _fail(message: str) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def _show_credentials(creds: InboundCredentials, platform: Platform) -> None:
    table = Table(title=f"Give these to {creds.partner_id} (shown once)", show_header=False)
    table.add_row("our OperatorID", platform.settings.tcec_operator_id)
    table.add_row("their OperatorSecret", creds.operator_secret)
    table.add_row("DataSecret (AES key)", creds.keys.data_key)
    table.add_row("DataSecretIV", creds.keys.data_iv)
    table.add_row("SigSecret", creds.keys.sig_key)
    table.add_row("endpoints", f"<chargenet URL>{platform.tcec.options.prefix}/<endpoint>")
    console.print(table)


@app.command("add")
def add(
    partner_id: PartnerArg,
    operator: Annotated[str, typer.Option(help="chargenet operator id they speak for")],
    name: Annotated[str, typer.Option(help="The operator's name (registered if new)")],
    url: Annotated[str | None, typer.Option(help="Base URL of their T/CEC endpoints")] = None,
    pull: Annotated[
        bool, typer.Option(help="They only answer queries: chargenet pulls from them")
    ] = False,
    datum: Annotated[str, typer.Option(help="Coordinates they send: GCJ02 or WGS84")] = "GCJ02",
    db: DbOption = None,
) -> None:
    """Add a partner platform; prints the secret and keys to hand them (once)."""
    platform = _platform(db)
    try:
        if platform.read.operator(operator) is None:
            record = OperatorRecord(operator_id=OperatorId(operator), name=name)
            event = OperatorRegistered(
                **event_meta(
                    stable_id("tcec-cli", "operator", operator),
                    Source(adapter="tcec"),
                    platform.clock.now(),
                ),
                operator=record,
            )
            [outcome] = platform.ingestor.ingest([event])
            if not outcome.ok:
                _fail(f"operator {operator} refused: {outcome.reason}")
        creds = platform.tcec.admin.add(
            partner_id=partner_id,
            operator_id=operator,
            name=name,
            base_url=url,
            pull=pull,
            datum=datum.upper(),
        )
    except (ValueError, CryptoError) as exc:
        _fail(str(exc))
    else:
        _show_credentials(creds, platform)
    finally:
        platform.close()


@app.command("set-keys")
def set_keys(
    partner_id: PartnerArg,
    db: DbOption = None,
) -> None:
    """Store the secret and keys the partner gave chargenet for calling them.

    Read from $TCEC_OPERATOR_SECRET, $TCEC_DATA_SECRET, $TCEC_DATA_SECRET_IV and
    $TCEC_SIG_SECRET when set, else asked for (not echoed)."""

    def ask(variable: str, prompt: str) -> str:
        return os.environ.get(variable) or str(typer.prompt(prompt, hide_input=True))

    platform = _platform(db)
    try:
        secret = ask("TCEC_OPERATOR_SECRET", "their OperatorSecret for us")
        keys = KeySet(
            data_key=ask("TCEC_DATA_SECRET", "DataSecret (16 characters)"),
            data_iv=ask("TCEC_DATA_SECRET_IV", "DataSecretIV (16 characters)"),
            sig_key=ask("TCEC_SIG_SECRET", "SigSecret"),
        )
        platform.tcec.admin.set_outbound(partner_id, secret, keys)
        console.print(f"keys for calling {partner_id} stored (sealed)")
    except (ValueError, CryptoError) as exc:
        _fail(str(exc))
    finally:
        platform.close()


@app.command("rotate")
def rotate(partner_id: PartnerArg, db: DbOption = None) -> None:
    """New OperatorSecret and keys for the partner's messages; the old ones stop working."""
    platform = _platform(db)
    try:
        creds = platform.tcec.admin.rotate_inbound(partner_id)
        platform.tcec.tokens.revoke(partner_id)
    except (ValueError, CryptoError) as exc:
        _fail(str(exc))
    else:
        _show_credentials(creds, platform)
    finally:
        platform.close()


@app.command("update")
def update(
    partner_id: PartnerArg,
    url: Annotated[str | None, typer.Option(help="Base URL of their endpoints")] = None,
    pull: Annotated[bool | None, typer.Option(help="Pull from them")] = None,
    enabled: Annotated[bool | None, typer.Option(help="Accept and send messages")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    datum: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
) -> None:
    """Change a partner's URL, pulling, name, datum, or disable it."""
    changes = {
        k: v
        for k, v in {
            "base_url": url,
            "pull": pull,
            "enabled": enabled,
            "name": name,
            "datum": datum.upper() if datum else None,
        }.items()
        if v is not None
    }
    platform = _platform(db)
    try:
        platform.tcec.admin.update(partner_id, **changes)
        console.print(f"{partner_id} updated: {', '.join(sorted(changes)) or 'nothing'}")
    except ValueError as exc:
        _fail(str(exc))
    finally:
        platform.close()


@app.command("remove")
def remove(partner_id: PartnerArg, db: DbOption = None) -> None:
    """Forget a partner and its keys (what it reported stays in the log)."""
    platform = _platform(db)
    try:
        if not platform.tcec.admin.remove(partner_id):
            _fail(f"no partner {partner_id}")
        console.print(f"{partner_id} removed")
    finally:
        platform.close()


@app.command("list")
def list_partners(db: DbOption = None) -> None:
    """Partner platforms (keys are never shown)."""
    platform = _platform(db)
    try:
        records = platform.tcec.admin.records()
    finally:
        platform.close()
    if not records:
        console.print("no partner platforms; add one with `chargenet tcec add`")
    for r in records:
        # One line each, so that scripts can grep it.
        console.print(
            f"{r.partner_id}  operator={r.operator_id}  name={r.name}  url={r.base_url or '-'}  "
            f"pull={'yes' if r.pull else 'no'}  datum={r.datum}  "
            f"enabled={'yes' if r.enabled else 'no'}  "
            f"can_call={'yes' if r.outbound_keys and r.base_url else 'no'}",
            soft_wrap=True,
        )


@app.command("reseal")
def reseal(db: DbOption = None) -> None:
    """Re-seal every partner's keys under the first master key (after adding a new one
    in front of $CHARGENET_TCEC_MASTER_KEY)."""
    platform = _platform(db)
    try:
        console.print(f"{platform.tcec.admin.reseal_all()} partners re-sealed")
    finally:
        platform.close()


@app.command("pull")
def pull(
    partner_id: PartnerArg,
    full: Annotated[bool, typer.Option(help="All stations, not only what changed")] = False,
    db: DbOption = None,
) -> None:
    """Pull from a partner now: stations and status, the prices of connectors not asked
    within a day (all with --full), the statistics of whole days not yet reported."""
    platform = _platform(db)

    async def run() -> None:
        await platform.start()
        try:
            partner = platform.tcec.directory.get(partner_id)
            if partner is None:
                _fail(f"no enabled partner {partner_id}")
                return
            report = await platform.tcec.puller.pull(partner, full=full)
        finally:
            await platform.tcec.clients.close()
            await platform.stop()
        for label, part in report.parts():
            console.print(
                f"{label}: {part.accepted} new, {part.duplicates + part.skipped} unchanged, "
                f"{len(part.refused)} refused"
            )
            for reason in part.refused[:20]:
                err.print(f"  {reason}")
        for error in report.errors:
            err.print(f"[red]{error}[/red]")
        if report.errors:
            raise typer.Exit(1)

    try:
        asyncio.run(run())
    finally:
        platform.close()


@app.command("outbox")
def outbox(
    state: Annotated[str | None, typer.Option(help="pending, delivered or failed")] = None,
    db: DbOption = None,
) -> None:
    """Pushes to partners and how they went."""
    platform = _platform(db)
    try:
        items = platform.outbox.store.items(state, TCEC_KINDS, 100)
    finally:
        platform.close()
    table = Table("#", "partner", "endpoint", "about", "state", "attempts", "last error")
    for i in items:
        table.add_row(
            str(i.id),
            i.destination,
            i.kind.removeprefix(TCEC_KINDS),
            i.ref,
            i.state,
            str(i.attempts),
            (i.last_error or "")[:60],
        )
    console.print(table)
