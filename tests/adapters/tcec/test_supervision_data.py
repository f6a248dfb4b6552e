"""The supervision data municipal platforms take from operator platforms — alarms, station
events, the BMS during a charge, parking bays — arrive over real encrypted, signed T/CEC
envelopes from the operator simulator and feed the same safety rules as OCPP; every
message a partner sends is counted, refusals kept, and the share accepted is the
operator's interface-compliance figure in its scorecard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargenet.app.orders import Order
from chargenet.app.supervision_ports import AlarmListRow, Scope
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from chargenet.demo.tcec_operator import SimulatorError
from tests.adapters.tcec.harness import OPERATOR, TOKEN, Link, linked

PREFIX = "tcec:MA59J8YL8:"


async def get(link: Link, path: str) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=link.url, headers=headers) as http:
        answer = await http.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def eventually(check: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def alarms(link: Link, open_only: bool = False) -> list[AlarmListRow]:
    queries = link.platform.supervision.queries
    return list(queries.alarms(Scope(), open_only, None, 100, 0)[0])


class Rules:
    """The safety rules running as in `chargenet serve`, on the platform's bus."""

    def __init__(self, link: Link) -> None:
        platform = link.platform
        self.job = asyncio.create_task(platform.supervision.run_alarms(platform.bus.subscribe()))

    async def stop(self) -> None:
        self.job.cancel()
        await asyncio.gather(self.job, return_exceptions=True)


def test_an_operator_alarm_raises_an_alarm_and_its_end_clears_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            rules = Rules(link)
            try:
                start = datetime.now(UTC) - timedelta(minutes=2)
                answer = await sim.push_alarm(
                    "1001E1", "101", connector="1001E1C2", level=1, note="枪头温度异常", at=start
                )
                assert answer == {"Status": 0}
                await eventually(lambda: len(alarms(link, True)) == 1)
                [alarm] = alarms(link, True)
                assert (alarm["target_kind"], alarm["target_id"]) == (
                    "connector",
                    PREFIX + "1001E1C2",
                )
                assert alarm["severity"] == "critical"  # AlarmLevel 1
                assert "枪头温度异常" in alarm["message"]
                await sim.push_alarm(
                    "1001E1",
                    "101",
                    connector="1001E1C2",
                    occurring=False,
                    at=start + timedelta(minutes=1),
                )
                await eventually(lambda: alarms(link, True) == [])
            finally:
                await rules.stop()
            [notice, over] = link.events("equipment.noticed")
            assert (notice["charger_id"], notice["kind"], notice["code"]) == (
                PREFIX + "1001E1",
                "alarm",
                "101",
            )
            assert (notice["cleared"], over["cleared"]) == (False, True)

    run(scenario())


