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

# The unit tier (`pytest -m unit`): the pure layers' folders, and tests marked `unit` that
# run an app service on the in-memory stores of tests/fakes.py. None of them may reach for
# a database: that is what keeps the tier at seconds.
_UNIT_FOLDERS = {"core", "kit", "analytics"}
_STORAGE_FIXTURES = {
    "platform",
    "any_platform",
    "sqlite_url",
    "postgres_url",
    "database_url",
    "module_database_url",
    "migrated_database_url",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(here).parts
        if parts and parts[0] in _UNIT_FOLDERS:
            item.add_marker(pytest.mark.unit)
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


def _create(name: str, template: str | None = None) -> None:
    import psycopg

    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _new_name() -> str:
    return f"chargenet_test_{uuid.uuid4().hex[:10]}"


class _Databases:
    """Test databases on PostgreSQL, made and dropped on a thread of its own: CREATE and
    DROP DATABASE each wait about a second for the server's checkpoint, which a test need
    not wait for. The thread keeps `READY` copies of the migrated template made ahead (a
    test takes one at once) and drops what tests are done with; whatever is left is
    dropped before the session ends (`_finish_test_databases`)."""

    READY = 2

    def __init__(self) -> None:
        self._tasks: queue.PriorityQueue[tuple[int, int, str, str]] = queue.PriorityQueue()
        self._ready: queue.Queue[str] = queue.Queue()
        self._seq = 0
        self._thread: threading.Thread | None = None

    def _put(self, priority: int, kind: str, arg: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="test-databases", daemon=True)
            self._thread.start()
        self._seq += 1
        self._tasks.put((priority, self._seq, kind, arg))

    def _run(self) -> None:
        while True:
            _, _, kind, arg = self._tasks.get()
            if kind == "stop":
                return
            try:
                if kind == "make":
                    name = _new_name()
                    _create(name, arg)
                    self._ready.put(name)
                else:
                    _drop(arg)
            except Exception:  # a copy not made is made by its test; a drop not done, left
                continue

    def copy_of(self, template: str) -> str:
        """A new copy of `template` (the same template for the whole session)."""
        try:
            name = self._ready.get_nowait()
        except queue.Empty:
            name = _new_name()
            _create(name, template)
            for _ in range(self.READY):  # the session needs copies: make them ahead
                self._put(0, "make", template)
        else:
            self._put(0, "make", template)
        return name

    def drop(self, name: str) -> None:
        self._put(1, "drop", name)  # after the copies tests wait for

    def finish(self) -> None:
        if self._thread is not None:
            self._put(2, "stop", "")
            self._thread.join()
            self._thread = None
        while not self._ready.empty():
            _drop(self._ready.get_nowait())


_DATABASES = _Databases()


@pytest.fixture(scope="session", autouse=True)
def _finish_test_databases() -> Iterator[None]:
    yield
    _DATABASES.finish()


@contextlib.contextmanager
def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A database of its own, empty or a copy of `template` (a migrated one: a copy takes
    about a second, running every migration about three)."""
    if template is None:
        name = _new_name()
        _create(name)
    else:
        name = _DATABASES.copy_of(template)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _DATABASES.drop(name)


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
