"""query_stations_info as chargenet answers it, incrementally: with LastQueryTime, only the
stations whose information changed since (the station, one of its piles or guns, its
retirement), paged as a full answer is; empty or absent, every station in service; a
LastQueryTime that is not a time, or lies in the future, is refused with 4003."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chargenet.adapters.tcec import model, outbound
from chargenet.adapters.tcec.inbound import format_time
from chargenet.bootstrap import Platform
from chargenet.core.events import (
    ChargerRetired,
    ChargerUpdated,
    Event,
    StationRetired,
    StationUpdated,
)
from chargenet.core.ids import ChargerId, StationId
from chargenet.demo.tcec_operator import SimulatorError
from tests.adapters.tcec.harness import Link, linked
from tests.adapters.tcec.test_uplink import ask
from tests.builders import areas, charger, meta, operator, station

UPSTREAM = "MA59J8YL8"
NOW = datetime.now(UTC).replace(microsecond=0)
BEFORE = NOW - timedelta(hours=2)  # when the stations were registered
CHANGED = NOW - timedelta(hours=1)  # when some of them changed


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def five_stations(link: Link) -> None:
    link.platform.ingestor.ingest(five_station_events())


def five_station_events() -> list[Event]:
    """SA..SE, each with a two-gun pile registered two hours ago; an hour ago SB was
    renamed, SC's pile dropped a gun, SD closed and SE's pile was retired. SA is untouched."""
    events: list[Event] = [operator("OPZ", name="另一运营商")]
    for s in "ABCDE":
        events += [station(f"S{s}", "OPZ", when=BEFORE), charger(f"C{s}", f"S{s}", when=BEFORE)]
    events += [
        StationUpdated(**meta(CHANGED), station=station("SB", "OPZ", name="改名").station),
        ChargerUpdated(**meta(CHANGED), charger=charger("CC", "SC", guns=1).charger),
        StationRetired(**meta(CHANGED), station_id=StationId("SD"), reason="closed"),
        ChargerRetired(**meta(CHANGED), charger_id=ChargerId("CE"), reason="removed"),
    ]
    return events


async def query(link: Link, since: datetime | str | None, page: int = 1, size: int = 10) -> Any:
    payload: dict[str, Any] = {"PageNo": page, "PageSize": size}
    if since is not None:
        payload["LastQueryTime"] = (
            since if isinstance(since, str) else format_time(since, link.partner.zone)
        )
    return await ask(link, "query_stations_info", payload)


def guns(info: dict[str, Any]) -> dict[str, list[str]]:
    return {
        e["EquipmentID"]: [c["ConnectorID"] for c in e["ConnectorInfos"]]
        for e in info["EquipmentInfos"]
    }


def test_only_the_stations_changed_since_the_last_query_are_answered(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM) as link:
            five_stations(link)
            page = await query(link, NOW - timedelta(minutes=90))
            assert (page["PageNo"], page["PageCount"], page["ItemSize"]) == (1, 1, 4)
            infos = {s["StationID"]: s for s in page["StationInfos"]}
            assert list(infos) == ["SB", "SC", "SD", "SE"]  # not SA: unchanged
            assert infos["SB"]["StationName"] == "改名"
            assert guns(infos["SC"]) == {"CC": ["CC-1-1"]}  # its pile without the gun
            assert guns(infos["SE"]) == {}  # its only pile retired
            # Closed since: said so (关闭下线, no equipment), or the province never learns.
            assert (infos["SD"]["StationStatus"], infos["SD"]["EquipmentInfos"]) == (5, [])
            assert {infos[s]["StationStatus"] for s in ("SB", "SC", "SE")} == {50}

            # Paged like a full answer.
            first = await query(link, NOW - timedelta(minutes=90), page=1, size=3)
            second = await query(link, NOW - timedelta(minutes=90), page=2, size=3)
            assert (first["PageCount"], first["ItemSize"], second["PageNo"]) == (2, 4, 2)
            ids = [s["StationID"] for s in first["StationInfos"] + second["StationInfos"]]
            assert ids == ["SB", "SC", "SD", "SE"]

            # Nothing changed since: nothing to send.
            quiet = await query(link, NOW - timedelta(minutes=10))
            assert (quiet["PageCount"], quiet["ItemSize"], quiet["StationInfos"]) == (1, 0, [])
            # Since before every change: all five, SD among them closed.
            assert (await query(link, BEFORE - timedelta(minutes=1)))["ItemSize"] == 5

            # Empty or absent: every station in service, as before.
            for since in (None, ""):
                full = await query(link, since)
                assert [s["StationID"] for s in full["StationInfos"]] == ["SA", "SB", "SC", "SE"]

    run(scenario())


def test_the_read_model_finds_the_changed_stations_on_either_database(
    any_platform: Platform,
) -> None:
    any_platform.ingestor.ingest([*areas(), *five_station_events()])
    rows, total = any_platform.read.stations(
        include_retired=True, changed_since=NOW - timedelta(minutes=90)
    )
    assert ([r["station_id"] for r in rows], total) == (["SB", "SC", "SD", "SE"], 4)
    _, total = any_platform.read.stations(include_retired=True, changed_since=CHANGED)
    assert total == 4  # at or after: a change in that very second is not lost
    _, total = any_platform.read.stations(changed_since=NOW - timedelta(minutes=90))
    assert total == 3  # in service only, unless asked


def test_a_change_dated_just_before_the_last_query_time_is_answered_not_lost(
    tmp_path: Path,
) -> None:
    """A partner's LastQueryTime is its own clock, which may run a little ahead of ours,
    and a change can still be on its way to the log when the partner asks: a change dated
    a little before LastQueryTime may not have been in the previous answer. It is answered
    (again, at worst), as a change in the same second is; one long before is not."""

    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM) as link:
            five_stations(link)
            page = await query(link, CHANGED + timedelta(minutes=2))
            assert [s["StationID"] for s in page["StationInfos"]] == ["SB", "SC", "SD", "SE"]
            quiet = await query(link, CHANGED + timedelta(minutes=10))
            assert quiet["ItemSize"] == 0

    run(scenario())


@pytest.mark.parametrize(
    "bad", ["2025/05/01 08:00:00", "yesterday", "2025-13-01 00:00:00", "future"]
)
def test_a_last_query_time_that_is_no_time_is_refused_as_a_parameter(
    tmp_path: Path, bad: str
) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, tcec_upstream=UPSTREAM) as link:
            five_stations(link)
            text = bad
            if bad == "future":  # ahead of our clock: it would hide every change to come
                text = format_time(NOW + timedelta(days=1), link.partner.zone)
            with pytest.raises(SimulatorError, match="LastQueryTime") as refused:
                await query(link, text)
            assert refused.value.ret == 4003

    run(scenario())


def test_the_last_query_time_chargenet_sends_when_it_pulls_is_one_it_reads() -> None:
    """outward.py asks an operator for what changed since its last pull by the same field
    and format: chargenet on both ends reads back the time it sent, to the second."""
    zone = ZoneInfo("Asia/Shanghai")
    pulled = datetime(2025, 5, 1, 23, 59, 7, 654321, tzinfo=UTC)  # the next local day
    sent = model.StationsQuery(LastQueryTime=format_time(pulled, zone))
    assert sent.LastQueryTime == "2025-05-02 07:59:07"
    since = outbound.changed_since(sent, zone, NOW)
    assert since == pulled.replace(microsecond=0) - outbound.LOOK_BACK
