"""`chargenet users`, run as an administrator would."""

from __future__ import annotations

from typer.testing import CliRunner

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.cli.main import app
from tests.builders import areas

runner = CliRunner()


def test_adding_listing_and_disabling_a_user(sqlite_url: str) -> None:
    platform = bootstrap(Settings(database_url=sqlite_url))
    platform.ingestor.ingest(areas())
    platform.close()
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "xz",
            "--role",
            "regulator",
            "--area",
            "140900",
            "--password-stdin",
            "--db",
            sqlite_url,
        ],
        input="correct horse\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list", "--db", sqlite_url])
    assert "xz" in listed.output and "140900" in listed.output
    assert "correct horse" not in listed.output
    platform = bootstrap(Settings(database_url=sqlite_url))
    assert platform.accounts.login("xz", "correct horse")[0].area_code == "140900"
    platform.close()
    assert runner.invoke(app, ["users", "disable", "xz", "--db", sqlite_url]).exit_code == 0
    platform = bootstrap(Settings(database_url=sqlite_url))
    user = platform.accounts.store.user("xz")
    assert user is not None and user.disabled
    platform.close()


def test_bad_users_are_refused_with_the_reason(sqlite_url: str) -> None:
    bootstrap(Settings(database_url=sqlite_url)).close()  # the schema
    result = runner.invoke(
        app,
        ["users", "add", "op", "--role", "operator", "--password-stdin", "--db", sqlite_url],
        input="correct horse\n",
    )
    assert result.exit_code == 2 and "operator id" in result.output
    unknown = runner.invoke(
        app,
        [
            "users",
            "add",
            "xz",
            "--role",
            "regulator",
            "--area",
            "999999",
            "--password-stdin",
            "--db",
            sqlite_url,
        ],
        input="correct horse\n",
    )
    assert unknown.exit_code == 2 and "unknown area" in unknown.output
