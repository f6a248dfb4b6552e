"""SQLite databases that start with the current schema: a copy of one database migrated
once per test process, instead of every migration run again for each test's platform
(tests/adapters/storage/test_migrations.py is where migrations are tested)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_template: Path | None = None


def migrate(url: str) -> None:
    from chargenet.adapters.storage.store import SqlEventStore

    store = SqlEventStore(url)
    try:
        store.upgrade()
    finally:
        store.dispose()


def _built() -> Path:
    global _template
    with _lock:
        if _template is None:
            folder = Path(tempfile.mkdtemp(prefix="chargenet-schema-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            path = folder / "chargenet.db"
            migrate(f"sqlite:///{path}")
            _template = path
        return _template


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite database at `path`, migrated to the head: a copy of the
    process's migrated database when there is none there yet (an existing one is left
    as it is, so a platform restarted on it finds its data)."""
    if not path.exists():
        shutil.copyfile(_built(), path)
    return f"sqlite:///{path}"
