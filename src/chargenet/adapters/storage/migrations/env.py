"""Alembic environment: the engine comes from chargenet, never from an ini file."""

from __future__ import annotations

from alembic import context

from chargenet.adapters.storage.migrate import include_name
from chargenet.adapters.storage.schema import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
