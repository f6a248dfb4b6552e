"""A batch in one go (its log rows in one statement, no savepoint an event: PostgreSQL)
ends exactly as the same events one at a time, each in its savepoint, do: the same
outcomes, the same log in the same order, the same state; a batch with anything refused
goes one at a time. Run on SQLite (always one at a time) and PostgreSQL."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chargenet.adapters import codec
from chargenet.adapters.storage.raw import Raw
from chargenet.adapters.storage.schema import events as log
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import (
    ChargerDataTransferred,
    ChargerInventoryReported,
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    MeterSampled,
    SessionStarted,
    Source,
)
from chargenet.core.ids import ChargerId, ConnectorId, EventId, SessionId
from chargenet.core.registry.model import InventoryItem
from chargenet.core.status import ConnectorStatus as S
from chargenet.core.text import storable_text
from tests.adapters.storage.test_ingest import snapshot
from tests.builders import at, charger, meta, small_world
from tests.conftest import _postgres_database

D = Disposition


def logged(platform: Platform) -> list[tuple[Any, ...]]:
    with platform.store.engine.connect() as conn:
        rows = conn.execute(
            select(log.c.event_id, log.c.payload, log.c.occurred_at).order_by(log.c.seq)
        )
        return [tuple(r) for r in rows]


def traffic(tag: str) -> list[Event]:
    """Statuses and meter values of two chargers' connectors, interleaved."""
    out: list[Event] = []
    for n in range(12):
        for cid in ("C1-1-1", "C2-1-1"):
            out.append(
                MeterSampled(
                    **meta(at(n), event_id=f"{tag}-m-{cid}-{n}"),
                    connector_id=ConnectorId(cid),
                    energy_register_wh=1_000 + 150 * n,
                    power_w=9_000 + n,
                )
            )
            if n % 4 == 0:
                status = (S.CHARGING, S.AVAILABLE)[n % 8 // 4]
                out.append(
                    ConnectorStatusChanged(
                        **meta(at(n), event_id=f"{tag}-s-{cid}-{n}"),
                        connector_id=ConnectorId(cid),
                        status=status,
                    )
                )
    return out


def one_at_a_time(platform: Platform, batch: list[Event]) -> list[Any]:
    # A progress callback keeps the ingestor on its one-event-at-a-time path.
    return platform.ingestor.ingest(batch, progress=lambda _: None)


@contextlib.contextmanager
def second_database(url: str, tmp_path: Path) -> Iterator[Platform]:
    """A second, empty database of the same kind."""
    with contextlib.ExitStack() as stack:
        if url.startswith("postgresql"):
            url = stack.enter_context(_postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'second.db'}"
        other = bootstrap(Settings(database_url=url, sqlite_synchronous="OFF"))
        stack.callback(other.close)
        yield other


def test_a_batch_ends_as_the_same_events_one_at_a_time(
    any_platform: Platform, database_url: str, tmp_path: Path
) -> None:
    world = [*small_world(), charger("C2")]
    sent = traffic("b")
    again = [sent[3], sent[0]]  # already logged …
    batch = [*sent[10:], sent[10], *again]  # … and a copy within the batch
    any_platform.ingestor.ingest(world)
    any_platform.ingestor.ingest(sent[:10])
    outcomes = any_platform.ingestor.ingest(batch)

    with second_database(database_url, tmp_path) as other:  # one event at a time there
        other.ingestor.ingest(world)
        one_at_a_time(other, sent[:10])
        expected = one_at_a_time(other, batch)
        assert outcomes == expected
        assert [o.disposition for o in outcomes[-3:]] == [D.DUPLICATE] * 3
        assert logged(any_platform) == logged(other)
        assert snapshot(any_platform) == snapshot(other)
    rows = {r[0]: r for r in logged(any_platform)}
    assert [r[0] for r in logged(any_platform)][-len(sent) :] == [e.event_id for e in sent]
    assert rows[sent[-1].event_id][1] == codec.encode(sent[-1]).decode()


def test_a_batchs_payloads_are_stored_exactly_whatever_their_text(
    any_platform: Platform, database_url: str, tmp_path: Path
) -> None:
    """The log's payloads travel to PostgreSQL as one text with a separator between them:
    texts holding that separator, quotes, backslashes, tabs, line ends, escapes and other
    scripts, in the payload and the event_id, are logged as the same events one at a time
    log them, each row with its own event."""
    world = [*small_world(), charger("C2")]
    texts = ["a\x1eb", '"quoted" \\ back\\slash', "\\u001e", "新 ünï ⚡", "", "\x1e\x1e"]
    texts += ["\\N", "\\", "a\tb\nc\r", "\\.", "\\t\\n"]
    sent: list[Event] = [
        ConnectorStatusChanged(
            **meta(at(n), event_id=f"x\\{n}\t{texts[n][:3]}"),
            connector_id=ConnectorId(("C1-1-1", "C2-1-1")[n % 2]),
            status=(S.CHARGING, S.AVAILABLE)[n % 2],
            info=text,
            vendor_error_code=text[::-1] or None,
        )
        for n, text in enumerate(texts)
    ]
    any_platform.ingestor.ingest(world)
    outcomes = any_platform.ingestor.ingest(sent)
    assert [o.disposition for o in outcomes] == [D.ACCEPTED] * len(sent)
    with second_database(database_url, tmp_path) as other:
        other.ingestor.ingest(world)
        one_at_a_time(other, sent)
        assert logged(any_platform) == logged(other)
    stored = {r[0]: r[1] for r in logged(any_platform)}
    for event, text in zip(sent, texts, strict=True):  # each row's own payload, whole
        row = stored[storable_text(event.event_id)]
        back = codec.decode(event.TYPE, event.VERSION, row)
        assert isinstance(back, ConnectorStatusChanged)
        assert back.event_id == storable_text(event.event_id)
        assert codec.encode(back).decode() == row
        assert back.info == storable_text(text)  # control characters made storable


def test_a_batch_with_a_refused_event_refuses_only_that_one(any_platform: Platform) -> None:
    any_platform.ingestor.ingest([*small_world(), charger("C2")])
    sent = traffic("r")
    stray = MeterSampled(
        **meta(at(3), event_id="r-stray"), connector_id=ConnectorId("NOPE-1-1"), power_w=1
    )
    batch = [*sent[:7], stray, *sent[7:]]
    outcomes = any_platform.ingestor.ingest(batch)
    assert [o.disposition for o in outcomes] == [D.ACCEPTED] * 7 + [D.REJECTED] + [D.ACCEPTED] * (
        len(sent) - 7
    )
    assert [r[0] for r in logged(any_platform)][-len(sent) :] == [e.event_id for e in sent]
    assert "r-stray" not in {r[0] for r in logged(any_platform)}


def own(charger_id: str, minutes: float, tag: str, late_s: float = 0) -> dict[str, Any]:
    """A charger's own report (its connection speaks for it), received `late_s` after."""
    when = at(minutes)
    return {
        "event_id": EventId(tag),
        "source": Source(adapter="ocpp", charger_id=ChargerId(charger_id)),
        "occurred_at": when,
        "received_at": when + timedelta(seconds=late_s),
    }


def live_mix() -> tuple[list[Event], list[Event]]:
    """What a batch of chargers' reports can hold, after some already applied: repeats,
    changes, ties, reports behind what is held or received late, limits, load samples out
    of order in one quarter, samples of active, unknown and not-yet-started sessions, a
    connector with no live row yet, a session started in the middle."""
    c1, c2, c3 = ConnectorId("C1-1-1"), ConnectorId("C2-1-1"), ConnectorId("C2-2-1")
    before: list[Event] = [
        SessionStarted(
            **own("C1", 0, "x-start"),
            session_id=SessionId("T1"),
            connector_id=c1,
            meter_start_wh=1_000,
        ),
        ConnectorStatusChanged(**own("C1", 1, "x-s0"), connector_id=c1, status=S.CHARGING),
        MeterSampled(
            **own("C1", 2, "x-m0"), connector_id=c1, power_w=7_000, session_id=SessionId("T1")
        ),
    ]
    batch: list[Event] = [
        ConnectorStatusChanged(
            **own("C1", 3, "x-s1"), connector_id=c1, status=S.CHARGING, info="again"
        ),
        MeterSampled(
            **own("C1", 4, "x-m1"),
            connector_id=c1,
            session_id=SessionId("T1"),
            energy_register_wh=1_500,
            power_w=9_000,
            current_a=16.5,
            soc_percent=41.25,
            power_offered_w=11_000,
        ),
        MeterSampled(
            **own("C1", 3.5, "x-m2"),
            connector_id=c1,
            session_id=SessionId("T1"),
            energy_register_wh=1_400,
            power_w=12_000,
            power_offered_w=10_000,
        ),  # behind the live reading: load and limit history only
        MeterSampled(
            **own("C1", 5, "x-m3"),
            connector_id=c1,
            session_id=SessionId("T1"),
            energy_register_wh=900,
            voltage_v=230.0,
        ),  # below the session's start: no energy
        ConnectorStatusChanged(
            **own("C1", 6, "x-s2"),
            connector_id=c1,
            status=S.FAULTED,
            error_code="GroundFailure",
            vendor_error_code="E12",
        ),
        ConnectorStatusChanged(**own("C1", 6, "x-s3"), connector_id=c1, status=S.OCCUPIED),
        ConnectorStatusChanged(**own("C1", 2.5, "x-s4"), connector_id=c1, status=S.AVAILABLE),
        MeterSampled(
            **own("C2", 1, "x-m4", late_s=60), connector_id=c3, power_w=3_000, temperature_c=31.5
        ),
        ConnectorStatusChanged(
            **own("C2", 1, "x-s5", late_s=60), connector_id=c3, status=S.AVAILABLE
        ),
        MeterSampled(
            **own("C2", 2, "x-m5"), connector_id=c2, power_w=1, session_id=SessionId("T2")
        ),
        SessionStarted(
            **own("C2", 2, "x-start2"),
            session_id=SessionId("T2"),
            connector_id=c2,
            meter_start_wh=50,
        ),
        MeterSampled(
            **own("C2", 3, "x-m6"),
            connector_id=c2,
            session_id=SessionId("T2"),
            energy_register_wh=80,
            power_w=4_000,
        ),
        MeterSampled(
            **own("C2", 4, "x-m7"), connector_id=c2, session_id=SessionId("T2"), power_w=2_000
        ),
        MeterSampled(**own("C2", 4, "x-m8"), connector_id=c2, power_w=2_500, energy_register_wh=99),
        MeterSampled(
            **own("C1", 7, "x-m9"), connector_id=c1, session_id=SessionId("NOT-KNOWN"), power_w=5
        ),
    ]
    return before, batch


def runs_applied(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the runs live_batch applies in one go (none refused), as they come."""
    from chargenet.adapters.storage.projections import live_batch

    runs: list[int] = []
    apply_run = live_batch.apply_run

    def counted(raw: Raw, run: Sequence[Event]) -> None:
        apply_run(raw, run)
        runs.append(len(run))

    monkeypatch.setattr(live_batch, "apply_run", counted)
    return runs


def test_a_batch_of_live_reports_ends_as_the_same_reports_one_at_a_time(
    any_platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = runs_applied(monkeypatch)
    world = [*small_world(), charger("C2")]
    before, batch = live_mix()
    any_platform.ingestor.ingest(world)
    any_platform.ingestor.ingest(before)
    outcomes = any_platform.ingestor.ingest(batch)
    assert {o.disposition for o in outcomes} == {D.ACCEPTED}
    url = any_platform.settings.database_url
    if url.startswith("postgresql"):
        assert runs[-2:] == [10, 4]  # the reports went in runs, not one at a time

    with second_database(url, tmp_path) as other:  # of the same kind
        other.ingestor.ingest(world)
        one_at_a_time(other, before)
        assert one_at_a_time(other, batch) == outcomes
        assert logged(any_platform) == logged(other)
        mine, theirs = snapshot(any_platform), snapshot(other)
        for table in (
            "connector_live",
            "sessions",
            "status_history",
            "power_limit_history",
            "meter_history",
            "history_late",
            "load_quarters",
        ):
            assert mine[table] == theirs[table], table
            assert mine[table], table  # each has something to compare
        assert mine == theirs


def test_a_report_about_another_chargers_connector_sends_the_batch_one_at_a_time(
    any_platform: Platform,
) -> None:
    any_platform.ingestor.ingest([*small_world(), charger("C2")])
    _, batch = live_mix()
    stray = MeterSampled(**own("C2", 4, "x-stray"), connector_id=ConnectorId("C1-2-1"), power_w=1)
    outcomes = any_platform.ingestor.ingest([*batch[:3], stray, *batch[3:]])
    assert [o.disposition for o in outcomes] == [D.ACCEPTED] * 3 + [D.REJECTED] + [D.ACCEPTED] * (
        len(batch) - 3
    )
    assert "belongs to charger C1" in outcomes[3].reason


def test_a_batch_racing_another_writer_on_one_of_its_events_loses_nothing(
    any_platform: Platform, database_url: str
) -> None:
    """Another transaction logs one of the batch's events while the batch is appended (two
    writers around a redelivery): the batch's insert waits on that key and then fails on
    it (no ON CONFLICT), and the batch is appended the careful way (or one event at a
    time): that event is a duplicate, every other is stored once, in order."""
    import threading

    from sqlalchemy import create_engine, text

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite appends one event at a time, under one writer lock")
    any_platform.ingestor.ingest([*small_world(), charger("C2")])
    sent = traffic("k")
    taken = sent[5]
    other = create_engine(any_platform.settings.database_url)
    try:
        with other.connect() as conn:
            conn.execute(  # another writer's copy of sent[5], not yet committed
                text(
                    "INSERT INTO events (event_id, type, version, adapter, operator_id,"
                    " occurred_at, received_at, payload) VALUES (:i, :t, :v, 'test', NULL,"
                    " :o, :r, :p)"
                ),
                {
                    "i": taken.event_id,
                    "t": taken.TYPE,
                    "v": taken.VERSION,
                    "o": taken.occurred_at,
                    "r": taken.received_at,
                    "p": codec.encode(taken).decode(),
                },
            )
            result: list[Any] = []
            batch = threading.Thread(
                target=lambda: result.extend(any_platform.ingestor.ingest(sent))
            )
            batch.start()
            batch.join(1.0)  # it waits on the other's uncommitted key
            conn.commit()
            batch.join(30)
            assert not batch.is_alive()
    finally:
        other.dispose()
    assert [o.disposition for o in result] == [
        D.DUPLICATE if e is taken else D.ACCEPTED for e in sent
    ]
    ids = [r[0] for r in logged(any_platform)]
    mine = {e.event_id for e in sent}
    assert sorted(i for i in ids if i in mine) == sorted(mine)  # each once
    others = [i for i in ids if i in mine and i != taken.event_id]
    assert others == [e.event_id for e in sent if e is not taken]  # in order


def random_traffic(rng: random.Random, tag: str, count: int) -> list[Event]:
    """Two chargers' own reports in a random order: status reports, meter samples (load,
    limits, a session's), presence, boots' inventory and data transfers, at times that
    tie, go back, fall in one quarter and arrive late, with resends of earlier ones."""
    connectors = {"C1": ("C1-1-1", "C1-2-1"), "C2": ("C2-1-1", "C2-2-1")}
    out: list[Event] = []
    for n in range(count):
        cid = rng.choice(("C1", "C2"))
        base = own(cid, rng.randrange(0, 80) / 2, f"{tag}-{n}", late_s=rng.choice((0, 0, 90)))
        kind = rng.randrange(10)
        con = ConnectorId(rng.choice(connectors[cid]))
        event: Event
        if out and kind == 0:
            event = rng.choice(out)  # a resend: a duplicate
        elif kind <= 3:
            event = ConnectorStatusChanged(
                **base,
                connector_id=con,
                status=rng.choice((S.AVAILABLE, S.CHARGING, S.FAULTED)),
                info=rng.choice((None, "x", "y")),
            )
        elif kind <= 6:
            event = MeterSampled(
                **base,
                connector_id=con,
                session_id=SessionId("T1") if con == "C1-1-1" and rng.random() < 0.5 else None,
                energy_register_wh=rng.choice((None, 1_000 + n * 10, 900)),
                power_w=rng.choice((None, 7_000 + n, 3_000)),
                power_offered_w=rng.choice((None, 11_000)),
                soc_percent=rng.choice((None, 40.5)),
            )
        elif kind == 7:
            event = ChargerPresenceChanged(
                **base, charger_id=ChargerId(cid), online=rng.random() < 0.5, reason="r"
            )
        elif kind == 8:
            event = ChargerInventoryReported(
                **base,
                charger_id=ChargerId(cid),
                vendor=rng.choice(("V1", "V2")),
                firmware=rng.choice((None, "1.0", "1.1")),
                model=rng.choice((None, "M")),
                items=rng.choice(  # with items: applied on its own
                    ((), (InventoryItem(component="Modem", variable="ICCID", value="ab"[n % 2]),))
                ),
            )
        else:
            event = ChargerDataTransferred(**base, charger_id=ChargerId(cid), vendor_id="v")
        out.append(event)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_presence_boots_and_transfers_in_a_run_end_as_one_at_a_time(
    any_platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """A batch folds a charger's presence, boots and data transfers in one run with its
    connectors' status reports and meter samples (live_batch.py): random interleavings in
    random batches leave the outcomes, the log and every state table as the same events
    one at a time on a second database. Only a boot with inventory items ends a run."""
    from chargenet.adapters.storage.projections import live_batch

    runs = runs_applied(monkeypatch)
    rng = random.Random(seed)
    world = [*small_world(), charger("C2")]
    start = SessionStarted(
        **own("C1", 0, "r-start"),
        session_id=SessionId("T1"),
        connector_id=ConnectorId("C1-1-1"),
        meter_start_wh=1_000,
    )
    any_platform.ingestor.ingest([*world, start])
    url = any_platform.settings.database_url
    with second_database(url, tmp_path) as other:
        other.ingestor.ingest([*world, start])
        for r in range(6):
            sent = random_traffic(rng, f"r{seed}-{r}", 60)
            at_once = 0
            while sent:
                size = rng.randrange(2, 25)
                batch, sent = sent[:size], sent[size:]
                outcomes = any_platform.ingestor.ingest(batch)
                assert outcomes == one_at_a_time(other, batch)
                applied = [  # a duplicate is not applied
                    e for e, o in zip(batch, outcomes, strict=True) if o.disposition is D.ACCEPTED
                ]
                segment = 0  # the run so far: events that join one, in a row
                for e in [*applied, None]:
                    if e is not None and live_batch.joins_run(e):
                        segment += 1
                        continue
                    at_once += segment > 1
                    segment = 0
            assert logged(any_platform) == logged(other)
            assert snapshot(any_platform) == snapshot(other), f"round {r}"
            if url.startswith("postgresql"):  # in runs: nothing else ended one
                assert len(runs) == at_once
                runs.clear()
        tables = snapshot(any_platform)
        for table in ("chargers", "presence_history", "charger_inventory", "load_quarters"):
            assert tables[table], table
