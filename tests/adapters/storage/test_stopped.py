"""A stop order in force shows its chargers out of service (`unavailable`) to every reader —
the read API, the finder, OCPI and the open-data feed — also when the station comes
through an operator platform that cannot be commanded, and stops doing so once lifted."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chargenet.adapters.ocpi.forward import keys_of
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.app.finder import LiveIndex
from chargenet.app.ocpi import PeerKind
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    StopOrderIssued,
    StopOrderLifted,
)
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus, effective_status
from chargenet.core.supervision import TargetKind
from chargenet.entrypoints.web import create_app, open_data
from tests.adapters.ocpi import spec
from tests.builders import at, charger, meta, small_world, station

SENDER = "/ocpi/2.2.1/sender"
ADMIN = {"Authorization": "Bearer admin"}


def test_the_sql_rule_and_the_python_rule_agree(any_platform: Platform) -> None:
    """Every combination of reported status, presence and stop order, on SQLite and
    PostgreSQL: the read model, the finder's rows and OCPI's reads say what
    `effective_status` says."""
    events: list[Event] = [*small_world()]
    expected: dict[str, ConnectorStatus] = {}
    combos = itertools.product(
        (None, ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED),
        (None, True, False),
        (False, True),
    )
    for n, (reported, online, stop) in enumerate(combos):
        charger_id = f"K{n}"
        events.append(charger(charger_id, guns=1, protocol="ocpi" if online is None else "ocpp1.6"))
        if online is not None:
            events.append(
                ChargerPresenceChanged(
                    **meta(at(1)), charger_id=ChargerId(charger_id), online=online
                )
            )
        if reported is not None:
            events.append(
                ConnectorStatusChanged(
                    **meta(at(2)), connector_id=ConnectorId(f"{charger_id}-1-1"), status=reported
                )
            )
        if stop:
            events.append(stop_event(f"stop-{charger_id}", TargetKind.CHARGER, charger_id))
        expected[f"{charger_id}-1-1"] = effective_status(reported, online, stop)
    any_platform.ingestor.ingest(events)

    rows, _ = any_platform.read.connectors(station_id="S1", limit=1000)
    assert {r["connector_id"]: r["status"] for r in rows if r["charger_id"] != "C1"} == {
        k: v.value for k, v in expected.items()
    }
    assert {r["connector_id"] for r in rows if r["stopped"]} == {
        k for k in expected if int(k[1:].split("-")[0]) % 2 == 1
    }
    index = LiveIndex()
    index.load(DashboardQueries(any_platform.store.read_engine, any_platform.read).finder_rows())
    finder = {c.connector_id: index.status(c) for c in index.stations["S1"].connectors}
    assert {k: finder[k] for k in expected} == expected
    ocpi = build_ocpi(any_platform)
    try:
        live, _ = ocpi.reads.live_status(limit=1000)
        assert {r["connector_id"]: r["status"] for r in live if r["connector_id"] in expected} == {
            k: v.value for k, v in expected.items()
        }
    finally:
        ocpi.directory.dispose()
    counts = any_platform.read.status_summary(station_id="S1")
    assert counts["unavailable"] == sum(v is ConnectorStatus.UNAVAILABLE for v in expected.values())


def stop_event(stop_id: str, kind: TargetKind, target: str, minutes: float = 3) -> Event:
    return StopOrderIssued(
        **meta(at(minutes)),
        stop_id=stop_id,
        target_kind=kind,
        target_id=target,
        reason="smoke at the cabinet",
        issued_by="regulator",
    )


def test_stop_orders_are_forwarded_to_the_province_as_location_changes() -> None:
    issued = stop_event("X1", TargetKind.STATION, "S1")
    lifted = StopOrderLifted(**meta(at(9)), stop_id="X1", by="regulator", reason="fixed")
    assert keys_of(issued) == keys_of(lifted) == [("stop", "X1")]


# --- end to end over HTTP: an operator platform's station --------------------------------


@pytest.fixture
def client(platform: Platform) -> Iterator[tuple[TestClient, str]]:
    """S2 is reported through an operator platform (OCPI): chargenet sees no presence and
    cannot command it; both its chargers report AVAILABLE."""
    platform.ingestor.ingest(
        [
            *small_world(),
            station("S2", lat=38.41, lon=112.75),
            charger("C2", "S2", guns=1, protocol="ocpi"),
            charger("C3", "S2", guns=1, protocol="ocpi"),
            *(
                ConnectorStatusChanged(
                    **meta(at(2)), connector_id=ConnectorId(c), status=ConnectorStatus.AVAILABLE
                )
                for c in ("C2-1-1", "C3-1-1")
            ),
        ]
    )
    ocpi = build_ocpi(platform)
    token = spec.registered_peer(ocpi, "province", None, None, PeerKind.UPSTREAM)
    app = create_app(platform, api_tokens=["admin"], routers=[ocpi_router(ocpi), open_data(ocpi)])
    with TestClient(app) as test_client:
        yield test_client, token
    ocpi.directory.dispose()


def seen(client: TestClient, token: str) -> dict[str, dict[str, Any]]:
    """What each reader shows for S2's connectors C2-1-1 and C3-1-1."""
    api = {
        r["connector_id"]: r
        for r in client.get("/api/v1/connectors", params={"station": "S2"}, headers=ADMIN).json()
    }
    opendata = {r["connector_id"]: r for r in client.get("/open-data/v1/status").json()}
    location = client.get(f"{SENDER}/locations/S2", headers=spec.auth(token)).json()["data"]
    evses = {e["uid"]: e["status"] for e in location["evses"]}
    finder = {
        c["connector_id"]: c for c in client.get("/api/v1/finder/stations/S2").json()["connectors"]
    }
    return {
        cid: {
            "api": api[cid]["status"],
            "reported": api[cid]["reported_status"],
            "stopped": api[cid]["stopped"],
            "open_data": opendata[cid]["ocpi_status"],
            "ocpi": evses[cid.rsplit("-", 1)[0]],
            "finder": (finder[cid]["status"], finder[cid]["stopped"]),
        }
        for cid in ("C2-1-1", "C3-1-1")
    }


