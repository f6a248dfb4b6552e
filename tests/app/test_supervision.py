"""Supervision on a real store: history from late reports, uptime by group, zombie cases,
the alarm job on the bus, and stop orders through controllers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from chargenet.app.orders import Order, OrderResult
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import (
    ChargerPresenceChanged,
    ChargerRegistered,
    ChargerUpdated,
    ConnectorStatusChanged,
    Event,
    MeterSampled,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId, StationId
from chargenet.core.oversight import ExclusionReason, ZombieOutcome
from chargenet.core.registry.model import (
    ChargerRecord,
    ConnectorRecord,
    ConnectorStandard,
    EvseRecord,
    PowerType,
)
from chargenet.core.status import ConnectorStatus as S
from chargenet.core.supervision import OrderOutcome, TargetKind
from chargenet.demo.control import DemoControl, Holds
from chargenet.demo.live import load_city
from chargenet.kit.clock import FixedClock
from tests import migrated
from tests.builders import charger, meta, small_world

T = TypeVar("T")
# Midnight in Shanghai, so that local days and months line up with the figures below.
DAY0 = datetime(2025, 5, 31, 16, tzinfo=UTC)  # 2025-06-01 00:00 +08:00


def h(hours: float) -> datetime:
    return DAY0 + timedelta(hours=hours)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(h(24 * 40))


@pytest.fixture
def sup(tmp_path: Path, clock: FixedClock) -> Iterator[Platform]:
    p = bootstrap(
        Settings(database_url=migrated.sqlite_url(tmp_path / "sup.db"), sqlite_synchronous="OFF"),
        clock=clock,
    )
    yield p
    p.close()


class Runner:
    """One event loop for a test, with the pipeline started once (it cannot restart)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(platform.start())

    def __call__(self, work: Callable[[], Awaitable[T]]) -> T:
        return self.loop.run_until_complete(work())

    def close(self) -> None:
        self.loop.run_until_complete(self.platform.stop())
        self.loop.close()


@pytest.fixture
def run(sup: Platform) -> Iterator[Runner]:
    runner = Runner(sup)
    yield runner
    runner.close()


def status(hours: float, cid: str, s: S, code: str | None = None) -> ConnectorStatusChanged:
    return ConnectorStatusChanged(
        **meta(h(hours)), connector_id=ConnectorId(cid), status=s, error_code=code
    )


def online(hours: float, charger_id: str, up: bool = True) -> ChargerPresenceChanged:
    return ChargerPresenceChanged(**meta(h(hours)), charger_id=ChargerId(charger_id), online=up)


def test_late_reports_land_between_the_right_neighbours(sup: Platform) -> None:
    sup.ingestor.ingest(small_world())
    sup.ingestor.ingest(
        [
            online(0, "C1"),
            status(0, "C1-1-1", S.AVAILABLE),
            status(3, "C1-1-1", S.AVAILABLE),  # a repeat, which the late report must respect
            status(5, "C1-1-1", S.CHARGING),
        ]
    )
    sup.ingestor.ingest([status(2, "C1-1-1", S.FAULTED, "GroundFailure")])  # arrives last
    result = sup.supervision.history("C1-1-1", h(0), h(6))
    assert [(i["status"], i["start"], i["end"], i["cause"]) for i in result["intervals"]] == [
        ("available", h(0), h(2), ""),
        ("faulted", h(2), h(3), "GroundFailure"),
        ("available", h(3), h(5), ""),
        ("charging", h(5), h(6), ""),
    ]
    assert [(o["status"], o["seconds"]) for o in result["outages"]] == [("faulted", 3600.0)]
    assert result["figures"]["nevi_uptime"] == pytest.approx(5 / 6 * 100, abs=1e-3)
    # The live view keeps its own rule (the newest report wins), unchanged.
    [live] = [c for c in sup.read.connectors()[0] if c["connector_id"] == "C1-1-1"]
    assert live["status"] == "charging"


