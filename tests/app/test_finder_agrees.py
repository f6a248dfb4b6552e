"""The finder's live index and the store agree after any run of status and presence reports
— late ones, repeats, several at one instant, the same report twice — sent through the
real pipeline: the store applies them in its projection, the finder from the bus, each
by `core.status.newest_report`. Afterwards every connector shows the same status in the
finder (and the dashboard map, which draws from the same index) as in the store and the
read API."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargenet.adapters.api.dashboard import station_state
from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.app.finder import LiveIndex
from chargenet.app.finder_feed import apply
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import ChargerPresenceChanged, ConnectorStatusChanged, Event
from chargenet.core.ids import ChargerId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.web import create_app
from tests.builders import at, charger, meta, small_world, station

ADMIN = {"Authorization": "Bearer admin"}
STATUSES = list(ConnectorStatus)
_stations = itertools.count(1)

# One report: ("status", connector 0-3, status) or ("presence", charger 0-1, online), at one
# of ten instants; or ("again", which earlier report, same event or a new id).
instants = st.integers(0, 9)
status_report = st.tuples(
    st.just("status"),
    st.integers(0, 3),
    st.sampled_from(STATUSES) | st.sampled_from(["available", "faulted"]),
    instants,
)
presence_report = st.tuples(st.just("presence"), st.integers(0, 1), st.booleans(), instants)
again = st.tuples(st.just("again"), st.integers(0, 200), st.booleans(), st.just(0))
runs = st.lists(status_report | presence_report | again, min_size=1, max_size=40)


class App:
    def __init__(self, client: TestClient, platform: Platform) -> None:
        self.client = client
        self.platform = platform

    def __repr__(self) -> str:  # keeps a falsifying example readable
        return "App(...)"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One platform served for every example; each example has a station of its own."""
    path: Path = tmp_path_factory.mktemp("agree") / "chargenet.db"
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous="OFF"))
    platform.ingestor.ingest(small_world())
    with TestClient(create_app(platform, api_tokens=["admin"])) as client:
        yield App(client, platform)
    platform.close()


def submit(client: TestClient, platform: Platform, events: list[Event]) -> None:
    assert client.portal is not None  # inside the client's `with` block
    client.portal.call(platform.pipeline.submit, events)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30  # the bus is a moment behind; more on a loaded machine
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the finder did not catch up with the bus")
        time.sleep(0.01)


def events_of(run: list[tuple[str, Any, Any, int]], site: str) -> list[Event]:
    """Chargers {site}A (two guns) and {site}B report presence; {site}P comes through an
    operator platform (no presence)."""
    connectors = [f"{site}A-1-1", f"{site}A-2-1", f"{site}B-1-1", f"{site}P-1-1"]
    out: list[Event] = []
    for kind, which, value, instant in run:
        when = at(1 + instant / 2)
        if kind == "status":
            status = ConnectorStatus(value)
            out.append(
                ConnectorStatusChanged(**meta(when), connector_id=connectors[which], status=status)
            )
        elif kind == "presence":
            charger_id = f"{site}{'AB'[which]}"
            out.append(
                ChargerPresenceChanged(**meta(when), charger_id=ChargerId(charger_id), online=value)
            )
        elif out:
            earlier = out[which % len(out)]
            out.append(earlier if value else replace(earlier, event_id=meta()["event_id"]))
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(run=runs, chunk=st.integers(1, 8))
def test_the_finder_and_the_map_show_what_the_store_and_the_api_show(
    app: App, run: list[tuple[str, Any, Any, int]], chunk: int
) -> None:
    client, platform = app.client, app.platform
    index: LiveIndex = client.app.state.finder  # type: ignore[attr-defined]
    site = f"E{next(_stations)}"
    submit(
        client,
        platform,
        [
            station(site, lat=38.41, lon=112.75),
            charger(f"{site}A", site, guns=2),
            charger(f"{site}B", site, guns=1),
            charger(f"{site}P", site, guns=1, protocol="ocpi"),
        ],
    )
    # Registry events reload a station from the store: wait for that before the reports,
    # so that the finder's state below is its own doing, not a reload's.
    wait_for(lambda: len(getattr(index.stations.get(site), "connectors", ())) == 4)

    events = events_of(run, site)
    for start in range(0, len(events), chunk):
        submit(client, platform, events[start : start + chunk])
    # The bus delivers in order: once a station registered after the reports is in the
    # index, the finder has applied every report before it.
    marker = f"{site}Z"
    submit(client, platform, [station(marker, lat=38.42, lon=112.76)])
    wait_for(lambda: marker in index.stations)

    rows, _ = platform.read.connectors(station_id=site, limit=10)
    store = {
        r["connector_id"]: (r["status"], r["reported_status"], r["status_since"]) for r in rows
    }
    entry = index.stations[site]
    finder = {
        c.connector_id: (index.status(c).value, c.reported and c.reported.value, c.status_since)
        for c in entry.connectors
    }
    assert finder == store
    for charger_id in (f"{site}A", f"{site}B", f"{site}P"):
        held = platform.read.charger(charger_id)
        assert held is not None
        assert index.online(charger_id) == held["online"]

    api = client.get("/api/v1/connectors", params={"station": site}, headers=ADMIN).json()
    assert {r["connector_id"]: r["status"] for r in api} == {k: v[0] for k, v in store.items()}
    shown = client.get(f"/api/v1/finder/stations/{site}").json()["connectors"]
    assert {c["connector_id"]: c["status"] for c in shown} == {k: v[0] for k, v in store.items()}

    # The dashboard map: the index's counts per station, drawn as one state.
    counts = platform.read.status_summary(station_id=site)
    assert index.summary(entry) == counts
    dots = client.get("/api/v1/dashboard/map", params={"area": "140902"}, headers=ADMIN).json()
    dot = next(row for row in dots["stations"] if row[0] == site)
    assert (dot[3], dot[4], dot[5]) == (station_state(counts), counts["available"], 4)

    # Loaded afresh from the store, then handed the same reports again as the bus would
    # (an event already in the load may still wait in the queue): the same statuses.
    fresh = LiveIndex()
    fresh.load(DashboardQueries(platform.store.read_engine, platform.read).finder_rows([site]))
    published = {e.event_id: e for e in events}  # the log refuses, and never publishes, a copy
    for event in published.values():
        apply(fresh, event)
    again = {
        c.connector_id: (fresh.status(c).value, c.reported and c.reported.value, c.status_since)
        for c in fresh.stations[site].connectors
    }
    assert again == store
