"""Domain events: everything that enters chargenet becomes one of these.

An event is a fact as its source states it: what happened (`occurred_at`, the source's
own clock) and when chargenet heard of it (`received_at`, ours). Events are frozen,
typed and versioned (`TYPE`, `VERSION`); an adapter builds them, the ingest path
validates them (`problems()`), appends them to the durable log and applies them to state.
Adapters give resent messages the same `event_id`, which is what makes ingest idempotent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, TypedDict

from chargenet.core.areas import AreaLevel, code_problems
from chargenet.core.billing import MAX_BILL_AMOUNT, Bill, Difference, bill_problems
from chargenet.core.drivers import DRIVER_ID, TokenKind
from chargenet.core.ids import (
    AlarmId,
    AreaCode,
    ChargerId,
    ConnectorId,
    EventId,
    OperatorId,
    OrderId,
    SessionId,
    StationId,
    SwapStationId,
)
from chargenet.core.ledger import Entry, entry_problems
from chargenet.core.money import Money
from chargenet.core.oversight import ExclusionReason, NoticeKind, ZombieOutcome, ZombieRule
from chargenet.core.registry.model import (
    MAX_INVENTORY_ITEMS,
    ChargerRecord,
    InventoryItem,
    OperatorRecord,
    StationRecord,
    SwapStationRecord,
    SwapVehicleType,
)
from chargenet.core.registry.public_hours import problems as public_hours_problems
from chargenet.core.sessions import MAX_SESSION_ENERGY_WH, SessionFlag
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import OrderKind, OrderOutcome, Severity, TargetKind
from chargenet.core.supervision.credit import MAX_POINTS, DemonstrationKind
from chargenet.core.supervision.incidents import IncidentKind, Responsible
from chargenet.core.supervision.inspections import (
    Assignment,
    InspectionResult,
    draw,
    draw_problems,
)
from chargenet.core.supervision.swap import MAX_PACKS, BatteryPack
from chargenet.core.tariffs import TariffElement, TariffKind, TariffPeriod, tariff_problems
from chargenet.core.text import long_texts

EVENT_TYPES: dict[str, type[Event]] = {}

# Bounds on live values: beyond these a reading is broken, not news.
MAX_ENERGY_REGISTER_WH = 10**12  # a meter register (1 TWh) — anything above is garbage
MAX_POWER_W = 4_000_000
MAX_CURRENT_A = 5_000
MAX_VOLTAGE_V = 2_000


@dataclass(frozen=True, kw_only=True)
class Source:
    """Who told us: the adapter (ocpp, ocpi, tcec, import, api, demo) and, when known, the
    operator on whose behalf, or the charger speaking for itself over its own connection.
    A sender that names an operator or a charger may only write about what it holds
    (core/ownership.py)."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"adapter": 32}

    adapter: str
    operator_id: OperatorId | None = None
    charger_id: ChargerId | None = None


def _aware(**fields: datetime) -> list[str]:
    return [
        f"{name} must be timezone-aware"
        for name, value in fields.items()
        if value.tzinfo is None or value.utcoffset() is None
    ]


class EventMeta(TypedDict):
    """The fields every event carries, for building events with `**meta`."""

    event_id: EventId
    source: Source
    occurred_at: datetime
    received_at: datetime


def event_meta(
    event_id: str, source: Source, occurred_at: datetime, received_at: datetime | None = None
) -> EventMeta:
    return {
        "event_id": EventId(event_id),
        "source": source,
        "occurred_at": occurred_at,
        "received_at": received_at or occurred_at,
    }


@dataclass(frozen=True, kw_only=True)
class Event:
    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    # Text fields whose limit is not core.text's default (MAX_ID for *_id, else MAX_TEXT).
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"event_id": 200}

    event_id: EventId
    source: Source
    occurred_at: datetime
    received_at: datetime

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:
            if cls.TYPE in EVENT_TYPES:
                raise TypeError(f"event type {cls.TYPE!r} defined twice")
            EVENT_TYPES[cls.TYPE] = cls

    def problems(self) -> list[str]:
        """Why this event cannot be accepted; empty when it can."""
        out: list[str] = []
        if not self.event_id:
            out.append("event_id is empty")
        if not self.source.adapter:
            out.append("source adapter is empty")
        out += _aware(occurred_at=self.occurred_at, received_at=self.received_at)
        out += long_texts(self)
        return out + self.body_problems()

    def body_problems(self) -> list[str]:
        return []


def _empty(**fields: str | None) -> list[str]:
    return [f"{name} is empty" for name, value in fields.items() if not value or not value.strip()]


# --- areas --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AreaRegistered(Event):
    """An administrative area, registered or re-registered with new names or position."""

    TYPE: ClassVar[str] = "area.registered"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "code": 32,
        "parent_code": 32,
        "name_zh": 200,
        "name_en": 200,
    }

    code: AreaCode
    level: AreaLevel
    name_zh: str
    parent_code: AreaCode | None = None
    name_en: str | None = None
    lat: float | None = None  # WGS-84
    lon: float | None = None

    def body_problems(self) -> list[str]:
        out = code_problems(self.code, self.level, self.parent_code) + _empty(name_zh=self.name_zh)
        if (self.lat is None) != (self.lon is None):
            out.append("lat and lon come together")
        elif (
            self.lat is not None
            and self.lon is not None
            and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180)
        ):
            out.append(f"coordinates out of range: {self.lat},{self.lon}")
        return out


