"""Orderly charging as a service: valley share for officials, and what it sends to whom."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chargenet.bootstrap import Platform
from chargenet.core.events import Event, SessionEnded, SessionStarted
from chargenet.core.ids import ConnectorId, SessionId, StationId
from tests.builders import meta, small_world

LOCAL = ZoneInfo("Asia/Shanghai")


def _session(sid: str, connector: str, start: datetime, hours: float, wh: int) -> list[Event]:
    end = start + timedelta(hours=hours)
    return [
        SessionStarted(
            **meta(start),
            session_id=SessionId(sid),
            connector_id=ConnectorId(connector),
            meter_start_wh=0,
        ),
        SessionEnded(**meta(end), session_id=SessionId(sid), meter_stop_wh=wh),
    ]


def test_energy_charged_at_night_counts_as_valley_and_daytime_peak_does_not(
    platform: Platform,
) -> None:
    night = datetime(2026, 1, 5, 2, tzinfo=LOCAL)  # the sample's valley (00:00-07:00)
    morning = datetime(2026, 1, 5, 9, tzinfo=LOCAL)  # its peak (08:00-11:00)
    outcomes = platform.ingestor.ingest(
        [
            *small_world(),
            *_session("N1", "C1-1-1", night, 2, 20_000),
            *_session("M1", "C1-2-1", morning, 1, 10_000),
        ]
    )
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    figures = platform.orderly.valley_share(
        datetime(2026, 1, 5, tzinfo=LOCAL), datetime(2026, 1, 6, tzinfo=LOCAL), None, None
    )
    assert figures["energy_wh"] == 30_000
    assert figures["valley_share"] == pytest.approx(20 / 30, abs=1e-3)
    [op1] = figures["operators"]
    assert op1["operator_id"] == "OP1" and op1["sessions"] == 2
    elsewhere = platform.orderly.valley_share(
        datetime(2026, 1, 5, tzinfo=LOCAL), datetime(2026, 1, 6, tzinfo=LOCAL), "450000", None
    )
    assert elsewhere["energy_wh"] == 0 and elsewhere["valley_share"] is None


def test_sessions_on_chargers_without_profiles_are_planned_but_sent_nothing(
    platform: Platform,
) -> None:
    import asyncio
    from datetime import UTC

    from chargenet.core.events import GridConnectionStated
    from tests.builders import areas, charger, operator, station

    now = datetime.now(UTC)
    platform.ingestor.ingest(
        [
            *areas(),
            operator(),
            station(),
            charger(protocol=None),  # reported by an operator platform, not over OCPP
            GridConnectionStated(
                **meta(now),
                station_id=StationId("S1"),
                valid_from=now - timedelta(hours=1),
                capacity_w=50_000,
            ),
            SessionStarted(
                **meta(now),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            ),
        ]
    )

    async def once() -> tuple[int, int]:
        await platform.start()
        try:
            snap, _, sent = await platform.orderly.run_once()
        finally:
            await platform.stop()
        return len(snap.sessions), len(sent)

    planned, sent = asyncio.run(once())
    assert (planned, sent) == (1, 0)
    assert platform.read.events(event_type="order.issued") == []


def test_a_vehicle_may_give_back_only_where_its_chargers_protocol_carries_discharge(
    platform: Platform,
) -> None:
    """A discharge planned but not carried out would leave the site's other sessions above
    its limit: OCPP 1.6 profiles cannot say "discharge", so the vehicle is planned as one
    that only charges; a controller that carries discharging schedules gets them."""
    from datetime import UTC

    from chargenet.app.orders import Order, OrderResult
    from chargenet.core.events import ChargingNeedsStated, GridConnectionStated
    from chargenet.core.supervision import OrderOutcome
    from tests.builders import areas, charger, operator, station

    now = datetime.now(UTC)
    platform.ingestor.ingest(
        [
            *areas(),
            operator(),
            station(),
            charger(protocol="ocpp1.6"),
            GridConnectionStated(
                **meta(now),
                station_id=StationId("S1"),
                valid_from=now - timedelta(hours=1),
                capacity_w=50_000,
            ),
            SessionStarted(
                **meta(now),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            ),
            ChargingNeedsStated(
                **meta(now),
                session_id=SessionId("T1"),
                energy_wh=20_000,
                discharge_max_w=7_000,
                dischargeable_wh=10_000,
            ),
        ]
    )
    [need] = platform.orderly.snapshot().problem.needs
    assert (need.discharge_w, need.dischargeable_wh) == (0.0, 0.0)

    class Bidirectional:  # a controller whose chargers take discharging schedules
        def problem(self, order: Order) -> str | None:
            return None

        async def execute(self, order: Order, timeout_s: float) -> OrderResult:
            return OrderResult(OrderOutcome.ACCEPTED)

    platform.orders.register("ocpp1.6", Bidirectional())
    [need] = platform.orderly.snapshot().problem.needs
    assert (need.discharge_w, need.dischargeable_wh) == (7_000.0, 10_000.0)
