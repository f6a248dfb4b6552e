"""Meter samples as a history table: one row per connector and instant whether the writer
applies them one at a time or a run at once (late, repeated and out-of-order samples
included), the same rows again from the log; partitioned by month on PostgreSQL, plain on
SQLite; each connector's energy per hour rolled up in SQL, again and again the same, kept
after retention drops the samples. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from chargenet.adapters.storage import history, migrate
from chargenet.adapters.storage.queries_orderly import OrderlyReads
from chargenet.adapters.storage.rollup import retain_meter, roll_up_meter
from chargenet.adapters.storage.tables_supervision import meter_history, meter_hourly
from chargenet.app.ingest import Disposition
from chargenet.app.orderly_figures import MeterHour
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event, MeterSampled, SessionStarted
from chargenet.core.ids import ConnectorId, SessionId
from chargenet.kit.timeutil import from_micros, to_micros
from tests.adapters.storage.test_ingest_batch import runs_applied, second_database
from tests.builders import charger, meta, small_world, station

JAN = datetime(2025, 1, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
MAY = datetime(2025, 5, 1, tzinfo=UTC)
CONNECTORS = ("C1-1-1", "C1-2-1", "C2-1-1", "C2-2-1")
DAY = timedelta(days=1)
Readings = tuple[Any, ...]  # session, register, power, current, voltage, soc, temperature
Hours = dict[str, dict[datetime, MeterHour]]


def world() -> list[Event]:
    return [*small_world(), station("S2"), charger("C2", "S2")]


def samples(seed: int, until: datetime = MAY) -> list[MeterSampled]:
    """Charging sessions of four connectors, in time order: the register rising, a register
    that restarts at 0 with some sessions, samples with power only, with the state of charge
    or not, several at one instant with different readings, gaps of days between sessions
    and, now and then, more than a day with a session's register rising (a charger
    offline)."""
    rng = random.Random(seed)
    out: list[MeterSampled] = []
    for cid in CONNECTORS:
        t = JAN + timedelta(minutes=rng.uniform(0, 300))
        register = rng.randrange(0, 10**6)
        n = 0
        while t < until:
            n += 1
            session = SessionId(f"{cid}-T{n}")
            if rng.random() < 0.3:
                register = 0  # a meter that counts from 0 each transaction
            for _ in range(rng.randrange(2, 40)):
                register += rng.randrange(0, 2_000)
                step = rng.choice((60, 60, 300, 900, 1_800))
                if rng.random() < 0.01:
                    step = rng.choice((86_400, 86_400 + 60, 90_000, 2 * 86_400))
                t += timedelta(seconds=step)
                kind = rng.random()
                body: dict[str, Any] = {"connector_id": ConnectorId(cid), "session_id": session}
                if kind < 0.15:
                    body["power_w"] = rng.randrange(0, 150_000)
                else:
                    body["energy_register_wh"] = register
                    body["power_w"] = rng.randrange(0, 150_000) if kind < 0.9 else None
                    if rng.random() < 0.5:
                        body["soc_percent"] = rng.randrange(0, 400) / 4
                        body["current_a"] = rng.randrange(0, 1_000) / 4
                        body["voltage_v"] = rng.randrange(800, 3_200) / 4
                out.append(MeterSampled(**meta(t), **body))
                if rng.random() < 0.05:  # another message about the same instant
                    other: dict[str, Any] = {"temperature_c": rng.randrange(0, 200) / 4}
                    if rng.random() < 0.5:
                        other["power_w"] = rng.randrange(0, 150_000)
                    out.append(MeterSampled(**meta(t), connector_id=ConnectorId(cid), **other))
            t += timedelta(hours=rng.expovariate(1 / 30))
    return out


_COLUMNS = (
    "session_id",
    "energy_register_wh",
    "power_w",
    "current_a",
    "voltage_v",
    "soc_percent",
    "temperature_c",
)


def expected_rows(applied: Sequence[MeterSampled]) -> dict[tuple[str, int], Readings]:
    """One row per connector and instant, each reading the last one given, in the order
    the samples were applied."""
    rows: dict[tuple[str, int], Readings] = {}
    for e in applied:
        new = tuple(getattr(e, c) for c in _COLUMNS)
        if all(v is None for v in new[1:]):
            continue
        key = (e.connector_id, to_micros(e.occurred_at))
        had = rows.get(key)
        rows[key] = (
            new
            if had is None
            else tuple(n if n is not None else h for n, h in zip(new, had, strict=True))
        )
    return rows


def expected_hours(rows: dict[tuple[str, int], Readings], lo: datetime, hi: datetime) -> Hours:
    """The roll-up's rule worked out in Python: each rise of the register to the next
    sample with one, at most a day later, in the first one's hour."""
    out: Hours = {}
    gap = 86_400_000_000
    per: dict[str, list[tuple[int, Readings]]] = {}
    for (cid, at_us), r in sorted(rows.items()):
        per.setdefault(cid, []).append((at_us, r))
    for cid, kept in per.items():
        energy: dict[int, int] = {}
        registered = [(at_us, r[1]) for at_us, r in kept if r[1] is not None]
        for (a, wa), (b, wb) in itertools.pairwise(registered):
            if b - a <= gap and wb > wa:
                hour = a - a % 3_600_000_000
                energy[hour] = energy.get(hour, 0) + wb - wa
        hours: dict[int, list[Readings]] = {}
        for at_us, r in kept:
            hours.setdefault(at_us - at_us % 3_600_000_000, []).append(r)
        for hour, rs in hours.items():
            if not to_micros(lo) <= hour < to_micros(hi):
                continue
            powers = [r[2] for r in rs if r[2] is not None]
            out.setdefault(cid, {})[from_micros(hour)] = MeterHour(
                energy.get(hour, 0), max(powers) if powers else None, len(rs)
            )
    return out


