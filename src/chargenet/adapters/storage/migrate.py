"""Schema migrations (Alembic), run from code: `chargenet db upgrade` and at start-up."""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from chargenet.adapters.storage import history


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "chargenet.adapters.storage:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and current_revision(engine) == _head():
        return  # already current: nothing for Alembic to do but read every migration file
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return _head()


@functools.cache
def _head() -> str | None:
    """The newest revision shipped with this package. Alembic finds it by loading every
    migration file (a tenth of a second, at each start-up); the files do not change while
    the process runs, so once is enough."""
    config = Config()
    config.set_main_option("script_location", "chargenet.adapters.storage:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What autogenerate compares: not the monthly partitions of history tables, which
    `history` makes and drops at run time (PostgreSQL)."""
    return not (type_ == "table" and history.is_partition(name))