def test_a_resent_alarm_is_one_event(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            at = datetime.now(UTC) - timedelta(minutes=1)
            for _ in range(2):  # a resend: a new envelope, the same alarm
                await sim.push_alarm("1001E2", "205", level=2, at=at)
            assert len(link.events("equipment.noticed")) == 1

    run(scenario())


def test_a_hot_battery_in_a_bms_report_raises_a_critical_alarm(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            rules = Rules(link)
            bms = {
                "Soc": 48,
                "TatalVoltage": 380.5,
                "TotalCurrent": 120,
                "VoltageH": 4.12,
                "VoltageL": 3.98,
                "MaxChargeCellVoltage": 4.25,
                "TemptureL": 31,
                "MaxTemp": 55,
                "BMSCode": "FFFFFFDF08070211",
                "BMSVer": "1.17V",
            }
            try:
                assert await sim.push_bms("1001E1C1", {**bms, "TemptureH": 42}) == {"Status": 0}
                await asyncio.sleep(0.3)
                assert alarms(link) == []  # below the BMS's own 55 °C
                await sim.push_bms("1001E1C1", {**bms, "TemptureH": 57})
                await eventually(lambda: len(alarms(link, True)) == 1)
            finally:
                await rules.stop()
            [alarm] = alarms(link)
            assert (alarm["code"], alarm["severity"]) == ("battery_over_temperature", "critical")
            assert alarm["target_id"] == PREFIX + "1001E1C1"
            first = link.events("battery.reported")[0]
            assert (first["soc_percent"], first["voltage_v"], first["cell_voltage_limit_v"]) == (
                48.0,
                380.5,
                4.25,
            )
            # The connector's status travels with the report (Status 3: charging).
            charging = [e["status"] for e in link.events("connector.status_changed")]
            assert charging == ["charging"]

    run(scenario())


def test_a_station_event_is_kept_against_the_station(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            assert await sim.push_event("1001", "3001", note="停车场入口施工") == {"Status": 0}
            [event] = link.events("station.noticed")
            assert event["station_id"] == PREFIX + "1001"
            assert (event["code"], event["info"]) == ("event 3/3001", "停车场入口施工")

    run(scenario())


def test_park_and_lock_status_are_kept_as_the_bays_occupancy(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            await sim.push_station("1001")
            await sim.push_status("1001E1C1", 1, park=50, lock=10)  # idle, a car in the bay
            await sim.push_status("1001E1C2", 3, park=50, lock=50)
            await sim.push_status("1001E2C1", 1, park=10)
            await sim.push_status("1001E2C1", 1, park=10)  # a resend: nothing new
            reports = {
                e["connector_id"]: (e["occupied"], e["locked"])
                for e in link.events("parking.reported")
            }
            assert reports == {
                PREFIX + "1001E1C1": (True, False),
                PREFIX + "1001E1C2": (True, True),
                PREFIX + "1001E2C1": (False, None),
            }
            assert len(link.events("parking.reported")) == 3
            # The station's figures: three bays report, two are taken, one by a vehicle
            # that is not charging (its connector idle).
            [row] = link.platform.parking.figures(None, None, "station")
            assert row["group"] == PREFIX + "1001"
            assert (row["bays_reported"], row["occupied"], row["occupied_not_charging"]) == (
                3,
                2,
                1,
            )
            assert (row["occupied_charging"], row["locks_up"]) == (1, 1)
            [county] = link.platform.parking.figures(None, None, "county")
            assert (county["group"], county["occupied_not_charging_percent"]) == ("140902", 33.3)
            # A station's row names it and its operator; an area's has no such fields.
            assert row["operator_id"] and row["name"] and "charging_spaces" in row
            assert not {"name", "operator_id", "charging_spaces"} & county.keys()
            with pytest.raises(SimulatorError, match="ParkStatus 7"):
                await sim.push_status("1001E2C2", 1, park=7)

    run(scenario())


def test_refused_messages_are_kept_per_partner_and_lower_the_compliance_score(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim, platform = link.sim, link.platform
            await sim.push_station("1001")
            for status in (1, 3, 1):
                await sim.push_status("1001E1C1", status)
            # A Status outside the code list (4003); a connector that is not the partner's (4004).
            for connector, status in (("1001E1C1", 9), ("1001E9C9", 1)):
                with pytest.raises(SimulatorError):
                    await sim.push_status(connector, status)
            # A tampered envelope: refused on its signature, still the partner's message.
            token = await sim.token()
            request = sim.envelope(
                {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 1}}
            )
            request["Sig"] = "0" * 32
            answer = await sim.send("notification_stationStatus", request, token)
            assert answer["Ret"] == 4001
            recorder = platform.tcec.recorder
            assert recorder is not None
            await asyncio.to_thread(recorder.flush)

            refused = await get(link, f"/api/v1/tcec/partners/{sim.operator_id}/refusals")
            assert sorted(r["ret"] for r in refused) == [4001, 4003, 4004]
            assert {r["endpoint"] for r in refused} == {"notification_stationStatus"}
            assert any("Status 9" in r["reason"] for r in refused)

            now = datetime.now(UTC)
            cards = platform.supervision.scorecards(
                Scope(), now - timedelta(days=1), now + timedelta(hours=1)
            )
            [card] = [c for c in cards if c.operator_id == OPERATOR]
            # query_token, the station, three statuses accepted; three refused.
            accepted, total = 5, 8
            assert card.values["compliance"] == pytest.approx(accepted / total * 100)
            assert card.sub_scores["compliance"] == 0.0  # 62.5 % is below the worst end, 90 %

    run(scenario())


def test_a_zombie_notice_reaches_a_tcec_operator_and_its_answer_is_kept(tmp_path: Path) -> None:
    """A notice (R34) to a charger reported over T/CEC goes to its operator's platform as
    `notification_supervision_order` with Kind "notice"; the answer is the order's."""

    async def scenario() -> None:
        async with linked(tmp_path) as link:
            sim = link.sim
            sim.order_answer = {"Remark": "已安排检修"}  # acknowledged, no decision
            await sim.push_station("1001")
            order = Order(
                order_id=OrderId("notice-1"),
                kind=OrderKind.NOTICE,
                charger_id=PREFIX + "1001E1",
                protocol="tcec",
                target_kind=TargetKind.CHARGER,
                target_id=PREFIX + "1001E1",
                parameters={"zombie_case": "Z1", "deadline": "2026-01-01T00:00:00+00:00"},
                reason="zombie pile (R34): rectify or ask for its exit by 2026-01-01",
                issued_by="rules",
            )
            assert link.platform.orders.check(order) is None
            result = await link.platform.orders.issue(order, 5.0)
            assert (result.outcome, result.detail) == (OrderOutcome.NOTIFIED, "已安排检修")
            [sent] = sim.orders
            assert (sent["Kind"], sent["EquipmentID"]) == ("notice", "1001E1")
            assert sent["Reason"].startswith("zombie pile")

    run(scenario())