def test_uptime_by_group_with_an_exclusion_and_a_silent_charger(sup: Platform, run: Runner) -> None:
    sup.ingestor.ingest([*small_world(), charger("C2", guns=1)])
    sup.ingestor.ingest(
        [
            online(0, "C1"),
            online(0, "C2"),
            status(0, "C1-1-1", S.AVAILABLE),
            status(0, "C1-2-1", S.AVAILABLE),
            status(0, "C2-1-1", S.AVAILABLE),
            status(10, "C1-1-1", S.FAULTED, "OtherError"),  # 4 h faulted
            status(14, "C1-1-1", S.AVAILABLE),
            ChargerPresenceChanged(
                **meta(h(20)), charger_id=ChargerId("C2"), online=False
            ),  # 4 h silent
        ]
    )

    async def mark() -> str:
        return await sup.supervision.exclude(
            TargetKind.CHARGER, "C1", h(12), h(13), ExclusionReason.UTILITY_OUTAGE, "grid", "op"
        )

    run(mark)
    by_connector = {
        r["group"]: r for r in sup.supervision.uptime(Scope(), h(0), h(24), "connector")
    }
    assert (
        by_connector["C1-1-1"]["outage_hours"] == 4
        and by_connector["C1-1-1"]["excluded_hours"] == 1
    )
    assert by_connector["C1-1-1"]["nevi_uptime"] == pytest.approx((24 - 3) / 24 * 100, abs=1e-3)
    assert (
        by_connector["C2-1-1"]["offline_hours"] == 4
        and by_connector["C2-1-1"]["faulted_hours"] == 0
    )
    assert by_connector["C2-1-1"]["uk_reliability"] == 100.0  # UNKNOWN counts as reliable
    [station] = sup.supervision.uptime(Scope(area="140902"), h(0), h(24), "station")
    assert station["connectors"] == 3 and station["outage_hours"] == 8
    assert station["nevi_uptime"] == pytest.approx((72 - 7) / 72 * 100, abs=1e-3)
    assert station["ports_meeting_nevi"] == 1  # C1-2-1 at 100 %; the others below 97 %
    assert sup.supervision.uptime(Scope(operator="NOBODY"), h(0), h(24)) == []


def test_nevi_reports_each_of_twelve_months_and_the_year(sup: Platform) -> None:
    sup.ingestor.ingest(small_world())
    sup.ingestor.ingest(
        [
            online(-24 * 31, "C1"),  # online since 1 May, local
            status(-24 * 31, "C1-1-1", S.AVAILABLE),
            status(0, "C1-1-1", S.AVAILABLE),  # June 1st, local
            status(24 * 30 - 2, "C1-1-1", S.FAULTED),  # 30 June 22:00 to 1 July 02:00 local
            status(24 * 30 + 2, "C1-1-1", S.AVAILABLE),
        ]
    )
    rows = sup.supervision.nevi_monthly(Scope(connector="C1-1-1"), 2025, 7, "connector")
    by_period = {r["period"]: r for r in rows}
    assert list(by_period)[:2] == ["2024-08", "2024-09"] and len(by_period) == 13
    # In service from its first report (1 May 00:00 local), not from its registration
    # (1 May 16:00 local); before that it is not in the figures.
    assert by_period["2025-05"]["hours"] == 31 * 24
    assert by_period["2024-08"]["hours"] == 0
    assert by_period["2025-06"]["outage_hours"] == 2 and by_period["2025-07"]["outage_hours"] == 2
    june_total = by_period["2025-06"]["hours"]
    assert by_period["2025-06"]["nevi_uptime"] == pytest.approx(
        (june_total - 2) / june_total * 100, abs=1e-3
    )
    assert by_period["12m"]["outage_hours"] == pytest.approx(
        4 + by_period["2025-05"]["outage_hours"]
    )