@dataclass(frozen=True, kw_only=True)
class AreaStatisticsRecorded(Event):
    """Statistics of an area for a year; None leaves a figure as it was."""

    TYPE: ClassVar[str] = "area.statistics_recorded"

    area_code: AreaCode
    year: int
    ev_count: int | None = None  # new-energy vehicles registered at year end
    motor_vehicles: int | None = None
    population: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(area_code=self.area_code)
        if not 1990 <= self.year <= 2100:
            out.append(f"year {self.year} out of range")
        for name in ("ev_count", "motor_vehicles", "population"):
            value = getattr(self, name)
            if value is not None and value < 0:
                out.append(f"{name} is negative")
        if self.ev_count is None and self.motor_vehicles is None and self.population is None:
            out.append("no statistic given")
        return out


# --- registry -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OperatorRegistered(Event):
    TYPE: ClassVar[str] = "operator.registered"
    operator: OperatorRecord

    def body_problems(self) -> list[str]:
        return self.operator.problems()


@dataclass(frozen=True, kw_only=True)
class OperatorUpdated(Event):
    TYPE: ClassVar[str] = "operator.updated"
    operator: OperatorRecord

    def body_problems(self) -> list[str]:
        return self.operator.problems()


@dataclass(frozen=True, kw_only=True)
class StationRegistered(Event):
    TYPE: ClassVar[str] = "station.registered"
    station: StationRecord

    def body_problems(self) -> list[str]:
        return self.station.problems()


@dataclass(frozen=True, kw_only=True)
class StationUpdated(Event):
    TYPE: ClassVar[str] = "station.updated"
    station: StationRecord

    def body_problems(self) -> list[str]:
        return self.station.problems()


@dataclass(frozen=True, kw_only=True)
class StationRetired(Event):
    TYPE: ClassVar[str] = "station.retired"
    station_id: StationId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(station_id=self.station_id)


@dataclass(frozen=True, kw_only=True)
class ChargerRegistered(Event):
    TYPE: ClassVar[str] = "charger.registered"
    charger: ChargerRecord

    def body_problems(self) -> list[str]:
        return self.charger.problems()


@dataclass(frozen=True, kw_only=True)
class ChargerUpdated(Event):
    TYPE: ClassVar[str] = "charger.updated"
    charger: ChargerRecord

    def body_problems(self) -> list[str]:
        return self.charger.problems()


@dataclass(frozen=True, kw_only=True)
class ChargerRetired(Event):
    TYPE: ClassVar[str] = "charger.retired"
    charger_id: ChargerId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(charger_id=self.charger_id)


@dataclass(frozen=True, kw_only=True)
class SwapStationRegistered(Event):
    TYPE: ClassVar[str] = "swap_station.registered"
    swap_station: SwapStationRecord

    def body_problems(self) -> list[str]:
        return self.swap_station.problems()


@dataclass(frozen=True, kw_only=True)
class SwapStationUpdated(Event):
    TYPE: ClassVar[str] = "swap_station.updated"
    swap_station: SwapStationRecord

    def body_problems(self) -> list[str]:
        return self.swap_station.problems()


@dataclass(frozen=True, kw_only=True)
class SwapStationRetired(Event):
    TYPE: ClassVar[str] = "swap_station.retired"
    swap_station_id: SwapStationId
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(swap_station_id=self.swap_station_id)


# --- live equipment -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChargerPresenceChanged(Event):
    """The charger (or the operator platform behind it) started or stopped talking to us."""

    TYPE: ClassVar[str] = "charger.presence_changed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"reason": 200}
    charger_id: ChargerId
    online: bool
    reason: str = ""

    def body_problems(self) -> list[str]:
        return _empty(charger_id=self.charger_id)


@dataclass(frozen=True, kw_only=True)
class ConnectorStatusChanged(Event):
    TYPE: ClassVar[str] = "connector.status_changed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"error_code": 64, "vendor_error_code": 64, "info": 200}
    connector_id: ConnectorId
    status: ConnectorStatus
    error_code: str | None = None  # protocol error code as sent (GroundFailure, …)
    vendor_error_code: str | None = None
    info: str | None = None

    def body_problems(self) -> list[str]:
        return _empty(connector_id=self.connector_id)


