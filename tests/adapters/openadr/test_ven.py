"""chargenet as an OpenADR 2.0b VEN against `openleadr`'s VTN: an event lowers the managed
site's limit to its target for its time, the plan keeps under it, and the limit recovers
when the event is over; a signal chargenet cannot follow is answered optOut."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openleadr import OpenADRServer

from chargenet.adapters.openadr.ven import Ven, VenConfig, calls
from chargenet.analytics.demand_response import quarter_floor
from chargenet.bootstrap import Platform
from chargenet.core.events import GridConnectionStated, MeterSampled, SessionStarted
from chargenet.core.ids import ConnectorId, SessionId, StationId
from chargenet.kit.net import free_port
from tests.builders import charger, meta, small_world, station

CAPACITY_W = 100_000
QUARTER = timedelta(minutes=15)
# openleadr keys aiohttp's app by strings (aiohttp asks for AppKeys): its own affair.
pytestmark = pytest.mark.filterwarnings("ignore:It is recommended to use web.AppKey")


def _site(platform: Platform) -> None:
    now = datetime.now(UTC)
    platform.ingestor.ingest(
        [
            *small_world(),
            GridConnectionStated(
                **meta(now),
                station_id=StationId("S1"),
                valid_from=now - timedelta(hours=1),
                capacity_w=CAPACITY_W,
            ),
            SessionStarted(
                **meta(now),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            ),
            SessionStarted(
                **meta(now),
                session_id=SessionId("T2"),
                connector_id=ConnectorId("C1-2-1"),
                meter_start_wh=0,
            ),
        ]
    )


async def _vtn(port: int, reports: dict[str, list[float]] | None = None) -> OpenADRServer:
    """The grid operator's VTN (openleadr), registering any VEN and taking every report it
    offers every second, its values kept by report type (reading, baseline)."""
    vtn = OpenADRServer(
        vtn_id="VTN_STATE_GRID",
        http_host="127.0.0.1",
        http_port=port,
        requested_poll_freq=timedelta(seconds=1),
    )

    async def registration(info: dict[str, Any]) -> tuple[str, str]:
        return "VEN_CHARGENET", "REG_1"

    async def register_report(report: dict[str, Any]) -> list[tuple[str, Any, timedelta]] | None:
        if reports is None:
            return None

        def keep(kind: str) -> Any:
            def received(values: list[tuple[datetime, float]]) -> None:
                reports.setdefault(kind, []).extend(v for _, v in values)

            return received

        return [
            (d["r_id"], keep(d["report_type"]), timedelta(seconds=1))
            for d in report["report_descriptions"]
        ]

    vtn.add_handler("on_create_party_registration", registration)
    vtn.add_handler("on_register_report", register_report)
    await vtn.run()
    return vtn


def _planned_now_w(platform: Platform) -> float:
    _, result = platform.orderly.replan()
    return float(result.power_w[:, 0].sum())


def test_a_vtn_event_lowers_the_sites_limit_for_its_time_and_it_recovers(
    platform: Platform,
) -> None:
    _site(platform)
    port = free_port()
    answers: list[str] = []

    async def scenario() -> tuple[float, float, float, list[Any]]:
        vtn = await _vtn(port)

        async def responded(ven_id: str, event_id: str, opt_type: str) -> None:
            answers.append(opt_type)

        await platform.start()
        before = _planned_now_w(platform)
        start = datetime.now(UTC)
        vtn.add_event(
            ven_id="VEN_CHARGENET",
            signal_name="LOAD_CONTROL",
            signal_type="x-loadControlCapacity",
            intervals=[{"dtstart": start, "duration": timedelta(seconds=4), "signal_payload": 0.4}],
            callback=responded,
        )
        ven = Ven(
            VenConfig(f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b", "chargenet"),
            platform.orderly,
            lambda: datetime.now(UTC),
        )
        await ven.run()
        try:
            for _ in range(100):
                if platform.read.events(event_type="dr.called"):
                    break
                await asyncio.sleep(0.1)
            during = _planned_now_w(platform)
            await asyncio.sleep(
                max(0.0, (start + timedelta(seconds=4.5) - datetime.now(UTC)).total_seconds())
            )
            after = _planned_now_w(platform)
            for _ in range(50):
                if answers:
                    break
                await asyncio.sleep(0.1)
        finally:
            await ven.stop()
            await vtn.stop()
            await platform.stop()
        return before, during, after, platform.read.events(event_type="dr.called")

    before, during, after, recorded = asyncio.run(scenario())
    assert before > 0.4 * CAPACITY_W  # two DC sessions want more than the event allows
    assert during <= 0.4 * CAPACITY_W + 1
    assert after > 0.4 * CAPACITY_W + 1
    assert answers == ["optIn"]
    assert recorded[0]["share"] == 0.4 and recorded[0]["scope"] == "all"


def test_a_signal_chargenet_cannot_follow_is_refused_and_simple_levels_map_to_shares() -> None:
    now = datetime.now(UTC)
    base = {
        "event_descriptor": {"event_id": "E1", "event_status": "far"},
        "targets_by_type": {"resource_id": ["S1", "feeder:F1"]},
    }

    def signal(name: str, kind: str, payload: float) -> dict[str, Any]:
        interval = {"dtstart": now, "duration": timedelta(hours=1), "signal_payload": payload}
        return {
            **base,
            "event_signals": [{"signal_name": name, "signal_type": kind, "intervals": [interval]}],
        }

    assert calls(signal("ELECTRICITY_PRICE", "price", 1.2), now) is None
    simple = calls(signal("SIMPLE", "level", 2), now)
    assert simple is not None
    assert {(c.scope.value, c.scope_id, c.share) for c in simple} == {
        ("station", "S1", 0.5),
        ("feeder", "F1", 0.5),
    }
    cancelled = {**signal("SIMPLE", "level", 1)}
    cancelled["event_descriptor"] = {"event_id": "E1", "event_status": "cancelled"}
    ended = calls(cancelled, now + timedelta(minutes=10))
    assert ended is not None and all(c.end == now + timedelta(minutes=10) for c in ended)


def test_the_ven_reports_load_and_baseline_and_opts_out_where_sites_cannot_shed(
    platform: Platform,
) -> None:
    """S2 is configured never to shed: an event for S2 alone is answered optOut and
    recorded nowhere; an event for all managed stations is followed by S1 only. The VTN
    receives the metered load (12 + 3 kW now) and its baseline (20 kW in this quarter hour
    on every day before)."""
    now = datetime.now(UTC)
    quarter = quarter_floor(now)
    history = [
        MeterSampled(**meta(at), connector_id=ConnectorId("C1-1-1"), power_w=20_000)
        for days in range(1, 50)
        for at in (quarter - timedelta(days=days), quarter - timedelta(days=days) + QUARTER)
    ]
    platform.ingestor.ingest(
        [
            *small_world(),
            station("S2", lat=38.73, lon=112.71),
            charger("C2", "S2", power_w=40_000),
            *(
                GridConnectionStated(
                    **meta(now),
                    station_id=StationId(s),
                    valid_from=now - timedelta(days=60),
                    capacity_w=w,
                )
                for s, w in (("S1", CAPACITY_W), ("S2", 50_000))
            ),
            *history,
            MeterSampled(**meta(now), connector_id=ConnectorId("C1-1-1"), power_w=12_000),
            MeterSampled(**meta(now), connector_id=ConnectorId("C2-1-1"), power_w=3_000),
        ]
    )
    port = free_port()
    answers: dict[str, str] = {}
    reports: dict[str, list[float]] = {}

    async def scenario() -> list[Any]:
        vtn = await _vtn(port, reports)
        await platform.start()

        async def responded(ven_id: str, event_id: str, opt_type: str) -> None:
            answers[event_id] = opt_type

        for event_id, targets in (("ONLY_S2", {"resource_id": ["S2"]}), ("ALL", None)):
            vtn.add_event(
                ven_id="VEN_CHARGENET",
                event_id=event_id,
                signal_name="SIMPLE",
                signal_type="level",
                intervals=[
                    {"dtstart": now, "duration": timedelta(minutes=30), "signal_payload": 2}
                ],
                targets_by_type=targets,
                callback=responded,
            )
        ven = Ven(
            VenConfig(
                f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
                "chargenet",
                report_every_s=1,
                opt_out=frozenset({"S2"}),
            ),
            platform.orderly,
            lambda: datetime.now(UTC),
            platform.orderly_figures,
        )
        await ven.run()
        try:
            for _ in range(150):
                if len(answers) == 2 and reports.get("reading") and reports.get("baseline"):
                    break
                await asyncio.sleep(0.1)
        finally:
            await ven.stop()
            await vtn.stop()
            await platform.stop()
        return platform.read.events(event_type="dr.called")

    recorded = asyncio.run(scenario())
    assert answers == {"ONLY_S2": "optOut", "ALL": "optIn"}
    assert [(r["scope"], r["scope_id"], r["share"]) for r in recorded] == [("station", "S1", 0.5)]
    assert reports["reading"][0] == pytest.approx(15.0)
    assert reports["baseline"][0] == pytest.approx(20.0)
