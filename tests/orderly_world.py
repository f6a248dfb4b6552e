"""A hand-made world for orderly charging's figures, with answers worked out by hand.

Xinzhou (140900): S1 in Xinfu (140902), a 2-gun 60 kW DC charger under a 100 kW limit;
S2 in Yuanping (140981), a 2-gun 40 kW DC charger under a 50 kW limit.

November 2026, local time (Asia/Shanghai):
- every weekday from 2 to 24 November, S1 draws 60 kW from 18:00 to 19:00 — except
  Wednesday 18 November, a demand-response day, when it draws 100 kW and S2 40 kW;
- the weekend days draw 5 kW then (not "similar days" of a weekday);
- Wednesday 25 November, 18:00-19:00: a demand-response event on S1 at 30 % of its limit
  (30 kW); S1 draws 20 kW.
So the event's baseline is 60 kW (the 10 weekdays before it without an event, 18 November
left out), the requested shed 60 - 30 = 30 kW, the measured shed 60 - 20 = 40 kW: 133.3 %.
Peaks: S1 100 kW, S2 40 kW, Xinzhou together 140 kW, all on 18 November 18:00.
Sessions ended in November: at S1 a night session (02:00-04:00, 20 kWh, all in the
valley), at S2 a morning one (09:00-10:00, 10 kWh, none in the valley).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chargenet.core.events import (
    DemandResponseCalled,
    DemandResponseScope,
    Event,
    GridConnectionStated,
    MeterSampled,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ConnectorId, SessionId, StationId
from tests.builders import charger, meta, small_world, station

LOCAL = ZoneInfo("Asia/Shanghai")
EVENT_DAY = date(2026, 11, 25)
EVENT_START = datetime(2026, 11, 25, 18, tzinfo=LOCAL)
EVENT_END = datetime(2026, 11, 25, 19, tzinfo=LOCAL)
OTHER_EVENT_START = datetime(2026, 11, 18, 18, tzinfo=LOCAL)


def _hour_of(day: date, connector: str, watts: int) -> list[Event]:
    """One sample a quarter from 18:00 to 19:00 local."""
    start = datetime.combine(day, time(18, 5), LOCAL)
    return [
        MeterSampled(
            **meta(start + timedelta(minutes=15 * n)),
            connector_id=ConnectorId(connector),
            power_w=watts,
        )
        for n in range(4)
    ]


def _session(sid: str, connector: str, start: datetime, hours: float, wh: int) -> list[Event]:
    return [
        SessionStarted(
            **meta(start),
            session_id=SessionId(sid),
            connector_id=ConnectorId(connector),
            meter_start_wh=0,
        ),
        SessionEnded(
            **meta(start + timedelta(hours=hours)), session_id=SessionId(sid), meter_stop_wh=wh
        ),
    ]


def _dr(dr_id: str, start: datetime, share: float) -> DemandResponseCalled:
    return DemandResponseCalled(
        **meta(start - timedelta(hours=2)),
        dr_id=dr_id,
        scope=DemandResponseScope.STATION,
        scope_id="S1",
        start=start,
        end=start + timedelta(hours=1),
        share=share,
        called_by="国网忻州供电公司",
        program=f"evening peak {dr_id}",
    )


def grid_world() -> list[Event]:
    since = datetime(2026, 10, 1, tzinfo=LOCAL)
    events: list[Event] = [
        *small_world(),
        station("S2", lat=38.73, lon=112.71),  # Yuanping
        charger("C2", "S2", power_w=40_000),
        GridConnectionStated(
            **meta(since), station_id=StationId("S1"), valid_from=since, capacity_w=100_000
        ),
        GridConnectionStated(
            **meta(since), station_id=StationId("S2"), valid_from=since, capacity_w=50_000
        ),
        _dr("DR-18", OTHER_EVENT_START, 0.5),
        _dr("DR-25", EVENT_START, 0.3),
    ]
    day = date(2026, 11, 2)
    while day < EVENT_DAY:
        if day.weekday() >= 5:
            events += _hour_of(day, "C1-1-1", 5_000)
        elif day == OTHER_EVENT_START.date():
            events += _hour_of(day, "C1-1-1", 60_000) + _hour_of(day, "C1-2-1", 40_000)
            events += _hour_of(day, "C2-1-1", 40_000)
        else:
            events += _hour_of(day, "C1-1-1", 60_000)
        day += timedelta(days=1)
    events += _hour_of(EVENT_DAY, "C1-1-1", 20_000)
    events += _session("NIGHT", "C1-2-1", datetime(2026, 11, 10, 2, tzinfo=LOCAL), 2, 20_000)
    events += _session("MORNING", "C2-1-1", datetime(2026, 11, 10, 9, tzinfo=LOCAL), 1, 10_000)
    return events