@dataclass(frozen=True, kw_only=True)
class MeterSampled(Event):
    """A meter reading. `energy_register_wh` is the meter's cumulative register."""

    TYPE: ClassVar[str] = "connector.meter_sampled"
    connector_id: ConnectorId
    session_id: SessionId | None = None
    energy_register_wh: int | None = None
    power_w: int | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    soc_percent: float | None = None
    temperature_c: float | None = None
    # The most the charger says it can deliver through the connector now (OCPP Power.Offered).
    power_offered_w: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(connector_id=self.connector_id)
        if self.power_offered_w is not None and not 0 <= self.power_offered_w <= MAX_POWER_W:
            out.append(f"offered power {self.power_offered_w} W out of range")
        if self.energy_register_wh is not None and not (
            0 <= self.energy_register_wh <= MAX_ENERGY_REGISTER_WH
        ):
            out.append(f"energy register {self.energy_register_wh} Wh out of range")
        if self.power_w is not None and not -MAX_POWER_W <= self.power_w <= MAX_POWER_W:
            out.append(f"power {self.power_w} W out of range")
        if self.current_a is not None and not -MAX_CURRENT_A <= self.current_a <= MAX_CURRENT_A:
            out.append(f"current {self.current_a} A out of range")
        if self.voltage_v is not None and not 0 <= self.voltage_v <= MAX_VOLTAGE_V:
            out.append(f"voltage {self.voltage_v} V out of range")
        if self.soc_percent is not None and not 0 <= self.soc_percent <= 100:
            out.append(f"state of charge {self.soc_percent} % out of range")
        if self.temperature_c is not None and not -60 <= self.temperature_c <= 300:
            out.append(f"temperature {self.temperature_c} °C out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class BatteryReported(Event):
    """The vehicle battery during a charge, as its BMS tells the charger and the operator's
    platform passes on (the municipal platforms' `notification_bmsInfo`, docs/tcec.md).
    `*_limit_*` are the BMS's own ceilings (its highest allowed cell voltage and
    temperature); the safety rules compare the readings with them."""

    TYPE: ClassVar[str] = "battery.reported"
    connector_id: ConnectorId
    session_id: SessionId | None = None
    soc_percent: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None
    cell_voltage_max_v: float | None = None
    cell_voltage_min_v: float | None = None
    cell_voltage_limit_v: float | None = None
    temperature_max_c: float | None = None
    temperature_min_c: float | None = None
    temperature_limit_c: float | None = None

    def body_problems(self) -> list[str]:
        out = _empty(connector_id=self.connector_id)
        if self.soc_percent is not None and not 0 <= self.soc_percent <= 100:
            out.append(f"state of charge {self.soc_percent} % out of range")
        if self.voltage_v is not None and not 0 <= self.voltage_v <= MAX_VOLTAGE_V:
            out.append(f"voltage {self.voltage_v} V out of range")
        if self.current_a is not None and not -MAX_CURRENT_A <= self.current_a <= MAX_CURRENT_A:
            out.append(f"current {self.current_a} A out of range")
        for name in ("cell_voltage_max_v", "cell_voltage_min_v", "cell_voltage_limit_v"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                out.append(f"{name} {value} V out of range")
        for name in ("temperature_max_c", "temperature_min_c", "temperature_limit_c"):
            value = getattr(self, name)
            if value is not None and not -60 <= value <= 300:
                out.append(f"{name} {value} °C out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class ParkingReported(Event):
    """Whether a vehicle stands in a connector's bay and whether its parking lock is up
    (T/CEC ConnectorStatusInfo ParkStatus / LockStatus, a bay sensor). None: not stated.
    A bay occupied while its connector is not charging is a space taken from charging
    (R39: fuel cars occupying charging spaces)."""

    TYPE: ClassVar[str] = "parking.reported"
    connector_id: ConnectorId
    occupied: bool | None = None
    locked: bool | None = None

    def body_problems(self) -> list[str]:
        out = _empty(connector_id=self.connector_id)
        if self.occupied is None and self.locked is None:
            out.append("a parking report states occupancy or the lock")
        return out


@dataclass(frozen=True, kw_only=True)
class StationNoticed(Event):
    """A notice about a station as a whole from its operator's platform (the municipal
    platforms' `notification_eventInfo`): its type and code in the source's words, and
    its note. Kept in the log; incident timelines name them."""

    TYPE: ClassVar[str] = "station.noticed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"code": 64, "info": 500}
    station_id: StationId
    code: str
    info: str = ""

    def body_problems(self) -> list[str]:
        return _empty(station_id=self.station_id, code=self.code)


# --- sessions -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    TYPE: ClassVar[str] = "session.started"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_hash": 128}
    session_id: SessionId
    connector_id: ConnectorId
    meter_start_wh: int | None = None
    token_hash: str | None = None  # never the raw RFID / account token
    flags: tuple[SessionFlag, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id, connector_id=self.connector_id)
        if self.meter_start_wh is not None and not (
            0 <= self.meter_start_wh <= MAX_ENERGY_REGISTER_WH
        ):
            out.append(f"meter start {self.meter_start_wh} Wh out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SessionUpdated(Event):
    TYPE: ClassVar[str] = "session.updated"
    session_id: SessionId
    energy_wh: int | None = None  # delivered so far
    power_w: int | None = None
    cost: Money | None = None

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id)
        if self.energy_wh is not None and not 0 <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"session energy {self.energy_wh} Wh out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    """A session ended. Energy is from the meter stop reading when the source gives one,
    else the source's own total."""

    TYPE: ClassVar[str] = "session.ended"
    session_id: SessionId
    meter_stop_wh: int | None = None
    energy_wh: int | None = None
    stop_reason: str | None = None
    cost: Money | None = None
    flags: tuple[SessionFlag, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id)
        if self.meter_stop_wh is not None and not 0 <= self.meter_stop_wh <= MAX_ENERGY_REGISTER_WH:
            out.append(f"meter stop {self.meter_stop_wh} Wh out of range")
        if self.energy_wh is not None and not 0 <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"session energy {self.energy_wh} Wh out of range")
        return out


# --- swap stations ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SwapStationStatusChanged(Event):
    TYPE: ClassVar[str] = "swap_station.status_changed"
    swap_station_id: SwapStationId
    status: ConnectorStatus
    batteries_ready: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(swap_station_id=self.swap_station_id)
        if self.batteries_ready is not None and not 0 <= self.batteries_ready <= 10_000:
            out.append(f"batteries_ready {self.batteries_ready} out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class BatterySwapped(Event):
    TYPE: ClassVar[str] = "swap_station.battery_swapped"
    swap_station_id: SwapStationId
    swap_id: str
    vehicle_type: SwapVehicleType = SwapVehicleType.PASSENGER
    energy_wh: int | None = None  # charge held by the battery handed out

    def body_problems(self) -> list[str]:
        out = _empty(swap_station_id=self.swap_station_id, swap_id=self.swap_id)
        if self.energy_wh is not None and not 0 <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"energy {self.energy_wh} Wh out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SwapBatteriesReported(Event):
    """The battery packs a swap station holds, with their state and state of health (R40):
    the whole inventory — a pack no longer listed has left the station."""

    TYPE: ClassVar[str] = "swap_station.batteries_reported"
    swap_station_id: SwapStationId
    packs: tuple[BatteryPack, ...]

    def body_problems(self) -> list[str]:
        out = _empty(swap_station_id=self.swap_station_id)
        if len(self.packs) > MAX_PACKS:
            return [*out, f"at most {MAX_PACKS} packs per report"]
        if len({p.pack_id for p in self.packs}) != len(self.packs):
            out.append("a pack is listed twice")
        for pack in self.packs:
            out += pack.problems()
        return out


# --- supervision --------------------------------------------------------------------------


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


# --- planning -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TargetSet(Event):
    """A plan target for an area, set or revised; every revision stays in the log (R16)."""

    TYPE: ClassVar[str] = "target.set"
    target_id: str
    area_code: AreaCode
    metric: str  # e.g. new_public_piles, public_piles, ev_per_public_pile
    value: Decimal
    year: int
    month: int | None = None
    definition: str = ""  # exact meaning: which piles, which vehicles, new or cumulative
    source_ref: str = ""  # where the number comes from (document, table)
    valid_from: date | None = None

    def body_problems(self) -> list[str]:
        out = _empty(target_id=self.target_id, area_code=self.area_code, metric=self.metric)
        if not 1990 <= self.year <= 2100:
            out.append(f"year {self.year} out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            out.append(f"month {self.month} out of range")
        problem = target_value_problem(self.value)
        if problem:
            out.append(problem)
        return out


def target_value_problem(value: Decimal) -> str | None:
    """A target counts piles, vehicles, stations or a ratio of them, or a reported figure:
    never negative (R15's reductions are written as the amount to cut, e.g. 14.5 %)."""
    if not value.is_finite():
        return "value must be a finite number"
    if value < 0:
        return f"value {value} is negative: a target counts piles, vehicles or a ratio of them"
    return None


# --- planning: policy packs -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PolicyPackLoaded(Event):
    """A region's policy pack (metric definitions, coverage rules, parking ratios) put in
    force. Its targets arrive as TargetSet events beside it; the latest version of a pack
    (by `occurred_at`) is the one in force, and the log keeps every version."""

    TYPE: ClassVar[str] = "planning.pack_loaded"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"text": 1_000_000}
    pack_id: str
    region_code: AreaCode
    version: date
    title: str
    text: str  # the pack as TOML, exactly as loaded

    def body_problems(self) -> list[str]:
        from chargenet.core.planning.pack import (
            pack_problems,
        )  # here, so this section stays self-contained

        out = _empty(pack_id=self.pack_id, region_code=self.region_code, title=self.title)
        return out + [f"pack: {p}" for p in pack_problems(self.text)]


@dataclass(frozen=True, kw_only=True)
class PlanningScenarioSaved(Event):
    """A named planning scenario saved, or replaced (the same area and name): the
    assumptions a build plan depends on, as JSON (core/planning/scenario.py)."""

    TYPE: ClassVar[str] = "planning.scenario_saved"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "scenario_id": 200,
        "area_code": 32,
        "name": 100,
        "parameters": 20_000,
        "saved_by": 100,
    }
    scenario_id: str
    area_code: AreaCode
    name: str
    parameters: str  # the scenario as JSON
    saved_by: str = ""

    def body_problems(self) -> list[str]:
        import json

        from chargenet.core.planning.scenario import Scenario

        out = _empty(scenario_id=self.scenario_id, area_code=self.area_code, name=self.name)
        if self.scenario_id != f"{self.area_code}|{self.name}":
            out.append("scenario_id must be the area code and the name joined by '|'")
        try:
            data = json.loads(self.parameters)
            if not isinstance(data, dict):
                return [*out, "parameters: a JSON object"]
            scenario = Scenario.from_json(data)
        except (ValueError, RecursionError) as exc:
            return [*out, f"parameters: {exc}"]
        if scenario.name != self.name or scenario.area != self.area_code:
            out.append("parameters: name and area differ from the event's")
        return out


# --- tariffs, bills, settlement, energy statistics (T/CEC 102 interconnection) ---
# Protocol-neutral facts that operator platforms report beside registry and live data.


@dataclass(frozen=True, kw_only=True)
class StationPricesPublished(Event):
    """An operator's prices at a station (or one connector): time-of-use periods and the
    fee texts it shows drivers (T/CEC StationInfo words fees as free text)."""

    TYPE: ClassVar[str] = "station.prices_published"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"currency": 3}
    station_id: StationId
    connector_id: ConnectorId | None = None  # None: the whole station
    periods: tuple[TariffPeriod, ...] = ()
    electricity_fee: str = ""
    service_fee: str = ""
    parking_fee: str = ""
    currency: str = "CNY"

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id) + tariff_problems(self.periods)
        if not (self.periods or self.electricity_fee or self.service_fee or self.parking_fee):
            out.append("a tariff needs periods or a fee text")
        for name in ("electricity_fee", "service_fee", "parking_fee"):
            if len(getattr(self, name)) > 2000:
                out.append(f"{name} longer than 2000 characters")
        return out


