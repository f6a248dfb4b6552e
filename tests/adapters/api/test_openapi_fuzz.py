"""A property-based run of the whole HTTP API from its own OpenAPI document (schemathesis),
over real HTTP: every operation, with inputs the document allows and inputs it forbids,
as an admin and as anonymous. No answer may be a server error, and the document must be
valid OpenAPI (a path naming parameters it does not declare fails the run).

Bounded in time: a few examples per operation, one worker, a fixed seed so that CI runs
the same cases each time. For a deeper run, serve the demo and point the same command at
it with more examples and other seeds, e.g.
    st run http://127.0.0.1:8000/openapi.json -c not_a_server_error -n 200 --seed 7
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import ConnectorStatusChanged
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app, protocol_parts
from chargenet.kit.net import free_port
from tests.adapters.ocpi.spec import LiveServer
from tests.builders import at, meta, small_world

pytestmark = pytest.mark.fuzz

TOKEN = "fuzz-admin-token"
SEED = 20250501


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("openapi-fuzz")
    port = free_port()
    platform = bootstrap(
        Settings(
            database_url=f"sqlite:///{path / 'chargenet.db'}",
            sqlite_synchronous="OFF",
            tcec_master_key=Fernet.generate_key().decode(),
            open_data_per_minute=1_000_000,  # the rate limit is tested elsewhere
            ocpi_pull_interval_s=0,
            port=port,
        )
    )
    platform.ingestor.ingest(
        [
            *small_world(),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            ),
        ]
    )
    app = create_app(platform, api_tokens=[TOKEN], **protocol_parts(platform))
    server = LiveServer(app, port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    platform.close()


# The admin's run names things that exist, so that detail reads, area figures, planning
# and supervision reports compute for real instead of answering 404 to a random code.
KNOWN_IDS = """
[parameters]
"query.area" = "140900"
"path.code" = "140902"
"path.station_id" = "S1"
"path.charger_id" = "C1"
"path.connector_id" = "C1-1-1"
"path.operator_id" = "OP1"
"""


def _run(
    base_url: str, workdir: Path, examples: int, *options: str, known_ids: bool = False
) -> subprocess.CompletedProcess[str]:
    assert importlib.util.find_spec("schemathesis"), "schemathesis is a dev extra: ./dev setup"
    config = workdir / "schemathesis.toml"
    config.write_text(KNOWN_IDS if known_ids else "", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        f"--config-file={config}",
        "run",
        f"{base_url}/openapi.json",
        "--checks=not_a_server_error",
        "--phases=examples,fuzzing",  # coverage's exhaustive boundaries take minutes
        f"--max-examples={examples}",
        f"--seed={SEED}",
        "--workers=1",
        "--request-timeout=30",
        *options,
    ]
    # The working directory takes schemathesis' and Hypothesis' caches.
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(
    ("role", "examples", "options"),
    [
        # OCPI answers only its own Token credentials (fuzzed with real ones in
        # tests/adapters/ocpi): an admin's run would repeat the anonymous one there.
        ("admin", 5, (f"--header=Authorization: Bearer {TOKEN}", "--exclude-path-regex=^/ocpi/")),
        # Fewer: most of what anonymous callers send ends at the 401 of the login check.
        ("anonymous", 3, ()),
    ],
)
def test_no_input_gets_a_server_error(
    base_url: str, tmp_path: Path, role: str, examples: int, options: tuple[str, ...]
) -> None:
    result = _run(base_url, tmp_path, examples, *options, known_ids=role == "admin")
    assert result.returncode == 0, f"{role}:\n{result.stdout[-20_000:]}\n{result.stderr[-5_000:]}"
    assert " generated" in result.stdout  # it did run cases
