"""Supervision: outages, zombie piles, stop orders, incidents, credit,
inspections, rectification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from chargenet.core.events.base import Event, _aware, _empty
from chargenet.core.ids import (
    AlarmId,
    ChargerId,
    ConnectorId,
    OperatorId,
    OrderId,
    SessionId,
    StationId,
)
from chargenet.core.oversight import ExclusionReason, NoticeKind, ZombieOutcome, ZombieRule
from chargenet.core.supervision import OrderKind, OrderOutcome, Severity, TargetKind
from chargenet.core.supervision.credit import MAX_POINTS, DemonstrationKind
from chargenet.core.supervision.incidents import IncidentKind, Responsible
from chargenet.core.supervision.inspections import (
    Assignment,
    InspectionResult,
    draw,
    draw_problems,
)


@dataclass(frozen=True, kw_only=True)
class AlarmRaised(Event):
    TYPE: ClassVar[str] = "alarm.raised"
    alarm_id: AlarmId
    target_kind: TargetKind
    target_id: str
    code: str  # what is wrong, in the source's or the rule's words (HighTemperature, …)
    severity: Severity = Severity.WARNING
    message: str = ""

    def body_problems(self) -> list[str]:
        return _empty(alarm_id=self.alarm_id, target_id=self.target_id, code=self.code)


@dataclass(frozen=True, kw_only=True)
class AlarmAcknowledged(Event):
    TYPE: ClassVar[str] = "alarm.acknowledged"
    alarm_id: AlarmId
    by: str

    def body_problems(self) -> list[str]:
        return _empty(alarm_id=self.alarm_id, by=self.by)


@dataclass(frozen=True, kw_only=True)
class AlarmCleared(Event):
    TYPE: ClassVar[str] = "alarm.cleared"
    alarm_id: AlarmId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(alarm_id=self.alarm_id)


MAX_ORDER_ANSWER_CHARS = 256 * 1024  # an OCPP frame is at most 64 KiB; room to spare


@dataclass(frozen=True, kw_only=True)
class OrderIssued(Event):
    """An order from the platform to equipment (a stop order, a reset, a limit…)."""

    TYPE: ClassVar[str] = "order.issued"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"issued_by": 128}
    order_id: OrderId
    kind: OrderKind
    target_kind: TargetKind
    target_id: str
    reason: str = ""
    issued_by: str = ""
    parameters: tuple[tuple[str, str], ...] = ()

    def body_problems(self) -> list[str]:
        return _empty(order_id=self.order_id, target_id=self.target_id)


@dataclass(frozen=True, kw_only=True)
class OrderAcknowledged(Event):
    """The equipment's (or its operator's) answer to an order, or a timeout."""

    TYPE: ClassVar[str] = "order.acknowledged"
    order_id: OrderId
    outcome: OrderOutcome
    detail: str = ""
    answer: str | None = None  # the equipment's own answer, whole, as JSON text

    def body_problems(self) -> list[str]:
        out = _empty(order_id=self.order_id)
        if self.answer is not None and len(self.answer) > MAX_ORDER_ANSWER_CHARS:
            out.append(f"answer longer than {MAX_ORDER_ANSWER_CHARS} characters")
        return out


_EXCLUDABLE = (TargetKind.CONNECTOR, TargetKind.CHARGER, TargetKind.STATION)
MAX_EXCLUSION_DAYS = 400


@dataclass(frozen=True, kw_only=True)
class OutageExcluded(Event):
    """Outage time of a connector, charger or station in [start, end) does not count against
    the operator (NEVI T_excluded), for a stated reason."""

    TYPE: ClassVar[str] = "outage.excluded"
    exclusion_id: str
    target_kind: TargetKind
    target_id: str
    start: datetime
    end: datetime
    reason: ExclusionReason
    note: str = ""
    by: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(exclusion_id=self.exclusion_id, target_id=self.target_id)
        if self.target_kind not in _EXCLUDABLE:
            out.append(
                f"outages are excluded for connectors, chargers or stations, not {self.target_kind}"
            )
        aware = _aware(start=self.start, end=self.end)
        if aware:
            return out + aware
        if self.end <= self.start:
            out.append("end must be after start")
        elif (self.end - self.start).days > MAX_EXCLUSION_DAYS:
            out.append(f"an exclusion spans at most {MAX_EXCLUSION_DAYS} days")
        return out


@dataclass(frozen=True, kw_only=True)
class OutageExclusionWithdrawn(Event):
    TYPE: ClassVar[str] = "outage.exclusion_withdrawn"
    exclusion_id: str
    by: str = ""
    note: str = ""

    def body_problems(self) -> list[str]:
        return _empty(exclusion_id=self.exclusion_id)


@dataclass(frozen=True, kw_only=True)
class EquipmentNoticed(Event):
    """A notice from equipment other than a status: a security event, a monitoring event
    (OCPP 2.0.1 NotifyEvent), an alarm pushed by an operator platform. `cleared` says the
    condition it reported is over. Safety rules (analytics.supervision.alarms) turn notices
    into alarms."""

    TYPE: ClassVar[str] = "equipment.noticed"
    charger_id: ChargerId
    kind: NoticeKind
    code: str  # the source's words: TamperDetectionActivated, EmergencyStop, …
    connector_id: ConnectorId | None = None
    cleared: bool = False
    severity: int | None = None  # the source's own scale (OCPP 2.0.1: 0 danger … 9 debug)
    info: str = ""

    def body_problems(self) -> list[str]:
        return _empty(charger_id=self.charger_id, code=self.code)


@dataclass(frozen=True, kw_only=True)
class ZombieDetected(Event):
    """A charger meets the zombie-pile rules (R34): a case opens."""

    TYPE: ClassVar[str] = "zombie.detected"
    case_id: str
    charger_id: ChargerId
    rules: tuple[ZombieRule, ...]
    since: datetime  # when the condition began
    evidence: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(case_id=self.case_id, charger_id=self.charger_id) + _aware(since=self.since)
        if not self.rules:
            out.append("a detection names at least one rule")
        return out


@dataclass(frozen=True, kw_only=True)
class ZombieOperatorNotified(Event):
    TYPE: ClassVar[str] = "zombie.notified"
    case_id: str
    deadline: datetime  # rectify (or ask for the exit) by then
    channel: str = "platform"

    def body_problems(self) -> list[str]:
        return _empty(case_id=self.case_id) + _aware(deadline=self.deadline)


@dataclass(frozen=True, kw_only=True)
class ZombieEscalated(Event):
    TYPE: ClassVar[str] = "zombie.escalated"
    case_id: str
    level: int
    deadline: datetime
    note: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(case_id=self.case_id) + _aware(deadline=self.deadline)
        if not 1 <= self.level <= 10:
            out.append(f"escalation level {self.level} out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class ZombieClosed(Event):
    TYPE: ClassVar[str] = "zombie.closed"
    case_id: str
    outcome: ZombieOutcome
    note: str = ""
    by: str = ""

    def body_problems(self) -> list[str]:
        return _empty(case_id=self.case_id)


@dataclass(frozen=True, kw_only=True)
class ZombieRectificationReported(Event):
    """The operator says what it did about a case (repaired, reconnected, asked for the
    exit). The case stays open: the rules close it once they stop holding, or a regulator
    does; the report is on the case's record for the regulator to weigh."""

    TYPE: ClassVar[str] = "zombie.rectification_reported"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"note": 1000, "by": 200}
    case_id: str
    note: str
    by: str

    def body_problems(self) -> list[str]:
        return _empty(case_id=self.case_id, note=self.note, by=self.by)