def until_finder(client: TestClient, station_id: str, statuses: set[str]) -> None:
    """The finder's index follows the bus in the background: wait for it (a few ms; it
    answers 503 until it has loaded, longer on a loaded machine)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.get(f"/api/v1/finder/stations/{station_id}")
        if response.status_code == 503:
            time.sleep(0.05)
            continue
        if {c["status"] for c in response.json()["connectors"]} == statuses:
            return
        time.sleep(0.05)
    raise AssertionError(f"the finder did not show {statuses}")


FREE = {
    "api": "available",
    "reported": "available",
    "stopped": False,
    "open_data": "AVAILABLE",
    "ocpi": "AVAILABLE",
    "finder": ("available", False),
}
STOPPED = {
    "api": "unavailable",
    "reported": "available",  # what the operator said is kept beside it
    "stopped": True,
    "open_data": "INOPERATIVE",
    "ocpi": "INOPERATIVE",
    "finder": ("unavailable", True),
}


def test_a_stopped_platform_station_is_out_of_order_everywhere_until_lifted(
    client: tuple[TestClient, str],
) -> None:
    http, token = client
    until_finder(http, "S2", {"available"})
    assert seen(http, token) == {"C2-1-1": FREE, "C3-1-1": FREE}
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    one = http.post(
        "/api/v1/supervision/stop-orders",
        json={"target_kind": "charger", "target_id": "C2", "reason": "cable insulation cracked"},
        headers=ADMIN,
    )
    assert one.status_code == 201, one.text
    # OCPI has no order for this: the delivery fails, yet drivers are kept away.
    assert [d["outcome"] for d in one.json()["deliveries"]] == ["failed"]
    until_finder(http, "S2", {"available", "unavailable"})
    assert seen(http, token) == {"C2-1-1": STOPPED, "C3-1-1": FREE}
    changed = http.get("/open-data/v1/status", params={"since": before}).json()
    assert [r["connector_id"] for r in changed] == ["C2-1-1"]  # a change since the order
    location = http.get(f"{SENDER}/locations/S2", headers=spec.auth(token)).json()["data"]
    assert location["last_updated"][:19] >= before[:19]  # moved by the order

    whole = http.post(
        "/api/v1/supervision/stop-orders",
        json={"target_kind": "station", "target_id": "S2", "reason": "flooded car park"},
        headers=ADMIN,
    )
    # The dashboard asks the map `after` the order's event: answered with the order applied,
    # with no waiting of its own (the page has no other way to know when to ask).
    dots = http.get(
        "/api/v1/dashboard/map",
        params={"area": "140902", "after": whole.headers["X-Event-Id"]},
        headers=ADMIN,
    ).json()
    assert dots["caught_up"] is True
    assert {row[0]: row[3] for row in dots["stations"]}["S2"] == "stopped"
    until_finder(http, "S2", {"unavailable"})
    assert seen(http, token) == {"C2-1-1": STOPPED, "C3-1-1": STOPPED}
    station = http.get("/api/v1/stations/S2", headers=ADMIN).json()
    assert station["status"]["unavailable"] == 2 and station["status"]["available"] == 0
    dots = http.get("/api/v1/dashboard/map", params={"area": "140902"}, headers=ADMIN).json()
    assert {row[0]: row[3] for row in dots["stations"]}["S2"] == "stopped"
    assert dots["states"]["stopped"] == 1

    for order in (whole, one):
        lifted = http.post(
            f"/api/v1/supervision/stop-orders/{order.json()['stop_id']}/lift",
            json={"reason": "repaired and inspected"},
            headers=ADMIN,
        )
        assert lifted.json()["state"] == "lifted"
        dots = http.get(
            "/api/v1/dashboard/map",
            params={"area": "140902", "after": lifted.headers["X-Event-Id"]},
            headers=ADMIN,
        ).json()
        assert dots["caught_up"] is True
    assert {row[0]: row[3] for row in dots["stations"]}["S2"] == "available"
    until_finder(http, "S2", {"available"})
    assert seen(http, token) == {"C2-1-1": FREE, "C3-1-1": FREE}
