"""Migrations build exactly the schema the code declares."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chargenet.adapters.storage import migrate
from chargenet.adapters.storage.schema import metadata
from chargenet.adapters.storage.store import SqlEventStore


def test_upgrading_an_empty_database_gives_the_declared_schema(database_url: str) -> None:
    store = SqlEventStore(database_url)
    assert migrate.current_revision(store.engine) is None
    store.upgrade()
    assert store.is_current()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.dispose()
    assert diff == [], "schema.py changed without a migration: add one"