def table_rows(p: Platform) -> dict[tuple[str, int], Readings]:
    with p.store.engine.connect() as conn:
        got = conn.execute(select(meter_history)).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in got}


def hours_of(p: Platform) -> Hours:
    out: Hours = {}
    with p.store.engine.connect() as conn:
        for cid, at_us, wh, w, n in conn.execute(select(meter_hourly)).all():
            out.setdefault(cid, {})[from_micros(at_us)] = MeterHour(wh, w, n)
    return out


@pytest.fixture
def platform(migrated_database_url: str) -> Iterator[Platform]:
    p = bootstrap(Settings(database_url=migrated_database_url, sqlite_synchronous="OFF"))
    p.ingestor.ingest(world())
    yield p
    p.close()


def disorder(events: list[MeterSampled], seed: int) -> list[Event]:
    """The samples in batches as a writer gets them: some late (a charger emptying its
    queue after an outage, received hours after), each batch shuffled a little, some sent
    twice (the same event again, in its batch and in a later one)."""
    rng = random.Random(seed)
    out: list[Event] = []
    held: list[Event] = []
    for e in events:
        if rng.random() < 0.05:
            held.append(replace(e, received_at=e.occurred_at + timedelta(hours=3)))
            continue
        out.append(e)
        if rng.random() < 0.02:
            out.append(e)
        if held and rng.random() < 0.01:
            out.extend(held)
            held = []
    out.extend(held)
    for i in range(0, len(out) - 20, 20):
        window = out[i : i + 20]
        rng.shuffle(window)
        out[i : i + 20] = window
    return out


