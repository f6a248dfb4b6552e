"""A driver of chargenet charges at a T/CEC 102 operator's charger through the same driver
API as at a directly connected one: query_equip_auth and query_start_charge towards the
operator (its simulator), the operator's session recognised as the driver's, stopped with
query_stop_charge, priced by the operator's tariff in force and charged to the wallet;
the operator is credited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from chargenet.adapters.tcec import model
from chargenet.core.ledger import PLATFORM_FEES, operator_account
from chargenet.kit.clock import FixedClock
from tests.adapters.tcec.harness import OPERATOR, linked

PREFIX = "tcec:MA59J8YL8:"
CONNECTOR = PREFIX + "1001E2C1"


def test_a_driver_starts_stops_and_pays_a_charge_at_a_tcec_operators_charger(
    tmp_path: Path,
) -> None:
    clock = FixedClock(datetime(2025, 6, 1, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with linked(tmp_path, clock=clock) as link:
            sim, p = link.sim, link.platform
            await sim.push_station("1001")
            await p.tcec.puller.tariffs(link.partner, [(PREFIX + "1001", "1001E2C1")])
            await p.drivers.register("lina", "a-long-password")
            await p.settlement.top_up("lina", Decimal("100.00"), "manual", "k1")
            _, token, _ = p.accounts.login("lina", "a-long-password")
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=link.url, headers=headers) as http:
                started = await http.post(
                    "/api/v1/driver/charges", json={"connector_id": CONNECTOR}
                )
                out["started"] = started
                seq = started.json()["answer"]["StartChargeSeq"]
                await p.tcec.charging.wait_for(link.partner, seq, model.StartChargeResult, 5.0)
                session_id = PREFIX + seq
                clock.advance(timedelta(minutes=30))
                for _ in range(2):  # query_equip_charge_status: 1.25 kWh more each time
                    assert (await p.tcec.charging.status(link.partner, seq)).ok
                out["live"] = (await http.get(f"/api/v1/driver/sessions/{session_id}")).json()
                out["stop"] = await http.post(f"/api/v1/driver/sessions/{session_id}/stop", json={})
                await p.tcec.charging.wait_for(link.partner, seq, model.ChargeOrderInfo, 5.0)
                await sim.settle()
                for _ in range(250):
                    await p.settlement.settle_pending()
                    if p.settlement.reads.entry(f"charge:{session_id}") is not None:
                        break
                    await asyncio.sleep(0.02)
                out["ended"] = (await http.get(f"/api/v1/driver/sessions/{session_id}")).json()
                out["me"] = (await http.get("/api/v1/driver/me")).json()
                out["owed"] = p.settlement.reads.balances(
                    [operator_account(OPERATOR), PLATFORM_FEES]
                )
        return out

    out = asyncio.run(scenario())
    started = out["started"]
    assert started.status_code == 200, started.text
    assert started.json()["outcome"] == "accepted" and started.json()["answer"]["SuccStat"] == 0
    assert started.json()["price"]["per_kwh"] == "1.80"  # 1.00 electricity + 0.80 service
    assert out["live"]["state"] == "active"
    assert out["live"]["energy_wh"] == 2_500 and out["live"]["cost"] == "4.50"
    assert out["stop"].status_code == 200 and out["stop"].json()["outcome"] == "accepted"
    receipt = out["ended"]["receipt"]
    assert receipt is not None, out["ended"]
    total = Decimal("4.50")  # 2.5 kWh at the 08:00–22:00 price in force at the start
    assert receipt["total"] == "4.50"
    assert Decimal(out["me"]["balance"]) == Decimal("100.00") - total
    assert out["owed"][operator_account(OPERATOR)] + out["owed"][PLATFORM_FEES] == total
