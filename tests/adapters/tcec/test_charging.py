"""chargenet as the client of an operator's equipment: authorisation, prices, start,
status, stop, and the notifications and bill that follow; orders for tcec chargers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from chargenet.adapters.tcec import model
from chargenet.app.orders import Order
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from tests.adapters.tcec.harness import TOKEN, Link, linked

PREFIX = "tcec:MA59J8YL8:"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def private(link: Link, path: str) -> Any:
    async with httpx.AsyncClient(base_url=link.url) as http:
        response = await http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
        return response.json()


def test_a_charge_from_authorisation_to_bill(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim, tcec = link.sim, link.platform.tcec
            await sim.push_station("1001")
            partner = link.partner

            auth = await tcec.charging.authorise(partner, "1001E2C1")
            assert auth.SuccStat == 0
            tariffs = await tcec.puller.tariffs(partner, [(PREFIX + "1001", "1001E2C1")])
            assert tariffs.accepted == 1
            found = await private(link, f"/api/v1/stations/{PREFIX}1001/tariffs")
            by_scope = {t["scope"]: t for t in found}
            assert by_scope[""]["service_fee"] == "0.8 元/度"  # StationInfo's fee texts
            tariff = by_scope[PREFIX + "1001E2C1"]
            # PolicyInfos sent with the standard's spelling "SevicePrice".
            assert tariff["periods"][1] == {
                "start": "08:00:00",
                "energy_price": "1.00",
                "service_price": "0.80",
            }

            started = await tcec.charging.start(partner, "1001E2C1")
            assert started.SuccStat == 0
            seq = started.StartChargeSeq
            assert len(seq) == 27
            result = await tcec.charging.wait_for(partner, seq, model.StartChargeResult, 5.0)
            assert result is not None
            session_id = PREFIX + seq
            sessions = await private(link, "/api/v1/sessions?state=active")
            assert [s["session_id"] for s in sessions] == [session_id]

            status = await tcec.charging.status(partner, seq)  # query_equip_charge_status
            assert status.ok and status.accepted >= 2
            await sim.push("notification_equip_charge_status", sim.snapshot(seq))
            connectors = await private(link, f"/api/v1/connectors?station={PREFIX}1001")
            live = {c["connector_id"]: c for c in connectors}[PREFIX + "1001E2C1"]
            assert live["status"] == "charging"
            assert live["power_w"] == 40_000  # 400 V × 100 A

            stopping = tcec.charging.wait_for(partner, seq, model.ChargeOrderInfo, 5.0)
            stopped = await tcec.charging.stop(partner, seq, "1001E2C1")
            assert stopped.SuccStat == 0
            assert await stopping is not None
            await sim.settle()
            [session] = await private(link, "/api/v1/sessions?state=completed")
            assert session["session_id"] == session_id
            assert session["energy_wh"] == 2_500
            bill = await private(link, f"/api/v1/sessions/{session_id}/bill")
            assert bill["periods"] == 2 and bill["flags"] == ""
            assert Decimal(bill["total_amount"]) == Decimal(session["cost_amount"])
            assert [p["energy_wh"] for p in bill["items"]] == [1_250, 1_250]

    run(scenario())


def test_an_inconsistent_bill_is_kept_and_disputed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            from datetime import UTC, datetime

            sim.finished_session("S1", "1001E1C1", datetime(2025, 6, 1, 1, 0, tzinfo=UTC), 60, "20")
            order = sim.order("S1", total_money=Decimal("99.99"))  # not the sum of its parts
            answer = await sim.push("notification_charge_order_info", order)
            assert answer["ConfirmResult"] == 1
            bill = await private(link, f"/api/v1/sessions/{PREFIX}S1/bill")
            assert bill["flags"] == "total_not_sum"
            assert bill["total_amount"] == "99.99"

    run(scenario())


def stop_order(
    order_id: str, kind: OrderKind = OrderKind.STOP, target: str = PREFIX + "1001E1"
) -> Order:
    return Order(
        order_id=OrderId(order_id),
        kind=kind,
        charger_id=PREFIX + "1001E1",
        protocol="tcec",
        target_kind=TargetKind.CHARGER if target.endswith("E1") else TargetKind.CONNECTOR,
        target_id=target,
        reason="over-temperature found on inspection",
        issued_by="regulator",
    )


def outcomes(link: Link) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in link.platform.read.events(event_type="order.acknowledged", limit=100):
        found.setdefault(e["order_id"], []).append(e["outcome"])
    return found


def test_a_stop_order_reaches_the_operator_and_its_answer_is_the_outcome(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim, orders = link.sim, link.platform.orders
            await sim.push_station("1001")
            result = await orders.issue(stop_order("O1"))
            assert result.outcome is OrderOutcome.ACCEPTED
            assert sim.orders[0]["EquipmentID"] == "1001E1"
            assert sim.orders[0]["Kind"] == "stop"
            sim.order_answer = {"SuccStat": 1, "FailReason": 7, "Remark": "not ours"}
            assert (await orders.issue(stop_order("O2"))).outcome is OrderOutcome.REJECTED
            sim.order_answer = {"Status": 0}  # received, no decision
            assert (await orders.issue(stop_order("O3"))).outcome is OrderOutcome.NOTIFIED
            assert outcomes(link) == {"O1": ["accepted"], "O2": ["rejected"], "O3": ["notified"]}

    run(scenario())


def test_a_failed_push_is_resent_until_it_arrives(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, jobs=["outbox"]) as link:
            sim, orders = link.sim, link.platform.orders
            await sim.push_station("1001")
            sim.faults.endpoints = frozenset({"notification_supervision_order"})
            sim.faults.fail_next = 4  # the first attempt and three resends fail
            result = await orders.issue(stop_order("O1"))
            assert result.outcome is OrderOutcome.TIMEOUT
            assert "the outbox resends it" in result.detail
            for _ in range(200):
                if "O1" in outcomes(link) and len(outcomes(link)["O1"]) == 2:
                    break
                await asyncio.sleep(0.05)
            assert outcomes(link)["O1"] == ["timeout", "accepted"]
            assert sim.received.count("notification_supervision_order") == 5
            assert len(sim.orders) == 1  # delivered once
            [item] = link.platform.outbox.store.items()
            assert (item.kind, item.ref) == ("tcec.notification_supervision_order", "O1")
            assert (item.state, item.attempts) == ("delivered", 5)

    run(scenario())


def test_a_stop_order_whose_first_delivery_failed_is_in_force_once_the_resend_is_accepted(
    tmp_path: Path,
) -> None:
    """T/CEC 102.4: a push that fails is resent; the answer to the resend is the order's
    outcome, so the stop order is in force, not left `partial` by the first timeout."""

    async def scenario() -> None:
        async with linked(tmp_path, jobs=["outbox"]) as link:
            sim, supervision = link.sim, link.platform.supervision
            await sim.push_station("1001")
            sim.faults.endpoints = frozenset({"notification_supervision_order"})
            sim.faults.fail_next = 1  # HTTP 503 to the first attempt only
            issued = await supervision.issue_stop(
                TargetKind.CHARGER, PREFIX + "1001E1", "over-temperature", "regulator", None, 5
            )
            [delivery] = issued["deliveries"]
            assert delivery["outcome"] == "timeout"
            for _ in range(200):
                if len(outcomes(link).get(delivery["order_id"], [])) == 2:
                    break
                await asyncio.sleep(0.05)
            assert outcomes(link)[delivery["order_id"]] == ["timeout", "accepted"]
            stop = await asyncio.to_thread(supervision.queries.stop_order, issued["stop_id"])
            assert stop is not None
            assert [d["outcome"] for d in stop["deliveries"]] == ["accepted"]
            assert stop["state"] == "in_force"

    run(scenario())


def test_a_push_that_never_arrives_is_given_up_after_the_resends(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path, jobs=["outbox"], tcec_retry_attempts=4) as link:
            sim, orders = link.sim, link.platform.orders
            await sim.push_station("1001")
            sim.faults.endpoints = frozenset({"notification_supervision_order"})
            sim.faults.fail_next = 100
            await orders.issue(stop_order("O1"))
            for _ in range(200):
                if len(outcomes(link).get("O1", [])) == 2:
                    break
                await asyncio.sleep(0.05)
            assert outcomes(link)["O1"] == ["timeout", "failed"]
            assert sim.received.count("notification_supervision_order") == 5  # 1 + 4 resends
            [item] = link.platform.outbox.store.items()
            assert item.state == "failed"

    run(scenario())


def test_a_remote_stop_order_stops_the_active_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim, tcec = link.sim, link.platform.tcec
            await sim.push_station("1001")
            started = await tcec.charging.start(link.partner, "1001E1C2")
            await tcec.charging.wait_for(
                link.partner, started.StartChargeSeq, model.StartChargeResult, 5.0
            )
            result = await link.platform.orders.issue(
                stop_order("O9", OrderKind.REMOTE_STOP, PREFIX + "1001E1C2")
            )
            assert result.outcome is OrderOutcome.ACCEPTED
            await sim.settle()
            assert "query_stop_charge" in sim.received
            sessions, _ = link.platform.read.sessions(state="completed")
            assert [s["session_id"] for s in sessions] == [PREFIX + started.StartChargeSeq]

    run(scenario())


def test_a_result_pushed_before_anyone_waits_is_kept_for_the_waiter() -> None:
    """Operators push the start result right after answering query_start_charge; it can
    arrive before the caller has begun to wait for it, and must not be lost."""
    from types import SimpleNamespace

    from chargenet.adapters.tcec.outward import Charging

    charging = Charging(clients=None, intake=None, clock=None, our_operator_id="X")  # type: ignore[arg-type]
    partner: Any = SimpleNamespace(partner_id="MA59J8YL8")
    result = model.StartChargeResult(
        StartChargeSeq="S1",
        StartChargeSeqStat=2,
        ConnectorID="1001E2C1",
        StartTime="2025-05-01 08:00:00",
    )
    charging.heard(partner, "S1", result)
    assert run(charging.wait_for(partner, "S1", model.StartChargeResult, 0.1)) is result
    assert run(charging.wait_for(partner, "S1", model.StartChargeResult, 0.01)) is None  # once


def test_a_sessions_energy_shows_in_the_hourly_energy(tmp_path: Path) -> None:
    """T/CEC 102 sends no meter register: the hourly energy comes from each session's energy
    so far (TotalPower) in its snapshots, and from its order (StartTime, each ChargeDetails
    period's end, EndTime) for a session no snapshot was pushed for."""

    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            now = datetime.now(UTC)
            t0 = now.replace(minute=30, second=0, microsecond=0) - timedelta(hours=6)
            hour = t0.replace(minute=0)
            # A session known only by its order: 30 kWh over 2 h, two periods (15 + 15 kWh).
            order = sim.finished_session("S1", "1001E1C1", t0, 120, "30")
            assert (await sim.push("notification_charge_order_info", order))["ConfirmResult"] == 0
            # A session pushed as it charges, from t0 + 3 h: three snapshots, no order yet.
            t1 = t0 + timedelta(hours=3)
            seq = "MA59J8YL8" + "2" * 18
            for minutes, kwh in ((20, "2"), (40, "8"), (70, "14.5")):
                snapshot = {
                    "StartChargeSeq": seq,
                    "StartChargeSeqStat": 2,
                    "ConnectorID": "1001E2C1",
                    "ConnectorStatus": 3,
                    "StartTime": sim._time(t1),
                    "EndTime": sim._time(t1 + timedelta(minutes=minutes)),
                    "TotalPower": kwh,
                    "CurrentA": 100.0,
                    "VoltageA": 400.0,
                }
                assert (await sim.push("notification_equip_charge_status", snapshot))[
                    "SuccStat"
                ] == 0
            figures = await private(
                link,
                f"/api/v1/orderly/energy?station={PREFIX}1001"
                f"&start={(hour - timedelta(hours=1)).isoformat().replace('+00:00', 'Z')}"
                f"&end={(hour + timedelta(hours=6)).isoformat().replace('+00:00', 'Z')}",
            )
            by_hour = {datetime.fromisoformat(h["hour"]): h["energy_wh"] for h in figures["hours"]}
            h = [hour + timedelta(hours=n) for n in range(6)]
            assert by_hour == {
                h[0]: 15_000,  # S1: 0 at its start (:30) → 15 kWh at its first period's end
                h[1]: 15_000,  # S1: → 30 kWh at its end, an hour later
                h[2]: 0,  # S1's end
                h[3]: 8_000,  # S2: 0 at its start (:30) → 2 (:50) → 8 kWh (:10 of the next)
                h[4]: 6_500,  # S2: 8 → 14.5 kWh (:40)
            }
            assert figures["energy_wh"] == 30_000 + 14_500

    run(scenario())
