"""The demo city's activity goes through the same ingest path and stays plausible."""

from __future__ import annotations

from datetime import timedelta

from chargenet.bootstrap import Platform
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.demo.live import load_city
from chargenet.kit.clock import FixedClock
from tests.builders import T0, charger, meta, small_world


def test_drivers_charge_and_every_session_is_physically_plausible(platform: Platform) -> None:
    world: list[Event] = [*small_world(), *[charger(f"C{i}", guns=2) for i in range(2, 40)]]
    world += [
        ChargerPresenceChanged(**meta(), charger_id=ChargerId(f"C{i}"), online=True)
        for i in range(1, 40)
    ]
    world += [
        ConnectorStatusChanged(
            **meta(), connector_id=ConnectorId(f"C{i}-{g}-1"), status=ConnectorStatus.AVAILABLE
        )
        for i in range(1, 40)
        for g in (1, 2)
    ]
    platform.ingestor.ingest(world)
    clock = FixedClock(T0)
    platform.clock = clock
    city = load_city(platform, seed=1, speed=2_000)
    for second in range(1, 601):  # ten minutes of real time, a second at a time
        clock.advance(timedelta(seconds=1))
        outcomes = platform.ingestor.ingest(city.step(float(second), 1.0))
        assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]

    completed, total = platform.read.sessions(state="completed", limit=1000)
    assert total > 5
    for session in completed:
        assert session["flags"] == []  # energy = power × real time: passes the meter checks
        assert (session["energy_wh"] or 0) > 0
    started = platform.read.events(event_type="session.started", limit=10_000)
    assert len(started) >= total
    summary = platform.read.status_summary()
    assert summary["charging"] + summary["available"] + summary["faulted"] + summary[
        "offline"
    ] == sum(summary.values())
