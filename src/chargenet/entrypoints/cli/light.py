"""The store for light commands (a charger's password, dashboard users): an engine and
the tables the command touches, without the platform's composition root (the web stack,
protocol adapters, planning's solvers) and without running migrations — a schema that is
not there yet is said so, with the command that makes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine


@contextmanager
def store_engine(db: str | None, err: Console) -> Iterator[Engine]:
    """A writer engine on the configured database (`--db`, else the environment's)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from chargenet.adapters.storage.engine import create_store_engine
    from chargenet.config import Settings

    settings = Settings.from_env(database_url=db)
    engine = create_store_engine(
        settings.database_url, writer=True, synchronous=settings.sqlite_synchronous
    )
    try:
        yield engine
    except (OperationalError, ProgrammingError) as exc:
        err.print(f"[red]no chargenet schema here yet: chargenet db upgrade[/red] ({exc.orig})")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
