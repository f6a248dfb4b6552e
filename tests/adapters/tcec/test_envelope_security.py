"""The envelope's guards, over HTTP: tokens, signatures, parameters, replays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chargenet.kit.clock import FixedClock
from tests.adapters.tcec.harness import Link, linked

STATUS = {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 3}}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def stored(link: Link) -> tuple[int, int]:
    """(events in the log, refused events): what a refused message must not change."""
    return link.platform.read.last_seq(), link.platform.read.rejected()[1]


def test_tokens_are_issued_for_the_right_secret_and_expire(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2025, 6, 1, 2, 0, tzinfo=UTC))

    async def scenario() -> None:
        async with linked(tmp_path, clock=clock) as link:
            sim = link.sim
            answer = sim.open(
                await sim.send(
                    "query_token",
                    sim.envelope({"OperatorID": sim.operator_id, "OperatorSecret": "wrong-secret"}),
                )
            )
            assert (answer["SuccStat"], answer["FailReason"]) == (1, 2)
            assert "AccessToken" not in answer
            token = await sim.token()
            answer = sim.open(
                await sim.send(
                    "query_token",
                    sim.envelope(
                        {
                            "OperatorID": sim.operator_id,
                            "OperatorSecret": sim.platform.operator_secret,
                        }
                    ),  # type: ignore[union-attr]
                )
            )
            # Asked again while it lives: the same token, not a second one.
            assert answer["AccessToken"] == token
            assert answer["TokenAvailableTime"] == 7200
            await sim.push_station("1001")
            ok = await sim.send("notification_stationStatus", sim.envelope(STATUS), token)
            assert ok["Ret"] == 0
            clock.advance(timedelta(seconds=7201))
            expired = await sim.send("notification_stationStatus", sim.envelope(STATUS), token)
            assert expired["Ret"] == 4002
            missing = await sim.send("notification_stationStatus", sim.envelope(STATUS), None)
            assert missing["Ret"] == 4002
            # A new token works again.
            sim._platform_token = None
            assert await sim.push_status("1001E1C1", 1) == {"Status": 0}

    run(scenario())


def test_a_bad_signature_is_4001_and_nothing_is_stored(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            token = await sim.token()
            before = stored(link)
            request = sim.envelope(STATUS)
            request["Sig"] = "0" * 32
            answer = await sim.send("notification_stationStatus", request, token)
            assert answer["Ret"] == 4001
            # Data changed after signing is a bad signature too.
            request = sim.envelope(STATUS)
            other = sim.envelope(
                {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 255}}
            )
            request["Data"] = other["Data"]
            answer = await sim.send("notification_stationStatus", request, token)
            assert answer["Ret"] == 4001
            assert stored(link) == before
            sim.open(await sim.send("notification_stationStatus", sim.envelope(STATUS), token))

    run(scenario())


def test_bad_parameters_are_4003_and_nothing_is_stored(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            token = await sim.token()
            before = stored(link)
            station = dict(sim.stations["1001"])
            cases: list[tuple[str, Any, str]] = [
                (
                    "notification_stationInfo",
                    {"StationInfo": {**station, "StationType": 7}},
                    "StationType 7",
                ),
                (
                    "notification_stationInfo",
                    {"StationInfo": {**station, "Construction": 12}},
                    "Construction 12",
                ),
                (
                    "notification_stationInfo",
                    {"StationInfo": {k: v for k, v in station.items() if k != "StationLat"}},
                    "StationLat",
                ),
                (
                    "notification_stationInfo",
                    {"StationInfo": {**station, "AreaCode": "14"}},
                    "AreaCode",
                ),
                (
                    "notification_stationStatus",
                    {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 9}},
                    "Status 9",
                ),
                (
                    "notification_stationStatus",
                    {"ConnectorStatusInfo": {"Status": 1}},
                    "ConnectorID",
                ),
                (
                    "check_charge_orders",
                    {
                        "CheckOrderSeq": "X",
                        "StartTime": "2025-06-01",
                        "EndTime": "x",
                        "OrderCount": 0,
                        "TotalOrderPower": 0,
                        "TotalOrderMoney": 0,
                    },
                    "StartTime",
                ),
            ]
            for endpoint, payload, mentioned in cases:
                answer = await sim.send(endpoint, sim.envelope(payload), token)
                assert answer["Ret"] == 4003, (endpoint, answer)
                assert mentioned in answer["Msg"], answer["Msg"]
            garbled = sim.envelope(STATUS)
            garbled["Data"] = "bm90IGVuY3J5cHRlZA=="
            from chargenet.adapters.tcec.crypto import sign

            garbled["Sig"] = sign(
                garbled["OperatorID"] + garbled["Data"] + garbled["TimeStamp"] + garbled["Seq"],
                sim.platform.keys,  # type: ignore[union-attr]
            )
            answer = await sim.send("notification_stationStatus", garbled, token)
            assert answer["Ret"] == 4003
            assert stored(link) == before

    run(scenario())


def test_a_replayed_or_stale_message_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            token = await sim.token()
            request = sim.envelope(STATUS)
            first = await sim.send("notification_stationStatus", request, token)
            assert first["Ret"] == 0
            again = await sim.send("notification_stationStatus", request, token)
            assert again["Ret"] == 4003 and "replay" in again["Msg"]
            stale = (datetime.now(UTC) - timedelta(minutes=10)).astimezone(sim.zone)
            old = sim.envelope(STATUS, timestamp=stale.strftime("%Y%m%d%H%M%S"))
            answer = await sim.send("notification_stationStatus", old, token)
            assert answer["Ret"] == 4003 and "TimeStamp" in answer["Msg"]
            bad_seq = sim.envelope(STATUS, seq="0000")
            assert (await sim.send("notification_stationStatus", bad_seq, token))["Ret"] == 4003

    run(scenario())


def test_an_unknown_operator_gets_an_unsigned_refusal(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            request = sim.envelope(STATUS)
            request["OperatorID"] = "SOMEONE99"
            answer = await sim.send("notification_stationStatus", request, None)
            assert answer == {"Ret": 4003, "Msg": "unknown OperatorID", "Data": "", "Sig": ""}

    run(scenario())
