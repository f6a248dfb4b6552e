"""Pulling from an operator that only answers queries; reconciling an operator's orders."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.adapters.tcec.harness import OPERATOR, TOKEN, Link, linked

PREFIX = "tcec:MA59J8YL8:"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def private(link: Link, path: str) -> Any:
    async with httpx.AsyncClient(base_url=link.url) as http:
        response = await http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
        return response.json()


def test_pulling_pages_of_stations_and_status_fifty_stations_a_query(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, stations=53, pull=True) as link:
            sim, tcec = link.sim, link.platform.tcec
            tcec.puller.page_size = 20  # three pages
            for n, connector in enumerate(sorted(sim.status)):
                sim.status[connector] = (1, 2, 3, 4, 255)[n % 5]
            report = await tcec.puller.pull(link.partner)
            assert report.errors == [] and report.stations.ok and report.status.ok
            assert sim.received.count("query_stations_info") == 3
            assert sim.received.count("query_station_status") == 2  # 50 + 3 stations
            assert link.platform.read.station_count(operator_id=OPERATOR) == 53
            summary = link.platform.read.status_summary(operator_id=OPERATOR)
            assert summary["charging"] == summary["faulted"] == 212 // 5 + (1 if 212 % 5 > 2 else 0)
            assert sum(summary.values()) == 53 * 4

            # A second pull sends nothing unchanged into the log.
            before = link.platform.read.last_seq()
            sim.status["1001E1C1"] = 3 if sim.status["1001E1C1"] != 3 else 1
            again = await tcec.puller.pull(link.partner)
            assert link.platform.read.last_seq() == before + 1
            assert again.status.accepted == 1 and again.status.skipped == 53 * 4 - 1

            stats = await tcec.puller.stats(link.partner, date(2025, 5, 31), date(2025, 5, 31))
            assert stats.accepted == 53
            from sqlalchemy import select

            from chargenet.adapters.storage.tables_tcec import energy_reports

            with link.platform.store.read_engine.connect() as conn:
                rows = conn.execute(
                    select(energy_reports).where(energy_reports.c.station_id == PREFIX + "1001")
                ).all()
            assert sorted(r.energy_wh for r in rows) == [30_500] * 4 + [122_000]

    run(scenario())


def test_reconciliation_lists_every_planted_difference(tmp_path: Path) -> None:
    day = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)  # 1 June 00:00 in Shanghai

    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            for n, kwh in enumerate(("10", "20", "30", "40", "50"), 1):
                order = sim.finished_session(
                    f"ORDER{n}", "1001E1C1", day + timedelta(hours=n), 30, kwh
                )
                assert (await sim.push("notification_charge_order_info", order))[
                    "ConfirmResult"
                ] == 0
            lines = []
            for n in (1, 2, 3, 4):  # ORDER5 not stated: chargenet has it, the operator omits it
                o = sim.order(f"ORDER{n}")
                lines.append((o["StartChargeSeq"], o["TotalPower"], o["TotalMoney"]))
            lines[1] = (lines[1][0], lines[1][1], lines[1][2] + Decimal("0.50"))  # money
            lines[2] = (lines[2][0], lines[2][1] + Decimal("1"), lines[2][2])  # energy
            lines[3] = (lines[3][0], lines[3][1] + 1, lines[3][2] + 1)  # both
            lines.append(("GHOST", Decimal("5"), Decimal("6.00")))  # unknown to chargenet
            answer = await sim.check_orders("CHECK0601", day, day + timedelta(days=1), lines)

            reasons = {d["StartChargeSeq"]: d["DisputeReason"] for d in answer["DisputeOrders"]}
            assert reasons == {"ORDER2": 2, "ORDER3": 3, "ORDER4": 4, "GHOST": 1, "ORDER5": 10}
            assert answer["TotalDisputeOrder"] == 5
            record = await private(link, f"/api/v1/reconciliations/{PREFIX}CHECK0601")
            assert record["operator_id"] == OPERATOR
            assert (record["stated_orders"], record["recorded_orders"]) == (5, 5)
            kinds = {i["order_id"].removeprefix(PREFIX): i["kind"] for i in record["items"]}
            assert kinds == {
                "ORDER2": "amount",
                "ORDER3": "energy",
                "ORDER4": "amount_and_energy",
                "GHOST": "missing",
                "ORDER5": "extra",
            }
            # A statement that agrees with the records has no differences.
            exact = [
                (o["StartChargeSeq"], o["TotalPower"], o["TotalMoney"])
                for o in (sim.order(f"ORDER{n}") for n in range(1, 6))
            ]
            clean = await sim.check_orders("CHECK0601B", day, day + timedelta(days=1), exact)
            assert clean["TotalDisputeOrder"] == 0 and clean["DisputeOrders"] == []

    run(scenario())


def test_a_statement_that_contradicts_itself_is_refused(tmp_path: Path) -> None:
    day = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            token = await sim.token()
            payload = {
                "CheckOrderSeq": "BAD",
                "StartTime": "2025-06-01 00:00:00",
                "EndTime": "2025-06-01 23:59:59",
                "OrderCount": 3,
                "TotalOrderPower": 10,
                "TotalOrderMoney": 8,
                "ChargeOrders": [{"StartChargeSeq": "A", "TotalPower": 10, "TotalMoney": 8}],
            }
            answer = await sim.send("check_charge_orders", sim.envelope(payload), token)
            assert answer["Ret"] == 4003 and "order count 3" in answer["Msg"]
            assert day  # the period is the operator's local day

    run(scenario())
