"""`chargenet db rebuild` gives back exactly the live state, after a long random run."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from chargenet.bootstrap import Platform
from chargenet.core.events import (
    AlarmCleared,
    AlarmRaised,
    ChargeDetailRecorded,
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    ConnectorTariffsSet,
    EquipmentNoticed,
    Event,
    MeterSampled,
    OutageExcluded,
    OutageExclusionWithdrawn,
    SessionEnded,
    SessionStarted,
    StationPublicHoursSet,
    StationRetired,
    StationUpdated,
    StopOrderIssued,
    StopOrderLifted,
    TariffPublished,
    ZombieClosed,
    ZombieDetected,
    ZombieEscalated,
    ZombieOperatorNotified,
)
from chargenet.core.ids import AlarmId, ChargerId, ConnectorId, OperatorId, SessionId, StationId
from chargenet.core.money import Money
from chargenet.core.oversight import ExclusionReason, NoticeKind, ZombieOutcome, ZombieRule
from chargenet.core.registry.model import StationRecord
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import Severity, TargetKind
from chargenet.core.tariffs import PriceComponent, PriceDimension, TariffElement
from tests.adapters.storage.test_ingest import snapshot
from tests.builders import T0, areas, charger, meta, operator, station


def random_run(seed: int, steps: int) -> list[Event]:
    """A messy stream: late, duplicated, out-of-order and invalid events among good ones."""
    rng = random.Random(seed)
    events: list[Event] = [*areas(), operator("OP1"), operator("OP2")]
    connectors: list[str] = []
    for s in range(12):
        lat, lon = 38.3 + rng.random() * 0.5, 112.5 + rng.random() * 0.5
        events.append(station(f"S{s}", f"OP{1 + s % 2}", lat=lat, lon=lon))
        for c in range(2):
            cid = f"S{s}C{c}"
            events.append(charger(cid, f"S{s}", guns=2, protocol=rng.choice(["ocpp1.6", None])))
            connectors += [f"{cid}-1-1", f"{cid}-2-1"]
    sessions: dict[str, tuple[str, int]] = {}
    register = {c: rng.randint(0, 10**6) for c in connectors}
    clock = T0
    for i in range(steps):
        clock += timedelta(seconds=rng.randint(1, 120))
        when = clock - timedelta(seconds=rng.choice([0, 0, 0, 30, 600]))  # some arrive late
        roll = rng.random()
        cid = rng.choice(connectors)
        if roll < 0.35:
            status = rng.choice(list(ConnectorStatus))
            events.append(
                ConnectorStatusChanged(**meta(when), connector_id=ConnectorId(cid), status=status)
            )
        elif roll < 0.5:
            sid = f"T{i}"
            sessions[sid] = (cid, register[cid])
            events.append(
                SessionStarted(
                    **meta(when),
                    session_id=SessionId(sid),
                    connector_id=ConnectorId(cid),
                    meter_start_wh=register[cid],
                )
            )
        elif roll < 0.65 and sessions:
            sid = rng.choice(list(sessions))
            cid, _ = sessions[sid]
            register[cid] += rng.randint(0, 30_000)
            events.append(
                MeterSampled(
                    **meta(when),
                    connector_id=ConnectorId(cid),
                    session_id=SessionId(sid),
                    energy_register_wh=register[cid],
                    power_w=rng.randint(0, 60_000),
                    power_offered_w=rng.choice([None, 40_000, 150_000]),
                )
            )
        elif roll < 0.75 and sessions:
            sid = rng.choice(list(sessions))
            cid, _ = sessions.pop(sid) if rng.random() < 0.8 else sessions[sid]
            events.append(
                SessionEnded(
                    **meta(when),
                    session_id=SessionId(sid),
                    meter_stop_wh=register[cid] + rng.randint(-100, 5_000),
                )
            )
        elif roll < 0.82:
            charger_id = cid.rsplit("-", 2)[0]
            events.append(
                ChargerPresenceChanged(
                    **meta(when), charger_id=ChargerId(charger_id), online=rng.random() < 0.7
                )
            )
        elif roll < 0.86:
            aid = f"A{rng.randint(0, 40)}"
            if rng.random() < 0.6:
                events.append(
                    AlarmRaised(
                        **meta(when),
                        alarm_id=AlarmId(aid),
                        target_kind=TargetKind.CONNECTOR,
                        target_id=cid,
                        code="HighTemperature",
                        severity=Severity.MAJOR,
                    )
                )
            else:
                events.append(AlarmCleared(**meta(when), alarm_id=AlarmId(aid)))
        elif roll < 0.9:
            s = rng.randint(0, 11)
            record = StationRecord(
                station_id=StationId(f"S{s}"),
                operator_id=OperatorId(f"OP{1 + s % 2}"),
                name=f"Station {s} v{i}",
                lat=38.4,
                lon=112.7,
            )
            events.append(StationUpdated(**meta(when), station=record))
            if rng.random() < 0.2:  # public hours, late ones and withdrawals included
                hours = rng.choice(["", "18:00-08:00", "Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00"])
                events.append(
                    StationPublicHoursSet(
                        **meta(when - timedelta(minutes=rng.randint(0, 90))),
                        station_id=StationId(f"S{s}"),
                        hours=hours,
                    )
                )
        elif roll < 0.905:
            events.append(
                StationRetired(**meta(when), station_id=StationId(f"S{rng.randint(0, 11)}"))
            )
        elif roll < 0.915:  # prices and charge detail records (OCPI), late ones included
            tid = f"T{rng.randint(0, 3)}"
            if rng.random() < 0.5:
                price = Decimal(rng.randint(50, 200)) / 100
                component = PriceComponent(dimension=PriceDimension.ENERGY, price=price)
                elements = (TariffElement(components=(component,)),)
                events.append(
                    TariffPublished(
                        **meta(when),
                        tariff_id=tid,
                        operator_id=OperatorId("OP1"),
                        currency="CNY",
                        elements=elements,
                    )
                )
            elif rng.random() < 0.7:
                events.append(
                    ConnectorTariffsSet(
                        **meta(when), connector_id=ConnectorId(cid), tariff_ids=(tid,)
                    )
                )
            else:
                events.append(
                    ChargeDetailRecorded(
                        **meta(when),
                        cdr_id=f"CDR{i}",
                        connector_id=ConnectorId(cid),
                        started_at=when - timedelta(minutes=30),
                        ended_at=when,
                        energy_wh=rng.randint(0, 50_000),
                        cost=Money(Decimal(rng.randint(0, 9000)) / 100),
                    )
                )
        elif roll < 0.95 and len(events) > 10:
            events.append(rng.choice(events[-50:]))  # a resend
        elif roll < 0.975:
            events.append(supervision_event(rng, when, cid))
        else:
            events.append(
                ConnectorStatusChanged(
                    **meta(when),
                    connector_id=ConnectorId("ghost"),
                    status=ConnectorStatus.AVAILABLE,
                )
            )
    return events


def supervision_event(rng: random.Random, when: datetime, cid: str) -> Event:
    """Exclusions, zombie cases, stop orders and notices, in any order, some for things
    that do not exist."""
    charger_id = cid.rsplit("-", 2)[0]
    station_id = charger_id.split("C")[0]
    pick = rng.random()
    if pick < 0.2:
        kind, target = rng.choice(
            [
                (TargetKind.CONNECTOR, cid),
                (TargetKind.CHARGER, charger_id),
                (TargetKind.STATION, station_id),
            ]
        )
        start = when - timedelta(minutes=rng.randint(0, 600))
        return OutageExcluded(
            **meta(when),
            exclusion_id=f"X{rng.randint(0, 30)}",
            target_kind=kind,
            target_id=target,
            start=start,
            end=start + timedelta(minutes=rng.randint(1, 300)),
            reason=rng.choice(list(ExclusionReason)),
        )
    if pick < 0.3:
        return OutageExclusionWithdrawn(**meta(when), exclusion_id=f"X{rng.randint(0, 30)}")
    case_id = f"Z{rng.randint(0, 15)}"
    if pick < 0.42:
        return ZombieDetected(
            **meta(when),
            case_id=case_id,
            charger_id=ChargerId(charger_id),
            rules=(rng.choice(list(ZombieRule)),),
            since=when - timedelta(days=rng.randint(7, 40)),
        )
    if pick < 0.52:
        return ZombieOperatorNotified(
            **meta(when), case_id=case_id, deadline=when + timedelta(days=15)
        )
    if pick < 0.6:
        return ZombieEscalated(
            **meta(when),
            case_id=case_id,
            level=rng.randint(1, 3),
            deadline=when + timedelta(days=15),
        )
    if pick < 0.68:
        return ZombieClosed(**meta(when), case_id=case_id, outcome=rng.choice(list(ZombieOutcome)))
    stop_id = f"P{rng.randint(0, 10)}"
    if pick < 0.8:
        kind, target = rng.choice(
            [(TargetKind.CHARGER, charger_id), (TargetKind.STATION, station_id)]
        )
        return StopOrderIssued(
            **meta(when),
            stop_id=stop_id,
            target_kind=kind,
            target_id=target,
            reason="hazard",
            issued_by="r",
        )
    if pick < 0.9:
        return StopOrderLifted(**meta(when), stop_id=stop_id, by="r")
    return EquipmentNoticed(
        **meta(when),
        charger_id=ChargerId(charger_id),
        kind=NoticeKind.SECURITY,
        code="TamperDetectionActivated",
    )


def test_rebuilt_state_equals_live_state_after_a_long_random_run(any_platform: Platform) -> None:
    events = random_run(seed=7, steps=4_000)
    for start in range(0, len(events), 300):  # batches, as the pipeline would cut them
        any_platform.ingestor.ingest(events[start : start + 300])
    live = snapshot(any_platform)
    assert sum(len(rows) for rows in live.values()) > 200
    for table in ("status_history", "presence_history", "outage_exclusions", "zombie_cases"):
        assert len(live[table]) > 3, table  # the run exercised the supervision projections
    assert live["zombie_case_steps"] and live["stop_orders"]
    report = any_platform.store.rebuild()
    assert report.skipped == 0
    assert report.applied == any_platform.read.counts()["events"]
    assert snapshot(any_platform) == live
