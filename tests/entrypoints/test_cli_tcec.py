"""`chargenet tcec`: partners added, keyed, listed and changed from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "CHARGENET_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "CHARGENET_TCEC_MASTER_KEY_FILE": str(tmp_path / "master.key"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CHARGENET_TCEC_MASTER_KEY", raising=False)
    return values


def test_adding_a_partner_prints_its_keys_once_and_stores_none_in_clear(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "tcec",
            "add",
            "MA59J8YL8",
            "--operator",
            "OPX",
            "--name",
            "晋北充电",
            "--url",
            "https://op.example/evcs",
        ],
    )
    assert result.exit_code == 0, result.output
    secret = (
        next(line for line in result.output.splitlines() if "OperatorSecret" in line)
        .split("│")[2]
        .strip()
    )
    assert len(secret) == 16
    database = (tmp_path / "c.db").read_bytes()
    assert secret.encode() not in database
    assert (tmp_path / "master.key").exists()

    keys = {
        "TCEC_OPERATOR_SECRET": "their-secret-123",
        "TCEC_DATA_SECRET": "abcdefghijklmnop",
        "TCEC_DATA_SECRET_IV": "ponmlkjihgfedcba",
        "TCEC_SIG_SECRET": "sigsigsigsigsig1",
    }
    assert runner.invoke(app, ["tcec", "set-keys", "MA59J8YL8"], env=keys).exit_code == 0
    assert b"their-secret-123" not in (tmp_path / "c.db").read_bytes()
    listed = runner.invoke(app, ["tcec", "list"])
    assert "MA59J8YL8" in listed.output and "OPX" in listed.output
    assert "their-secret" not in listed.output

    platform = bootstrap(Settings.from_env())
    try:
        partner = platform.tcec.directory.get("MA59J8YL8")
        assert partner is not None and partner.outbound_secret == "their-secret-123"
        assert partner.secret_matches(secret)
        stored = platform.read.operator("OPX")
        assert stored is not None and stored["name"] == "晋北充电"  # registered on the way
    finally:
        platform.close()

    assert runner.invoke(app, ["tcec", "update", "MA59J8YL8", "--no-enabled"]).exit_code == 0
    again = runner.invoke(app, ["tcec", "add", "MA59J8YL8", "--operator", "OPY", "--name", "x"])
    assert again.exit_code == 1 and "exists" in again.output
    bad = runner.invoke(
        app, ["tcec", "add", "NEW000001", "--operator", "OPZ", "--name", "x", "--pull"]
    )
    assert bad.exit_code == 1 and "base_url" in bad.output
    assert runner.invoke(app, ["tcec", "remove", "MA59J8YL8"]).exit_code == 0


def test_the_outbox_command_lists_pushes_to_partners(env: dict[str, str]) -> None:
    from chargenet.app.outbox import NewDelivery
    from tests.builders import small_world

    platform = bootstrap(Settings.from_env())
    world = small_world()
    platform.ingestor.ingest(
        world,
        deliveries={
            world[-1].event_id: [
                NewDelivery(
                    delivery_id="D1",
                    kind="tcec.notification_stationInfo",
                    destination="PROVINCE",
                    payload='{"StationID": "S1"}',
                    ref="S1",
                ),
                NewDelivery(
                    delivery_id="D2", kind="webhook.order", destination="OP1", payload="{}"
                ),
            ]
        },
    )
    platform.close()
    result = runner.invoke(app, ["tcec", "outbox"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "PROVINCE" in result.output and "notification_stationInfo" in result.output
    assert "OP1" not in result.output  # an operator's channel is not a T/CEC push
