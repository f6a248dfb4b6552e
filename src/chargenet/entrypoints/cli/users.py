"""`chargenet users`: the people who log in to the dashboard. A light command: the users
table through an engine, not the platform (`light.py`)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from chargenet.app.accounts import AccountError, AccountService
from chargenet.core.access import Role
from chargenet.entrypoints.cli.light import store_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
err = Console(stderr=True)
users_app = typer.Typer(help="Dashboard users: add, list, change, remove.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL. Default: $CHARGENET_DATABASE_URL or sqlite:///var/chargenet.db",
        show_default=False,
    ),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        err.print("[red]the two passwords differ[/red]")
        raise typer.Exit(2)
    return first


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[Role, typer.Option(help="operator, regulator or admin")],
    operator: Annotated[
        str | None, typer.Option(help="Operator id (operator users see only its data)")
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(help="Jurisdiction of a regulator (area code); none: everywhere"),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a user. The password is asked for (twice) unless --password-stdin is given."""
    with _accounts(db) as (accounts, engine):
        if area and not _registered(engine, "area", area):
            err.print(f"[red]unknown area {area!r}[/red]")
            raise typer.Exit(2)
        if operator and not _registered(engine, "operator", operator):
            err.print(f"[yellow]operator {operator!r} is not registered (yet)[/yellow]")
        accounts.add_user(
            username,
            _password(password_stdin),
            role,
            operator_id=operator,
            area_code=area,
            display_name=name,
        )
    console.print(f"added {role.value} {username}")


@users_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List users (never their passwords)."""
    from rich.table import Table

    table = Table("user", "role", "operator", "area", "name", "disabled")
    with _accounts(db) as (accounts, _):
        users = accounts.store.users()
    for user in users:
        table.add_row(
            user.username,
            user.role.value,
            user.operator_id or "",
            user.area_code or "",
            user.display_name,
            "yes" if user.disabled else "",
        )
    console.print(table)


@users_app.command("passwd")
def passwd(
    username: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    db: DbOption = None,
) -> None:
    """Set a user's password (logs the user out everywhere)."""
    _change(db, lambda accounts: accounts.set_password(username, _password(password_stdin)))
    console.print(f"password of {username} changed")


@users_app.command("disable")
def disable(username: str, db: DbOption = None) -> None:
    """Stop a user from logging in (ends its sessions)."""
    _change(db, lambda accounts: accounts.set_disabled(username, True))
    console.print(f"{username} disabled")


@users_app.command("enable")
def enable(username: str, db: DbOption = None) -> None:
    _change(db, lambda accounts: accounts.set_disabled(username, False))
    console.print(f"{username} enabled")


@users_app.command("remove")
def remove(username: str, db: DbOption = None) -> None:
    """Delete a user."""
    _change(db, lambda accounts: accounts.remove_user(username))
    console.print(f"{username} removed")


def _change(db: str | None, action: Callable[[AccountService], None]) -> None:
    with _accounts(db) as (accounts, _):
        action(accounts)


@contextmanager
def _accounts(db: str | None) -> Iterator[tuple[AccountService, Engine]]:
    """The account service on the users table; its refusals said in red (exit 2)."""
    from chargenet.adapters.storage.accounts import SqlUserStore
    from chargenet.kit.clock import SystemClock

    with store_engine(db, err) as engine:
        try:
            yield AccountService(SqlUserStore(engine, engine), SystemClock()), engine
        except AccountError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None


def _registered(engine: Engine, kind: str, key: str) -> bool:
    from sqlalchemy import select

    from chargenet.adapters.storage.schema import areas, operators

    column = areas.c.code if kind == "area" else operators.c.operator_id
    with engine.connect() as conn:
        return conn.execute(select(column).where(column == key)).first() is not None
