"""Uptime read and measured a batch of chargers at a time gives the figures of one pass
and of the per-connector interval history, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from chargenet.analytics.supervision import uptime
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus as S
from tests.builders import charger, meta, small_world

START = datetime(2025, 3, 1, 16, tzinfo=UTC)
MID = START + timedelta(days=1)
END = START + timedelta(days=3)


def random_reports(seed: int, chargers: list[str], guns: int) -> list[Event]:
    rng = random.Random(seed)
    out: list[Event] = []
    for c in chargers:
        for g in range(1, guns + 1):
            t = START - timedelta(hours=rng.uniform(-10, 20))  # some begin late: no data
            while t < END:
                out.append(
                    ConnectorStatusChanged(
                        **meta(t),
                        connector_id=ConnectorId(f"{c}-{g}-1"),
                        status=rng.choice(list(S)),
                    )
                )
                t += timedelta(minutes=rng.expovariate(1 / 240))
        t = START - timedelta(hours=2)
        while t < END and rng.random() < 0.8:
            out.append(
                ChargerPresenceChanged(
                    **meta(t), charger_id=ChargerId(c), online=rng.random() < 0.7
                )
            )
            t += timedelta(minutes=rng.expovariate(1 / 600))
    return out


@pytest.fixture
def world(any_platform: Platform) -> Platform:
    names = ["C1", *(f"C{i}" for i in range(2, 8))]
    any_platform.ingestor.ingest([*small_world(), *(charger(c) for c in names[1:])])
    any_platform.ingestor.ingest(random_reports(7, names, guns=2))
    return any_platform


@pytest.mark.parametrize("unit", ["connector", "port"])
def test_batches_of_any_size_give_the_figures_of_one_pass(world: Platform, unit: str) -> None:
    sup = world.supervision
    whole = sup.measure(Scope(), [START, MID, END], unit, batch_chargers=1000)
    assert whole.seconds.sum() > 0
    for size in (1, 3):
        batched = sup.measure(Scope(), [START, MID, END], unit, batch_chargers=size)
        assert np.allclose(batched.seconds, whole.seconds, rtol=0, atol=1e-6)
        assert np.array_equal(np.sort(batched.repairs[1]), np.sort(whole.repairs[1]))


def test_batched_figures_agree_with_each_connectors_interval_history(world: Platform) -> None:
    """The bulk rule (numpy, per batch) against the per-connector rule (`timeline`)."""
    sup = world.supervision
    measured = sup.measure(Scope(), [START, END], "connector", batch_chargers=2)
    checked = 0
    for i, row in enumerate(measured.fleet):
        history = sup.history(row["connector_id"], START, END)
        by_status: dict[str, float] = {}
        for piece in history["intervals"]:
            by_status[piece["status"]] = by_status.get(piece["status"], 0.0) + piece["seconds"]
        bulk = uptime.status_breakdown(measured.seconds[measured.unit_of[i], 0])
        for s in S:
            assert float(bulk[s.value]) == pytest.approx(by_status.get(s.value, 0.0), abs=1e-6)
        checked += 1
    assert checked == 14
