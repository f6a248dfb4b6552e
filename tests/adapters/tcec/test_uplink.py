"""chargenet answers T/CEC 102 queries as a city platform feeding a provincial one (R37):
query_stations_info, query_station_status and query_station_stats over real encrypted,
signed envelopes. An upstream partner sees every station; an operator's platform only its
own operator's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId
from chargenet.core.status import ConnectorStatus
from chargenet.demo.tcec_operator import SimulatorError
from chargenet.kit.geo import gcj02_to_wgs84, haversine_m
from tests.adapters.tcec.harness import Link, linked
from tests.builders import charger, meta, operator, station

PREFIX = "tcec:MA59J8YL8:"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def ask(link: Link, endpoint: str, payload: Any) -> Any:
    sim = link.sim
    return sim.open(await sim.send(endpoint, sim.envelope(payload), await sim.token()))


def other_operator(link: Link) -> None:
    link.platform.ingestor.ingest(
        [
            operator("OPZ", name="另一运营商"),
            station("SZ", "OPZ"),
            charger("CZ", "SZ", guns=1),
            ChargerPresenceChanged(**meta(), charger_id=ChargerId("CZ"), online=True),
            ConnectorStatusChanged(
                **meta(), connector_id=ConnectorId("CZ-1-1"), status=ConnectorStatus.CHARGING
            ),
        ]
    )


def test_an_upstream_platform_sees_every_station_and_its_status(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream="MA59J8YL8") as link:
            await link.sim.push_station("1001")
            await link.sim.push_status("1001E1C1", 3)
            other_operator(link)
            page = await ask(link, "query_stations_info", {"PageNo": 1, "PageSize": 10})
            assert (page["PageNo"], page["PageCount"], page["ItemSize"]) == (1, 1, 2)
            infos = {s["StationID"]: s for s in page["StationInfos"]}
            assert set(infos) == {PREFIX + "1001", "SZ"}
            sz = infos["SZ"]
            assert (sz["OperatorID"], sz["StationType"], sz["AreaCode"]) == ("OPZ", 1, "140902")
            [equipment] = sz["EquipmentInfos"]
            assert equipment["EquipmentID"] == "CZ"
            assert equipment["ConnectorInfos"][0]["ConnectorType"] == 4  # GB/T DC gun
            # What an operator reported of its guns' limits goes on up as it was given.
            [first, *_] = infos[PREFIX + "1001"]["EquipmentInfos"]
            gun = first["ConnectorInfos"][0]
            assert (gun["VoltageUpperLimits"], gun["Current"]) == (750, 250)
            # Positions go out in GCJ-02: back to WGS-84, within a metre of the station.
            row = link.platform.read.station("SZ")
            assert row is not None
            lat, lon = gcj02_to_wgs84(float(sz["StationLat"]), float(sz["StationLng"]))
            assert haversine_m(lat, lon, row["lat"], row["lon"]) < 1.0

            status = await ask(
                link, "query_station_status", {"StationIDs": ["SZ", PREFIX + "1001"]}
            )
            got = {
                c["ConnectorID"]: c["Status"]
                for s in status["StationStatusInfos"]
                for c in s["ConnectorStatusInfos"]
            }
            assert got["CZ-1-1"] == 3 and got[PREFIX + "1001E1C1"] == 3
            assert got[PREFIX + "1001E2C1"] == 0  # never reported: offline

    run(scenario())


def test_an_operator_platform_sees_only_its_own_stations(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            await link.sim.push_station("1001")
            other_operator(link)
            page = await ask(link, "query_stations_info", {"PageNo": 1, "PageSize": 10})
            assert [s["StationID"] for s in page["StationInfos"]] == [PREFIX + "1001"]
            status = await ask(link, "query_station_status", {"StationIDs": ["SZ"]})
            assert status == {"Total": 0, "StationStatusInfos": []}
            with pytest.raises(SimulatorError, match="PageSize"):
                await ask(link, "query_stations_info", {"PageNo": 1, "PageSize": 1000})

    run(scenario())


def test_station_stats_add_up_the_energy_of_the_sessions_of_the_days(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream="MA59J8YL8") as link:
            other_operator(link)
            yesterday = datetime.now(UTC) - timedelta(days=1)
            link.platform.ingestor.ingest(
                [
                    SessionStarted(
                        **meta(yesterday),
                        session_id=SessionId("X1"),
                        connector_id=ConnectorId("CZ-1-1"),
                    ),
                    SessionEnded(
                        **meta(yesterday + timedelta(minutes=40)),
                        session_id=SessionId("X1"),
                        energy_wh=23_456,
                    ),
                ]
            )
            ended = yesterday + timedelta(minutes=40)
            day = (ended + timedelta(hours=8)).strftime("%Y-%m-%d")  # the local day (UTC+8)
            stats = await ask(
                link,
                "query_station_stats",
                {"StationID": "SZ", "StartTime": day, "EndTime": day},
            )
            s = stats["StationStats"]
            assert Decimal(str(s["StationElectricity"])) == Decimal("23.456")
            [equipment] = s["EquipmentStatsInfos"]
            assert equipment["EquipmentID"] == "CZ"
            assert equipment["ConnectorStatsInfos"][0]["ConnectorID"] == "CZ-1-1"

    run(scenario())


async def until(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


def pushed(link: Link, connector: str) -> list[int]:
    return [p["Status"] for p in link.sim.pushed_status if p["ConnectorID"] == connector]


def test_a_city_platform_pushes_status_changes_up_to_its_province(tmp_path: Path) -> None:
    """Every status report, from any intake, goes up as notification_stationStatus in the
    standard envelope (the province checks signature and token); a push the province
    refuses is resent; what the province itself reported is not echoed back to it."""

    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream="MA59J8YL8", jobs=["outbox"]) as link:
            sim = link.sim
            await sim.push_station("1001")
            await sim.push_status("1001E1C1", 3)  # the province's own connector
            other_operator(link)  # CZ-1-1 charging, reported by OCPP-like test intake
            await until(lambda: pushed(link, "CZ-1-1") == [3])
            assert sim.received.index("query_token") < sim.received.index(
                "notification_stationStatus"
            )
            # The station and its charger went up too, as the province's query shows them.
            await until(lambda: any(s["EquipmentInfos"] for s in sim.pushed_stations))
            assert {s["StationID"] for s in sim.pushed_stations} == {"SZ"}
            info = sim.pushed_stations[-1]
            assert info["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorID"] == "CZ-1-1"

            sim.faults.endpoints = frozenset({"notification_stationStatus"})
            sim.faults.fail_next = 2  # the province is down for two attempts
            link.platform.ingestor.ingest(
                [
                    ConnectorStatusChanged(
                        **meta(datetime.now(UTC)),
                        connector_id=ConnectorId("CZ-1-1"),
                        status=ConnectorStatus.FAULTED,
                    )
                ]
            )
            await until(lambda: pushed(link, "CZ-1-1") == [3, 255])

            def resent() -> list[tuple[str, int]]:
                items = link.platform.outbox.store.items(kind="tcec.")
                return [(d.state, d.attempts) for d in items if d.attempts > 1]

            await until(lambda: resent() == [("delivered", 3)])  # 2 refused, then taken
            assert all(p["ConnectorID"] != PREFIX + "1001E1C1" for p in sim.pushed_status)

    run(scenario())


def test_a_late_report_never_pushes_an_older_status_up(tmp_path: Path) -> None:
    """The province cannot order pushes by time (ConnectorStatusInfo has none): a report
    that arrives late, older than what chargenet holds, pushes what chargenet holds."""

    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream="MA59J8YL8", jobs=["outbox"]) as link:
            other_operator(link)
            await until(lambda: pushed(link, "CZ-1-1") == [3])
            now = datetime.now(UTC)
            link.platform.ingestor.ingest(
                [
                    ConnectorStatusChanged(
                        **meta(now),
                        connector_id=ConnectorId("CZ-1-1"),
                        status=ConnectorStatus.AVAILABLE,
                    ),
                    ConnectorStatusChanged(  # from a minute before, arriving after
                        **meta(now - timedelta(minutes=1)),
                        connector_id=ConnectorId("CZ-1-1"),
                        status=ConnectorStatus.FAULTED,
                    ),
                ]
            )
            store = link.platform.outbox.store
            await until(lambda: not store.items(state="pending", kind="tcec."))
            first, *later = pushed(link, "CZ-1-1")
            # Pushes caught in one round are one push of the current status (latest only).
            assert first == 3 and later and set(later) == {1}
            [row] = [
                r
                for r in link.platform.read.connectors(None, None, None, None, ["CZ"])[0]
                if r["connector_id"] == "CZ-1-1"
            ]
            assert row["status"] == "available"

    run(scenario())
