"""Status history by month: partitions on PostgreSQL, plain tables on SQLite, retention
that keeps the figures after the cut, and the same uptime either way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from chargenet.adapters.storage import history, migrate
from chargenet.adapters.storage.rollup import FLAGS, roll_up
from chargenet.adapters.storage.tables_supervision import (
    presence_history,
    status_daily,
    status_history,
)
from chargenet.analytics.supervision.statusclass import COUNTED_STATUSES
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus as S
from chargenet.kit.timeutil import to_micros
from tests.builders import charger, meta, small_world

JAN = datetime(2025, 1, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
MAY = datetime(2025, 5, 1, tzinfo=UTC)


def reports(seed: int) -> list[Event]:
    rng = random.Random(seed)
    out: list[Event] = []
    for c in ("C1", "C2", "C3"):
        for g in (1, 2):
            t = JAN + timedelta(hours=rng.uniform(0, 100))
            while t < MAY:
                status = rng.choice(list(S))
                out.append(
                    ConnectorStatusChanged(
                        **meta(t), connector_id=ConnectorId(f"{c}-{g}-1"), status=status
                    )
                )
                t += timedelta(hours=rng.expovariate(1 / 30))
        t = JAN
        while t < MAY:
            out.append(
                ChargerPresenceChanged(
                    **meta(t), charger_id=ChargerId(c), online=rng.random() < 0.8
                )
            )
            t += timedelta(hours=rng.expovariate(1 / 90))
    return out


@pytest.fixture
def platform(migrated_database_url: str) -> Iterator[Platform]:
    # A copy of the session's migrated database: the migrations that make the partitions
    # run in this module's down-and-back test and in tests/adapters/storage/test_migrations.py.
    p = bootstrap(Settings(database_url=migrated_database_url, sqlite_synchronous="OFF"))
    p.ingestor.ingest([*small_world(), charger("C2"), charger("C3")])
    yield p
    p.close()


def where_rows_live(p: Platform) -> dict[str, int]:
    with p.store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM status_history GROUP BY 1")
        ).all()
    return {name: n for name, n in rows}


def test_history_is_partitioned_by_month_on_postgresql_and_plain_on_sqlite(
    platform: Platform,
) -> None:
    engine = platform.store.engine
    with engine.begin() as conn:
        is_partitioned = history.partitioned(conn, "status_history")
        assert is_partitioned == (engine.dialect.name == "postgresql")
        if not is_partitioned:
            return
        # Months of long ago wait in the default partition until their month is made.
        platform.ingestor.ingest(reports(1))
        assert set(where_rows_live(platform)) == {"status_history_default"}
        made = history.ensure_months(conn, JAN, datetime(2025, 4, 1, tzinfo=UTC))
    assert "status_history_p202502" in made and "presence_history_p202504" in made
    assert set(where_rows_live(platform)) == {f"status_history_p2025{m:02d}" for m in (1, 2, 3, 4)}
    platform.ingestor.ingest(
        [
            ConnectorStatusChanged(
                **meta(JAN + timedelta(days=40)),
                connector_id=ConnectorId("C1-1-1"),
                status=S.FAULTED,
            )
        ]
    )
    assert where_rows_live(platform)["status_history_p202502"] > 0


def test_retention_keeps_the_figures_of_every_period_after_the_cut(platform: Platform) -> None:
    engine = platform.store.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            history.ensure_months(conn, JAN, MAY)
    platform.ingestor.ingest(reports(2))
    sup = platform.supervision
    edges = [MAR, datetime(2025, 4, 1, tzinfo=UTC), MAY]
    before = sup.measure(Scope(), edges, "connector")

    pruned = {p.table: p for p in history.prune(engine, MAR)}

    after = sup.measure(Scope(), edges, "connector")
    assert np.allclose(after.seconds, before.seconds, rtol=0, atol=1e-6)
    with engine.connect() as conn:
        old = conn.execute(
            select(status_history.c.connector_id, func.count())
            .where(status_history.c.at_us < to_micros(MAR))
            .group_by(status_history.c.connector_id)
        ).all()
        old_presence = conn.execute(
            select(func.count()).where(presence_history.c.at_us < to_micros(MAR))
        ).scalar_one()
    assert sorted(n for _, n in old) == [1] * 6  # each connector's last report before March
    assert old_presence == 3
    if engine.dialect.name == "postgresql":
        assert pruned["status_history"].partitions_dropped == 2  # January and February
        with engine.connect() as conn:
            assert history.partitions(conn, "status_history")[0] == "status_history_p202503"
    else:
        assert pruned["status_history"].rows_deleted > 0


def test_the_migration_goes_down_to_plain_tables_and_back_with_the_rows(
    platform: Platform,
) -> None:
    engine = platform.store.engine
    platform.ingestor.ingest(reports(3))
    edges = [JAN, MAR, MAY]
    before = platform.supervision.measure(Scope(), edges, "port")
    config = migrate.alembic_config(engine)
    below = ScriptDirectory.from_config(config).get_revision("0018").down_revision
    command.downgrade(config, str(below))
    with engine.connect() as conn:
        assert not history.partitioned(conn, "status_history")
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert history.partitioned(conn, "status_history") == (engine.dialect.name == "postgresql")
    after = platform.supervision.measure(Scope(), edges, "port")
    assert np.allclose(after.seconds, before.seconds, rtol=0, atol=1e-6)


def test_daily_roll_ups_add_up_to_the_uptime_of_their_days_and_outlive_retention(
    platform: Platform,
) -> None:

    engine = platform.store.engine
    platform.ingestor.ingest(reports(4))
    zone = platform.settings.local_timezone
    first, last = date(2025, 2, 1), date(2025, 2, 3)
    lo = datetime(2025, 1, 31, 16, tzinfo=UTC)  # 2025-02-01 00:00 in Shanghai
    whole = platform.supervision.measure(Scope(), [lo, lo + timedelta(days=3)], "connector")
    assert roll_up(engine, platform.supervision, first, last, zone) > 0
    assert roll_up(engine, platform.supervision, first, last, zone) > 0  # again: replaced
    history.prune(engine, MAR)
    with engine.connect() as conn:
        rows = conn.execute(select(status_daily)).mappings().all()
    assert {r["day"] for r in rows} == {first, date(2025, 2, 2), last}
    for i, row in enumerate(whole.fleet):
        mine = [r for r in rows if r["connector_id"] == row["connector_id"]]
        for s, name in enumerate(COUNTED_STATUSES):
            for f, flag in enumerate(FLAGS):
                rolled = sum(r["seconds"] for r in mine if (r["status"], r["flag"]) == (name, flag))
                assert rolled == pytest.approx(float(whole.seconds[i, 0, s, f]), abs=1e-3)


def test_processes_starting_together_make_each_month_once(platform: Platform) -> None:
    import threading

    errors: list[str] = []

    def start(month: int) -> None:
        try:
            history.ensure_ahead(platform.store.engine, datetime(2031, month, 1, tzinfo=UTC))
        except Exception as exc:  # what a second process would die of at start-up
            errors.append(repr(exc))

    threads = [threading.Thread(target=start, args=(m,)) for m in (1, 1, 2, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    if platform.store.engine.dialect.name == "postgresql":
        with platform.store.engine.connect() as conn:
            made = history.partitions(conn, "status_history")
        assert [m for m in made if m.startswith("status_history_p2031")] == [
            f"status_history_p2031{m:02d}" for m in range(1, 6)
        ]
