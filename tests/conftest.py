from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings

PG_ADMIN_URL = os.environ.get(
    "CHARGENET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_available() -> bool:
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=2):
            return True
    except Exception:
        return False


POSTGRES = _postgres_available()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'chargenet.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES:
        pytest.skip("PostgreSQL is not reachable (set CHARGENET_TEST_POSTGRES_URL)")
    with _postgres_database() as url:
        yield url


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    import psycopg

    name = f"chargenet_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database for a whole test module (fuzzers build one world and hammer it), on the
    embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'chargenet.db'}"
        return
    if not POSTGRES:
        pytest.skip("PostgreSQL is not reachable (set CHARGENET_TEST_POSTGRES_URL)")
    with _postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on the embedded default and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def platform(sqlite_url: str) -> Iterator[Platform]:
    p = bootstrap(Settings(database_url=sqlite_url, sqlite_synchronous="OFF"))
    yield p
    p.close()


@pytest.fixture
def any_platform(database_url: str) -> Iterator[Platform]:
    p = bootstrap(Settings(database_url=database_url, sqlite_synchronous="OFF"))
    yield p
    p.close()