def test_a_batch_a_sample_at_a_time_and_the_log_give_the_same_rows(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = runs_applied(monkeypatch)
    sent = disorder(samples(1, MAR), 2)
    outcomes = []
    for i in range(0, len(sent), 500):
        outcomes += platform.ingestor.ingest(sent[i : i + 500])
    applied = [
        e for e, o in zip(sent, outcomes, strict=True) if o.disposition == Disposition.ACCEPTED
    ]
    assert len(applied) < len(sent)  # the repeats were refused as duplicates
    url = platform.settings.database_url
    if url.startswith("postgresql"):
        assert sum(runs) == len(applied)  # all went in runs, not one at a time
    mine = table_rows(platform)
    want = expected_rows([e for e in applied if isinstance(e, MeterSampled)])
    assert mine == want
    assert any(r[1] is None for r in want.values())  # power only
    assert any(r[6] is not None and r[1] is not None for r in want.values())  # merged

    with second_database(url, tmp_path) as other:  # one at a time there
        other.ingestor.ingest(world())
        for e in sent:
            other.ingestor.ingest([e], progress=lambda _: None)
        assert table_rows(other) == mine

    platform.store.rebuild()  # from the log, in its order
    assert table_rows(platform) == mine


def test_meter_history_is_partitioned_by_month_on_postgresql_and_plain_on_sqlite(
    platform: Platform,
) -> None:
    engine = platform.store.engine
    on_postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for table in history.METER:
            assert history.partitioned(conn, table) == on_postgres
    if not on_postgres:
        return
    events = samples(3, MAR)
    platform.ingestor.ingest(events[: len(events) // 2])
    with engine.begin() as conn:
        made = history.ensure_months(conn, JAN, MAR)
    assert {"meter_history_p202501", "meter_hourly_p202503"} <= set(made)
    platform.ingestor.ingest(events[len(events) // 2 :])
    with engine.connect() as conn:
        where = conn.execute(text("SELECT DISTINCT tableoid::regclass::text FROM meter_history"))
        assert set(where.scalars()) == {"meter_history_p202501", "meter_history_p202502"}


def test_the_hourly_roll_up_is_the_rule_and_the_same_when_run_again(platform: Platform) -> None:
    events = samples(4, MAR)
    platform.ingestor.ingest(events)
    engine = platform.store.engine
    want = expected_hours(expected_rows(events), JAN, MAR)
    reads = OrderlyReads(engine)
    assert reads.hourly_energy(CONNECTORS, JAN, MAR) == want  # from the samples

    first = roll_up_meter(engine, JAN, MAR)
    assert first == sum(len(h) for h in want.values())
    assert hours_of(platform) == want
    assert roll_up_meter(engine, JAN, MAR) == first
    assert hours_of(platform) == want
    # A part of the period rolled up on its own gives the same hours.
    roll_up_meter(engine, datetime(2025, 1, 20, 7, 30, tzinfo=UTC), MAR)
    assert hours_of(platform) == want
    assert sum(h.energy_wh for hs in want.values() for h in hs.values()) > 0


def test_retention_rolls_the_samples_up_by_hour_then_drops_them(platform: Platform) -> None:
    engine = platform.store.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            history.ensure_months(conn, JAN, MAY)
    events = samples(5)
    platform.ingestor.ingest(events)
    rows = expected_rows(events)
    reads = OrderlyReads(engine)
    want = expected_hours(rows, JAN, MAY)
    assert reads.hourly_energy(CONNECTORS, JAN, MAY) == want

    pruned = {p.table: p for p in retain_meter(engine, datetime(2025, 5, 20, tzinfo=UTC), 3, 5)}

    left = table_rows(platform)
    assert left and min(at_us for _, at_us in left) >= to_micros(MAR)
    assert left == {k: v for k, v in rows.items() if k[1] >= to_micros(MAR)}
    assert hours_of(platform) == expected_hours(rows, JAN, MAR)  # only what was dropped
    # The hours read the same, before the cut from the roll-up, after it from the samples.
    assert reads.hourly_energy(CONNECTORS, JAN, MAY) == want
    if engine.dialect.name == "postgresql":
        assert pruned["meter_history"].partitions_dropped == 2  # January and February
    else:
        assert pruned["meter_history"].rows_deleted > 0
    retain_meter(engine, datetime(2025, 5, 20, tzinfo=UTC), 3, 3)
    assert hours_of(platform) == {}


def test_a_sample_stored_after_retention_leaves_the_hours_rolled_up_as_they_were(
    platform: Platform,
) -> None:
    """A sample about a month retention already rolled up and dropped (a late report, a
    charger's wrong clock): the hours read and kept are the ones rolled up, not what that
    one sample alone makes of them, and retention run again rolls none of them anew."""
    engine = platform.store.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            history.ensure_months(conn, JAN, MAY)
    events = samples(7)
    platform.ingestor.ingest(events)
    rows = expected_rows(events)
    reads = OrderlyReads(engine)
    want = expected_hours(rows, JAN, MAY)
    now = datetime(2025, 5, 20, tzinfo=UTC)
    retain_meter(engine, now, 3, 5)
    rolled = hours_of(platform)
    assert rolled == expected_hours(rows, JAN, MAR)
    # An hour of January with several samples, rolled up: a sample of it comes late.
    cid, hour = next(
        (c, h) for c, hs in sorted(rolled.items()) for h, m in hs.items() if m.samples > 1
    )
    late = MeterSampled(
        **meta(hour + timedelta(microseconds=1)),
        connector_id=ConnectorId(cid),
        energy_register_wh=10**7,
    )
    assert platform.ingestor.ingest([late])[0].disposition is Disposition.ACCEPTED
    assert reads.hourly_energy(CONNECTORS, JAN, MAY) == want

    retain_meter(engine, now, 3, 5)
    assert hours_of(platform) == rolled
    assert reads.hourly_energy(CONNECTORS, JAN, MAY) == want


def test_too_short_a_retention_is_refused(platform: Platform) -> None:
    with pytest.raises(ValueError, match="at least 1 month"):
        retain_meter(platform.store.engine, MAY, 2, 1)


def test_the_migration_goes_down_and_back(platform: Platform) -> None:
    engine = platform.store.engine
    events = samples(6, MAR)
    platform.ingestor.ingest(events)
    config = migrate.alembic_config(engine)
    command.downgrade(config, "0030")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM events LIMIT 1")).first() is not None
        for table in history.METER:
            assert not engine.dialect.has_table(conn, table)
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert history.partitioned(conn, "meter_history") == (engine.dialect.name == "postgresql")
    assert table_rows(platform) == {}
    platform.store.rebuild()  # the samples come back from the log
    assert table_rows(platform) == expected_rows(events)


def test_a_sessions_energy_counts_from_its_start_register(platform: Platform) -> None:
    """OCPP 1.6 gives the register at the start in StartTransaction, not as a meter value:
    the energy up to the first sample is the start's hour's."""
    cid, sid = ConnectorId("C1-1-1"), SessionId("T1")
    t = datetime(2025, 2, 3, 10, 50, tzinfo=UTC)
    platform.ingestor.ingest(
        [
            SessionStarted(**meta(t), session_id=sid, connector_id=cid, meter_start_wh=1_000),
            *[
                MeterSampled(
                    **meta(t + timedelta(minutes=m)),
                    connector_id=cid,
                    session_id=sid,
                    energy_register_wh=wh,
                    power_w=w,
                )
                for m, wh, w in ((20, 1_500, 2_000), (40, 2_500, 3_000), (50, 3_000, None))
            ],
        ]
    )
    got = OrderlyReads(platform.store.engine).hourly_energy([cid], t - DAY, t + DAY)
    assert got == {
        cid: {
            t.replace(minute=0): MeterHour(500, None, 1),
            t.replace(hour=11, minute=0): MeterHour(1_500, 3_000, 3),
        }
    }


def test_a_sessions_energy_so_far_counts_where_no_register_is_sent(platform: Platform) -> None:
    """T/CEC 102 sends no meter register, only each session's energy since its start
    (TotalPower): its rises between samples are the hours' energy as a register's are, a new
    session's 0 is a fall and counts nothing, so the hours add up to the sessions' energy.
    The connector's live register stays the meter's (none)."""
    cid = ConnectorId("C1-1-1")
    t = datetime(2025, 2, 3, 10, 50, tzinfo=UTC)

    def sample(minutes: int, session: str, wh: int, w: int | None = None) -> MeterSampled:
        return MeterSampled(
            **meta(t + timedelta(minutes=minutes)),
            connector_id=cid,
            session_id=SessionId(session),
            session_energy_wh=wh,
            power_w=w,
        )

    events = [
        sample(0, "T1", 0),  # its StartTime
        sample(5, "T1", 1_000, 12_000),
        sample(20, "T1", 4_000, 12_000),
        sample(50, "T1", 10_000),
        sample(75, "T1", 15_000),  # its order's EndTime and TotalPower
        sample(100, "T2", 0),
        sample(115, "T2", 2_000),
        sample(140, "T2", 5_000),
    ]
    platform.ingestor.ingest(events)
    hour = t.replace(minute=0)
    want = {
        cid: {
            hour: MeterHour(4_000, 12_000, 2),  # 0 → 1,000 → 4,000 (at 11:10)
            hour + timedelta(hours=1): MeterHour(11_000, 12_000, 2),
            hour + timedelta(hours=2): MeterHour(5_000, None, 3),  # 15,000 → 0 counts 0
            hour + timedelta(hours=3): MeterHour(0, None, 1),
        }
    }
    engine = platform.store.engine
    assert OrderlyReads(engine).hourly_energy([cid], t - DAY, t + DAY) == want
    assert sum(h.energy_wh for h in want[cid].values()) == 15_000 + 5_000
    roll_up_meter(engine, t - DAY, t + DAY)
    assert hours_of(platform) == want
    connector = platform.read.connector(cid)
    assert connector is not None and connector["energy_register_wh"] is None