def test_time_that_has_not_happened_yet_is_not_counted(sup: Platform, clock: FixedClock) -> None:
    """NEVI 680.116(b) and PCPR reg. 7 measure time a port was in service; a period running
    past now (the current month, its 12 months, the current year, an `end` ahead) counts
    up to now, not as if the last status went on."""
    now = clock.now()  # 11 July 2025, 00:00 local
    connected = now - timedelta(hours=73)
    sup.ingestor.ingest([*small_world(), charger("C2", guns=1, when=connected)])
    sup.ingestor.ingest(
        [
            ChargerPresenceChanged(**meta(connected), charger_id=ChargerId("C2"), online=True),
            ConnectorStatusChanged(
                **meta(connected), connector_id=ConnectorId("C2-1-1"), status=S.AVAILABLE
            ),
        ]
    )
    c2 = Scope(charger="C2")
    [row] = sup.supervision.uptime(c2, connected, connected + timedelta(days=31), "connector")
    assert (row["hours"], row["nevi_uptime"]) == (73, 100.0)
    by_period = {r["period"]: r for r in sup.supervision.nevi_monthly(c2, 2025, 7)}
    assert by_period["2025-07"]["hours"] == 73 and by_period["12m"]["hours"] == 73
    [uk] = sup.supervision.uk_reliability(c2, 2025, rapid_only=False)
    assert uk["hours"] == 73


def test_a_gun_its_charger_no_longer_lists_is_measured_until_then(sup: Platform) -> None:
    """A connector dropped by its charger's update (the charger staying in service) is
    measured while it was in service, and not afterwards: neither as available, which would
    lift the uptime, nor as an outage."""
    sup.ingestor.ingest(small_world())
    sup.ingestor.ingest(
        [
            online(0, "C1"),
            status(0, "C1-1-1", S.AVAILABLE),
            status(0, "C1-2-1", S.AVAILABLE),
            ChargerUpdated(**meta(h(6)), charger=charger("C1", guns=1).charger),
            status(12, "C1-1-1", S.FAULTED, "OtherError"),  # 12 h faulted
        ]
    )
    rows = {r["group"]: r for r in sup.supervision.uptime(Scope(), h(0), h(24), "connector")}
    assert (rows["C1-2-1"]["hours"], rows["C1-2-1"]["nevi_uptime"]) == (6, 100.0)
    assert (rows["C1-1-1"]["hours"], rows["C1-1-1"]["outage_hours"]) == (24, 12)
    [station] = sup.supervision.uptime(Scope(station="S1"), h(0), h(24), "station")
    assert station["nevi_uptime"] == pytest.approx((30 - 12) / 30 * 100, abs=1e-3)


def test_service_begins_at_commissioning_not_at_import(sup: Platform, clock: FixedClock) -> None:
    """A charger imported before it is installed is not out of service meanwhile: its time
    begins at its first connection, or at the commissioning its operator states."""
    now = clock.now()
    imported, commissioned, connected = (now - timedelta(days=d) for d in (10, 6, 4))
    c3 = charger("C3", guns=1, when=imported)
    c4 = charger("C4", guns=1, when=imported)
    c4 = replace(c4, charger=replace(c4.charger, commissioned_at=commissioned))
    sup.ingestor.ingest([*small_world(), c3, c4])
    sup.ingestor.ingest(
        [
            event
            for cid in ("C3", "C4")
            for event in (
                ChargerPresenceChanged(**meta(connected), charger_id=ChargerId(cid), online=True),
                ConnectorStatusChanged(
                    **meta(connected), connector_id=ConnectorId(f"{cid}-1-1"), status=S.AVAILABLE
                ),
            )
        ]
    )
    rows = {
        r["group"]: r
        for r in sup.supervision.uptime(Scope(station="S1"), imported, now, "connector")
    }
    assert (rows["C3-1-1"]["hours"], rows["C3-1-1"]["nevi_uptime"]) == (96, 100.0)
    # From its stated commissioning: two days without a word from it are an outage.
    assert (rows["C4-1-1"]["hours"], rows["C4-1-1"]["offline_hours"]) == (144, 48)
    history = sup.supervision.history("C3-1-1", imported, now)
    assert history["intervals"][0]["start"] == connected
    # Never connected and no commissioning stated: not in service, not in the figures.
    assert rows["C1-1-1"]["hours"] == 0 and rows["C1-1-1"]["ports"] == 0


