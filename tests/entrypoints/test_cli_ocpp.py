"""`chargenet ocpp set-password`: what a charger then logs in with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_commands_from_the_command_line_reach_a_connected_charger(tmp_path: Path) -> None:
    """`chargenet ocpp reset|get-configuration|get-variables …` through the running server
    (its API holds the chargers' connections) to `ocpp` library charge points."""
    import asyncio

    from chargenet.entrypoints.cli.ocpp import gateway_job
    from chargenet.entrypoints.web import create_app
    from chargenet.kit.secrets import hash_secret
    from tests.adapters.ocpp.peers import PASSWORD, boot16, boot201, connect, world
    from tests.adapters.tcec.harness import serving

    platform = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}"))
    platform.ingestor.ingest(world())
    assert platform.ocpp_queries is not None and platform.ocpp is not None
    for charger_id in ("C1", "C2"):
        platform.ocpp_queries.set_secret(charger_id, hash_secret(PASSWORD), platform.clock.now())
    app_ = create_app(platform, api_tokens=["cli-token"], background=[gateway_job("127.0.0.1", 0)])

    server: list[str] = []  # the running server's URL, once it serves

    def cli(*args: str) -> Any:
        return runner.invoke(app, ["ocpp", *args, "--url", server[0], "--token", "cli-token"])

    async def scenario() -> list[Any]:
        async with serving(app_) as base:
            server.append(base)
            gateway = platform.ocpp
            assert gateway is not None
            while gateway.port is None:
                await asyncio.sleep(0.01)
            async with connect(gateway, "C1") as cp16, connect(gateway, "C2", "ocpp2.0.1") as cp:
                await cp16.call(boot16())
                await cp.call(boot201())
                results = [
                    await asyncio.to_thread(cli, "reset", "C1", "--hard"),
                    await asyncio.to_thread(cli, "get-configuration", "C1", "HeartbeatInterval"),
                    await asyncio.to_thread(
                        cli, "get-variables", "C2", "OCPPCommCtrlr.HeartbeatInterval"
                    ),
                    await asyncio.to_thread(cli, "get-variables", "C1", "A.B"),  # 1.6: refused
                ]
            results.append(await asyncio.to_thread(cli, "unlock", "C1", "--evse", "1"))
        return results

    reset, config, variables, refused, gone = asyncio.run(scenario())
    platform.close()
    assert reset.exit_code == 0 and "reset: accepted" in reset.output, reset.output
    assert config.exit_code == 0 and '"HeartbeatInterval"' in config.output, config.output
    assert variables.exit_code == 0 and '"attributeValue": "60"' in variables.output
    assert refused.exit_code == 1 and "get_configuration" in refused.output, refused.output
    assert gone.exit_code == 1 and "charger is not connected" in gone.output, gone.output
