"""Pulling from an operator that only answers queries; reconciling an operator's orders."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from chargenet.demo.tcec_operator import TARIFF
from chargenet.kit.clock import FixedClock
from tests.adapters.tcec.harness import OPERATOR, TOKEN, Link, linked

PREFIX = "tcec:MA59J8YL8:"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float = 60) -> None:
    """Poll `check` until true or `seconds` have passed (a deadline, not a count of polls,
    each of which takes its own time on a loaded machine); the caller's assertions then
    say what is missing."""
    deadline = time.monotonic() + seconds
    while True:
        done = check()
        if await done if inspect.isawaitable(done) else done:
            return
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


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
                    select(energy_reports).where(
                        energy_reports.c.station_id == PREFIX + "1001",
                        energy_reports.c.day_from == date(2025, 5, 31),
                    )
                ).all()
            assert sorted(r.energy_wh for r in rows) == [30_500] * 4 + [122_000]

    run(scenario())


def test_the_background_pull_brings_prices_and_the_statistics_of_whole_days(
    tmp_path: Path,
) -> None:
    """docs/tcec.md: chargenet pulls stations, status, statistics and prices from an
    operator that only answers queries — query_equip_business_policy (T/CEC 102.3) for
    each connector, query_station_stats (102.2) for each whole day — and officials read
    both back: the prices as the station's tariffs, the energy per station and day."""
    clock = FixedClock(datetime(2025, 6, 3, 4, 0, tzinfo=UTC))  # 3 June, 12:00 in Shanghai
    policy, stats = "query_equip_business_policy", "query_station_stats"

    async def scenario() -> None:
        async with linked(
            tmp_path, clock=clock, pull=True, jobs=["tcec_pull"], tcec_poll_interval_s=0.05
        ) as link:
            sim = link.sim

            async def pulled() -> bool:
                """Every answer asked for is stored (asked is not yet stored: the last
                query's answer may still be on its way in)."""
                if sim.received.count(policy) < 8 or sim.received.count(stats) < 2 * 7:
                    return False
                tariffs = await private(link, f"/api/v1/stations/{PREFIX}1001/tariffs")
                energy = await private(link, f"/api/v1/stations/{PREFIX}1002/energy")
                return len({t["scope"] for t in tariffs}) == 5 and len(energy) == 7 * 5

            await until(pulled)
            tariffs = await private(link, f"/api/v1/stations/{PREFIX}1001/tariffs")
            by_scope = {t["scope"]: t for t in tariffs}
            assert set(by_scope) == {"", *(f"{PREFIX}1001E{e}C{c}" for e in (1, 2) for c in (1, 2))}
            assert [
                (p["start"], Decimal(p["energy_price"]), Decimal(p["service_price"]))
                for p in by_scope[PREFIX + "1001E1C1"]["periods"]
            ] == [(f"{t[:2]}:{t[2:4]}:{t[4:]}", e, s) for t, e, s in TARIFF]

            # The seven whole days before today (local), each station and each connector.
            energy = await private(link, f"/api/v1/stations/{PREFIX}1002/energy")
            days = [date(2025, 5, 27) + timedelta(days=n) for n in range(7)]
            station_rows = [r for r in energy if r["scope"] == ""]
            assert [r["day_from"] for r in station_rows] == [d.isoformat() for d in days]
            assert {r["energy_wh"] for r in station_rows} == {122_000}  # 4 × 30.5 kWh
            assert len(energy) == 7 * 5
            june = await private(
                link, f"/api/v1/stations/{PREFIX}1002/energy?start=2025-06-01&end=2025-06-02"
            )
            assert {r["day_from"] for r in june} == {"2025-06-01", "2025-06-02"}

            # Further rounds ask nothing again until a day has passed.
            asked = (sim.received.count(policy), sim.received.count(stats))
            rounds = sim.received.count("query_station_status")
            while sim.received.count("query_station_status") < rounds + 3:
                await asyncio.sleep(0.05)
            assert (sim.received.count(policy), sim.received.count(stats)) == asked
            clock.advance(timedelta(days=1))
            await until(
                lambda: (
                    sim.received.count(stats) >= asked[1] + 2
                    and sim.received.count(policy) >= asked[0] + 8
                )
            )
            await asyncio.sleep(0.2)  # a round more: none of them is asked twice
            assert sim.received.count(stats) == asked[1] + 2  # 3 June, for both stations
            assert sim.received.count(policy) == asked[0] + 8  # prices asked again daily

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