def dual_cable_charger(charger_id: str, power_w: int = 150_000) -> ChargerRegistered:
    """One port (EVSE) with a CCS and a CHAdeMO cable: one vehicle at a time."""
    cables = tuple(
        ConnectorRecord(
            connector_no=n, standard=standard, power_type=PowerType.DC, max_power_w=power_w
        )
        for n, standard in ((1, ConnectorStandard.CCS1), (2, ConnectorStandard.CHADEMO))
    )
    record = ChargerRecord(
        charger_id=ChargerId(charger_id),
        station_id=StationId("S1"),
        protocol="ocpp2.0.1",
        evses=(EvseRecord(evse_no=1, connectors=cables),),
    )
    return ChargerRegistered(**meta(h(0)), charger=record)


def test_nevi_counts_ports_not_cables_unless_asked_per_connector(sup: Platform) -> None:
    """23 CFR 680.104: a charging port "may have multiple connectors, but it can provide
    power to charge only one EV through one connector at a time"; 680.116(b) counts uptime
    per port."""
    sup.ingestor.ingest([*small_world(), dual_cable_charger("D1")])
    sup.ingestor.ingest(
        [
            online(0, "D1"),
            status(0, "D1-1-1", S.AVAILABLE),
            status(0, "D1-1-2", S.AVAILABLE),
            status(2, "D1-1-2", S.FAULTED, "OtherError"),  # CHAdeMO broken 02–08
            status(8, "D1-1-2", S.AVAILABLE),
        ]
    )
    d1 = Scope(charger="D1")
    [port] = sup.supervision.uptime(d1, h(0), h(24), "port")
    assert (port["group"], port["ports"], port["connectors"]) == ("D1-1", 1, 2)
    assert (port["hours"], port["nevi_uptime"]) == (24, 100.0)  # CCS could charge all day
    cables = sup.supervision.uptime(d1, h(0), h(24), "connector")
    assert [(c["group"], c["outage_hours"]) for c in cables] == [("D1-1-1", 0), ("D1-1-2", 6)]
    # The NEVI report is per port by default, per connector on request.
    rows = sup.supervision.nevi_monthly(d1, 2025, 6)
    june = next(r for r in rows if r["period"] == "2025-06")
    assert (june["unit"], june["ports"], june["ports_meeting_nevi"]) == ("port", 1, 1)
    per_cable = sup.supervision.nevi_monthly(d1, 2025, 6, "connector")
    june = next(r for r in per_cable if r["period"] == "2025-06" and r["group"] == "D1-1-2")
    assert june["outage_hours"] == 6
    [charger_row] = sup.supervision.uptime(d1, h(0), h(24), "charger", unit="connector")
    assert (charger_row["ports"], charger_row["outage_hours"]) == (2, 6)


