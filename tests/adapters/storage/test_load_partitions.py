"""The metered load per quarter hour by month: partitions on PostgreSQL, plain tables on
SQLite, the same figures either way, and retention that rolls the quarters up by hour
before dropping them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from chargenet.adapters.storage import history, migrate
from chargenet.adapters.storage.queries_orderly import OrderlyReads
from chargenet.adapters.storage.rollup import retain_load, roll_up_load
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event, MeterSampled
from chargenet.core.ids import ConnectorId
from tests.builders import charger, meta, small_world, station

JAN = datetime(2025, 1, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
MAY = datetime(2025, 5, 1, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
CONNECTORS = {"C1-1-1": "S1", "C1-2-1": "S1", "C2-1-1": "S2", "C2-2-1": "S2"}
Load = dict[str, dict[datetime, float]]


def samples(seed: int) -> tuple[list[Event], Load]:
    """Meter samples, in time order per connector, some quarters with several; and each
    station's load per quarter as orderly charging defines it (the sum of its connectors'
    mean samples), worked out here without SQL."""
    rng = random.Random(seed)
    events: list[Event] = []
    per_quarter: dict[tuple[str, datetime, str], list[int]] = {}
    for connector, site in CONNECTORS.items():
        t = JAN + timedelta(minutes=rng.uniform(0, 600))
        while t < MAY:
            for _ in range(rng.choice((1, 1, 2, 3))):
                t += timedelta(seconds=rng.uniform(1, 200))
                watts = rng.randrange(0, 120_000)
                events.append(
                    MeterSampled(**meta(t), connector_id=ConnectorId(connector), power_w=watts)
                )
                q = t - (t - JAN) % QUARTER
                per_quarter.setdefault((site, q, connector), []).append(watts)
            t += timedelta(hours=rng.expovariate(1 / 5))
    expected: Load = {}
    for (site, q, _), powers in per_quarter.items():
        mine = expected.setdefault(site, {})
        mine[q] = mine.get(q, 0.0) + sum(powers) / len(powers)
    return events, expected


def within(load: Load, start: datetime, end: datetime) -> Load:
    out = {s: {q: w for q, w in qs.items() if start <= q < end} for s, qs in load.items()}
    return {s: qs for s, qs in out.items() if qs}


def assert_same(got: Load, want: Load) -> None:
    assert set(got) == set(want)
    for site, quarters in want.items():
        assert set(got[site]) == set(quarters)
        for q, watts in quarters.items():
            assert got[site][q] == pytest.approx(watts, abs=1e-6)


@pytest.fixture
def platform(migrated_database_url: str) -> Iterator[Platform]:
    # A copy of the session's migrated database: the migrations that make the partitions
    # run in this module's down-and-back test and in tests/adapters/storage/test_migrations.py.
    p = bootstrap(Settings(database_url=migrated_database_url, sqlite_synchronous="OFF"))
    p.ingestor.ingest([*small_world(), station("S2"), charger("C2", "S2")])
    yield p
    p.close()


def where_rows_live(p: Platform) -> set[str]:
    with p.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT DISTINCT tableoid::regclass::text FROM load_quarters"))
        return set(rows.scalars())


def test_load_quarters_are_partitioned_by_month_on_postgresql_and_plain_on_sqlite(
    platform: Platform,
) -> None:
    engine = platform.store.engine
    on_postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for table in history.LOAD:
            assert history.partitioned(conn, table) == on_postgres
    if not on_postgres:
        return
    events, _ = samples(1)
    platform.ingestor.ingest(events[: len(events) // 2])
    assert where_rows_live(platform) == {"load_quarters_default"}  # 2025: no month made yet
    with engine.begin() as conn:
        made = history.ensure_months(conn, JAN, datetime(2025, 4, 1, tzinfo=UTC))
    assert {"load_quarters_p202501", "load_hourly_p202504"} <= set(made)
    platform.ingestor.ingest(events[len(events) // 2 :])
    assert where_rows_live(platform) == {f"load_quarters_p2025{m:02d}" for m in (1, 2, 3, 4)}


def test_the_load_read_from_partitions_is_the_load_of_the_samples(platform: Platform) -> None:
    engine = platform.store.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # February on: January's rows wait in the default
            history.ensure_months(conn, datetime(2025, 2, 1, tzinfo=UTC), MAY)
    events, expected = samples(2)
    platform.ingestor.ingest(events)
    reads = OrderlyReads(engine)
    for start, end in [
        (JAN, MAY),
        (datetime(2025, 1, 20, 3, tzinfo=UTC), datetime(2025, 2, 11, 17, 45, tzinfo=UTC)),
        (datetime(2025, 3, 31, 23, tzinfo=UTC), datetime(2025, 4, 1, 1, tzinfo=UTC)),
    ]:
        assert_same(reads.load(["S1", "S2"], start, end), within(expected, start, end))
    only = sorted(expected["S1"])[::7]
    got = reads.load(["S1"], JAN, MAY, only)
    assert_same(got, {"S1": {q: expected["S1"][q] for q in only}})


def test_retention_rolls_the_quarters_up_by_hour_then_drops_them(platform: Platform) -> None:
    engine = platform.store.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            history.ensure_months(conn, JAN, MAY)
    events, expected = samples(3)
    platform.ingestor.ingest(events)
    reads = OrderlyReads(engine)
    kept_before = reads.load(["S1", "S2"], MAR, MAY)

    pruned = {p.table: p for p in retain_load(engine, datetime(2025, 5, 20, tzinfo=UTC), 3, 5)}

    assert reads.load(["S1", "S2"], JAN, MAR) == {}
    assert reads.load(["S1", "S2"], MAR, MAY) == kept_before
    hourly = reads.hourly_load(["S1", "S2"], JAN, MAY)
    for site in ("S1", "S2"):
        hours: dict[datetime, list[tuple[datetime, float]]] = {}
        for q, watts in within(expected, JAN, MAR)[site].items():
            hours.setdefault(q.replace(minute=0), []).append((q, watts))
        assert set(hourly[site]) == set(hours)  # nothing from March on: not rolled up
        for hour, quarters in hours.items():
            mean, peak, peak_at = hourly[site][hour]
            top = max(w for _, w in quarters)
            assert mean == pytest.approx(sum(w for _, w in quarters) / 4, abs=1e-6)
            assert peak == pytest.approx(top, abs=1e-6)
            assert peak_at == min(q for q, w in quarters if w == pytest.approx(top, abs=1e-6))
    if engine.dialect.name == "postgresql":
        assert pruned["load_quarters"].partitions_dropped == 2  # January and February
        with engine.connect() as conn:
            assert history.partitions(conn, "load_quarters")[0] == "load_quarters_p202503"
    else:
        assert pruned["load_quarters"].rows_deleted > 0
    # The hours outlive their quarters, up to their own retention.
    retain_load(engine, datetime(2025, 5, 20, tzinfo=UTC), 3, 3)
    assert reads.hourly_load(["S1", "S2"], JAN, MAY) == {}


def test_a_sample_stored_after_retention_leaves_the_hours_rolled_up_as_they_were(
    platform: Platform,
) -> None:
    """A sample about a month retention already rolled up and dropped (a late report, a
    charger's wrong clock): retention run again rolls none of the hours anew, which would
    leave only what that one sample makes of them."""
    engine = platform.store.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            history.ensure_months(conn, JAN, MAY)
    events, _ = samples(5)
    platform.ingestor.ingest(events)
    reads = OrderlyReads(engine)
    now = datetime(2025, 5, 20, tzinfo=UTC)
    retain_load(engine, now, 3, 5)
    rolled = reads.hourly_load(["S1", "S2"], JAN, MAY)
    hour = min(rolled["S1"])
    late = MeterSampled(
        **meta(hour + timedelta(minutes=1)), connector_id=ConnectorId("C1-1-1"), power_w=1
    )
    platform.ingestor.ingest([late])

    retain_load(engine, now, 3, 5)
    assert reads.hourly_load(["S1", "S2"], JAN, MAY) == rolled


def test_rolling_hours_up_again_replaces_them(platform: Platform) -> None:
    events, _ = samples(4)
    platform.ingestor.ingest(events)
    engine = platform.store.engine
    first = roll_up_load(engine, JAN, MAR)
    assert first > 0
    reads = OrderlyReads(engine)
    once = reads.hourly_load(["S1", "S2"], JAN, MAY)
    assert roll_up_load(engine, JAN, MAR) == first
    assert reads.hourly_load(["S1", "S2"], JAN, MAY) == once


def test_too_short_a_retention_is_refused(platform: Platform) -> None:
    with pytest.raises(ValueError, match="at least 2 months"):
        retain_load(platform.store.engine, MAY, 1, 60)


def test_the_migration_goes_down_to_a_plain_table_and_back_with_the_rows(
    platform: Platform,
) -> None:
    """Down to the revision before it (0027) and up again."""
    engine = platform.store.engine
    events, expected = samples(5)
    platform.ingestor.ingest(events)
    config = migrate.alembic_config(engine)
    command.downgrade(config, "0027")
    with engine.connect() as conn:
        assert not history.partitioned(conn, "load_quarters")
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert history.partitioned(conn, "load_quarters") == (engine.dialect.name == "postgresql")
    assert_same(OrderlyReads(engine).load(["S1", "S2"], JAN, MAY), expected)
