"""Safety rules (R33): error codes, equipment notices and meter values become alarms.

`AlarmEngine` watches events as they are stored and answers with AlarmRaised and
AlarmCleared events. It is pure: it holds the open alarms and recent faults in memory and
is told the time. Its rules (all in `AlarmRules`, all configurable):

- error codes in a status report (OCPP GroundFailure, HighTemperature, …) raise the mapped
  alarm; they clear when the connector next reports a usable status;
- equipment notices (security events, monitoring events, operator-platform alarms) raise
  the mapped alarm, or by their own severity when unmapped; a notice marked `cleared`
  clears it;
- a charger's own status (OCPP 1.6 connector 0) with an error code raises the mapped alarm
  on the charger (unmapped codes: `charger_fault`, by severity); the charger reporting
  itself available without error clears every alarm such reports raised;
- meter values: temperature at or above `over_temperature_c` raises over_temperature,
  which clears at `over_temperature_c - temperature_hysteresis_c`; current above
  `over_current_factor` × the connector's rated current raises over_current, which
  clears at the rated current;
- the vehicle battery during a charge (BMS data an operator platform passes on): its
  highest temperature at or above `battery_temperature_c` or at or above the BMS's own
  stated ceiling raises battery_over_temperature (critical: a fire risk, R33), which clears
  `battery_hysteresis_c` below; its highest cell voltage above the BMS's highest allowed
  cell voltage raises cell_over_voltage, which clears at the ceiling;
- `repeated_faults` faults of one connector within `repeated_faults_window_h` raise
  repeated_faults, cleared after `repeated_faults_quiet_h` without a fault.

De-duplication: one open alarm per (target, code); a condition seen again while its alarm
is open raises nothing. Alarm and event ids derive from the triggering event, so seeing
the same event twice (a restart, a resend) gives the same alarm.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chargenet.core.events import (
    AlarmCleared,
    AlarmRaised,
    BatteryReported,
    ConnectorStatusChanged,
    EquipmentNoticed,
    Event,
    MeterSampled,
    Source,
)
from chargenet.core.ids import AlarmId, EventId
from chargenet.core.oversight import NoticeKind
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import Severity, TargetKind
from chargenet.kit.ids import stable_id

RULES_SOURCE = Source(adapter="rules")
CHARGER_FAULT = "charger_fault"  # a charger-level error code with no mapping of its own

Mapped = tuple[str, Severity]  # (alarm code, severity)

# Keys are compared after lower-casing and dropping "_", "-" and spaces.
DEFAULT_ERROR_CODES: dict[str, Mapped] = {
    "groundfailure": ("ground_fault", Severity.CRITICAL),
    "groundfault": ("ground_fault", Severity.CRITICAL),
    "hightemperature": ("over_temperature", Severity.MAJOR),
    "overtemperature": ("over_temperature", Severity.MAJOR),
    "overcurrentfailure": ("over_current", Severity.MAJOR),
    "overcurrent": ("over_current", Severity.MAJOR),
    "overvoltage": ("over_voltage", Severity.MAJOR),
    "undervoltage": ("under_voltage", Severity.WARNING),
    "powerswitchfailure": ("power_switch_failure", Severity.MAJOR),
    "emergencystop": ("emergency_stop", Severity.CRITICAL),
    "insulationfault": ("insulation_fault", Severity.CRITICAL),
    "smoke": ("smoke", Severity.CRITICAL),
    "fire": ("fire", Severity.CRITICAL),
}
DEFAULT_NOTICE_CODES: dict[str, Mapped] = {
    **DEFAULT_ERROR_CODES,
    "emergencystopsensor": ("emergency_stop", Severity.CRITICAL),
    "tamperdetectionactivated": ("tamper", Severity.MAJOR),
    "firmwaretampered": ("firmware_tampered", Severity.CRITICAL),
    "invalidfirmwaresignature": ("invalid_firmware", Severity.MAJOR),
    "memoryexhaustion": ("memory_exhaustion", Severity.WARNING),
    # A firmware update that failed (download, signature, verification, installation) leaves
    # the charger on firmware nobody chose; a failed diagnostics or log upload leaves a
    # fault without its evidence. Cleared by the next success (Installed, Uploaded).
    "firmwareupdatefailed": ("firmware_update_failed", Severity.MAJOR),
    "diagnosticsuploadfailed": ("diagnostics_upload_failed", Severity.WARNING),
}


def normalise(code: str) -> str:
    return code.lower().replace("_", "").replace("-", "").replace(" ", "")


def severity_of_level(level: int | None) -> Severity | None:
    """OCPP 2.0.1 severity (0 danger … 9 debug) → ours; None for notices not worth an alarm."""
    if level is None or level >= 7:
        return None
    if level <= 1:
        return Severity.CRITICAL
    return Severity.MAJOR if level <= 3 else Severity.WARNING


@dataclass(frozen=True)
class AlarmRules:
    error_codes: Mapping[str, Mapped] = field(default_factory=lambda: dict(DEFAULT_ERROR_CODES))
    notice_codes: Mapping[str, Mapped] = field(default_factory=lambda: dict(DEFAULT_NOTICE_CODES))
    over_temperature_c: float = 90.0
    temperature_hysteresis_c: float = 10.0
    over_current_factor: float = 1.10
    battery_temperature_c: float = 60.0
    battery_hysteresis_c: float = 5.0
    repeated_faults: int = 3
    repeated_faults_window_h: float = 24.0
    repeated_faults_quiet_h: float = 24.0


@dataclass(frozen=True, slots=True)
class OpenAlarm:
    alarm_id: str
    target_kind: TargetKind
    target_id: str
    code: str
    raised_at: datetime


Key = tuple[TargetKind, str, str]  # (target kind, target id, code)


class AlarmEngine:
    def __init__(
        self,
        rules: AlarmRules,
        open_alarms: Iterable[OpenAlarm] = (),
        rated_current_a: Mapping[str, float] | None = None,
    ) -> None:
        self.rules = rules
        self.open: dict[Key, OpenAlarm] = {}
        for alarm in open_alarms:
            self.open[(alarm.target_kind, alarm.target_id, alarm.code)] = alarm
        self.rated_current_a = dict(rated_current_a or {})
        self._faults: dict[str, deque[datetime]] = {}
        self._last_status: dict[str, ConnectorStatus] = {}
        self._error_codes = {normalise(k): v for k, v in rules.error_codes.items()}
        self._notice_codes = {normalise(k): v for k, v in rules.notice_codes.items()}

    # --- what comes in --------------------------------------------------------------------

    def observe(self, event: Event, now: datetime) -> list[Event]:
        """Alarm events this event calls for (possibly none)."""
        if isinstance(event, ConnectorStatusChanged):
            return self._status(event, now)
        if isinstance(event, MeterSampled):
            return self._meter(event, now)
        if isinstance(event, EquipmentNoticed):
            return self._notice(event, now)
        if isinstance(event, BatteryReported):
            return self._battery(event, now)
        if isinstance(event, AlarmRaised):
            key = (event.target_kind, event.target_id, event.code)
            if key not in self.open:
                self.open[key] = OpenAlarm(
                    event.alarm_id,
                    event.target_kind,
                    event.target_id,
                    event.code,
                    event.occurred_at,
                )
        elif isinstance(event, AlarmCleared):
            for key, alarm in list(self.open.items()):
                if alarm.alarm_id == event.alarm_id:
                    del self.open[key]
        return []

    def tick(self, now: datetime) -> list[Event]:
        """Clears that only the passing of time brings (repeated faults gone quiet)."""
        quiet = timedelta(hours=self.rules.repeated_faults_quiet_h)
        out: list[Event] = []
        for (kind, target, code), alarm in list(self.open.items()):
            if code != "repeated_faults" or kind is not TargetKind.CONNECTOR:
                continue
            faults = self._faults.get(target)
            last = faults[-1] if faults else alarm.raised_at
            if now - last >= quiet:
                out += self._clear(kind, target, code, last + quiet, now, "no fault since")
        return out

    def _status(self, event: ConnectorStatusChanged, now: datetime) -> list[Event]:
        cid = event.connector_id
        out: list[Event] = []
        previous = self._last_status.get(cid)
        self._last_status[cid] = event.status
        mapped = self._error_codes.get(normalise(event.error_code or ""))
        if mapped is not None:
            code, severity = mapped
            message = f"{event.error_code}" + (f": {event.info}" if event.info else "")
            out += self._raise(TargetKind.CONNECTOR, cid, code, severity, message, event, now)
        if event.status.usable:
            for (kind, target, code), _ in list(self.open.items()):
                if kind is TargetKind.CONNECTOR and target == cid and code in self._status_codes:
                    out += self._clear(
                        kind, target, code, event.occurred_at, now, f"connector {event.status}"
                    )
        if event.status is ConnectorStatus.FAULTED and previous is not ConnectorStatus.FAULTED:
            out += self._fault(event, now)
        return out

    @property
    def _status_codes(self) -> set[str]:
        return {code for code, _ in self._error_codes.values()}

    def _fault(self, event: ConnectorStatusChanged, now: datetime) -> list[Event]:
        window = timedelta(hours=self.rules.repeated_faults_window_h)
        faults = self._faults.setdefault(event.connector_id, deque())
        faults.append(event.occurred_at)
        if len(faults) > 1 and faults[-2] > faults[-1]:
            faults = deque(sorted(faults))
            self._faults[event.connector_id] = faults
        while faults and faults[-1] - faults[0] > window:
            faults.popleft()
        if len(faults) < self.rules.repeated_faults:
            return []
        return self._raise(
            TargetKind.CONNECTOR,
            event.connector_id,
            "repeated_faults",
            Severity.MAJOR,
            f"{len(faults)} faults within {self.rules.repeated_faults_window_h:g} h",
            event,
            now,
        )

    def _meter(self, event: MeterSampled, now: datetime) -> list[Event]:
        rules, cid, out = self.rules, event.connector_id, []
        if event.temperature_c is not None:
            if event.temperature_c >= rules.over_temperature_c:
                out += self._raise(
                    TargetKind.CONNECTOR,
                    cid,
                    "over_temperature",
                    Severity.MAJOR,
                    f"{event.temperature_c:g} °C (limit {rules.over_temperature_c:g} °C)",
                    event,
                    now,
                )
            elif event.temperature_c <= rules.over_temperature_c - rules.temperature_hysteresis_c:
                out += self._clear(
                    TargetKind.CONNECTOR,
                    cid,
                    "over_temperature",
                    event.occurred_at,
                    now,
                    f"{event.temperature_c:g} °C",
                )
        rated = self.rated_current_a.get(cid)
        if event.current_a is not None and rated:
            if abs(event.current_a) > rated * rules.over_current_factor:
                out += self._raise(
                    TargetKind.CONNECTOR,
                    cid,
                    "over_current",
                    Severity.MAJOR,
                    f"{event.current_a:g} A (rated {rated:g} A)",
                    event,
                    now,
                )
            elif abs(event.current_a) <= rated:
                out += self._clear(
                    TargetKind.CONNECTOR,
                    cid,
                    "over_current",
                    event.occurred_at,
                    now,
                    f"{event.current_a:g} A",
                )
        return out

    def _battery(self, event: BatteryReported, now: datetime) -> list[Event]:
        rules, cid, out = self.rules, event.connector_id, []
        hot = event.temperature_max_c
        if hot is not None:
            ceiling = rules.battery_temperature_c
            if event.temperature_limit_c is not None and event.temperature_limit_c > 0:
                ceiling = min(ceiling, event.temperature_limit_c)
            if hot >= ceiling:
                out += self._raise(
                    TargetKind.CONNECTOR,
                    cid,
                    "battery_over_temperature",
                    Severity.CRITICAL,
                    f"battery {hot:g} °C (limit {ceiling:g} °C)",
                    event,
                    now,
                )
            elif hot <= ceiling - rules.battery_hysteresis_c:
                out += self._clear(
                    TargetKind.CONNECTOR,
                    cid,
                    "battery_over_temperature",
                    event.occurred_at,
                    now,
                    f"battery {hot:g} °C",
                )
        cell, limit = event.cell_voltage_max_v, event.cell_voltage_limit_v
        if cell is not None and limit:
            if cell > limit:
                out += self._raise(
                    TargetKind.CONNECTOR,
                    cid,
                    "cell_over_voltage",
                    Severity.MAJOR,
                    f"cell {cell:g} V (BMS limit {limit:g} V)",
                    event,
                    now,
                )
            else:
                out += self._clear(
                    TargetKind.CONNECTOR,
                    cid,
                    "cell_over_voltage",
                    event.occurred_at,
                    now,
                    "cell ok",
                )
        return out

    def _charger_status(self, event: EquipmentNoticed, now: datetime) -> list[Event]:
        kind, target = TargetKind.CHARGER, event.charger_id
        if event.cleared:
            out: list[Event] = []
            for k, t, code in list(self.open):
                if k is kind and t == target and code in self._charger_status_codes:
                    out += self._clear(k, t, code, event.occurred_at, now, "charger available")
            return out
        code, severity = self._error_codes.get(normalise(event.code)) or (
            CHARGER_FAULT,
            severity_of_level(event.severity) or Severity.MAJOR,
        )
        message = event.code + (f": {event.info}" if event.info else "")
        return self._raise(kind, target, code, severity, message, event, now)

    @property
    def _charger_status_codes(self) -> set[str]:
        return self._status_codes | {CHARGER_FAULT}

    def _notice(self, event: EquipmentNoticed, now: datetime) -> list[Event]:
        if event.kind is NoticeKind.STATUS:
            return self._charger_status(event, now)
        mapped = self._notice_codes.get(normalise(event.code))
        if mapped is None:
            severity = severity_of_level(event.severity)
            if severity is None:
                return []
            mapped = (normalise(event.code) or "notice", severity)
        code, severity = mapped
        kind, target = (
            (TargetKind.CONNECTOR, event.connector_id)
            if event.connector_id
            else (TargetKind.CHARGER, event.charger_id)
        )
        if event.cleared:
            return self._clear(
                kind, target, code, event.occurred_at, now, f"{event.kind}: {event.code} cleared"
            )
        message = f"{event.kind}: {event.code}" + (f" ({event.info})" if event.info else "")
        return self._raise(kind, target, code, severity, message, event, now)

    # --- what goes out --------------------------------------------------------------------

    def _raise(
        self,
        kind: TargetKind,
        target: str,
        code: str,
        severity: Severity,
        message: str,
        cause: Event,
        now: datetime,
    ) -> list[Event]:
        key = (kind, target, code)
        if key in self.open:
            return []  # de-duplication: the condition is already alarmed
        alarm_id = AlarmId(stable_id("alarm", kind.value, target, code, cause.event_id))
        self.open[key] = OpenAlarm(alarm_id, kind, target, code, cause.occurred_at)
        return [
            AlarmRaised(
                event_id=EventId(stable_id("alarm.raised", alarm_id)),
                source=RULES_SOURCE,
                occurred_at=cause.occurred_at,
                received_at=now,
                alarm_id=alarm_id,
                target_kind=kind,
                target_id=target,
                code=code,
                severity=severity,
                message=message,
            )
        ]

    def _clear(
        self, kind: TargetKind, target: str, code: str, when: datetime, now: datetime, reason: str
    ) -> list[Event]:
        alarm = self.open.pop((kind, target, code), None)
        if alarm is None:
            return []
        return [
            AlarmCleared(
                event_id=EventId(stable_id("alarm.cleared", alarm.alarm_id)),
                source=RULES_SOURCE,
                occurred_at=max(when, alarm.raised_at),
                received_at=now,
                alarm_id=AlarmId(alarm.alarm_id),
                reason=reason,
            )
        ]