@dataclass(frozen=True, kw_only=True)
class SessionBilled(Event):
    """What the operator charged for a session, split by time-of-use period."""

    TYPE: ClassVar[str] = "session.billed"
    session_id: SessionId
    bill: Bill

    def body_problems(self) -> list[str]:
        return _empty(session_id=self.session_id) + bill_problems(self.bill)


@dataclass(frozen=True, kw_only=True)
class ChargeOrdersReconciled(Event):
    """An operator's statement of its orders for a period, checked against chargenet's
    records at the time; the differences found are part of the fact."""

    TYPE: ClassVar[str] = "settlement.reconciled"
    reconciliation_id: str
    operator_id: OperatorId
    period_start: datetime
    period_end: datetime
    stated_orders: int
    stated_energy_wh: int
    stated_amount: Decimal
    recorded_orders: int
    recorded_energy_wh: int
    recorded_amount: Decimal
    differences: tuple[Difference, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(reconciliation_id=self.reconciliation_id, operator_id=self.operator_id)
        if self.period_end < self.period_start:
            out.append("period ends before it starts")
        if self.stated_orders < 0 or self.recorded_orders < 0:
            out.append("order counts cannot be negative")
        ids = [d.order_id for d in self.differences]
        if len(set(ids)) != len(ids):
            out.append("an order appears twice among the differences")
        return out


@dataclass(frozen=True, kw_only=True)
class EnergyStatsReported(Event):
    """Energy an operator says a station delivered over whole local days (inclusive)."""

    TYPE: ClassVar[str] = "station.energy_reported"
    station_id: StationId
    day_from: date
    day_to: date
    energy_wh: int
    connectors: tuple[tuple[ConnectorId, int], ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id)
        if self.day_to < self.day_from:
            out.append("day_to is before day_from")
        elif (self.day_to - self.day_from).days > 366:
            out.append("a report covers at most a year")
        for name, value in (("station", self.energy_wh), *self.connectors):
            if not 0 <= value <= MAX_ENERGY_REGISTER_WH:
                out.append(f"energy of {name} {value} Wh out of range")
        return out


# --- supervision: outages, zombie piles, stop orders, equipment notices -------

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
    condition it reported is over. Safety rules (analytics.alarms) turn notices into alarms."""

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


# --- roaming: charge detail records and tariffs (OCPI) ------------------------------------

MAX_TARIFF_ELEMENTS = 100


@dataclass(frozen=True, kw_only=True)
class ChargeDetailRecorded(Event):
    """An operator's final, billable record of one charging session (OCPI CDR). Records are
    never changed: a correction is a new record that credits the old one."""

    TYPE: ClassVar[str] = "cdr.recorded"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"auth_method": 32, "token_hash": 128}
    cdr_id: str  # global: country*party*id of the issuing operator
    connector_id: ConnectorId
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    cost: Money  # total, excluding VAT
    cost_incl_vat: Decimal | None = None
    session_id: SessionId | None = None
    charging_time_s: int | None = None
    parking_time_s: int | None = None
    auth_method: str = ""
    token_hash: str | None = None  # never the raw token uid
    tariff_ids: tuple[str, ...] = ()
    credit: bool = False
    credit_reference_id: str | None = None
    remark: str | None = None

    def body_problems(self) -> list[str]:
        out = _empty(cdr_id=self.cdr_id, connector_id=self.connector_id)
        if self.ended_at < self.started_at:
            out.append("a record cannot end before it starts")
        if not -MAX_SESSION_ENERGY_WH <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"energy {self.energy_wh} Wh out of range")
        if self.energy_wh < 0 and not self.credit:
            out.append("negative energy is only allowed on a credit record")
        for name in ("charging_time_s", "parking_time_s"):
            value = getattr(self, name)
            if value is not None and value < 0:
                out.append(f"{name} is negative")
        if self.credit and not self.credit_reference_id:
            out.append("a credit record names the record it credits")
        return out


@dataclass(frozen=True, kw_only=True)
class TariffPublished(Event):
    """An operator's price list, published or changed."""

    TYPE: ClassVar[str] = "tariff.published"
    tariff_id: str  # global: country*party*id
    operator_id: OperatorId
    currency: str
    elements: tuple[TariffElement, ...]
    kind: TariffKind | None = None
    alt_text: str = ""  # what drivers read
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def body_problems(self) -> list[str]:
        out = _empty(tariff_id=self.tariff_id, operator_id=self.operator_id)
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        if not 1 <= len(self.elements) <= MAX_TARIFF_ELEMENTS:
            out.append(f"a tariff has 1..{MAX_TARIFF_ELEMENTS} elements, got {len(self.elements)}")
        for n, element in enumerate(self.elements, 1):
            out += [f"element {n}: {p}" for p in element.problems()]
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            out.append("valid_until is not after valid_from")
        return out


@dataclass(frozen=True, kw_only=True)
class TariffWithdrawn(Event):
    TYPE: ClassVar[str] = "tariff.withdrawn"
    tariff_id: str

    def body_problems(self) -> list[str]:
        return _empty(tariff_id=self.tariff_id)


@dataclass(frozen=True, kw_only=True)
class ConnectorTariffsSet(Event):
    """Which tariffs apply at a connector (empty: none stated)."""

    TYPE: ClassVar[str] = "connector.tariffs_set"
    connector_id: ConnectorId
    tariff_ids: tuple[str, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(connector_id=self.connector_id)
        if len(self.tariff_ids) > MAX_TARIFF_ELEMENTS:
            out.append(f"at most {MAX_TARIFF_ELEMENTS} tariffs per connector")
        return out


# --- charger messages (OCPP gateway) ------------------------------------------------------

MAX_DATA_TRANSFER_CHARS = 10_000


@dataclass(frozen=True, kw_only=True)
class ChargerDataTransferred(Event):
    """A vendor-specific message from a charger (OCPP DataTransfer), kept as sent."""

    TYPE: ClassVar[str] = "charger.data_transferred"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"data": MAX_DATA_TRANSFER_CHARS}
    charger_id: ChargerId
    vendor_id: str
    message_id: str | None = None
    data: str | None = None  # as sent (JSON text when it was not a string), bounded

    def body_problems(self) -> list[str]:
        out = _empty(charger_id=self.charger_id, vendor_id=self.vendor_id)
        if self.data is not None and len(self.data) > MAX_DATA_TRANSFER_CHARS:
            out.append(f"data longer than {MAX_DATA_TRANSFER_CHARS} characters")
        return out


# --- operator platforms' own statements of their objects --------------------------------

MAX_STATED_CHARS = 500_000  # a CDR with a day of charging periods stays well inside


class StatedKind(StrEnum):
    """What an operator platform's statement describes, and which chargenet id names it;
    or (CLIENT_INFO) the hub's own statement of how a party connected to it stands."""

    LOCATION = "location"  # a station (its EVSEs are stated one by one)
    EVSE = "evse"  # a charger (one EVSE) with its connectors
    SESSION = "session"
    CDR = "cdr"
    TARIFF = "tariff"
    CLIENT_INFO = "clientinfo"  # a connected party (`CC*PID`): OCPI HubClientInfo


@dataclass(frozen=True, kw_only=True)
class ObjectStated(Event):
    """An operator platform's own statement of one of its objects, whole, in its protocol's
    words (a JSON object), kept so that chargenet gives the object back and forwards it as
    its owner stated it. The typed events beside it (StationUpdated, SessionEnded …) carry
    what chargenet itself understands of the object; this carries the rest. Personal data
    (drivers' token uids) is replaced by digests before it gets here."""

    TYPE: ClassVar[str] = "object.stated"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"body": MAX_STATED_CHARS, "protocol": 16}
    kind: StatedKind
    object_id: str  # the chargenet id of what it describes: station, charger, session …
    protocol: str  # whose words: "ocpi-2.2.1"
    body: str  # a JSON object

    def body_problems(self) -> list[str]:
        out = _empty(object_id=self.object_id, protocol=self.protocol)
        if len(self.body) > MAX_STATED_CHARS:
            return [*out, f"a statement longer than {MAX_STATED_CHARS} characters"]
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return [*out, "body is not JSON"]
        if not isinstance(parsed, dict):
            out.append("body is not a JSON object")
        return out


