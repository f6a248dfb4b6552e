"""A retired connector — dropped by its charger's update, or retired with its charger — is
never shown available, nor counted so, by any reader: the read model (one connector, a
list with the retired ones, a station's detail, the status counts), the finder, OCPI's
locations and live status. Its last report stays its history."""

from __future__ import annotations

from sqlalchemy import select

from chargenet.adapters.ocpi import outbound as ocpi_out
from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.adapters.storage.tables_supervision import status_history
from chargenet.app.finder import LiveIndex
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.events import (
    ChargerPresenceChanged,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    Event,
)
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus, effective_status
from tests.builders import at, charger, meta, small_world

GUNS = ("C1-1-1", "C1-2-1", "C2-1-1")
RETIRED = ("C1-2-1", "C2-1-1")


def _world() -> list[Event]:
    """C1 (two guns, OCPP, online) and C2 (one gun, an operator platform's), every gun
    available; then C1 is updated to one gun (C1-2-1 dropped) and C2 is retired."""
    return [
        *small_world(),
        charger("C2", guns=1, protocol="ocpi"),
        ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
        *(
            ConnectorStatusChanged(
                **meta(at(2)), connector_id=ConnectorId(c), status=ConnectorStatus.AVAILABLE
            )
            for c in GUNS
        ),
        ChargerUpdated(**meta(at(5)), charger=charger("C1", guns=1).charger),
        ChargerRetired(**meta(at(6)), charger_id=ChargerId("C2"), reason="removed"),
    ]


def test_the_rule_says_a_retired_connector_is_out_of_service() -> None:
    for reported in (None, *ConnectorStatus):
        for online in (None, True, False):
            for stop in (False, True):
                got = effective_status(reported, online, stop, retired=True)
                assert got is ConnectorStatus.UNAVAILABLE


def test_a_retired_connector_is_never_shown_available(any_platform: Platform) -> None:
    p = any_platform
    p.ingestor.ingest(_world())

    for cid in RETIRED:
        row = p.read.connector(cid)
        assert row is not None and row["retired_at"] is not None
        # Out of service, whatever it last said; what it said is still there.
        assert (row["status"], row["reported_status"]) == ("unavailable", "available")
    kept = p.read.connector("C1-1-1")
    assert kept is not None and kept["status"] == "available"

    available, _ = p.read.connectors(
        station_id="S1", status=ConnectorStatus.AVAILABLE, include_retired=True
    )
    assert [r["connector_id"] for r in available] == ["C1-1-1"]
    listed, _ = p.read.connectors(station_id="S1", include_retired=True)
    assert {r["connector_id"]: r["status"] for r in listed} == {
        "C1-1-1": "available",
        "C1-2-1": "unavailable",
        "C2-1-1": "unavailable",
    }
    detail = p.read.station("S1")
    assert detail is not None
    shown = {c["connector_id"]: c["status"] for ch in detail["chargers"] for c in ch["connectors"]}
    assert shown == {"C1-1-1": "available", "C1-2-1": "unavailable", "C2-1-1": "unavailable"}
    # Counts are of connectors in service: the retired are not among them at all.
    counts = p.read.status_summary(station_id="S1")
    assert (counts["available"], sum(counts.values())) == (1, 1)
    assert detail["status"]["available"] == 1 and sum(detail["status"].values()) == 1

    # The finder (what drivers search) holds the connectors in service only.
    index = LiveIndex()
    index.load(DashboardQueries(p.store.read_engine, p.read).finder_rows())
    assert [c.connector_id for c in index.stations["S1"].connectors] == ["C1-1-1"]

    ocpi = build_ocpi(p)
    try:
        [location], _ = ocpi.reads.locations(station_ids=["S1"])
        evses = ocpi_out.evses(location["connectors"])
        assert sorted(e["status"] for e in evses) == ["AVAILABLE", "REMOVED", "REMOVED"]
        live, _ = ocpi.reads.live_status(limit=1000)
        assert [r["connector_id"] for r in live] == ["C1-1-1"]
        rows = {c["connector_id"]: c["status"] for c in location["connectors"]}
        assert all(rows[c] == "unavailable" for c in RETIRED)
    finally:
        ocpi.directory.dispose()

    # History is kept: each retired connector's report is still in its status history.
    with p.store.read_engine.connect() as conn:
        said = conn.execute(
            select(status_history.c.connector_id, status_history.c.status).where(
                status_history.c.connector_id.in_(RETIRED)
            )
        ).all()
    assert sorted(said) == [(c, "available") for c in RETIRED]
