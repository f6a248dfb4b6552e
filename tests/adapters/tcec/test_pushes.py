"""Operators push stations and status over real encrypted, signed HTTP; the data shows in
the same live state and read API as OCPP and OCPI data."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from chargenet.kit.geo import haversine_m
from tests.adapters.tcec.harness import OPERATOR, TOKEN, Link, linked


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def get(link: Link, path: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}  # chargers and sessions are not public
    async with httpx.AsyncClient(base_url=link.url, headers=headers) as http:
        response = await http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


def test_a_pushed_station_and_its_status_show_in_the_read_api(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            assert await sim.push_station("1001") == {"Status": 0}
            assert await sim.push_status("1001E1C2", 3) == {"Status": 0}

            station = await get(link, "/api/v1/stations/tcec:MA59J8YL8:1001")
            assert station["operator_id"] == OPERATOR
            assert station["name"] == "示例充电站1号"
            assert station["access"] == "public"
            assert station["category"] == "public_car_park"  # Construction 10, on-street
            assert station["area_code"] == "140902"
            # Sent in GCJ-02, kept in WGS-84: back within a metre of where it stands.
            assert haversine_m(station["lat"], station["lon"], 38.412, 112.732) < 1.0
            charging = await get(link, "/api/v1/connectors", status="charging")
            assert [c["connector_id"] for c in charging] == ["tcec:MA59J8YL8:1001E1C2"]
            chargers = await get(link, "/api/v1/chargers", station="tcec:MA59J8YL8:1001")
            assert {c["protocol"] for c in chargers} == {"tcec"}
            assert len(chargers) == 2
            overview = await get(link, "/api/v1/overview")
            assert overview["status"]["charging"] == 1
            assert overview["status"]["available"] == 0  # never reported: offline
            assert overview["status"]["offline"] == 3

    run(scenario())


def test_a_resent_notification_is_one_event_and_a_return_to_a_status_is_a_new_one(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            for status in (1, 1, 3, 3, 1):  # each push a new envelope, as a resend is
                await sim.push_status("1001E1C1", status)
            changes = [
                e["status"]
                for e in link.events("connector.status_changed")
                if e["connector_id"] == "tcec:MA59J8YL8:1001E1C1"
            ]
            assert changes == ["available", "charging", "available"]
            # The station pushed again unchanged adds nothing to the log.
            before = len(link.events())
            await sim.push_station("1001")
            assert len(link.events()) == before

    run(scenario())


def test_status_of_an_unknown_connector_is_refused_as_business_data(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            token = await sim.token()
            request = sim.envelope({"ConnectorStatusInfo": {"ConnectorID": "NOPE", "Status": 1}})
            answer = await sim.send("notification_stationStatus", request, token)
            assert answer["Ret"] == 4004
            assert "unknown connector" in answer["Msg"]

    run(scenario())


def test_station_status_codes_drive_the_station_life(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim, station_id = link.sim, "tcec:MA59J8YL8:1001"
            info = sim.stations["1001"]
            info["StationStatus"] = 1  # under construction: no piles in service yet
            await sim.push_station("1001")
            assert await get(link, "/api/v1/chargers", station=station_id) == []
            info["StationStatus"] = 50
            await sim.push_station("1001")
            assert len(await get(link, "/api/v1/chargers", station=station_id)) == 2
            info["StationStatus"] = 6  # maintenance: every connector out of service
            await sim.push_station("1001")
            connectors = await get(link, "/api/v1/connectors", station=station_id)
            assert {c["status"] for c in connectors} == {"unavailable"}
            info["StationStatus"] = 5  # closed
            await sim.push_station("1001")
            assert await get(link, "/api/v1/stations", operator=OPERATOR) == []
            info["StationStatus"] = 50  # reopened: station and chargers back
            info["EquipmentInfos"] = info["EquipmentInfos"][:1]  # one pile removed meanwhile
            await sim.push_station("1001")
            assert len(await get(link, "/api/v1/stations", operator=OPERATOR)) == 1
            chargers = await get(link, "/api/v1/chargers", station=station_id)
            assert [c["charger_id"] for c in chargers] == ["tcec:MA59J8YL8:1001E1"]

    run(scenario())


def test_a_status_for_a_closed_stations_connector_leaves_it_retired(tmp_path: Path) -> None:
    """A status is a report about equipment, not its registration: pushed for a connector of
    a station the operator closed (retired with its chargers), it is kept as the
    connector's history and brings nothing back; reopening the station does."""

    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim, station_id = link.sim, "tcec:MA59J8YL8:1001"
            info = sim.stations["1001"]
            await sim.push_station("1001")
            info["StationStatus"] = 5  # closed
            await sim.push_station("1001")
            assert await sim.push_status("1001E1C1", 1) == {"Status": 0}
            assert await get(link, "/api/v1/stations", operator=OPERATOR) == []
            assert await get(link, "/api/v1/chargers", station=station_id) == []
            assert await get(link, "/api/v1/connectors", station=station_id) == []
            held = link.platform.read.connector("tcec:MA59J8YL8:1001E1C1")
            assert held is not None and held["retired_at"] is not None
            info["StationStatus"] = 50  # reopened
            await sim.push_station("1001")
            connectors = await get(link, "/api/v1/connectors", station=station_id)
            assert "tcec:MA59J8YL8:1001E1C1" in {c["connector_id"] for c in connectors}

    run(scenario())
