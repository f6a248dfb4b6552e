"""PostgreSQL must keep what chargenet acknowledges: checked at start, fixed where it can be."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from chargenet.adapters.storage import engine as engine_module
from chargenet.adapters.storage.engine import UnsafeDurability, durability_problems
from chargenet.adapters.storage.store import SqlEventStore

pytestmark = pytest.mark.postgres


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_the_writer_commits_synchronously_when_the_database_default_is_off(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(_plain(postgres_url), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    store = SqlEventStore(postgres_url)
    try:
        with store.engine.connect() as writer, store.read_engine.connect() as reader:
            assert writer.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
            assert reader.execute(text("SHOW synchronous_commit")).scalar_one() == "off"
    finally:
        store.dispose()
    assert "synchronous_commit default is 'off'" in caplog.text


def test_a_server_that_can_lose_commits_is_refused_unless_allowed(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # fsync is server-wide (postgresql.conf): the server's answer is replaced here.
    real = engine_module.postgres_durability
    monkeypatch.setattr(
        engine_module, "postgres_durability", lambda conn: {**real(conn), "fsync": "off"}
    )
    with pytest.raises(UnsafeDurability, match="fsync = off"):
        SqlEventStore(postgres_url)
    SqlEventStore(postgres_url, allow_unsafe_durability=True).dispose()
    assert "can lose acknowledged data: fsync = off" in caplog.text


def test_the_settings_that_matter() -> None:
    safe = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "off"}
    assert durability_problems(safe) == []  # the writer sets synchronous_commit itself
    assert len(durability_problems({**safe, "full_page_writes": "off"})) == 1
