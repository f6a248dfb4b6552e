"""An operator's statement (check_charge_orders) that disagrees with chargenet's records
beyond the tolerance opens disputes in the ledger by itself, with both figures; a resent
statement opens nothing more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.adapters.tcec.harness import OPERATOR, TOKEN, Link, linked

PREFIX = "tcec:MA59J8YL8:"
DAY = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)  # 1 June 00:00 in Shanghai


async def disputes(link: Link, wanted: int, within_s: float = 30.0) -> list[dict[str, Any]]:
    """The open disputes, once `wanted` are there (they open from the bus), or those open
    after `within_s` seconds of asking."""
    found: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    async with httpx.AsyncClient(base_url=link.url) as http:
        while True:
            response = await http.get(
                "/api/v1/settlement/disputes", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert response.status_code == 200, response.text
            found = response.json()
            if len(found) >= wanted or loop.time() > deadline:
                break
            await asyncio.sleep(0.1)
    return found


def test_a_statement_beyond_the_tolerance_opens_disputes_with_both_figures(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            for n in range(1, 5):
                order = sim.finished_session(
                    f"ORDER{n}", "1001E1C1", DAY + timedelta(hours=n), 30, str(10 * n)
                )
                await sim.push("notification_charge_order_info", order)
            lines = []
            for n in range(1, 5):
                o = sim.order(f"ORDER{n}")
                lines.append((o["StartChargeSeq"], o["TotalPower"], o["TotalMoney"]))
            lines[1] = (lines[1][0], lines[1][1], lines[1][2] + Decimal("0.01"))  # rounding
            lines[2] = (lines[2][0], lines[2][1], lines[2][2] + Decimal("0.50"))  # money
            lines[3] = (lines[3][0], lines[3][1] + Decimal("1.5"), lines[3][2])  # energy
            answer = await sim.check_orders("CHECK0601", DAY, DAY + timedelta(days=1), lines)
            # The statement's answer lists what differs beyond rounding only: a fen off
            # (ORDER2) is the default tolerance, not a dispute.
            listed = {d["StartChargeSeq"] for d in answer["DisputeOrders"]}
            assert listed == {
                sim.order("ORDER3")["StartChargeSeq"],
                sim.order("ORDER4")["StartChargeSeq"],
            }
            assert answer["TotalDisputeOrder"] == 2

            opened = {d["session_id"].removeprefix(PREFIX): d for d in await disputes(link, 2)}
            assert set(opened) == {"ORDER3", "ORDER4"}
            order3, order4 = sim.order("ORDER3"), sim.order("ORDER4")
            money = opened["ORDER3"]
            assert money["origin"] == "tcec" and money["operator_id"] == OPERATOR
            assert Decimal(money["stated"]["amount"]) == order3["TotalMoney"] + Decimal("0.50")
            assert Decimal(money["recorded"]["amount"]) == order3["TotalMoney"]
            assert money["document_id"] == PREFIX + "CHECK0601"
            energy = opened["ORDER4"]
            recorded_wh = int(Decimal(order4["TotalPower"]) * 1000)
            assert energy["recorded"]["energy_wh"] == recorded_wh
            assert energy["stated"]["energy_wh"] == recorded_wh + 1500

            # The same statement again, and again under another number: nothing new.
            await sim.check_orders("CHECK0601", DAY, DAY + timedelta(days=1), lines)
            await sim.check_orders("CHECK0601B", DAY, DAY + timedelta(days=1), lines)
            await asyncio.sleep(0.3)
            # Seconds for a third to open, were one to: a window in time, not a count of
            # requests (200 of them took half a minute on a loaded machine).
            again = await disputes(link, 3, within_s=4.0)
            assert sorted(d["dispute_id"] for d in again) == sorted(
                d["dispute_id"] for d in opened.values()
            )
            assert {d["document_id"] for d in again} == {PREFIX + "CHECK0601"}

    asyncio.run(scenario())