# Identity fields fit the registry's columns; OCPP's own limits are lower (20–50).
MAX_IDENTITY_CHARS = 100


@dataclass(frozen=True, kw_only=True)
class ChargerInventoryReported(Event):
    """What a charger says it is: vendor, model, serial number and firmware (OCPP
    BootNotification, the 2.0.1 device model's ChargingStation and Controller variables),
    and the other facts of its hardware inventory (modem, meter, components of a 2.0.1
    NotifyReport). None: not stated by this report."""

    TYPE: ClassVar[str] = "charger.inventory_reported"
    charger_id: ChargerId
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware: str | None = None
    items: tuple[InventoryItem, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(charger_id=self.charger_id)
        for name in ("vendor", "model", "serial_number", "firmware"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_IDENTITY_CHARS:
                out.append(f"{name} longer than {MAX_IDENTITY_CHARS} characters")
        if len(self.items) > MAX_INVENTORY_ITEMS:
            out.append(f"at most {MAX_INVENTORY_ITEMS} inventory items per report")
            return out
        for item in self.items:
            out += [f"{item.component}.{item.variable}: {p}" for p in item.problems()]
        return out


# --- orderly charging: sites as electrical systems, what sessions need ---------------------

MAX_SITE_POWER_W = 1_000_000_000  # 1 GW: beyond any charging site or feeder
MAX_STORAGE_WH = 10_000_000_000


def _power_problems(**fields: int | None) -> list[str]:
    return [
        f"{name} {value} outside 0..{MAX_SITE_POWER_W}"
        for name, value in fields.items()
        if value is not None and not 0 <= value <= MAX_SITE_POWER_W
    ]


@dataclass(frozen=True, kw_only=True)
class GridConnectionStated(Event):
    """A station as an electrical system from `valid_from` on: what its grid connection
    lets charging draw, its phases, the feeder or transformer it shares with other
    stations, and its PV and storage. A later statement with a later `valid_from` does
    not rewrite the earlier one: limits have a history."""

    TYPE: ClassVar[str] = "station.grid_connection"
    station_id: StationId
    valid_from: datetime
    capacity_w: int  # what charging at the station may draw in total
    capacity_va: int | None = None  # the connection's rating (transformer nameplate)
    phases: int = 3
    voltage_v: int = 220  # phase to neutral (China: 220/380 V)
    feeder_id: str | None = None  # the shared feeder or transformer above it, if any
    pv_peak_w: int = 0
    storage_wh: int = 0
    storage_power_w: int = 0

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id) + _aware(valid_from=self.valid_from)
        out += _power_problems(
            capacity_w=self.capacity_w,
            capacity_va=self.capacity_va,
            pv_peak_w=self.pv_peak_w,
            storage_power_w=self.storage_power_w,
        )
        if self.phases not in (1, 3):
            out.append(f"phases must be 1 or 3, got {self.phases}")
        if not 100 <= self.voltage_v <= MAX_VOLTAGE_V:
            out.append(f"voltage_v {self.voltage_v} outside 100..{MAX_VOLTAGE_V}")
        if not 0 <= self.storage_wh <= MAX_STORAGE_WH:
            out.append(f"storage_wh {self.storage_wh} outside 0..{MAX_STORAGE_WH}")
        if self.feeder_id is not None and not self.feeder_id.strip():
            out.append("feeder_id is empty")
        return out


@dataclass(frozen=True, kw_only=True)
class FeederStated(Event):
    """A feeder or transformer shared by several stations, and its limit from a time on."""

    TYPE: ClassVar[str] = "feeder.stated"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": 200}
    feeder_id: str
    name: str
    valid_from: datetime
    capacity_w: int
    phases: int = 3
    area_code: AreaCode | None = None

    def body_problems(self) -> list[str]:
        out = _empty(feeder_id=self.feeder_id) + _aware(valid_from=self.valid_from)
        out += _power_problems(capacity_w=self.capacity_w)
        if self.phases not in (1, 3):
            out.append(f"phases must be 1 or 3, got {self.phases}")
        return out


@dataclass(frozen=True, kw_only=True)
class ChargingNeedsStated(Event):
    """What a session still needs and when the vehicle leaves: from the vehicle (ISO 15118
    through OCPP 2.0.1 NotifyEVChargingNeeds, K15) or from the driver. Unknown values stay
    None; the scheduler then estimates them from the site's history."""

    TYPE: ClassVar[str] = "session.needs_stated"
    session_id: SessionId
    energy_wh: int | None = None
    departure_at: datetime | None = None
    max_power_w: int | None = None
    min_power_w: int | None = None
    # Vehicle-to-grid, where charger and vehicle can both discharge (ISO 15118-20
    # bidirectional power transfer; OCPP 2.1 V2X parameters): the most the vehicle may
    # give (W) and the energy above its minimum state of energy it may give (Wh).
    discharge_max_w: int | None = None
    dischargeable_wh: int | None = None

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id)
        if self.departure_at is not None:
            out += _aware(departure_at=self.departure_at)
        for name, value in (
            ("energy_wh", self.energy_wh),
            ("dischargeable_wh", self.dischargeable_wh),
        ):
            if value is not None and not 0 <= value <= MAX_SESSION_ENERGY_WH:
                out.append(f"{name} {value} outside 0..{MAX_SESSION_ENERGY_WH}")
        out += _power_problems(
            max_power_w=self.max_power_w,
            min_power_w=self.min_power_w,
            discharge_max_w=self.discharge_max_w,
        )
        return out


