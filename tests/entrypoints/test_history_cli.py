"""`chargenet db roll-up`, `db prune` and `db prune-load`, run as an operator would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from chargenet.adapters.storage.tables_supervision import status_daily, status_history
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.cli.main import app
from tests.adapters.storage.test_history_partitions import reports
from tests.builders import charger, small_world

runner = CliRunner()


def test_days_are_rolled_up_before_their_history_is_pruned(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    platform = bootstrap(Settings(database_url=db))
    platform.ingestor.ingest([*small_world(), charger("C2"), charger("C3")])
    platform.ingestor.ingest(reports(5))
    platform.close()

    rolled = runner.invoke(app, ["db", "roll-up", "2025-01-01", "2025-02-28", "--db", db])
    assert rolled.exit_code == 0, rolled.output
    pruned = runner.invoke(app, ["db", "prune", "2025-03", "--db", db])
    assert pruned.exit_code == 0, pruned.output
    assert "status_history: 0 monthly partitions dropped" in pruned.output

    platform = bootstrap(Settings(database_url=db))
    with platform.store.engine.connect() as conn:
        days = conn.execute(select(func.count(func.distinct(status_daily.c.day)))).scalar_one()
        left = conn.execute(select(func.count()).select_from(status_history)).scalar_one()
    platform.close()
    assert days == 59
    assert left > 0  # March on, and each connector's last report before it


def test_load_quarters_past_their_months_are_rolled_up_by_hour_and_dropped(
    tmp_path: Path,
) -> None:
    from chargenet.adapters.storage.tables_orderly import load_hourly, load_quarters
    from tests.adapters.storage.test_load_partitions import samples
    from tests.builders import station

    db = f"sqlite:///{tmp_path / 'l.db'}"
    platform = bootstrap(Settings(database_url=db))
    platform.ingestor.ingest([*small_world(), station("S2"), charger("C2", "S2")])
    platform.ingestor.ingest(samples(6)[0])  # January to April 2025: long past
    platform.close()

    refused = runner.invoke(app, ["db", "prune-load", "--quarters", "1", "--db", db])
    assert refused.exit_code == 2
    assert "at least 2 months" in refused.output
    none = runner.invoke(app, ["db", "prune-load", "--quarters", "0", "--db", db])
    assert none.exit_code == 2 and "at least 2 months" in none.output
    pruned = runner.invoke(app, ["db", "prune-load", "--db", db])
    assert pruned.exit_code == 0, pruned.output
    assert "load_quarters: 0 monthly partitions dropped" in pruned.output

    platform = bootstrap(Settings(database_url=db))
    with platform.store.engine.connect() as conn:
        quarters = conn.execute(select(func.count()).select_from(load_quarters)).scalar_one()
        hours = conn.execute(select(func.count()).select_from(load_hourly)).scalar_one()
    platform.close()
    assert quarters == 0
    assert hours > 0  # kept 60 months by default


def test_meter_samples_are_rolled_up_by_hour_before_they_are_dropped(tmp_path: Path) -> None:
    from chargenet.adapters.storage.tables_supervision import meter_history, meter_hourly
    from tests.adapters.storage.test_meter_history import samples as meter_samples
    from tests.adapters.storage.test_meter_history import world

    db = f"sqlite:///{tmp_path / 'm.db'}"
    platform = bootstrap(Settings(database_url=db))
    platform.ingestor.ingest(world())
    platform.ingestor.ingest(meter_samples(7, datetime(2025, 2, 1, tzinfo=UTC)))  # long past
    platform.close()

    refused = runner.invoke(
        app, ["db", "prune-meter", "--samples", "3", "--hours", "2", "--db", db]
    )
    assert refused.exit_code == 2
    assert "at least 1 month" in refused.output
    # No samples kept asked for: refused, not taken for the default (13 months).
    none = runner.invoke(app, ["db", "prune-meter", "--samples", "0", "--db", db])
    assert none.exit_code == 2 and "at least 1 month" in none.output
    pruned = runner.invoke(app, ["db", "prune-meter", "--db", db])
    assert pruned.exit_code == 0, pruned.output
    assert "meter_history: 0 monthly partitions dropped" in pruned.output

    platform = bootstrap(Settings(database_url=db))
    with platform.store.engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(meter_history)).scalar_one()
        hours = conn.execute(select(func.count()).select_from(meter_hourly)).scalar_one()
    platform.close()
    assert left == 0
    assert hours > 0  # kept 60 months by default
