"""`chargenet supervise`, run as a regulator would."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.cli.main import app
from tests.builders import at, meta, small_world

runner = CliRunner()


def test_uptime_and_zombies_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    platform = bootstrap(Settings(database_url=db))
    platform.ingestor.ingest(
        [
            *small_world(),
            ChargerPresenceChanged(**meta(at(0)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(at(0)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
            ),
            ConnectorStatusChanged(
                **meta(at(60)),
                connector_id=ConnectorId("C1-1-1"),
                status=ConnectorStatus.FAULTED,
                error_code="GroundFailure",
            ),
        ]
    )
    platform.close()
    period = ["--start", "2025-05-01T16:00:00+08:00", "--end", "2025-05-02T16:00:00+08:00"]
    out = tmp_path / "uptime.csv"
    result = runner.invoke(
        app, ["supervise", "uptime", "--db", db, "--by", "connector", *period, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["group"]: float(r["faulted_hours"]) for r in rows} == {"C1-1-1": 23.0, "C1-2-1": 0.0}
    xlsx = tmp_path / "uptime.xlsx"
    result = runner.invoke(app, ["supervise", "uptime", "--db", db, *period, "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx).active
    assert sheet is not None and [r[0] for r in sheet.values] == ["group", "S1"]

    result = runner.invoke(app, ["supervise", "history", "C1-1-1", "--db", db, *period])
    assert result.exit_code == 0 and "GroundFailure" in result.output

    result = runner.invoke(app, ["supervise", "sweep", "--db", db, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "detect" in result.output and "notify" in result.output  # C1-2-1 never reported


def test_the_evchart_and_uk_filings_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    platform = bootstrap(Settings(database_url=db))
    platform.ingestor.ingest(
        [
            *small_world(),
            ChargerPresenceChanged(**meta(at(0)), charger_id=ChargerId("C1"), online=True),
            *(
                ConnectorStatusChanged(
                    **meta(at(0)), connector_id=ConnectorId(c), status=ConnectorStatus.AVAILABLE
                )
                for c in ("C1-1-1", "C1-2-1")
            ),
            ConnectorStatusChanged(
                **meta(at(60)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.FAULTED
            ),
            ConnectorStatusChanged(
                **meta(at(120)),
                connector_id=ConnectorId("C1-1-1"),
                status=ConnectorStatus.AVAILABLE,
            ),
        ]
    )
    platform.close()
    archive = tmp_path / "q2.zip"
    result = runner.invoke(
        app,
        [
            "supervise",
            "evchart",
            "--db",
            db,
            "--year",
            "2025",
            "--quarter",
            "2",
            "--out",
            str(archive),
        ],
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as z:
        outages = list(
            csv.DictReader(io.StringIO(z.read("evchart-2025-q2-outage.csv").decode("utf-8-sig")))
        )
    assert [(o["port_id"], o["outage_duration"]) for o in outages] == [("C1-1", "60.00")]
    report = tmp_path / "uk.xlsx"
    result = runner.invoke(
        app, ["supervise", "uk-report", "--db", db, "--year", "2025", "--out", str(report)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(report)["report"]
    rows = list(sheet.values)
    assert rows[1][:4] == ("OP1", "Operator One", 2025, 1)