class DemandResponseScope(StrEnum):
    ALL = "all"  # every managed station
    AREA = "area"  # the managed stations in an area (and its sub-areas)
    FEEDER = "feeder"
    STATION = "station"


@dataclass(frozen=True, kw_only=True)
class DemandResponseCalled(Event):
    """A demand-response event: from `start` to `end`, charging at the stations in scope may
    draw at most `share` of their limit. From the grid operator's VTN (OpenADR) or a
    regulator; calling the same `dr_id` again replaces it (an end moved to now cancels)."""

    TYPE: ClassVar[str] = "dr.called"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"called_by": 128, "program": 200}
    dr_id: str
    scope: DemandResponseScope
    scope_id: str = ""  # the area code, feeder or station; "" for all
    start: datetime
    end: datetime
    share: float  # 0..1 of the limit in force
    called_by: str = ""
    program: str = ""  # the VTN's event id or the regulator's reason

    def body_problems(self) -> list[str]:
        out = _empty(dr_id=self.dr_id) + _aware(start=self.start, end=self.end)
        if self.end < self.start:
            out.append("end is before start")
        if not (math.isfinite(self.share) and 0.0 <= self.share <= 1.0):
            out.append(f"share must be 0..1, got {self.share}")
        if self.scope is not DemandResponseScope.ALL and not self.scope_id.strip():
            out.append(f"a {self.scope.value} demand-response event names its {self.scope.value}")
        return out