def test_a_port_the_charger_limits_below_its_minimum_power_is_not_up_for_nevi(
    sup: Platform,
) -> None:
    """23 CFR 680.116(b): up only when the port "successfully dispenses electricity in
    accordance with requirements for minimum power level (see § 680.106(d))" — 150 kW for
    a DC port. The UK measures the EVSE status, which stays charging."""
    sup.ingestor.ingest([*small_world(), dual_cable_charger("D1", power_w=350_000)])

    def offered(hours: float, kw: int) -> MeterSampled:
        return MeterSampled(
            **meta(h(hours)),
            connector_id=ConnectorId("D1-1-1"),
            power_offered_w=kw * 1000,
            power_w=kw * 900,
        )

    sup.ingestor.ingest(
        [
            online(0, "D1"),
            status(0, "D1-1-1", S.AVAILABLE),
            status(0, "D1-1-2", S.UNAVAILABLE),
            status(10, "D1-1-1", S.CHARGING),
            offered(10, 200),  # enough
            offered(11, 90),  # derated to 90 kW: below 150 kW
            status(14, "D1-1-1", S.AVAILABLE),  # the session ends, and its limit with it
        ]
    )
    [port] = sup.supervision.uptime(Scope(charger="D1"), h(0), h(24), "port")
    assert (port["outage_hours"], port["below_min_power_hours"]) == (3, 3)
    assert port["nevi_uptime"] == pytest.approx(21 / 24 * 100, abs=1e-3)
    assert port["uk_reliability"] == 100.0


def test_a_zombie_case_runs_from_detection_to_rectification_or_exit(
    sup: Platform, clock: FixedClock, run: Runner
) -> None:
    sup.ingestor.ingest([*small_world(), charger("C2", guns=1), charger("C3", guns=1)])
    sup.ingestor.ingest(
        [
            online(0, "C2"),
            online(0, "C3"),
            status(0, "C2-1-1", S.FAULTED, "OtherError"),
            status(0, "C3-1-1", S.AVAILABLE),
            SessionStarted(
                **meta(clock.now() - timedelta(hours=2)),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C3-1-1"),
                meter_start_wh=0,
            ),
            SessionEnded(
                **meta(clock.now() - timedelta(hours=1)),
                session_id=SessionId("T1"),
                meter_stop_wh=20_000,
            ),
        ]
    )
    first = run(sup.supervision.sweep_zombies)
    assert first == {"detect": 2, "notify": 2}  # C1 never connected, C2 faulted for 40 days
    cases = {
        c["charger_id"]: c for c in sup.supervision.queries.zombie_cases(Scope(), True, 100, 0)[0]
    }
    assert set(cases) == {"C1", "C2"}
    assert cases["C1"]["rules"] == ["never_connected"] and cases["C2"]["rules"] == ["long_down"]
    assert cases["C2"]["stage"] == "notified"
    assert cases["C2"]["deadline"] == clock.now() + timedelta(days=15)
    assert run(sup.supervision.sweep_zombies) == {}  # nothing new: no duplicates

    clock.advance(timedelta(days=16))
    assert run(sup.supervision.sweep_zombies) == {"escalate": 2}
    sup.ingestor.ingest(
        [
            online(24 * 56, "C1"),
            status(24 * 56, "C1-1-1", S.AVAILABLE),
            status(24 * 56, "C1-2-1", S.AVAILABLE),
        ]
    )
    clock.advance(timedelta(hours=1))
    assert run(sup.supervision.sweep_zombies) == {"rectified": 1}

    c2 = cases["C2"]["case_id"]
    run(lambda: sup.supervision.close_zombie(c2, ZombieOutcome.RETIRED, "removed", "regulator"))
    case = sup.supervision.queries.zombie_case(c2)
    assert case is not None and (case["stage"], case["outcome"]) == ("closed", "retired")
    assert [s["step"] for s in case["steps"]] == ["detected", "notified", "escalated", "retired"]
    charger_row = sup.read.charger("C2")
    assert charger_row is not None and charger_row["retired_at"] is not None
    assert sup.read.pile_count().total == 3  # C1's two guns and C3: the zombie left the count
    assert sup.supervision.queries.zombie_cases(Scope(), True, 100, 0)[1] == 0


