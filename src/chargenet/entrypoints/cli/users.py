"""`chargenet users`: the people who log in to the dashboard."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chargenet.app.accounts import AccountError
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.access import Role

console = Console()
err = Console(stderr=True)
users_app = typer.Typer(help="Dashboard users: add, list, change, remove.", no_args_is_help=True)

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $CHARGENET_DATABASE_URL)")
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
    platform = bootstrap(Settings.from_env(database_url=db))
    try:
        if area and platform.read.area(area) is None:
            err.print(f"[red]unknown area {area!r}[/red]")
            raise typer.Exit(2)
        if operator and platform.read.operator(operator) is None:
            err.print(f"[yellow]operator {operator!r} is not registered (yet)[/yellow]")
        platform.accounts.add_user(
            username,
            _password(password_stdin),
            role,
            operator_id=operator,
            area_code=area,
            display_name=name,
        )
    except AccountError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.close()
    console.print(f"added {role.value} {username}")


@users_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List users (never their passwords)."""
    platform = bootstrap(Settings.from_env(database_url=db))
    table = Table("user", "role", "operator", "area", "name", "disabled")
    for user in platform.accounts.store.users():
        table.add_row(
            user.username,
            user.role.value,
            user.operator_id or "",
            user.area_code or "",
            user.display_name,
            "yes" if user.disabled else "",
        )
    platform.close()
    console.print(table)


@users_app.command("passwd")
def passwd(
    username: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    db: DbOption = None,
) -> None:
    """Set a user's password (logs the user out everywhere)."""
    _change(db, lambda p: p.accounts.set_password(username, _password(password_stdin)))
    console.print(f"password of {username} changed")


@users_app.command("disable")
def disable(username: str, db: DbOption = None) -> None:
    """Stop a user from logging in (ends its sessions)."""
    _change(db, lambda p: p.accounts.set_disabled(username, True))
    console.print(f"{username} disabled")


@users_app.command("enable")
def enable(username: str, db: DbOption = None) -> None:
    _change(db, lambda p: p.accounts.set_disabled(username, False))
    console.print(f"{username} enabled")


@users_app.command("remove")
def remove(username: str, db: DbOption = None) -> None:
    """Delete a user."""
    _change(db, lambda p: p.accounts.remove_user(username))
    console.print(f"{username} removed")


def _change(db: str | None, action: Callable[[Platform], None]) -> None:
    platform = bootstrap(Settings.from_env(database_url=db))
    try:
        action(platform)
    except AccountError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.close()
