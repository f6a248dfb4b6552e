"""A batch in one go (its log rows in one statement, no savepoint an event: PostgreSQL)
ends exactly as the same events one at a time, each in its savepoint, do: the same
outcomes, the same log in the same order, the same state; a batch with anything refused
goes one at a time. Run on SQLite (always one at a time) and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chargenet.adapters import codec
from chargenet.adapters.storage.schema import events as log
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import ConnectorStatusChanged, Event, MeterSampled
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus as S
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
