from __future__ import annotations

import contextlib
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargenet.app.accounts import PasswordHasher
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from tests import migrated
from tests.route_fields import share_type_adapters

share_type_adapters()  # apps built by the hundred: their parameters' adapters built once

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

# pytest-xdist's worker processes start with COLUMNS=80 and LINES=24 in their environment,
# which a run in one process does not have: a rich Console made at import (the CLI
# modules') then keeps 80 columns for good, and a CLI test that asks for a wider table
# (env={"COLUMNS": ...}) gets a truncated one. A worker runs its tests in the environment
# a single process would have.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("COLUMNS", "LINES"):
        os.environ.pop(_name, None)

# The unit tier (`pytest -m unit`): the pure layers' folders, and tests marked `unit` that
# run an app service on the in-memory stores of tests/fakes.py. None of them may reach for
# a database: that is what keeps the tier at seconds.
_UNIT_FOLDERS = {"core", "kit", "analytics"}
_STORAGE_FIXTURES = {
    "platform",
    "module_platform",
    "any_platform",
    "sqlite_url",
    "postgres_url",
    "database_url",
    "module_database_url",
    "migrated_database_url",
}


# Tests that run alone in ./dev test (marker `serial`), after the others have run in two
# processes: each bounds a wall-clock time that a second test process beside it eats into.
# In the two-process pass, a click in the dashboard (Playwright's 30 s) and a request to
# the demo (httpx's 5 s) timed out while another live demo city and Chromium ran beside
# them. A single test joins with `pytest.mark.serial`.
_SERIAL_FILES = {
    # a live demo city (building it, then its simulated chargers) and Chromium
    "e2e/test_dashboard_browser.py",
    "e2e/test_journeys_browser.py",
    # `chargenet demo` as a process, asked within set times
    "e2e/test_demo_command.py",
    # the map after an action, through an index that hears events seconds late
    "e2e/test_dashboard_actions_browser.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(here).parts
        if parts and parts[0] in _UNIT_FOLDERS:
            item.add_marker(pytest.mark.unit)
        if "/".join(parts) in _SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
        if item.get_closest_marker("unit") is not None:
            used = _STORAGE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if used:
                raise pytest.UsageError(
                    f"{item.nodeid} is in the unit tier but uses {sorted(used)}"
                )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'chargenet.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES:
        pytest.skip("PostgreSQL is not reachable (set CHARGENET_TEST_POSTGRES_URL)")
    with _postgres_database() as url:
        yield url


_ADMIN = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")


class _Dropper:
    """Drops the tests' PostgreSQL databases on a thread of its own: a DROP DATABASE waits
    about a second for the server's checkpoint, which the next test need not wait for.
    The drops queued meanwhile go together, each on a connection of its own: drops that wait
    together share the server's checkpoints (8 took 2–3 s where one after the other took
    31–45 s, on a busy machine). Every queued drop is done before the session ends
    (`_drop_test_databases`)."""

    TOGETHER = 8

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="drop-test-databases", daemon=True
            )
            self._thread.start()
        self._names.put(name)

    def _run(self) -> None:
        last = False
        while not last:
            names = [self._names.get()]
            while not self._names.empty():
                names.append(self._names.get_nowait())
            last = None in names
            waiting = [name for name in names if name is not None]
            for start in range(0, len(waiting), self.TOGETHER):
                drops = [
                    threading.Thread(target=self._drop, args=(name,), daemon=True)
                    for name in waiting[start : start + self.TOGETHER]
                ]
                for drop in drops:
                    drop.start()
                for drop in drops:
                    drop.join()

    @staticmethod
    def _drop(name: str) -> None:
        import psycopg

        try:
            with psycopg.connect(_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:  # one left behind is no reason to leave the rest
            return

    def finish(self) -> None:
        if self._thread is not None:
            self._names.put(None)
            self._thread.join()
            self._thread = None


_DROPPER = _Dropper()


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    _DROPPER.finish()


@contextlib.contextmanager
def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A database of its own, empty or a copy of `template` (a migrated one: a copy takes
    about a second, running every migration about three)."""
    import psycopg

    name = f"chargenet_test_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _DROPPER.drop(name)


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """The name of a PostgreSQL database with every migration run, built once: platforms
    start from a copy (CREATE DATABASE … TEMPLATE)."""
    with _postgres_database() as url:
        migrated.migrate(url)
        yield url.rsplit("/", 1)[1]


@contextlib.contextmanager
def _migrated_url(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own with the current schema, copied from the session's."""
    if kind == "sqlite":
        yield migrated.sqlite_url(tmp_path / "chargenet.db")
        return
    if not POSTGRES:
        pytest.skip("PostgreSQL is not reachable (set CHARGENET_TEST_POSTGRES_URL)")
    with _postgres_database(template=request.getfixturevalue("_migrated_postgres")) as url:
        yield url


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


# scrypt at a test's cost: the production cost (OWASP's, 32 MiB) takes a good part of a
# second per hash on a busy machine, and every log-in of a test hashes or verifies one.
# tests/app/test_accounts.py checks the production parameters themselves.
TEST_HASHER = PasswordHasher(n=2**10, r=8, p=1)


def _platform(url: str) -> Platform:
    p = bootstrap(Settings(database_url=url, sqlite_synchronous="OFF"))
    p.accounts.hasher = TEST_HASHER
    return p


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    with _migrated_url(request, "sqlite", tmp_path) as url:
        p = _platform(url)
        yield p
        p.close()


@pytest.fixture(scope="module")
def module_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One platform (SQLite) for all the tests of a module that only read what its fixtures
    stored: a module whose tests change what is stored uses `platform`."""
    p = _platform(migrated.sqlite_url(tmp_path_factory.mktemp("platform") / "chargenet.db"))
    yield p
    p.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """As `database_url`, with the current schema in it already (copied from one migrated
    database: tests/adapters/storage/test_migrations.py is where migrations run)."""
    with _migrated_url(request, str(request.param), tmp_path) as url:
        yield url


@pytest.fixture
def any_platform(migrated_database_url: str) -> Iterator[Platform]:
    p = _platform(migrated_database_url)
    yield p
    p.close()