# --- drivers, their tokens and the settlement ledger -------------------------------------

MAX_CREDIT_LIMIT = Decimal(100_000)


@dataclass(frozen=True, kw_only=True)
class DriverRegistered(Event):
    """A driver's account, opened or changed (the latest statement holds)."""

    TYPE: ClassVar[str] = "driver.registered"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"driver_id": 64, "display_name": 200}
    driver_id: str
    display_name: str = ""
    currency: str = "CNY"
    credit_limit: Decimal = Decimal(0)  # how far below 0 the wallet may go
    closed: bool = False

    def body_problems(self) -> list[str]:
        out = _empty(driver_id=self.driver_id)
        if self.driver_id and not DRIVER_ID.match(self.driver_id):
            out.append("a driver id has 2..64 letters, digits or _.@-")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        limit = self.credit_limit
        if not limit.is_finite() or not 0 <= limit <= MAX_CREDIT_LIMIT:
            out.append(f"credit limit {limit} outside 0..{MAX_CREDIT_LIMIT}")
        elif limit != limit.quantize(Decimal("0.01")):
            out.append("a credit limit is in whole cents")
        return out


@dataclass(frozen=True, kw_only=True)
class TokenRegistered(Event):
    """A token given to a driver. Only its digest is a fact; the token itself never is."""

    TYPE: ClassVar[str] = "driver.token_registered"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "driver_id": 64, "label": 64}
    token_digest: str
    driver_id: str
    kind: TokenKind
    label: str = ""  # what the driver reads: "card …3F2A", "my car"
    expires_at: datetime | None = None

    def body_problems(self) -> list[str]:
        out = _empty(token_digest=self.token_digest, driver_id=self.driver_id)
        if self.expires_at is not None:
            out += _aware(expires_at=self.expires_at)
        return out


