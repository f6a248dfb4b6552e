"""Authorisation from the platform's driver tokens, over OCPP with `ocpp` library charge
points: Authorize, StartTransaction and TransactionEvent are answered Accepted, Blocked,
Expired or Invalid per the token; the local list reaches the charger; a driver starts and
stops a charge through the driver API and gets the charger's own answer; the session is
live for the driver while it runs and charged to the wallet when it ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from chargenet.bootstrap import Platform
from chargenet.core.drivers import TokenKind
from chargenet.core.events import StationPricesPublished
from chargenet.core.ids import StationId
from chargenet.core.tariffs import TariffPeriod
from tests.adapters.ocpp.peers import api, boot16, boot201, connect, eventually, running, stamp
from tests.builders import meta

CARD, LOST, OLD = "04A1B2C3", "04DEAD01", "04OLD001"


async def _drivers(platform: Platform) -> str:
    """A driver with a good card, a blocked one and an expired one; money on the wallet;
    the station's price. Returns the driver's API token."""
    await platform.drivers.register("lina", "a-long-password")
    await platform.drivers.issue_token("lina", TokenKind.RFID, CARD)
    lost = await platform.drivers.issue_token("lina", TokenKind.RFID, LOST)
    await platform.drivers.set_blocked(lost.digest, True, "lost")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await platform.drivers.issue_token("lina", TokenKind.RFID, OLD, expires_at=yesterday)
    await platform.settlement.top_up("lina", Decimal("100.00"), "manual", "k1")
    await platform.pipeline.submit(
        [
            StationPricesPublished(
                **meta(datetime(2020, 1, 1, tzinfo=UTC)),
                station_id=StationId("S1"),
                periods=(
                    TariffPeriod(
                        start=time(0), energy_price=Decimal("1.00"), service_price=Decimal("0.50")
                    ),
                ),
            )
        ]
    )
    _, token, _ = platform.accounts.login("lina", "a-long-password")
    return token


def test_ocpp_16_and_201_tokens_are_answered_from_the_platforms_drivers(
    platform: Platform,
) -> None:
    async def scenario() -> dict[str, Any]:
        async with running(platform) as gateway:
            await _drivers(platform)
            async with (
                connect(gateway, "C1") as cp16,
                connect(gateway, "C2", "ocpp2.0.1") as cp201,
            ):
                await cp16.call(boot16())
                await cp201.call(boot201())
                out: dict[str, Any] = {}
                for tag in (CARD, LOST, OLD, "UNKNOWN1"):
                    out[f"16 {tag}"] = (await cp16.call(c16.Authorize(id_tag=tag))).id_tag_info
                    r = await cp201.call(
                        c201.Authorize(id_token={"id_token": tag, "type": "ISO14443"})
                    )
                    out[f"201 {tag}"] = r.id_token_info
                start = await cp16.call(
                    c16.StartTransaction(
                        connector_id=1, id_tag=LOST, meter_start=0, timestamp=stamp()
                    )
                )
                out["start 16 lost"] = start.id_tag_info
                event = await cp201.call(
                    c201.TransactionEvent(
                        event_type="Started",
                        timestamp=stamp(),
                        trigger_reason="Authorized",
                        seq_no=0,
                        transaction_info={"transaction_id": "tx-1"},
                        id_token={"id_token": CARD, "type": "ISO14443"},
                        evse={"id": 1, "connector_id": 1},
                    )
                )
                out["event 201 card"] = event.id_token_info
                return out

    out = asyncio.run(scenario())
    assert out["16 04A1B2C3"]["status"] == "Accepted"
    assert out["16 04DEAD01"]["status"] == "Blocked"
    assert out["16 04OLD001"]["status"] == "Expired"
    assert "expiry_date" in out["16 04OLD001"]  # the library gives snake_case
    assert out["16 UNKNOWN1"]["status"] == "Invalid"
    assert out["201 04A1B2C3"]["status"] == "Accepted"
    assert out["201 04DEAD01"]["status"] == "Blocked"
    assert out["201 04OLD001"]["status"] == "Expired"
    assert out["201 UNKNOWN1"]["status"] == "Invalid"
    assert out["start 16 lost"]["status"] == "Blocked"
    assert out["event 201 card"]["status"] == "Accepted"


def test_without_driver_tokens_every_token_is_accepted_as_before(platform: Platform) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with running(platform) as gateway, connect(gateway, "C1") as cp16:
            await cp16.call(boot16())
            auth = await cp16.call(c16.Authorize(id_tag="ANYCARD"))
            start = await cp16.call(
                c16.StartTransaction(
                    connector_id=1, id_tag="ANYCARD", meter_start=0, timestamp=stamp()
                )
            )
            return auth.id_tag_info, start.id_tag_info

    auth, start = asyncio.run(scenario())
    assert auth["status"] == start["status"] == "Accepted"


def test_the_local_list_reaches_16_and_201_chargers_with_each_tokens_status(
    platform: Platform,
) -> None:
    async def scenario() -> tuple[list[httpx.Response], Any, Any]:
        async with running(platform) as gateway:
            await _drivers(platform)
            async with (
                connect(gateway, "C1") as cp16,
                connect(gateway, "C2", "ocpp2.0.1") as cp201,
                api(platform) as client,
            ):
                await cp16.call(boot16())
                await cp201.call(boot201())
                answers = [
                    await client.post(
                        f"/api/v1/chargers/{cid}/commands",
                        json={"command": "send_local_list", "list_version": 3},
                    )
                    for cid in ("C1", "C2")
                ]
                return answers, cp16.received, cp201.received

    answers, got16, got201 = asyncio.run(scenario())
    assert [a.json().get("outcome") for a in answers] == ["accepted", "accepted"], [
        a.text for a in answers
    ]
    [(_, sent16)] = [r for r in got16 if r[0] == "SendLocalList"]
    assert sent16["list_version"] == 3 and sent16["update_type"] == "Full"
    statuses = {e["id_tag"]: e["id_tag_info"]["status"] for e in sent16["local_authorization_list"]}
    assert statuses == {CARD: "Accepted", LOST: "Blocked", OLD: "Expired"}
    [(_, sent201)] = [r for r in got201 if r[0] == "SendLocalList"]
    assert sent201["version_number"] == 3
    by_token = {
        e["id_token"]["id_token"]: (e["id_token"]["type"], e["id_token_info"]["status"])
        for e in sent201["local_authorization_list"]
    }
    assert by_token[CARD] == ("ISO14443", "Accepted") and by_token[LOST][1] == "Blocked"
    # what the log keeps (the order, the tokens' facts) names no token
    with platform.store.read_engine.connect() as conn:
        logged = str(conn.exec_driver_sql("SELECT * FROM events").all())
    assert CARD not in logged and LOST not in logged


def test_a_driver_starts_watches_stops_and_pays_a_charge_at_an_ocpp_16_charger(
    platform: Platform,
) -> None:
    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with running(platform) as gateway:
            token = await _drivers(platform)
            async with connect(gateway, "C1") as cp16, api(platform, token=token) as client:
                await cp16.call(boot16())
                r = await client.post("/api/v1/driver/charges", json={"connector_id": "C1-1-1"})
                out["start"] = r
                [(_, remote)] = [x for x in cp16.received if x[0] == "RemoteStartTransaction"]
                out["remote"] = remote
                # started 9 minutes ago: 8 kWh is within what 60 kW can deliver since
                started = await cp16.call(
                    c16.StartTransaction(
                        connector_id=1,
                        id_tag=remote["id_tag"],
                        meter_start=5_000,
                        timestamp=stamp(datetime.now(UTC) - timedelta(minutes=9)),
                    )
                )
                out["started"] = started.id_tag_info
                sid = f"C1:{started.transaction_id}"
                await cp16.call(
                    c16.MeterValues(
                        connector_id=1,
                        transaction_id=started.transaction_id,
                        meter_value=[
                            {
                                "timestamp": stamp(),
                                "sampled_value": [
                                    {"value": "9000", "measurand": "Energy.Active.Import.Register"},
                                    {
                                        "value": "22000",
                                        "measurand": "Power.Active.Import",
                                        "unit": "W",
                                    },
                                ],
                            }
                        ],
                    )
                )

                async def live_energy() -> bool:
                    view = (await client.get(f"/api/v1/driver/sessions/{sid}")).json()
                    out["live"] = view
                    return bool(view.get("energy_wh") == 4_000)

                await eventually(live_energy)
                out["stop"] = await client.post(f"/api/v1/driver/sessions/{sid}/stop", json={})
                await cp16.call(
                    c16.StopTransaction(
                        transaction_id=started.transaction_id,
                        meter_stop=13_000,
                        timestamp=stamp(),
                        id_tag=remote["id_tag"],
                    )
                )
                reads = platform.settlement.reads
                await eventually(lambda: getattr(reads.session(sid), "ended_at", None) is not None)
                await platform.settlement.settle_pending()
                out["ended"] = (await client.get(f"/api/v1/driver/sessions/{sid}")).json()
                out["me"] = (await client.get("/api/v1/driver/me")).json()
        return out

    out = asyncio.run(scenario())
    start = out["start"]
    assert start.status_code == 200, start.text
    assert start.json()["outcome"] == "accepted" and start.json()["answer"] == {
        "status": "Accepted"
    }
    assert start.json()["price"]["per_kwh"] == "1.50"
    assert out["remote"]["connector_id"] == 1
    assert out["started"]["status"] == "Accepted"
    assert out["live"]["power_w"] == 22_000
    assert out["live"]["cost"] == "6.00"  # 4 kWh so far at 1.50
    assert out["stop"].status_code == 200 and out["stop"].json()["outcome"] == "accepted"
    assert out["ended"]["receipt"]["total"] == "12.00"  # 8 kWh at 1.50
    assert out["me"]["balance"] == "88.00"


def test_a_blocked_token_starts_nothing(platform: Platform) -> None:
    async def scenario() -> tuple[httpx.Response, list[Any]]:
        async with running(platform) as gateway:
            token = await _drivers(platform)
            async with connect(gateway, "C1") as cp16, api(platform, token=token) as client:
                await cp16.call(boot16())
                r = await client.post(
                    "/api/v1/driver/charges", json={"connector_id": "C1-1-1", "token": LOST}
                )
                return r, cp16.received

    r, received = asyncio.run(scenario())
    assert r.status_code == 402 and r.json()["authorisation"] == "blocked"
    assert not [x for x in received if x[0] == "RemoteStartTransaction"]


def test_a_driver_starts_a_charge_at_an_ocpp_201_charger(platform: Platform) -> None:
    async def scenario() -> tuple[httpx.Response, list[Any]]:
        async with running(platform) as gateway:
            token = await _drivers(platform)
            async with connect(gateway, "C2", "ocpp2.0.1") as cp, api(platform, token=token) as c:
                await cp.call(boot201())
                r = await c.post("/api/v1/driver/charges", json={"connector_id": "C2-2-1"})
                return r, cp.received

    r, received = asyncio.run(scenario())
    assert r.status_code == 200 and r.json()["answer"] == {"status": "Accepted"}
    [(_, sent)] = [x for x in received if x[0] == "RequestStartTransaction"]
    assert sent["evse_id"] == 2 and sent["id_token"]["type"] == "Central"