@dataclass(frozen=True, kw_only=True)
class StopOrderIssued(Event):
    """A regulator orders a charger or a whole station to stop and rectify (R33). Delivery
    to each charger is an order of kind STOP (OrderIssued/OrderAcknowledged)."""

    TYPE: ClassVar[str] = "stop_order.issued"
    stop_id: str
    target_kind: TargetKind
    target_id: str
    reason: str
    issued_by: str
    alarm_id: AlarmId | None = None

    def body_problems(self) -> list[str]:
        out = _empty(
            stop_id=self.stop_id, target_id=self.target_id, reason=self.reason, by=self.issued_by
        )
        if self.target_kind not in (TargetKind.CHARGER, TargetKind.STATION):
            out.append(f"a stop order is for a charger or a station, not {self.target_kind}")
        return out


@dataclass(frozen=True, kw_only=True)
class StopOrderLifted(Event):
    TYPE: ClassVar[str] = "stop_order.lifted"
    stop_id: str
    by: str
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(stop_id=self.stop_id, by=self.by)


MAX_CASUALTIES = 10_000


@dataclass(frozen=True, kw_only=True)
class IncidentReported(Event):
    """A safety incident (R33): fire, explosion, electric shock or other, at a station and
    where known a charger, connector and session. `occurred_at` is when it happened."""

    TYPE: ClassVar[str] = "incident.reported"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"description": 4000, "reported_by": 128}
    incident_id: str
    kind: IncidentKind
    station_id: StationId
    charger_id: ChargerId | None = None
    connector_id: ConnectorId | None = None
    session_id: SessionId | None = None
    injuries: int = 0
    deaths: int = 0
    description: str = ""
    reported_by: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(incident_id=self.incident_id, station_id=self.station_id)
        for name in ("injuries", "deaths"):
            if not 0 <= getattr(self, name) <= MAX_CASUALTIES:
                out.append(f"{name} out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class IncidentClosed(Event):
    """The investigation's finding: who was responsible, and what was found."""

    TYPE: ClassVar[str] = "incident.closed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"finding": 4000, "by": 128}
    incident_id: str
    responsible: Responsible
    finding: str
    by: str

    def body_problems(self) -> list[str]:
        return _empty(incident_id=self.incident_id, finding=self.finding, by=self.by)


@dataclass(frozen=True, kw_only=True)
class InspectionDrawn(Event):
    """A random inspection draw, 双随机一公开 (R38): targets (stations) and a team of
    inspectors for each, drawn from the two pools with the recorded seed. The draw must
    follow from its seed — the log holds no assignment anyone could not redraw."""

    TYPE: ClassVar[str] = "inspection.drawn"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "title": 200,
        "inspectors": 128,
        "targets": 128,
        "drawn_by": 128,
        "area_code": 32,
    }
    draw_id: str
    title: str
    seed: int
    team: int
    inspectors: tuple[str, ...]
    targets: tuple[str, ...]  # station ids
    assignments: tuple[Assignment, ...]
    drawn_by: str
    area_code: str | None = None

    def body_problems(self) -> list[str]:
        out = _empty(draw_id=self.draw_id, title=self.title, drawn_by=self.drawn_by)
        problems = draw_problems(
            self.seed, self.inspectors, self.targets, len(self.assignments), self.team
        )
        if problems:
            return out + problems
        if draw(self.seed, self.inspectors, self.targets, len(self.assignments), self.team) != (
            self.assignments
        ):
            out.append("the assignments do not follow from the seed and the pools")
        return out


