"""What the province is told of equipment taken out of service: a retired pile or connector
leaves the station's EquipmentInfos (pushed again at once), a retired station goes up
closed, a retired connector is never reported idle — pushed or answered; the guns of a
retired pile or station are pushed as 0 离网 before the station."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chargenet.core.events import (
    ChargerPresenceChanged,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    Event,
    StationRetired,
)
from chargenet.core.ids import ChargerId, ConnectorId, StationId
from chargenet.core.status import ConnectorStatus
from tests.adapters.tcec.harness import Link, linked
from tests.adapters.tcec.test_uplink import ask, pushed, until
from tests.builders import charger, meta, operator, station

UPSTREAM = "MA59J8YL8"
GUNS = ("CZ-1-1", "CY-1-1", "CY-2-1")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def status(connector: str, value: ConnectorStatus) -> ConnectorStatusChanged:
    return ConnectorStatusChanged(
        **meta(datetime.now(UTC)), connector_id=ConnectorId(connector), status=value
    )


def a_station_with_two_piles(link: Link) -> None:
    """SZ with CZ (one gun) and CY (two guns), every gun idle."""
    link.platform.ingestor.ingest(
        [
            operator("OPZ", name="另一运营商"),
            station("SZ", "OPZ"),
            charger("CZ", "SZ", guns=1),
            charger("CY", "SZ", guns=2),
            ChargerPresenceChanged(**meta(), charger_id=ChargerId("CZ"), online=True),
            ChargerPresenceChanged(**meta(), charger_id=ChargerId("CY"), online=True),
            status("CZ-1-1", ConnectorStatus.AVAILABLE),
            status("CY-1-1", ConnectorStatus.AVAILABLE),
            status("CY-2-1", ConnectorStatus.AVAILABLE),
        ]
    )


def said_offline_after_idle(link: Link, connector: str) -> bool:
    said = pushed(link, connector)
    return said[:1] == [1] and len(said) > 1 and set(said[1:]) == {0}


def equipment(info: dict[str, Any]) -> dict[str, list[str]]:
    """EquipmentID → its ConnectorIDs, as a StationInfo lists them."""
    return {
        e["EquipmentID"]: [c["ConnectorID"] for c in e["ConnectorInfos"]]
        for e in info["EquipmentInfos"]
    }


def last_pushed(link: Link, station_id: str = "SZ") -> dict[str, Any] | None:
    infos = [s for s in link.sim.pushed_stations if s["StationID"] == station_id]
    return infos[-1] if infos else None


def pushed_equipment(link: Link) -> dict[str, list[str]]:
    info = last_pushed(link)
    return {} if info is None else equipment(info)


async def answered(link: Link) -> tuple[dict[str, list[str]], dict[str, int]]:
    """What the province's own queries show of SZ: its equipment, its connectors' status."""
    page = await ask(link, "query_stations_info", {"PageNo": 1, "PageSize": 10})
    [info] = [s for s in page["StationInfos"] if s["StationID"] == "SZ"]
    answer = await ask(link, "query_station_status", {"StationIDs": ["SZ"]})
    [held] = answer["StationStatusInfos"]
    return equipment(info), {c["ConnectorID"]: c["Status"] for c in held["ConnectorStatusInfos"]}


def ingest(link: Link, *events: Event) -> None:
    link.platform.ingestor.ingest(list(events))


def test_retiring_a_pile_pushes_its_station_without_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM, jobs=["outbox"]) as link:
            a_station_with_two_piles(link)
            both = {"CZ": ["CZ-1-1"], "CY": ["CY-1-1", "CY-2-1"]}
            # A pile registered goes up with its station, as before.
            await until(lambda: pushed_equipment(link) == both)
            await until(lambda: all(pushed(link, c) == [1] for c in GUNS))
            before = len(link.sim.pushed_stations)

            ingest(link, ChargerRetired(**meta(), charger_id=ChargerId("CY"), reason="removed"))
            await until(lambda: len(link.sim.pushed_stations) > before)
            info = last_pushed(link)
            assert info is not None
            assert equipment(info) == {"CZ": ["CZ-1-1"]}
            assert info["StationStatus"] == 50  # the station itself is still in use
            # Its guns were said offline first, for a province that keeps statuses apart.
            # (A push resent after a lost answer says it again.)
            assert all(said_offline_after_idle(link, c) for c in ("CY-1-1", "CY-2-1"))
            assert pushed(link, "CZ-1-1") == [1]
            # The province's own queries agree: the pile and its guns are gone.
            assert await answered(link) == ({"CZ": ["CZ-1-1"]}, {"CZ-1-1": 1})

    run(scenario())


def test_a_connector_its_charger_no_longer_lists_is_said_offline_at_once(
    tmp_path: Path,
) -> None:
    """A charger updated without one of its guns, the charger staying in service: the gun
    goes up as 0 离网 right then, before the station without it, as the guns of a retired
    pile do — not only when something reports about it again."""

    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM, jobs=["outbox"]) as link:
            a_station_with_two_piles(link)
            await until(lambda: all(pushed(link, c) == [1] for c in GUNS))
            await until(lambda: len(pushed_equipment(link)) == 2)
            sim = link.sim
            before = len(sim.received)
            ingest(link, ChargerUpdated(**meta(), charger=charger("CY", "SZ", guns=1).charger))
            await until(lambda: pushed_equipment(link) == {"CZ": ["CZ-1-1"], "CY": ["CY-1-1"]})
            # No report about CY-2-1 came in: the update alone said it offline, first.
            assert said_offline_after_idle(link, "CY-2-1")
            assert pushed(link, "CY-1-1") == [1] and pushed(link, "CZ-1-1") == [1]
            calls = [e for e in sim.received[before:] if e.startswith("notification_")]
            assert calls.index("notification_stationStatus") < calls.index(
                "notification_stationInfo"
            )
            assert (last_pushed(link) or {}).get("StationStatus") == 50

    run(scenario())


def test_a_retired_connector_is_never_reported_idle(tmp_path: Path) -> None:
    """A report that still arrives for a retired connector (a charger or a platform that
    still lists it) goes up as 0 离网, not as the idle or charging it says."""

    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM, jobs=["outbox"]) as link:
            a_station_with_two_piles(link)
            await until(lambda: pushed(link, "CY-2-1") == [1] and pushed(link, "CZ-1-1") == [1])
            # CY now lists one gun only (an update from its intake): CY-2-1 is retired.
            ingest(link, ChargerUpdated(**meta(), charger=charger("CY", "SZ", guns=1).charger))
            await until(lambda: pushed_equipment(link) == {"CZ": ["CZ-1-1"], "CY": ["CY-1-1"]})
            ingest(
                link,
                status("CY-2-1", ConnectorStatus.CHARGING),
                status("CY-2-1", ConnectorStatus.AVAILABLE),
                status("CZ-1-1", ConnectorStatus.CHARGING),  # one in service, for contrast
            )
            store = link.platform.outbox.store
            await until(lambda: pushed(link, "CZ-1-1") == [1, 3])
            await until(lambda: not store.items(state="pending", kind="tcec."))
            first, *after = pushed(link, "CY-2-1")
            assert first == 1 and after and set(after) == {0}
            _, statuses = await answered(link)
            assert statuses == {"CZ-1-1": 3, "CY-1-1": 1}  # not listed at all when asked

    run(scenario())


def test_a_retired_station_goes_up_closed_without_equipment(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM, jobs=["outbox"]) as link:
            a_station_with_two_piles(link)
            await until(lambda: len(pushed_equipment(link)) == 2)
            await until(lambda: all(pushed(link, c) == [1] for c in GUNS))
            ingest(link, StationRetired(**meta(), station_id=StationId("SZ"), reason="closed"))
            await until(lambda: (last_pushed(link) or {}).get("StationStatus") == 5)
            info = last_pushed(link)
            assert info is not None and info["EquipmentInfos"] == []
            assert all(said_offline_after_idle(link, c) for c in GUNS)
            page = await ask(link, "query_stations_info", {"PageNo": 1, "PageSize": 10})
            assert "SZ" not in {s["StationID"] for s in page["StationInfos"]}
            answer = await ask(link, "query_station_status", {"StationIDs": ["SZ"]})
            assert answer["StationStatusInfos"] == [{"StationID": "SZ", "ConnectorStatusInfos": []}]

    run(scenario())
