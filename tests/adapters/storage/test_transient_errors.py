"""A database failure of the moment (a deadlock, a lost connection, a shutdown) is not the
event's fault: the event is not refused — a refusal is recorded among the rejected events
and acknowledged, so the event would be lost — but the call fails, nothing of it is kept,
and the same events stored again later are stored once. A failure that is the event's (a
value the database will not hold) still refuses that event alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from chargenet.adapters.storage import store
from chargenet.adapters.storage.projections import apply_event
from chargenet.adapters.storage.schema import events as log
from chargenet.adapters.storage.schema import rejected_events
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from tests.adapters.storage.test_ingest_batch import traffic
from tests.builders import charger, small_world


class _DriverError(Exception):
    """Stands for a driver's error: psycopg's carry their SQLSTATE as `sqlstate`."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _failing_once(real: Callable[..., Any], sqlstate: str) -> Callable[..., Any]:
    failed: list[bool] = []

    def apply(*args: Any) -> Any:
        if not failed:
            failed.append(True)
            raise DBAPIError("UPDATE connector_live …", {}, _DriverError(sqlstate))
        return real(*args)

    return apply


def _counts(platform: Platform) -> tuple[int, int]:
    with platform.store.engine.connect() as conn:
        logged = conn.execute(select(func.count()).select_from(log)).scalar_one()
        rejected = conn.execute(select(func.count()).select_from(rejected_events)).scalar_one()
    return int(logged), int(rejected)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001", "08006", "57P01", "53200", "55P03"])
@pytest.mark.parametrize("path", ["one at a time", "batch"])
def test_a_failure_of_the_moment_refuses_nothing_and_the_retry_stores_once(
    any_platform: Platform, monkeypatch: pytest.MonkeyPatch, sqlstate: str, path: str
) -> None:
    if path == "batch" and any_platform.store.engine.dialect.name == "sqlite":
        pytest.skip("SQLite stores a batch one event at a time")
    any_platform.ingestor.ingest([*small_world(), charger("C2")])
    before = _counts(any_platform)
    sent = traffic("t")[:6]
    # The batch path applies its events together; a progress callback keeps a batch on
    # the one-at-a-time path.
    name = "apply_events" if path == "batch" else "apply_event"
    monkeypatch.setattr(store, name, _failing_once(getattr(store, name), sqlstate))
    progress = None if path == "batch" else (lambda _: None)

    with pytest.raises(DBAPIError):
        any_platform.ingestor.ingest(sent, progress=progress)
    assert _counts(any_platform) == before  # nothing logged, nothing recorded as rejected

    outcomes = any_platform.ingestor.ingest(sent, progress=progress)  # the writer's retry
    assert [o.disposition for o in outcomes] == [Disposition.ACCEPTED] * len(sent)
    assert _counts(any_platform) == (before[0] + len(sent), before[1])


def test_a_failure_that_is_the_events_still_refuses_that_event_alone(
    any_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    any_platform.ingestor.ingest([*small_world(), charger("C2")])
    before = _counts(any_platform)
    sent = traffic("c")[:4]
    # 23514: check_violation — the event's own values broke a rule of the table.
    monkeypatch.setattr(store, "apply_event", _failing_once(apply_event, "23514"))
    outcomes = any_platform.ingestor.ingest(sent, progress=lambda _: None)
    assert [o.disposition for o in outcomes] == [Disposition.REJECTED] + [Disposition.ACCEPTED] * (
        len(sent) - 1
    )
    assert _counts(any_platform) == (before[0] + len(sent) - 1, before[1] + 1)


def test_what_counts_as_a_failure_of_the_moment() -> None:
    def wrapped(sqlstate: str | None) -> DBAPIError:
        orig = _DriverError(sqlstate) if sqlstate else Exception("no state")
        return DBAPIError("SELECT 1", {}, orig)

    for state in ("40P01", "40001", "08006", "08003", "53100", "57014", "57P01", "58030", "55P03"):
        assert store.transient(wrapped(state)), state
    for other in ("23505", "23514", "22003", "42P01", "55000", "XX000", None):
        assert not store.transient(wrapped(other)), other
    lost = DBAPIError("SELECT 1", {}, Exception("server closed the connection"))
    lost.connection_invalidated = True
    assert store.transient(lost)
