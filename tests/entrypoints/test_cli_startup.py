"""`chargenet --help` and light commands load only what they need: not the web stack, the
protocol adapters or planning's solvers (which cost seconds to import). Checked by the
modules a fresh process has loaded, not by a clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("scipy", "highspy", "numpy", "fastapi", "ocpp", "chargenet.bootstrap", "openpyxl")

PROBE = """
import json, sys
from chargenet.entrypoints.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded(*args: str) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "300"},  # help text on one line each, not wrapped
    )
    out, _, modules = done.stdout.rpartition("\nMODULES ")
    names = json.loads(modules)
    return out + done.stderr, {m if m.startswith("chargenet") else m.split(".")[0] for m in names}


def test_help_lists_every_group_and_loads_nothing_heavy() -> None:
    out, modules = loaded("--help")
    for group in ("serve", "demo", "import", "plan", "ocpp", "supervise", "users", "report"):
        assert group in out
    assert "Simulate OCPP chargers" in out  # a lazy group's help line
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_help_shows_the_defaults() -> None:
    out, _ = loaded("serve", "--help")
    assert "$CHARGENET_PORT or 8080" in out
    assert "sqlite:///var/chargenet.db" in out
    out, _ = loaded("demo", "--help")
    assert "2023" in out and "sqlite:///var/demo.db" in out


def test_setting_a_charger_password_loads_only_the_store(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    out, _ = loaded("ocpp", "set-password", "NOPE", "--db", db)
    assert "chargenet db upgrade" in out  # a light command does not migrate the schema
    loaded("db", "upgrade", "--db", db)
    out, modules = loaded("ocpp", "set-password", "NOPE", "--db", db)
    assert "no charger 'NOPE' is registered" in out
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_managing_users_loads_only_the_users_table(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    out, modules = loaded("users", "list", "--db", db)
    assert "chargenet db upgrade" in out  # no schema yet: said, not made behind one's back
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    loaded("db", "upgrade", "--db", db)
    out, modules = loaded("users", "disable", "nobody", "--db", db)
    assert "no user 'nobody'" in out
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    out, _ = loaded("users", "add", "--help")
    assert "$CHARGENET_DATABASE_URL or sqlite:///var/chargenet.db" in out
