"""The cache key of uptime figures (`figures_version`) moves when a late report about the
period arrives, stays put for a report about now once the period is over, and the cached
figures always equal figures computed afresh — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, MeterSampled
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus as S
from chargenet.kit.clock import FixedClock
from tests.builders import meta, small_world

START = datetime(2025, 3, 1, 16, tzinfo=UTC)
END = START + timedelta(days=1)
NOW = END + timedelta(hours=2, seconds=40)  # 40 s past a whole minute


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def status(when: datetime, cid: str, s: S, received: datetime | None = None) -> Any:
    event = ConnectorStatusChanged(**meta(when), connector_id=ConnectorId(cid), status=s)
    return replace(event, received_at=received or when)


@pytest.fixture
def sup(any_platform: Platform) -> Platform:
    any_platform.supervision.clock = FixedClock(NOW)
    any_platform.ingestor.ingest(small_world())
    any_platform.ingestor.ingest(
        [
            ChargerPresenceChanged(**meta(at(-1)), charger_id=ChargerId("C1"), online=True),
            status(at(0), "C1-1-1", S.AVAILABLE),
            status(at(0), "C1-2-1", S.AVAILABLE),
            status(at(12), "C1-1-1", S.CHARGING),
            # C1-1-1 goes on reporting after the period; C1-2-1 falls silent at hour 12.
            status(END + timedelta(hours=1), "C1-1-1", S.AVAILABLE),
        ]
    )
    return any_platform


def version(sup: Platform, end: datetime = END) -> Any:
    return sup.supervision.queries.figures_version(end, NOW)  # type: ignore[attr-defined]


def cached(sup: Platform) -> list[dict[str, Any]]:
    return sup.supervision.uptime(Scope(), START, END, by="connector")


def fresh(sup: Platform) -> list[dict[str, Any]]:
    s = sup.supervision  # the same reads, an empty cache: computed now
    again = SupervisionService(s.queries, s.pipeline, s.orders, s.clock, s.config)
    return again.uptime(Scope(), START, END, by="connector")


def test_the_key_moves_with_late_reports_about_the_period_only(sup: Platform) -> None:
    before, figures = version(sup), cached(sup)
    assert figures == fresh(sup)

    # Reports about now, on time, on a connector that reported during the period and on one
    # that did not since: the period ended two hours ago, its key and figures stay.
    sup.ingestor.ingest(
        [status(NOW - timedelta(seconds=1), cid, S.FAULTED) for cid in ("C1-1-1", "C1-2-1")]
    )
    # A charger whose clock runs 20 s behind: its reports look late, but they are about
    # after the period's end.
    sup.ingestor.ingest([status(NOW - timedelta(seconds=20), "C1-2-1", S.FAULTED, received=NOW)])
    assert version(sup) == before
    assert cached(sup) == fresh(sup) == figures

    # A charger that was cut off sends its queue in order once back: C1-2-1 faulted during
    # the period, newer than anything it had reported then, received now.
    sup.ingestor.ingest([status(at(18), "C1-2-1", S.FAULTED, received=NOW)])
    moved = version(sup)
    assert moved != before
    assert cached(sup) == fresh(sup) != figures
    figures = cached(sup)

    # A report older than its connector's newest (received at once, stamped at its instant).
    sup.ingestor.ingest([status(at(6), "C1-1-1", S.FAULTED)])
    assert version(sup) != moved
    assert cached(sup) == fresh(sup) != figures
    moved, figures = version(sup), cached(sup)

    # A power limit and a presence report about the period, late: the key moves as well.
    limit = MeterSampled(**meta(at(20)), connector_id=ConnectorId("C1-1-1"), power_offered_w=0)
    sup.ingestor.ingest([replace(limit, received_at=NOW)])
    assert version(sup) != moved
    assert cached(sup) == fresh(sup)
    moved = version(sup)
    gone = ChargerPresenceChanged(**meta(at(3)), charger_id=ChargerId("C1"), online=False)
    sup.ingestor.ingest([replace(gone, received_at=NOW)])
    assert version(sup) != moved
    assert cached(sup) == fresh(sup)


def test_a_period_just_over_keys_on_the_log_until_reports_about_it_have_settled(
    sup: Platform,
) -> None:
    # Ended 10 s ago: a report about its last seconds may still be on its way, on time.
    just = NOW - timedelta(seconds=10)
    before = version(sup, just)
    sup.ingestor.ingest([status(NOW - timedelta(seconds=1), "C1-2-1", S.FAULTED)])
    assert version(sup, just) != before
    # Ended two hours ago: the same kind of report leaves it be.
    before = version(sup)
    sup.ingestor.ingest([status(NOW, "C1-2-1", S.AVAILABLE)])
    assert version(sup) == before
    # A dashboard's default period ends at the last whole minute, here 40 s ago: reports
    # about its minute's seconds since, even from a clock running behind, leave it be.
    minute = NOW - timedelta(seconds=40)
    before = version(sup, minute)
    behind = status(NOW - timedelta(seconds=25), "C1-1-1", S.FAULTED, received=NOW)
    sup.ingestor.ingest([behind, status(NOW + timedelta(seconds=1), "C1-1-1", S.AVAILABLE)])
    assert version(sup, minute) == before
    # and one about its last seconds, received late, moves it.
    sup.ingestor.ingest([status(minute - timedelta(seconds=5), "C1-2-1", S.FAULTED, received=NOW)])
    assert version(sup, minute) != before


def test_a_period_ending_within_an_hour_counts_the_late_minutes_before_its_end(
    sup: Platform,
) -> None:
    mid = END + timedelta(minutes=30)  # over for two hours, ends in the middle of an hour
    before = version(sup, mid)
    sup.ingestor.ingest([status(mid + timedelta(seconds=10), "C1-2-1", S.FAULTED, received=NOW)])
    assert version(sup, mid) == before  # late, but about after its end
    sup.ingestor.ingest([status(mid - timedelta(seconds=10), "C1-2-1", S.FAULTED, received=NOW)])
    assert version(sup, mid) != before