@dataclass(frozen=True, kw_only=True)
class InspectionRecorded(Event):
    """An inspection's result at one drawn station: what was found, and for `rectify` the
    date by which it must be put right."""

    TYPE: ClassVar[str] = "inspection.recorded"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"findings": 4000, "by": 128}
    draw_id: str
    station_id: StationId
    result: InspectionResult
    findings: str
    by: str
    rectify_by: date | None = None

    def body_problems(self) -> list[str]:
        out = _empty(draw_id=self.draw_id, station_id=self.station_id, by=self.by)
        if self.result is InspectionResult.RECTIFY and self.rectify_by is None:
            out.append("a result of rectify names the date to rectify by")
        return out


@dataclass(frozen=True, kw_only=True)
class InspectionRectified(Event):
    """The problems an inspection found at a station were put right (checked)."""

    TYPE: ClassVar[str] = "inspection.rectified"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"note": 4000, "by": 128}
    draw_id: str
    station_id: StationId
    note: str
    by: str

    def body_problems(self) -> list[str]:
        return _empty(draw_id=self.draw_id, station_id=self.station_id, by=self.by)


@dataclass(frozen=True, kw_only=True)
class CreditPenalized(Event):
    """A penalty on an operator's credit record (信用惩戒, R38)."""

    TYPE: ClassVar[str] = "credit.penalized"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "reason": 1000,
        "basis": 200,
        "by": 128,
        "area_code": 32,
    }
    penalty_id: str
    operator_id: OperatorId
    points: int
    reason: str
    basis: str  # the source: an inspection, an incident, a decision's number
    decided_on: date
    by: str
    area_code: str | None = None  # the deciding regulator's jurisdiction (None: platform)

    def body_problems(self) -> list[str]:
        out = _empty(
            penalty_id=self.penalty_id,
            operator_id=self.operator_id,
            reason=self.reason,
            basis=self.basis,
            by=self.by,
        )
        if not 1 <= self.points <= MAX_POINTS:
            out.append(f"points must be 1..{MAX_POINTS}")
        return out


@dataclass(frozen=True, kw_only=True)
class CreditAppealed(Event):
    TYPE: ClassVar[str] = "credit.appealed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"grounds": 4000, "by": 128}
    penalty_id: str
    grounds: str
    by: str

    def body_problems(self) -> list[str]:
        return _empty(penalty_id=self.penalty_id, grounds=self.grounds, by=self.by)


@dataclass(frozen=True, kw_only=True)
class CreditAppealDecided(Event):
    TYPE: ClassVar[str] = "credit.appeal_decided"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"note": 4000, "by": 128}
    penalty_id: str
    upheld: bool  # True: the penalty stands; False: overturned
    note: str
    by: str

    def body_problems(self) -> list[str]:
        return _empty(penalty_id=self.penalty_id, by=self.by)


@dataclass(frozen=True, kw_only=True)
class DemonstrationDesignated(Event):
    """A township, village or road designated a demonstration of charging (R38)."""

    TYPE: ClassVar[str] = "demonstration.designated"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": 200,
        "area_code": 32,
        "basis": 200,
        "by": 128,
    }
    designation_id: str
    kind: DemonstrationKind
    name: str
    area_code: str  # the township or village itself; for a road, the area it lies in
    year: int
    basis: str = ""
    by: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(designation_id=self.designation_id, name=self.name, area_code=self.area_code)
        if not 2000 <= self.year <= 2100:
            out.append(f"year {self.year} out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class StopOrderRectificationReported(Event):
    """The operator a stop order is addressed to says what it did to rectify (R33: stop
    and rectify). The order stays in force: only a regulator lifts it, after weighing the
    report, which is on the order's record for the regulator to see."""

    TYPE: ClassVar[str] = "stop_order.rectification_reported"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"note": 1000, "by": 200}
    stop_id: str
    note: str
    by: str

    def body_problems(self) -> list[str]:
        return _empty(stop_id=self.stop_id, note=self.note, by=self.by)
