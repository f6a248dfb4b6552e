"""Safety rules: alarms raised once per condition, cleared when it ends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from chargenet.analytics.supervision.alarms import AlarmEngine, AlarmRules, OpenAlarm
from chargenet.core.events import (
    AlarmCleared,
    AlarmRaised,
    ConnectorStatusChanged,
    EquipmentNoticed,
    Event,
    MeterSampled,
)
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.oversight import NoticeKind
from chargenet.core.status import ConnectorStatus as S
from chargenet.core.supervision import Severity, TargetKind
from tests.builders import meta

T = datetime(2025, 5, 1, 8, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def status(
    minutes: float, s: S, code: str | None = None, cid: str = "C1-1-1"
) -> ConnectorStatusChanged:
    return ConnectorStatusChanged(
        **meta(at(minutes)), connector_id=ConnectorId(cid), status=s, error_code=code
    )


def run(engine: AlarmEngine, events: Sequence[Event]) -> list[Event]:
    out: list[Event] = []
    for e in events:
        produced = engine.observe(e, e.occurred_at)
        out += produced
        for p in produced:  # our own alarms come back through the bus
            engine.observe(p, e.occurred_at)
    return out


def test_an_error_code_raises_once_and_clears_when_the_connector_is_usable_again() -> None:
    engine = AlarmEngine(AlarmRules())
    out = run(
        engine,
        [
            status(0, S.FAULTED, "GroundFailure"),
            status(1, S.FAULTED, "GroundFailure"),  # the same condition again: no new alarm
            status(2, S.FAULTED, "ground_failure"),  # spelt differently, still the same
            status(3, S.AVAILABLE),
        ],
    )
    assert [type(e).__name__ for e in out] == ["AlarmRaised", "AlarmCleared"]
    raised, cleared = out
    assert isinstance(raised, AlarmRaised) and isinstance(cleared, AlarmCleared)
    assert (raised.code, raised.severity, raised.target_id) == (
        "ground_fault",
        Severity.CRITICAL,
        "C1-1-1",
    )
    assert cleared.alarm_id == raised.alarm_id and cleared.occurred_at == at(3)
    assert engine.open == {}


def test_the_same_triggering_event_gives_the_same_alarm_after_a_restart() -> None:
    trigger = status(0, S.FAULTED, "HighTemperature")
    first = AlarmEngine(AlarmRules()).observe(trigger, at(0))
    again = AlarmEngine(AlarmRules()).observe(trigger, at(5))
    assert [e.event_id for e in first] == [e.event_id for e in again]


def test_an_alarm_open_before_a_restart_is_not_raised_again() -> None:
    engine = AlarmEngine(
        AlarmRules(), [OpenAlarm("A0", TargetKind.CONNECTOR, "C1-1-1", "over_temperature", at(-60))]
    )
    assert engine.observe(status(0, S.FAULTED, "HighTemperature"), at(0)) == []


def test_temperature_alarms_clear_only_below_the_hysteresis_band() -> None:
    engine = AlarmEngine(AlarmRules(over_temperature_c=90, temperature_hysteresis_c=10))

    def temp(minutes: float, c: float) -> MeterSampled:
        return MeterSampled(
            **meta(at(minutes)), connector_id=ConnectorId("C1-1-1"), temperature_c=c
        )

    out = run(engine, [temp(0, 85), temp(1, 92), temp(2, 95), temp(3, 84), temp(4, 79.5)])
    assert [(type(e).__name__, e.occurred_at) for e in out] == [
        ("AlarmRaised", at(1)),
        ("AlarmCleared", at(4)),
    ]


def test_over_current_is_judged_against_the_connectors_rating() -> None:
    engine = AlarmEngine(AlarmRules(), rated_current_a={"C1-1-1": 100})

    def amps(minutes: float, a: float, cid: str = "C1-1-1") -> MeterSampled:
        return MeterSampled(**meta(at(minutes)), connector_id=ConnectorId(cid), current_a=a)

    out = run(engine, [amps(0, 109), amps(1, 111), amps(2, 500, "UNRATED"), amps(3, 100)])
    assert [(type(e).__name__, e.occurred_at) for e in out] == [
        ("AlarmRaised", at(1)),
        ("AlarmCleared", at(3)),
    ]


def test_notices_raise_by_code_or_by_their_severity_and_clear_when_cleared() -> None:
    engine = AlarmEngine(AlarmRules())

    def notice(
        minutes: float, code: str, cleared: bool = False, severity: int | None = None
    ) -> EquipmentNoticed:
        return EquipmentNoticed(
            **meta(at(minutes)),
            charger_id=ChargerId("C1"),
            kind=NoticeKind.MONITORING,
            code=code,
            cleared=cleared,
            severity=severity,
        )

    out = run(
        engine,
        [
            notice(0, "EmergencyStop"),
            notice(1, "SomethingVendorSpecific", severity=8),  # informational: no alarm
            notice(2, "DoorOpen", severity=2),  # unmapped but severe: an alarm by severity
            notice(3, "EmergencyStop", cleared=True),
        ],
    )
    assert [(type(e).__name__, getattr(e, "code", None)) for e in out] == [
        ("AlarmRaised", "emergency_stop"),
        ("AlarmRaised", "dooropen"),
        ("AlarmCleared", None),
    ]
    assert isinstance(out[0], AlarmRaised) and out[0].target_kind is TargetKind.CHARGER
    assert out[0].severity is Severity.CRITICAL


def test_repeated_faults_within_the_window_raise_and_clear_after_a_quiet_day() -> None:
    engine = AlarmEngine(AlarmRules(repeated_faults=3, repeated_faults_window_h=24))
    flapping = [
        status(0, S.FAULTED),
        status(60, S.AVAILABLE),
        status(120, S.FAULTED),
        status(121, S.FAULTED),  # the same fault reported again does not count twice
        status(180, S.AVAILABLE),
        status(26 * 60, S.FAULTED),  # 26 h after the first: the first has left the window
    ]
    assert run(engine, flapping) == []
    out = run(
        engine,
        [
            status(27 * 60, S.AVAILABLE),
            status(28 * 60, S.FAULTED),
            status(29 * 60, S.AVAILABLE),
            status(30 * 60, S.FAULTED),  # the third within 24 h (26 h, 28 h, 30 h)
        ],
    )
    assert [getattr(e, "code", None) for e in out] == ["repeated_faults"]
    assert engine.tick(at(30 * 60 + 23 * 60)) == []
    [cleared] = engine.tick(at(30 * 60 + 24 * 60))
    assert isinstance(cleared, AlarmCleared) and cleared.occurred_at == at(54 * 60)


def test_a_chargers_own_status_raises_mapped_alarms_and_its_return_clears_only_those() -> None:
    engine = AlarmEngine(AlarmRules())

    def charger_status(minutes: float, code: str, severity: int = 2) -> EquipmentNoticed:
        return EquipmentNoticed(
            **meta(at(minutes)),
            charger_id=ChargerId("C1"),
            kind=NoticeKind.STATUS,
            code=code,
            cleared=code == "NoError",
            severity=severity,
        )

    tamper = EquipmentNoticed(
        **meta(at(0)),
        charger_id=ChargerId("C1"),
        kind=NoticeKind.SECURITY,
        code="TamperDetectionActivated",
    )
    out = run(
        engine,
        [
            tamper,
            status(0, S.FAULTED, "GroundFailure"),  # a connector's own fault
            charger_status(1, "HighTemperature"),
            charger_status(2, "InternalError"),  # no mapping: a charger fault
            charger_status(3, "InternalError"),  # the same again: nothing new
            charger_status(4, "NoError"),
        ],
    )
    raised = [(e.target_kind, e.code, e.severity) for e in out if isinstance(e, AlarmRaised)]
    assert raised == [
        (TargetKind.CHARGER, "tamper", Severity.MAJOR),
        (TargetKind.CONNECTOR, "ground_fault", Severity.CRITICAL),
        (TargetKind.CHARGER, "over_temperature", Severity.MAJOR),
        (TargetKind.CHARGER, "charger_fault", Severity.MAJOR),
    ]
    assert sorted(code for _, _, code in engine.open) == ["ground_fault", "tamper"]
