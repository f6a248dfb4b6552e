"""Command groups that import their module only when one of their commands runs.

`chargenet --help` and light commands (setting a charger's password, adding a user) must
answer at once; importing the whole platform — the web stack, the protocol adapters,
scipy and HiGHS for planning — costs seconds. The top-level group therefore knows its
sub-groups by name and one line of help, and imports `module:attribute` (a Typer app)
only when the sub-group is invoked (`chargenet ocpp …`, `chargenet ocpp --help`)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class Lazy:
    target: str  # "package.module:typer_app"
    help: str  # the one line `chargenet --help` shows
    group: bool = True  # a group of commands (`chargenet report monthly`), else one command

    def load(self, name: str) -> Any:
        module, attribute = self.target.split(":")
        sub: typer.Typer = getattr(importlib.import_module(module), attribute)
        # As `add_typer` would: a group even when it holds a single command.
        command = typer.main.get_group(sub) if self.group else typer.main.get_command(sub)
        command.name = name
        return command


class LazyGroup(TyperGroup):
    """A Typer group whose sub-groups in `lazy` are imported on use. Listing them (help,
    completion) shows a stand-in carrying their help line; resolving one to run it (or to
    show its own help) imports the real group."""

    lazy: ClassVar[dict[str, Lazy]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        return TyperGroup(name=cmd_name, help=self.lazy[cmd_name].help)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = str(args[0]) if args else ""
        if name in self.lazy and name not in self.commands:
            self.commands[name] = self.lazy[name].load(name)
        return super().resolve_command(ctx, args)


def lazy_group(entries: dict[str, Lazy]) -> type[LazyGroup]:
    """A `LazyGroup` class for `typer.Typer(cls=…)` with these sub-groups."""
    return type("ChargenetGroup", (LazyGroup,), {"lazy": dict(entries)})