def test_the_scorecards_count_the_zombie_cases_open_in_the_period_asked(
    sup: Platform, clock: FixedClock, run: Runner
) -> None:
    """R38: a scorecard is for a period; a zombie case counts where it was open then."""
    sup.ingestor.ingest([*small_world(), charger("C2", guns=1)])
    sup.ingestor.ingest([online(0, "C2"), status(0, "C2-1-1", S.FAULTED, "OtherError")])
    assert run(sup.supervision.sweep_zombies)["detect"] == 2  # C1 never connected, C2 down
    detected = clock.now()  # 11 July, local

    def zombies(start: datetime, end: datetime) -> float | None:
        [card] = sup.supervision.scorecards(Scope(), start, end)
        return card.values["zombies"]  # open cases per 100 chargers

    assert zombies(h(0), h(24 * 30)) == 0  # June: no case was open yet
    assert zombies(detected - timedelta(days=1), detected + timedelta(days=1)) == 100  # 2 of 2
    case = next(
        c
        for c in sup.supervision.queries.zombie_cases(Scope(), True, 100, 0)[0]
        if c["charger_id"] == "C1"
    )
    clock.advance(timedelta(days=2))
    run(lambda: sup.supervision.close_zombie(case["case_id"], ZombieOutcome.DISMISSED, "", "r"))
    later = clock.now() + timedelta(days=1)
    assert zombies(detected, clock.now()) == 100  # both were open in those two days
    assert zombies(clock.now() + timedelta(seconds=1), later) == 50  # C1's case was closed


def test_the_safety_rules_run_on_the_bus_and_alarms_are_acknowledged_and_cleared(
    sup: Platform, run: Runner
) -> None:
    sup.ingestor.ingest(small_world())
    queries = sup.supervision.queries

    async def wait_for(check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 30  # seconds, not polls: a loaded machine is slow
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("the alarm job did not react")
            await asyncio.sleep(0.02)

    async def scenario() -> None:
        job = asyncio.create_task(sup.supervision.run_alarms(sup.bus.subscribe()))
        await asyncio.sleep(0.05)
        try:
            await sup.pipeline.submit([status(1, "C1-1-1", S.FAULTED, "GroundFailure")])
            await sup.pipeline.submit([status(2, "C1-1-1", S.FAULTED, "GroundFailure")])
            await wait_for(lambda: queries.alarms(Scope(), True, None, 10, 0)[1] == 1)
            [alarm] = queries.alarms(Scope(), True, None, 10, 0)[0]
            await sup.supervision.acknowledge_alarm(alarm["alarm_id"], "duty officer")
            await sup.pipeline.submit([status(3, "C1-1-1", S.AVAILABLE)])
            await wait_for(lambda: queries.alarms(Scope(), True, None, 10, 0)[1] == 0)
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)

    run(scenario)
    [alarm] = queries.alarms(Scope(), False, None, 10, 0)[0]
    assert (alarm["code"], alarm["severity"], alarm["target_id"]) == (
        "ground_fault",
        "critical",
        "C1-1-1",
    )
    assert alarm["acknowledged_by"] == "duty officer"
    assert alarm["cleared_at"] == h(3) and alarm["clear_reason"] == "connector available"


class Accepting:
    def __init__(self) -> None:
        self.seen: list[Order] = []

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        self.seen.append(order)
        return OrderResult(OrderOutcome.ACCEPTED, "Accepted")


