"""Real `ocpp` library charge points (1.6 and 2.0.1) against the gateway over loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201
from websockets.exceptions import InvalidStatus

from chargenet.bootstrap import Platform
from tests.adapters.ocpp.peers import (
    PASSWORD,
    basic,
    boot16,
    boot201,
    connect,
    eventually,
    running,
    stamp,
)


def live(platform: Platform, connector_id: str) -> dict[str, Any]:
    rows, _ = platform.read.connectors(charger_ids=[connector_id.split("-")[0]])
    return next(r for r in rows if r["connector_id"] == connector_id)


def online(platform: Platform, charger_id: str) -> bool | None:
    row = platform.read.charger(charger_id)
    assert row is not None
    return row["online"]  # type: ignore[no-any-return]


def sessions(platform: Platform) -> list[dict[str, Any]]:
    return platform.read.sessions(limit=100)[0]


def test_status_changes_of_both_versions_appear_in_live_state(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway:
            async with connect(gateway, "C1") as cp16, connect(gateway, "C2", "ocpp2.0.1") as cp201:
                boot = await cp16.call(boot16())
                assert boot.status == "Accepted" and boot.interval == gateway.config.heartbeat_s
                await cp16.call(
                    c16.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
                )
                await cp16.call(
                    c16.StatusNotification(
                        connector_id=2, error_code="GroundFailure", status="Faulted", info="RCD"
                    )
                )
                assert (await cp201.call(boot201())).status == "Accepted"
                await cp201.call(
                    c201.StatusNotification(
                        timestamp=stamp(), connector_status="Occupied", evse_id=2, connector_id=1
                    )
                )
                # The answer comes after the events are stored: state shows them now.
                assert live(platform, "C1-1-1")["status"] == "charging"
                faulted = live(platform, "C1-2-1")
                assert (faulted["status"], faulted["error_code"]) == ("faulted", "GroundFailure")
                assert live(platform, "C2-2-1")["status"] == "occupied"
                assert online(platform, "C1") is True and online(platform, "C2") is True
            await eventually(lambda: online(platform, "C1") is False)
            assert live(platform, "C1-1-1")["status"] == "offline"
            assert live(platform, "C1-1-1")["reported_status"] == "charging"

    asyncio.run(scenario())


def test_a_full_16_session_becomes_one_session_with_the_right_energy(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway, connect(gateway, "C1") as cp:
            await cp.call(boot16())
            auth = await cp.call(c16.Authorize(id_tag="CARD-1"))
            assert auth.id_tag_info["status"] == "Accepted"
            start_at = datetime.now(UTC) - timedelta(minutes=30)
            start = c16.StartTransaction(
                connector_id=1, id_tag="CARD-1", meter_start=1_000_000, timestamp=stamp(start_at)
            )
            first = await cp.call(start)
            again = await cp.call(start)  # resent: same transaction, same session
            assert first.transaction_id == again.transaction_id > 0
            tx = first.transaction_id
            for minute, register in ((10, 1_005_000), (20, 1_010_000)):
                await cp.call(
                    c16.MeterValues(
                        connector_id=1,
                        transaction_id=tx,
                        meter_value=[
                            {
                                "timestamp": stamp(start_at + timedelta(minutes=minute)),
                                "sampled_value": [
                                    {"value": str(register), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                    {"value": "30.5", "measurand": "Power.Active.Import", "unit": "kW"},
                                    {"value": "62", "measurand": "SoC", "unit": "Percent"},
                                    {"value": "41.5", "measurand": "Temperature", "unit": "Celsius"},
                                ],
                            }
                        ],
                    )
                )
            mid = live(platform, "C1-1-1")
            assert (mid["power_w"], mid["soc_percent"], mid["temperature_c"]) == (30_500, 62, 41.5)
            stop = c16.StopTransaction(
                transaction_id=tx, meter_stop=1_014_500, timestamp=stamp(), reason="EVDisconnected"
            )
            await cp.call(stop)
            await cp.call(stop)  # retried stop: changes nothing
        [session] = sessions(platform)
        assert session["session_id"] == f"C1:{tx}"
        assert (session["state"], session["energy_wh"], session["meter_start_wh"]) == (
            "completed",
            14_500,
            1_000_000,
        )
        assert session["stop_reason"] == "EVDisconnected" and session["flags"] == ["started_offline"]
        assert len(platform.read.events(event_type="session.started")) == 1

    asyncio.run(scenario())


def test_a_full_201_transaction_becomes_one_session(platform: Platform) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=30)

    def meter(register: int, context: str, minutes: int) -> list[dict[str, Any]]:
        return [
            {
                "timestamp": stamp(t0 + timedelta(minutes=minutes)),
                "sampled_value": [
                    {"value": register, "measurand": "Energy.Active.Import.Register", "context": context},
                    {"value": 7.2, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "kW"}},
                ],
            }
        ]

    async def scenario() -> None:
        async with running(platform) as gateway, connect(gateway, "C2", "ocpp2.0.1") as cp:
            await cp.call(boot201())
            base = {"transaction_info": {"transaction_id": "T-9"}}
            started = c201.TransactionEvent(
                event_type="Started", timestamp=stamp(t0), trigger_reason="Authorized", seq_no=0,
                evse={"id": 1, "connector_id": 1}, id_token={"id_token": "CARD", "type": "ISO14443"},
                meter_value=meter(50_000, "Transaction.Begin", 0),
                transaction_info={"transaction_id": "T-9", "charging_state": "Charging"},
            )
            answer = await cp.call(started)
            assert answer.id_token_info["status"] == "Accepted"
            await cp.call(started)  # resent
            assert live(platform, "C2-1-1")["status"] == "charging"
            await cp.call(
                c201.TransactionEvent(
                    event_type="Updated", timestamp=stamp(t0 + timedelta(minutes=15)), trigger_reason="MeterValuePeriodic",
                    seq_no=1, meter_value=meter(53_000, "Sample.Periodic", 15), **base,
                )
            )
            assert live(platform, "C2-1-1")["power_w"] == 7_200
            await cp.call(
                c201.TransactionEvent(
                    event_type="Ended", timestamp=stamp(), trigger_reason="EVDeparted", seq_no=2,
                    meter_value=meter(56_400, "Transaction.End", 30),
                    transaction_info={"transaction_id": "T-9", "stopped_reason": "EVDisconnected"},
                )
            )
        [session] = sessions(platform)
        assert (session["session_id"], session["state"], session["energy_wh"]) == (
            "C2:T-9",
            "completed",
            6_400,
        )

    asyncio.run(scenario())
