"""The envelope's guards, over HTTP: tokens, signatures, parameters, replays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from chargenet.adapters.storage.shared_state import SqlTokenRecords
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
            assert sim.platform is not None
            answer = sim.open(
                await sim.send(
                    "query_token",
                    sim.envelope(
                        {
                            "OperatorID": sim.operator_id,
                            "OperatorSecret": sim.platform.operator_secret,
                        }
                    ),
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
            assert sim.platform is not None
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
                sim.platform.keys,
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


def live_status(link: Link, connector: str) -> str:
    rows, _ = link.platform.read.connectors(station_id=PREFIX + "1001")
    return str({r["connector_id"]: r for r in rows}[PREFIX + connector]["status"])


PREFIX = "tcec:MA59J8YL8:"


def test_times_ahead_of_our_clock_are_bad_parameters_and_freeze_nothing(tmp_path: Path) -> None:
    """A partner's clock is not believed more than 5 min ahead of ours (the OCPP gateway's
    rule): such a time would outrank every honest later report. It is answered 4003."""
    from chargenet.demo.tcec_operator import Session

    async def scenario() -> None:
        # A wide window for the past (a partner with a slow clock) must not open the future.
        async with linked(tmp_path, tcec_time_window_s=86_400) as link:
            sim = link.sim
            await sim.push_station("1001")
            token = await sim.token()
            now = datetime.now(UTC)
            next_year = (now + timedelta(days=365)).astimezone(sim.zone)

            # A reading of a running charge, stamped a year ahead.
            sim.sessions["S1"] = Session("S1", "1001E2C1", now - timedelta(minutes=10))
            sim.status["1001E2C1"] = 3
            ahead = sim.snapshot("S1")  # 1.25 kWh
            ahead["EndTime"] = next_year.strftime("%Y-%m-%d %H:%M:%S")
            refused = await sim.send("notification_equip_charge_status", sim.envelope(ahead), token)
            await sim.push("notification_equip_charge_status", sim.snapshot("S1"))  # 2.5 kWh
            [session] = link.platform.read.sessions(state="active")[0]
            assert session["energy_wh"] == 2_500  # the honest reading counts
            assert refused["Ret"] == 4003 and "EndTime" in refused["Msg"], refused

            # A status push whose envelope TimeStamp is an hour ahead.
            later = (now + timedelta(hours=1)).astimezone(sim.zone).strftime("%Y%m%d%H%M%S")
            charging = {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 3}}
            request = sim.envelope(charging, timestamp=later, seq="0500")
            refused = await sim.send("notification_stationStatus", request, token)
            await sim.push_status("1001E1C1", 1)
            assert live_status(link, "1001E1C1") == "available"
            assert refused["Ret"] == 4003 and "TimeStamp" in refused["Msg"], refused

            # A bill ending a year ahead.
            sim.finished_session("S2", "1001E1C2", now - timedelta(minutes=30), 20, "10")
            order = sim.order("S2")
            order["EndTime"] = next_year.strftime("%Y-%m-%d %H:%M:%S")
            refused = await sim.send("notification_charge_order_info", sim.envelope(order), token)
            assert refused["Ret"] == 4003 and "EndTime" in refused["Msg"], refused

    run(scenario())


def test_a_token_revoked_by_another_process_is_refused_at_the_next_push(tmp_path: Path) -> None:
    """Several processes share the tokens (shared state in the database): `chargenet tcec
    revoke` run anywhere ends the token for every node at once, with no cache to expire."""

    async def scenario() -> None:
        async with linked(tmp_path, shared_state="database") as link:
            sim = link.sim
            await sim.push_station("1001")
            token = await sim.token()
            ok = await sim.send("notification_stationStatus", sim.envelope(STATUS), token)
            assert ok["Ret"] == 0
            elsewhere = create_engine(link.platform.settings.database_url)
            try:
                SqlTokenRecords(elsewhere).drop(sim.operator_id)  # what the CLI's revoke does
            finally:
                elsewhere.dispose()
            refused = await sim.send("notification_stationStatus", sim.envelope(STATUS), token)
            assert refused["Ret"] == 4002

    run(scenario())
