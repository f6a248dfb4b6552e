"""`chargenet ocpi …`: register operator platforms and provinces, list and revoke them, pull."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chargenet.adapters.ocpi.ids import parse_party
from chargenet.adapters.ocpi.pull import pull_peer
from chargenet.adapters.ocpi.wire import PeerFailed
from chargenet.app.ocpi import PeerKind
from chargenet.bootstrap import bootstrap, build_ocpi
from chargenet.config import Settings

console = Console()
err = Console(stderr=True)

ocpi_app = typer.Typer(
    help="OCPI 2.2.1: operator platforms and city → province federation (docs/ocpi.md).",
    no_args_is_help=True,
)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL")]
UrlOption = Annotated[
    str | None,
    typer.Option("--public-url", help="How other parties reach this chargenet (http://host:port)"),
]


def _settings(db: str | None, public_url: str | None = None) -> Settings:
    return Settings.from_env(database_url=db, public_url=public_url)


@ocpi_app.command("issue-token")
def issue_token(
    party: Annotated[str, typer.Option(help="The party's country code and party id, e.g. CN*XZP")],
    operator: Annotated[
        str | None, typer.Option(help="The chargenet operator id this party is (operators)")
    ] = None,
    kind: Annotated[
        PeerKind,
        typer.Option(
            help="cpo: an operator's back-end; platform: a city chargenet feeding us;"
            " emsp: a party roaming through us as a hub (eMSP, NSP …)"
        ),
    ] = PeerKind.CPO,
    name: Annotated[str | None, typer.Option(help="A name for the peer")] = None,
    db: DbOption = None,
    public_url: UrlOption = None,
) -> None:
    """Issue credentials token A for a new party. Give it with our versions URL, out of band;
    the party registers with it (POST credentials) and receives its token C."""
    if kind is PeerKind.UPSTREAM:
        err.print("[red]upstreams issue the token; use `chargenet ocpi connect`[/red]")
        raise typer.Exit(2)
    try:
        owner = parse_party(party)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if kind is PeerKind.CPO and operator is None:
        err.print("[red]an operator's platform needs --operator (its chargenet operator id)[/red]")
        raise typer.Exit(2)
    platform = bootstrap(_settings(db, public_url))
    ocpi = build_ocpi(platform)
    try:
        token = ocpi.registration.issue_token_a(
            str(owner),
            kind,
            name or str(owner),
            owner=owner if kind is PeerKind.CPO else None,
            operator_id=operator,
        )
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        ocpi.directory.dispose()
        platform.close()
    console.print(f"peer: {owner} ({kind.value})")
    console.print(f"versions URL: {ocpi.settings.identity.versions_url}")
    console.print(f"token A: [bold]{token}[/bold]")
    err.print("Shown once; chargenet keeps only its SHA-256 digest.")


@ocpi_app.command()
def connect(
    versions_url: Annotated[str, typer.Argument(help="The other party's versions URL")],
    token: Annotated[str, typer.Option(help="The token A the other party gave us")],
    peer: Annotated[str, typer.Option(help="A short name for the other party, e.g. province")],
    kind: Annotated[
        PeerKind, typer.Option(help="upstream: a province we feed; cpo: an operator's platform")
    ] = PeerKind.UPSTREAM,
    operator: Annotated[
        str | None, typer.Option(help="For kind cpo: its chargenet operator id")
    ] = None,
    db: DbOption = None,
    public_url: UrlOption = None,
) -> None:
    """Register with another party (Token A → B → C). This chargenet must be serving at its
    public URL meanwhile: the other party calls back our versions with our new token."""
    platform = bootstrap(_settings(db, public_url))
    ocpi = build_ocpi(platform)

    async def run() -> None:
        try:
            found = await ocpi.registration.connect(
                versions_url, token, kind=kind, peer_id=peer, name=peer, operator_id=operator
            )
            console.print(f"registered with {found.peer_id}: {len(found.endpoints)} endpoints")
        finally:
            await ocpi.client.close()

    try:
        asyncio.run(run())
    except (PeerFailed, ValueError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        ocpi.directory.dispose()
        platform.close()


@ocpi_app.command()
def peers(db: DbOption = None) -> None:
    """The parties we exchange data with."""
    platform = bootstrap(_settings(db))
    ocpi = build_ocpi(platform)
    table = Table("peer", "kind", "status", "parties", "versions URL")
    for found in ocpi.directory.peers():
        parties = ", ".join(f"{p}→{op}" for p, op in found.writable.items())
        table.add_row(
            found.peer_id, found.kind.value, found.status.value, parties, found.versions_url or ""
        )
    console.print(table)
    ocpi.directory.dispose()
    platform.close()


@ocpi_app.command()
def revoke(
    peer: Annotated[str, typer.Argument(help="The peer to cut off")], db: DbOption = None
) -> None:
    """Revoke every credential of a peer: its calls are refused (401) from now on."""
    platform = bootstrap(_settings(db))
    ocpi = build_ocpi(platform)
    try:
        if ocpi.directory.peer(peer) is None:
            err.print(f"[red]unknown peer {peer!r}[/red]")
            raise typer.Exit(1)
        count = ocpi.registration.revoke(peer)
        console.print(f"revoked {count} credential(s) of {peer}")
    finally:
        ocpi.directory.dispose()
        platform.close()


@ocpi_app.command()
def pull(
    peer: Annotated[str, typer.Argument(help="The operator platform to pull from")],
    db: DbOption = None,
) -> None:
    """Pull once from a peer's senders (incremental from the last pull)."""
    platform = bootstrap(_settings(db))
    ocpi = build_ocpi(platform)

    async def run() -> dict[str, int]:
        await platform.start()
        try:
            found = ocpi.directory.peer(peer)
            if found is None:
                raise ValueError(f"unknown peer {peer!r}")
            return await pull_peer(ocpi, found)
        finally:
            await platform.stop()
            await ocpi.client.close()

    try:
        counts = asyncio.run(run())
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        ocpi.directory.dispose()
        platform.close()
    for module, count in counts.items():
        console.print(f"{module}: {count} objects")
