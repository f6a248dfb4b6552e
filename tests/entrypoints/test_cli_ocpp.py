"""`chargenet ocpp set-password`: what a charger then logs in with."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.cli.main import app
from chargenet.kit.secrets import verify_secret
from tests.builders import small_world

runner = CliRunner()


def test_a_password_is_stored_hashed_generated_when_not_given_and_can_be_cleared(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    platform = bootstrap(Settings(database_url=db))
    platform.ingestor.ingest(small_world())
    platform.close()

    given = runner.invoke(app, ["ocpp", "set-password", "C1", "--password", "x" * 20, "--db", db])
    assert given.exit_code == 0, given.output
    short = runner.invoke(app, ["ocpp", "set-password", "C1", "--password", "short", "--db", db])
    unknown = runner.invoke(app, ["ocpp", "set-password", "NOPE", "--db", db])
    assert (short.exit_code, unknown.exit_code) == (2, 1)

    platform = bootstrap(Settings(database_url=db))
    assert platform.ocpp_queries is not None
    stored = platform.ocpp_queries.endpoint("C1")
    assert stored is not None and stored.secret_hash is not None
    assert "x" * 20 not in stored.secret_hash and verify_secret("x" * 20, stored.secret_hash)
    platform.close()

    generated = runner.invoke(app, ["ocpp", "set-password", "C1", "--db", db])
    password = generated.output.strip().rsplit(" ", 1)[-1]
    assert len(password) >= 16
    platform = bootstrap(Settings(database_url=db))
    assert platform.ocpp_queries is not None
    endpoint = platform.ocpp_queries.endpoint("C1")
    assert endpoint is not None and verify_secret(password, endpoint.secret_hash or "")
    platform.close()

    cleared = runner.invoke(app, ["ocpp", "set-password", "C1", "--clear", "--db", db])
    assert cleared.exit_code == 0
    platform = bootstrap(Settings(database_url=db))
    assert platform.ocpp_queries is not None
    endpoint = platform.ocpp_queries.endpoint("C1")
    assert endpoint is not None and endpoint.secret_hash is None
    platform.close()