def test_a_station_stop_order_reaches_every_charger_and_is_lifted(
    sup: Platform, run: Runner
) -> None:
    sup.ingestor.ingest([*small_world(), charger("C2", guns=1, protocol="demo")])
    sup.ingestor.ingest(
        [
            online(0, "C1"),
            online(0, "C2"),
            *(status(0, c, S.AVAILABLE) for c in ("C1-1-1", "C1-2-1", "C2-1-1")),
        ]
    )
    ocpp = Accepting()
    sup.orders.register("ocpp1.6", ocpp)
    holds = Holds()
    sup.orders.register("demo", DemoControl(holds, sup.read, sup.pipeline.submit, sup.clock.now))
    city = load_city(sup, seed=1, speed=1000.0)
    holds.city = city

    async def stop() -> str:
        result = await sup.supervision.issue_stop(
            TargetKind.STATION, "S1", "over-temperature at the cabinet", "regulator"
        )
        return str(result["stop_id"])

    stop_id = run(stop)
    order = sup.supervision.queries.stop_order(stop_id)
    assert order is not None and order["state"] == "in_force"
    assert sorted((d["charger_id"], d["outcome"]) for d in order["deliveries"]) == [
        ("C1", "accepted"),
        ("C2", "accepted"),
    ]
    assert [(o.kind.value, o.charger_id) for o in ocpp.seen] == [("stop", "C1")]
    statuses = {c["connector_id"]: c["status"] for c in sup.read.connectors()[0]}
    assert statuses["C2-1-1"] == "unavailable"  # the demo charger obeyed
    # The live city leaves a held charger alone, however long it runs.
    events: list[Event] = []
    for t in range(1, 200):
        events += city.step(float(t * 60), 60.0)
    assert not [e for e in events if getattr(e, "connector_id", None) == "C2-1-1"]

    async def lift() -> None:
        await sup.supervision.lift_stop(stop_id, "regulator", "cabinet fan replaced")

    run(lift)
    order = sup.supervision.queries.stop_order(stop_id)
    assert order is not None and order["state"] == "lifted"
    assert [d["outcome"] for d in order["resumes"]] == ["accepted", "accepted"]
    statuses = {c["connector_id"]: c["status"] for c in sup.read.connectors()[0]}
    assert statuses["C2-1-1"] == "available" and "C2" not in city.held
    kinds = [e["kind"] for e in sup.read.events(event_type="order.issued", limit=10)]
    assert sorted(kinds) == ["resume", "resume", "stop", "stop"]


def test_a_stop_order_for_an_unknown_station_is_refused_before_anything_is_sent(
    sup: Platform, run: Runner
) -> None:
    sup.ingestor.ingest(small_world())

    async def stop() -> None:
        await sup.supervision.issue_stop(TargetKind.STATION, "NOPE", "x", "regulator")

    with pytest.raises(Exception, match="NOPE"):
        run(stop)
    assert sup.read.events(event_type="stop_order.issued") == []


def test_stations_get_stars_by_the_criteria_and_an_incident_holds_one_to_a_star(
    sup: Platform,
) -> None:
    """R38 star-rated stations: each station scored on its own uptime, repair, data and
    alarms (STATION_STARS); a safety incident in the period holds it to one star."""
    from chargenet.core.events import IncidentReported
    from chargenet.core.supervision.incidents import IncidentKind
    from tests.builders import station

    sup.ingestor.ingest(
        [
            *small_world(),
            station("S2", "OP1"),
            station("S3", "OP1"),
            charger("C2", "S2", guns=1),
            charger("C3", "S3", guns=1),
        ]
    )
    sup.ingestor.ingest(
        [
            online(0, "C1"),
            online(0, "C2"),
            online(0, "C3"),
            status(0, "C1-1-1", S.AVAILABLE),
            status(0, "C1-2-1", S.AVAILABLE),
            status(0, "C2-1-1", S.AVAILABLE),
            status(0, "C3-1-1", S.AVAILABLE),
            status(24 * 10, "C2-1-1", S.FAULTED, "GroundFailure"),  # down for 20 of 30 days
            IncidentReported(
                **meta(h(24 * 20)),
                incident_id="I1",
                kind=IncidentKind.FIRE,
                station_id=StationId("S3"),
                reported_by="inspector",
            ),
        ]
    )
    rows = {r["station_id"]: r for r in sup.supervision.station_stars(Scope(), h(0), h(24 * 30))}
    assert rows["S1"]["stars"] == 5 and rows["S1"]["score"] == 100.0
    assert rows["S2"]["stars"] == 1 and rows["S2"]["values"]["uptime"] == pytest.approx(33.333)
    # As reliable as S1, but a fire in the period: one star.
    assert (rows["S3"]["score"], rows["S3"]["incidents"], rows["S3"]["stars"]) == (100.0, 1, 1)