@dataclass(frozen=True, kw_only=True)
class TokenStatusChanged(Event):
    """A token blocked or unblocked, or its expiry changed."""

    TYPE: ClassVar[str] = "driver.token_status_changed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "reason": 500}
    token_digest: str
    blocked: bool
    expires_at: datetime | None = None
    reason: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(token_digest=self.token_digest)
        if self.expires_at is not None:
            out += _aware(expires_at=self.expires_at)
        return out


@dataclass(frozen=True, kw_only=True)
class SessionClaimed(Event):
    """A session started for a driver's token where the session itself carries none (an
    operator platform's remote start names the session, not the token)."""

    TYPE: ClassVar[str] = "driver.session_claimed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "claimed_session": 128}
    claimed_session: str  # not `session_id`: the session may not be reported yet
    token_digest: str

    def body_problems(self) -> list[str]:
        return _empty(claimed_session=self.claimed_session, token_digest=self.token_digest)


@dataclass(frozen=True, kw_only=True)
class LedgerPosted(Event):
    """Money moved: one balanced entry of the settlement ledger (core/ledger.py). The
    event id derives from the entry's idempotency key, so a resend is stored once."""

    TYPE: ClassVar[str] = "ledger.posted"
    entry: Entry

    def body_problems(self) -> list[str]:
        return entry_problems(self.entry)


# --- public hours of stations: institutions' own chargers opened to the public (R39) -----


@dataclass(frozen=True, kw_only=True)
class StationPublicHoursSet(Event):
    """When a station is open to the public (core/registry/public_hours.py): an
    institution's own chargers opened to everyone after work, "Mo-Fr 18:00-08:00; Sa-Su
    00:00-24:00". Stated by the station's operator or a regulator, by import or the API;
    "" withdraws them (the registered access alone holds again). The latest holds."""

    TYPE: ClassVar[str] = "station.public_hours_set"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"hours": 200, "set_by": 128, "note": 500}
    station_id: StationId
    hours: str = ""
    set_by: str = ""
    note: str = ""

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id)
        if self.hours.strip():
            out += public_hours_problems(self.hours)
        return out


# --- operator workspace: rectification of stop orders ---


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


# --- settlement: automatic disputes ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DisputeOpened(Event):
    """An operator's figures for a session (a T/CEC check_charge_orders line, an OCPI
    CDR) disagree with the platform's own beyond the tolerance: a dispute is open in the
    ledger with both figures, for an administrator to decide (a dispute entry). Keyed by
    the session and where the figures came from, so a resent statement or CDR opens
    nothing new."""

    TYPE: ClassVar[str] = "settlement.dispute_opened"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "dispute_id": 200,
        "disputed_session": 128,
        "origin": 16,
        "document_id": 200,
        "currency": 3,
    }
    dispute_id: str
    disputed_session: str  # not `session_id`: a CDR may name a session not reported yet
    operator_id: OperatorId
    origin: str  # "tcec" (check_charge_orders) or "ocpi" (a CDR)
    document_id: str  # the reconciliation or the CDR that stated the figures
    stated_energy_wh: int | None = None
    stated_amount: Decimal | None = None
    recorded_energy_wh: int | None = None
    recorded_amount: Decimal | None = None
    currency: str = "CNY"

    def body_problems(self) -> list[str]:
        out = _empty(
            dispute_id=self.dispute_id,
            disputed_session=self.disputed_session,
            operator_id=self.operator_id,
            origin=self.origin,
            document_id=self.document_id,
        )
        for name, wh in (("stated", self.stated_energy_wh), ("recorded", self.recorded_energy_wh)):
            if wh is not None and not -MAX_SESSION_ENERGY_WH <= wh <= MAX_SESSION_ENERGY_WH:
                out.append(f"{name} energy {wh} Wh out of range")
        for name, amount in (("stated", self.stated_amount), ("recorded", self.recorded_amount)):
            if amount is not None and (not amount.is_finite() or abs(amount) > MAX_BILL_AMOUNT):
                out.append(f"{name} amount {amount} out of range")
        if len(self.currency) != 3 or not self.currency.isalpha():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        return out


# --- drivers: keyed token digests -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TokenRekeyed(Event):
    """A token registered under the unkeyed digest of earlier versions, now held under the
    deployment's keyed digest (core.drivers.TokenKey.digest). The old digest stays known, so
    the sessions that name it still find their driver."""

    TYPE: ClassVar[str] = "driver.token_rekeyed"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_digest": 64, "new_digest": 64}
    token_digest: str
    new_digest: str

    def body_problems(self) -> list[str]:
        out = _empty(token_digest=self.token_digest, new_digest=self.new_digest)
        if self.token_digest == self.new_digest:
            out.append("a token is re-keyed to another digest")
        return out
