"""An institution's own chargers opened to the public off-hours (R39), on a real store:
the finder shows the hours and whether the station is open now, hides it when closed to
a driver who asks for open or free stations; uptime counts public service in the hours
only; the latest statement holds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.app.finder import Filters, LiveIndex
from chargenet.app.supervision import Refused
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.access import ANONYMOUS
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    StationPublicHoursSet,
)
from chargenet.core.ids import ChargerId, ConnectorId, StationId
from chargenet.core.registry.model import Access, SiteCategory
from chargenet.core.status import ConnectorStatus as S
from chargenet.kit.clock import FixedClock
from tests import migrated
from tests.builders import areas, charger, meta, operator, station

DAY0 = datetime(2025, 5, 31, 16, tzinfo=UTC)  # Sunday 1 June 2025, 00:00 in Shanghai


def h(hours: float) -> datetime:
    return DAY0 + timedelta(hours=hours)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Platform]:
    p = bootstrap(
        Settings(database_url=migrated.sqlite_url(tmp_path / "ph.db"), sqlite_synchronous="OFF"),
        clock=FixedClock(h(24 * 10)),
    )
    p.ingestor.ingest(
        [
            *areas(),
            operator(),
            # A government compound's own chargers: dedicated (专用), not public.
            station("S1", access=Access.DEDICATED, category=SiteCategory.INSTITUTION, when=h(-1)),
            charger("C1", when=h(-1)),
        ]
    )
    yield p
    p.close()


def hours_set(at: datetime, text: str) -> StationPublicHoursSet:
    return StationPublicHoursSet(
        **meta(at), station_id=StationId("S1"), hours=text, set_by="bureau"
    )


def index_of(p: Platform) -> LiveIndex:
    index = LiveIndex("Asia/Shanghai")
    index.load(DashboardQueries(p.store.read_engine, p.read).finder_rows())
    return index


def test_the_finder_shows_the_hours_and_hides_the_station_when_it_is_closed(
    world: Platform,
) -> None:
    world.ingestor.ingest(
        [
            ChargerPresenceChanged(**meta(h(0)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(h(0)), connector_id=ConnectorId("C1-1-1"), status=S.AVAILABLE
            ),
        ]
    )
    # Before any public hours: a dedicated station is not the public's.
    assert index_of(world).nearest(38.4, 112.75, Filters(), viewer=ANONYMOUS) == []
    world.ingestor.ingest([hours_set(h(1), "18:00-08:00")])
    index = index_of(world)
    [entry] = index.stations.values()
    assert entry.public_hours is not None and entry.public_hours.text == "18:00-08:00"

    def found(at: datetime, open_now: bool = False, available_now: bool = False) -> list[str]:
        filters = Filters(open_now=open_now, available_now=available_now)
        hits = index.nearest(38.4, 112.75, filters, viewer=ANONYMOUS, at=at)
        return [hit.station.station_id for hit in hits]

    noon, late, dawn = h(24 + 12), h(24 + 23.5), h(48 + 7.99)  # Monday 12:00, 23:30, 07:59
    assert found(noon) == ["S1"]  # shown to everyone, marked closed
    assert index.open_now(entry, noon) is False
    assert found(noon, open_now=True) == [] and found(noon, available_now=True) == []
    assert found(late, open_now=True) == ["S1"] and found(dawn, available_now=True) == ["S1"]
    assert found(h(48 + 8), open_now=True) == []


def test_uptime_counts_public_service_in_the_hours_and_the_latest_statement_holds(
    world: Platform,
) -> None:
    world.ingestor.ingest(
        [
            hours_set(h(-1), "18:00-08:00"),
            ChargerPresenceChanged(**meta(h(0)), charger_id=ChargerId("C1"), online=True),
            *(
                ConnectorStatusChanged(
                    **meta(h(0)), connector_id=ConnectorId(c), status=S.AVAILABLE
                )
                for c in ("C1-1-1", "C1-2-1")
            ),
            # Faulted at noon (the office's hours) and from 22:00 (public hours).
            ConnectorStatusChanged(
                **meta(h(12)), connector_id=ConnectorId("C1-1-1"), status=S.FAULTED
            ),
            ConnectorStatusChanged(
                **meta(h(14)), connector_id=ConnectorId("C1-1-1"), status=S.AVAILABLE
            ),
            ConnectorStatusChanged(
                **meta(h(22)), connector_id=ConnectorId("C1-1-1"), status=S.FAULTED
            ),
            ConnectorStatusChanged(
                **meta(h(26)), connector_id=ConnectorId("C1-1-1"), status=S.AVAILABLE
            ),
        ]
    )
    day = Scope(connector="C1-1-1")
    [row] = world.supervision.uptime(day, h(0), h(24), "connector")
    # NEVI: outside the hours of operation is excluded (23 CFR 680.116(b)(3)(vi)).
    assert (row["hours"], row["outage_hours"], row["excluded_hours"]) == (24, 4, 2)
    assert row["nevi_uptime"] == pytest.approx(22 / 24 * 100, abs=1e-3)
    # UK: measured in the hours it may be accessed only (PCPR 2023 reg. 7(5)): 14 h.
    assert (row["uk_up_hours"], row["uk_down_hours"]) == (12, 2)
    assert row["uk_reliability"] == pytest.approx(12 / 14 * 100, abs=1e-3)
    # A dedicated station open to the public in stated hours is a public charge point
    # (reg. 3(1)(a)); 60 kW is rapid: it is in the operator's network.
    [network] = world.supervision.uk_reliability(Scope(), 2025)
    assert network["ports"] == 2
    # The hours withdrawn: the station is dedicated again, every outage counts, and it is
    # no longer a public charge point.
    world.ingestor.ingest([hours_set(h(30), "")])
    [row] = world.supervision.uptime(day, h(0), h(24), "connector")
    assert (row["outage_hours"], row["excluded_hours"]) == (4, 0)
    assert world.supervision.uk_reliability(Scope(), 2025) == []
    # An older statement arriving late does not undo the newer one.
    world.ingestor.ingest([hours_set(h(20), "08:00-18:00")])
    [row] = world.supervision.uptime(day, h(0), h(24), "connector")
    assert row["excluded_hours"] == 0


def test_an_operator_sets_hours_of_its_own_stations_only(world: Platform) -> None:
    world.ingestor.ingest([operator("OP2", name="Two"), station("S2", "OP2")])
    loop = asyncio.new_event_loop()
    loop.run_until_complete(world.start())
    try:
        loop.run_until_complete(
            world.supervision.set_public_hours("S1", "Sa-Su 00:00-24:00", "", "op1", "OP1")
        )
        with pytest.raises(Refused, match="S2"):
            loop.run_until_complete(
                world.supervision.set_public_hours("S2", "18:00-08:00", "", "op1", "OP1")
            )
    finally:
        loop.run_until_complete(world.stop())
        loop.close()
    stations = {s.station_id: s for s in index_of(world).stations.values()}
    assert stations["S1"].public_hours is not None
    assert stations["S2"].public_hours is None
