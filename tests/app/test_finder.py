"""The live charger index: nearest search equals a full scan, filters, who sees what, and
it follows the bus."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargenet.adapters.bus.memory import Subscription
from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.app.finder import Filters, FinderConnectorRow, FinderRow, LiveIndex
from chargenet.app.finder_feed import follow
from chargenet.bootstrap import Platform
from chargenet.core.access import ANONYMOUS, Principal, Role
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from tests.builders import at, charger, meta, small_world, station

T = datetime(2025, 5, 1, tzinfo=UTC)


def row(station_id: str, lat: float, lon: float, **kw: Any) -> FinderRow:
    n = kw.pop("n", 1)
    return FinderRow(
        station_id=station_id,
        operator_id=kw.pop("operator_id", "OP1"),
        name=station_id,
        name_en=None,
        address=None,
        lat=lat,
        lon=lon,
        access=kw.pop("access", "public"),
        category="public_car_park",
        opening_hours="24/7",
        public_hours=None,
        province_code="140000",
        city_code="140900",
        county_code=kw.pop("county", "140902"),
        township_code=None,
        village_code=None,
        connector=FinderConnectorRow(
            connector_id=f"{station_id}-{n}",
            charger_id=f"{station_id}-C",
            standard="gbt_dc" if kw.get("power_type", "dc") == "dc" else "gbt_ac",
            power_type=kw.pop("power_type", "dc"),
            max_power_w=kw.pop("max_power_w", 60_000),
            reported_status=kw.pop("status", "available"),
            status_since=T,
            status_at=T,
            charger_online=kw.pop("online", True),
            presence_since=T,
            presence_at=T,
            stopped=False,
        ),
    )


def test_nearest_equals_a_full_scan_whatever_the_filters() -> None:
    rng = random.Random(7)
    rows = []
    for i in range(3_000):
        rows.append(
            row(
                f"S{i}",
                38 + rng.uniform(0, 1.5),
                112 + rng.uniform(0, 1.5),
                status=rng.choice(["available", "charging", "faulted"]),
                power_type=rng.choice(["ac", "dc"]),
                max_power_w=rng.choice([7_000, 60_000, 120_000]),
                operator_id=rng.choice(["OP1", "OP2"]),
            )
        )
    index = LiveIndex()
    index.load(rows)
    for _ in range(60):
        lat, lon = 38 + rng.uniform(-0.2, 1.7), 112 + rng.uniform(-0.2, 1.7)
        filters = Filters(
            available_now=rng.random() < 0.5,
            dc_only=rng.random() < 0.5,
            min_power_w=rng.choice([0, 50_000, 100_000]),
            operator_id=rng.choice([None, "OP2"]),
        )
        limit, radius = rng.choice([1, 5, 20]), rng.choice([2_000.0, 30_000.0, 300_000.0])
        fast = index.nearest(lat, lon, filters, limit=limit, radius_m=radius)
        slow = index.linear_nearest(lat, lon, filters, limit=limit, radius_m=radius)
        assert [h.station.station_id for h in fast] == [h.station.station_id for h in slow]


def test_filters_keep_only_connectors_that_suit() -> None:
    index = LiveIndex()
    index.load(
        [
            row("NEAR", 38.40, 112.70, status="charging"),
            row("AC", 38.41, 112.70, power_type="ac", max_power_w=7_000),
            row("FAR", 38.60, 112.70, max_power_w=120_000),
        ]
    )
    names = [h.station.station_id for h in index.nearest(38.40, 112.70, Filters())]
    assert names == ["NEAR", "AC", "FAR"]
    available = index.nearest(38.40, 112.70, Filters(available_now=True, dc_only=True))
    assert [h.station.station_id for h in available] == ["FAR"]
    assert index.nearest(38.40, 112.70, Filters(min_power_w=100_000), radius_m=5_000) == []


def test_private_sites_are_shown_only_to_those_whose_scope_holds_them() -> None:
    index = LiveIndex()
    index.load([row("HOME", 38.4, 112.7, access="private", operator_id="OP2", county="140981")])
    owner = Principal("op2", Role.OPERATOR, operator_id="OP2")
    other = Principal("op1", Role.OPERATOR, operator_id="OP1")
    yuanping = Principal("yp", Role.REGULATOR, area_code="140981")
    xinfu = Principal("xf", Role.REGULATOR, area_code="140902")
    seen = {
        who.name: bool(index.nearest(38.4, 112.7, Filters(), viewer=who))
        for who in (ANONYMOUS, owner, other, yuanping, xinfu)
    }
    assert seen == {"anonymous": False, "op2": True, "op1": False, "yp": True, "xf": False}


def test_a_silent_charger_shows_its_connectors_offline_and_late_news_loses() -> None:
    index = LiveIndex()
    index.load([row("S", 38.4, 112.7)])
    connector = index.stations["S"].connectors[0]
    assert index.set_presence("S-C", False, T + timedelta(minutes=5))
    assert index.status(connector) is ConnectorStatus.OFFLINE
    assert index.set_presence("S-C", True, T + timedelta(minutes=1)) is False  # older
    assert index.set_status("S-1", ConnectorStatus.FAULTED, T - timedelta(minutes=1)) is False
    assert connector.reported is ConnectorStatus.AVAILABLE


def test_a_late_report_older_than_a_repeat_of_the_current_status_does_not_win() -> None:
    """The store's rule: A@10, A@30, then F@20 arrives late — the connector is still A
    (since 10, seen at 30), not F because 20 is after the status began. Presence alike."""
    index = LiveIndex()
    index.load([row("S", 38.4, 112.7, status="faulted")])
    connector = index.stations["S"].connectors[0]
    available, faulted = ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED
    applied = [
        index.set_status("S-1", status, T + timedelta(minutes=minute))
        for minute, status in ((10, available), (30, available), (20, faulted))
    ]
    assert applied == [True, True, False]
    assert index.status(connector) is ConnectorStatus.AVAILABLE
    assert (connector.status_since, connector.status_at) == (
        T + timedelta(minutes=10),
        T + timedelta(minutes=30),
    )
    for minute, online in ((10, False), (30, False), (20, True)):
        index.set_presence("S-C", online, T + timedelta(minutes=minute))
    assert index.online("S-C") is False
    assert index.status(connector) is ConnectorStatus.OFFLINE


def test_the_index_follows_the_bus(platform: Platform) -> None:
    platform.ingestor.ingest(
        [
            *small_world(),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
            ),
        ]
    )
    index = LiveIndex()

    async def scenario() -> None:
        task = asyncio.create_task(
            follow(
                index,
                DashboardQueries(platform.store.read_engine, platform.read),
                platform.bus.subscribe,
                platform.clock,
            )
        )
        await until(lambda: index.loaded)
        assert [h.station.station_id for h in index.nearest(38.4, 112.75, Filters())] == ["S1"]
        await asyncio.to_thread(
            platform.ingestor.ingest,
            [
                ConnectorStatusChanged(
                    **meta(at(2)),
                    connector_id=ConnectorId("C1-1-1"),
                    status=ConnectorStatus.CHARGING,
                ),
                ChargerPresenceChanged(**meta(at(2)), charger_id=ChargerId("C1"), online=True),
                station("S9", lat=38.5, lon=112.75),
                charger("C9", "S9"),
            ],
        )
        await until(lambda: "S9" in index.stations)
        s1 = index.stations["S1"]
        assert index.summary(s1)["charging"] == 1
        nearest_free = index.nearest(38.5, 112.75, Filters(), limit=1)
        assert nearest_free[0].station.station_id == "S9"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


async def until(condition: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class Held:
    """A bus subscription whose events wait until `release()`: the index as far behind the
    bus as a storm would put it."""

    def __init__(self, inner: Subscription) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.dropped = 0  # a handful of events: the bus drops none

    async def get(self) -> Event:
        event = await self.inner.get()
        await self.gate.wait()
        return event

    def get_nowait(self) -> Event | None:
        return self.inner.get_nowait() if self.gate.is_set() else None

    def close(self) -> None:
        self.inner.close()


def test_a_page_can_wait_until_the_index_has_applied_its_action(platform: Platform) -> None:
    """`caught_up(event_id)` answers once what the event changed is what the index shows
    (a stop order's station out of order), however late the bus brings it; an event it
    never hears is answered False when the wait is over."""
    from chargenet.core.events import StopOrderIssued
    from chargenet.core.supervision import TargetKind

    platform.ingestor.ingest(small_world())
    index = LiveIndex()
    held: list[Held] = []

    def subscribe() -> Held:
        held.append(Held(platform.bus.subscribe()))
        return held[-1]

    async def scenario() -> None:
        task = asyncio.create_task(
            follow(
                index,
                DashboardQueries(platform.store.read_engine, platform.read),
                subscribe,
                platform.clock,
            )
        )
        await until(lambda: index.loaded)
        order = StopOrderIssued(
            **meta(at(2)),
            stop_id="STOP1",
            target_kind=TargetKind.STATION,
            target_id="S1",
            reason="flooded",
            issued_by="regulator",
        )
        [outcome] = await asyncio.to_thread(platform.ingestor.ingest, [order])
        assert outcome.ok
        waiting = asyncio.create_task(index.caught_up(order.event_id, 30))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # the index has not heard of it yet
        assert not index.stopped("C1")
        held[0].gate.set()
        assert await waiting
        assert index.stopped("C1")  # the moment it answers, the index shows the order
        assert await index.caught_up(order.event_id, 0)  # and it remembers
        assert not await index.caught_up("never-sent", 0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
