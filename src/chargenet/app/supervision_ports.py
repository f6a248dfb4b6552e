"""What supervision needs from storage and the bus, declared by the application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, Protocol, TypedDict, TypeVar

from chargenet.core.access import Principal
from chargenet.core.events import Event

# What services compose from rows (figures, answers), not the rows of this port.
Row = dict[str, Any]
R = TypeVar("R")
Page = tuple[list[R], int]  # rows, total matching


class FleetRow(TypedDict):
    """A connector (retired ones too) with what uptime is counted from: its charger's
    commissioning and first reports, its station's hours and access, names and area."""

    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    evse_no: int
    evse_uid: str | None
    registered_at: datetime
    retired_at: datetime | None
    max_power_w: int
    power_type: str  # a `PowerType` value
    max_current_a: int | None
    is_pile: bool
    commissioned_at: datetime | None  # the charger's, as its operator states it
    first_status_us: int | None  # the connector's first status report; None: none yet
    first_presence_us: int | None  # its charger's first presence report
    access: str  # an `Access` value
    opening_hours: str
    public_hours: str | None
    station_name: str
    operator_name: str
    province_code: str | None
    city_code: str | None
    county_code: str | None
    presence_tracked: bool  # False: an operator platform reports it, not the charger
    charger_name: str
    connector_name: str


class UnitRow(FleetRow):
    """The first connector of a unit uptime is counted per (a port or a connector), with
    the unit's id and name; max_power_w is the unit's (its highest connector's)."""

    port_id: str
    port_name: str


class StatusReportRow(TypedDict):
    at_us: int
    status: str  # a `ConnectorStatus` value
    error_code: str | None
    vendor_error_code: str | None
    info: str | None


class PresenceReportRow(TypedDict):
    at_us: int
    online: bool
    reason: str | None


class ZombieFactsRow(TypedDict):
    """A charger in service as the zombie rules see it (core/oversight.py `ChargerFacts`)."""

    charger_id: str
    registered_at: datetime
    commissioned_at: datetime | None
    public: bool
    first_report_at: datetime | None
    down_since: datetime | None  # every connector down (or silent) since; None: not all
    available_since: datetime | None  # every connector available since; None: not all
    last_session_end: datetime | None
    sessions: int  # ended since the window's start
    successful: int  # of those, with at least the minimum energy


class ActivityRow(TypedDict, total=False):
    """What happened at a station or an operator's in a period; a count left out is 0."""

    sessions: int  # sessions ended
    successful: int  # of those, with at least the minimum energy
    alarms: int  # alarms raised
    incidents: int  # stations only
    open_zombies: int  # operators only: zombie cases open at some time in the period
    interface_accepted: int  # operators only: its platform's messages accepted …
    interface_refused: int  # … and refused
    credit_points: int  # operators only: penalty points decided and standing


class ExclusionRow(TypedDict):
    """Time marked as not counting against uptime (an outage outside the operator's
    control), on a connector, charger or station."""

    exclusion_id: str
    target_kind: str  # a `TargetKind` value
    target_id: str
    station_id: str | None
    operator_id: str | None
    start_at: datetime
    end_at: datetime
    reason: str  # an `ExclusionReason` value
    note: str
    excluded_by: str
    excluded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class ZombieCaseRow(TypedDict):
    case_id: str
    charger_id: str
    station_id: str | None
    operator_id: str | None
    rules: list[str]  # `ZombieRule` values
    evidence: str
    since: datetime
    detected_at: datetime
    stage: str  # a `ZombieStage` value
    notified_at: datetime | None
    deadline: datetime | None
    escalation_level: int
    closed_at: datetime | None
    outcome: str | None
    close_note: str | None
    closed_by: str | None


class ZombieCaseListRow(ZombieCaseRow):
    station_name: str
    station_name_en: str | None
    county_code: str | None
    reported_at: datetime | None  # the newest "reported" step


class ZombieStepRow(TypedDict):
    at: datetime
    step: str
    detail: str
    event_id: str


class ZombieCaseDetailRow(ZombieCaseRow):
    steps: list[ZombieStepRow]  # in the order of the life cycle


class AlarmRow(TypedDict):
    alarm_id: str
    target_kind: str  # a `TargetKind` value
    target_id: str
    station_id: str | None
    operator_id: str | None
    code: str
    severity: str  # a `Severity` value
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    clear_reason: str | None


class AlarmListRow(AlarmRow):
    station_name: str | None


class OrderTargetRow(TypedDict):
    """A charger an order goes to, and how to reach it."""

    charger_id: str
    protocol: str | None


class ChargerTargetRow(OrderTargetRow):
    station_id: str


class DeliveryRow(OrderTargetRow):
    """One order a stop order sent (stop or resume) and what came of it."""

    order_id: str
    kind: str  # an `OrderKind` value: stop | resume
    issued_at: datetime
    outcome: str | None  # an `OrderOutcome` value; None: no answer yet
    acknowledged_at: datetime | None
    detail: str | None


class StopOrderRow(TypedDict):
    stop_id: str
    target_kind: str  # a `TargetKind` value
    target_id: str
    station_id: str | None
    operator_id: str | None
    reason: str
    issued_by: str
    alarm_id: str | None
    issued_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None
    rectified_at: datetime | None
    rectified_by: str | None
    rectification: str | None
    deliveries: list[DeliveryRow]
    resumes: list[DeliveryRow]
    state: str  # `stop_state`: issued | in_force | partial | lifted


class StopOrderListRow(StopOrderRow):
    station_name: str


class AreaAlarmRow(AlarmListRow):
    """An alarm as the dashboard lists it: with its station's name and county."""

    county_code: str | None


class AreaOrderRow(TypedDict):
    """An order to a charger (stop orders' and others) as the dashboard lists it."""

    order_id: str
    kind: str  # an `OrderKind` value
    target_kind: str  # a `TargetKind` value
    target_id: str
    station_id: str | None
    operator_id: str | None
    reason: str
    issued_by: str
    parameters: str  # JSON object
    issued_at: datetime
    outcome: str | None  # an `OrderOutcome` value; None: no answer yet
    acknowledged_at: datetime | None
    detail: str | None
    station_name: str | None
    county_code: str | None


class SupervisionLists(Protocol):
    """The dashboard's lists of alarms and orders in an area, newest first, with how many
    match in all; what `viewer` may see only."""

    def alarms(
        self,
        viewer: Principal | None = None,
        area_code: str | None = None,
        open_only: bool = True,
        limit: int = 100,
    ) -> tuple[list[AreaAlarmRow], int]: ...

    def orders(
        self,
        viewer: Principal | None = None,
        area_code: str | None = None,
        open_only: bool = False,
        limit: int = 100,
    ) -> tuple[list[AreaOrderRow], int]: ...


class ParkingFiguresRow(TypedDict):
    """Charging bays of a group (a station, an operator, an area) reporting occupancy:
    how many are occupied, and occupied while their connector is free."""

    group: str | None  # the station, operator or area code (None: a station without one)
    name: NotRequired[str]  # a station's, when grouped by station
    operator_id: NotRequired[str]  # likewise
    charging_spaces: NotRequired[int | None]  # likewise
    bays_reported: int
    occupied: int
    occupied_not_charging: int  # a vehicle that is not charging
    occupied_charging: int
    locks_up: int
    as_of: datetime  # the newest report
    occupied_not_charging_percent: float | None  # of the bays reported; None: none


class ParkingFigures(Protocol):
    def figures(self, area: str | None, operator: str | None, by: str) -> list[ParkingFiguresRow]:
        """Per group (`by`: station, operator, province, city or county), in its order;
        only the stations in `area` and of `operator` when given."""
        ...


class OwnerRow(TypedDict):
    """Where a connector, charger or station is and whose it is, for access checks."""

    station_id: str
    operator_id: str
    area_code: str | None
    province_code: str | None
    city_code: str | None
    county_code: str | None


class SessionEndedRow(TypedDict):
    session_id: str
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    started_at: datetime
    ended_at: datetime
    energy_wh: int | None
    peak_power_w: int | None
    stop_reason: str | None


class StationBriefRow(TypedDict):
    station_id: str
    operator_id: str
    name: str
    address: str | None
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Scope:
    """Which equipment a question is about; every given filter applies."""

    area: str | None = None
    operator: str | None = None
    station: str | None = None
    charger: str | None = None
    connector: str | None = None


class SupervisionQueries(Protocol):
    def fleet(self, scope: Scope) -> list[FleetRow]:
        """Connectors (retired ones too) with charger, station, operator, area chain,
        evse_no, evse_uid, registered_at, retired_at, max_power_w, power_type, access,
        opening_hours, names, the charger's commissioned_at and the first status report of
        the connector and presence report of its charger (first_status_us,
        first_presence_us; None when there is none)."""
        ...

    def status_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, str]]:
        """(connector_id, at_us, status): reports in [start, end) and each connector's last
        report before start. With `among`: of those connectors only (ids in scope)."""
        ...

    def presence_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, bool]]:
        """(charger_id, at_us, online), as status_rows (`among`: charger ids)."""
        ...

    def limit_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, int]]:
        """(connector_id, at_us, limit_w): power limits reported, as status_rows."""
        ...

    def connector_history(
        self, connector_id: str, start_us: int, end_us: int
    ) -> tuple[list[StatusReportRow], list[PresenceReportRow]]:
        """Status reports and its charger's presence reports, as status_rows, in time order."""
        ...

    def exclusions(self, scope: Scope, start: datetime, end: datetime) -> list[ExclusionRow]: ...

    def exclusion(self, exclusion_id: str) -> ExclusionRow | None: ...

    def zombie_facts(
        self, scope: Scope, window_start: datetime, min_energy_wh: int
    ) -> list[ZombieFactsRow]:
        """Per charger in service: registered_at, commissioned_at, public, first_report_us,
        connectors, and per-connector live state folded: down_since, available_since;
        last_session_end; sessions and successful sessions ended since window_start."""
        ...

    def zombie_cases(
        self, scope: Scope, open_only: bool, limit: int, offset: int
    ) -> Page[ZombieCaseListRow]: ...

    def zombie_case(self, case_id: str) -> ZombieCaseDetailRow | None: ...

    def open_alarms(self) -> list[AlarmRow]: ...

    def rated_currents(self) -> dict[str, float]: ...

    def alarms(
        self, scope: Scope, open_only: bool, severity: str | None, limit: int, offset: int
    ) -> Page[AlarmListRow]: ...

    def alarm(self, alarm_id: str) -> AlarmRow | None: ...

    def stop_orders(
        self, scope: Scope, in_force_only: bool, limit: int, offset: int
    ) -> Page[StopOrderListRow]: ...

    def stop_order(self, stop_id: str) -> StopOrderRow | None: ...

    def chargers_of(self, target_kind: str, target_id: str) -> list[ChargerTargetRow]:
        """Chargers in service a stop order for a charger or station reaches (with protocol)."""
        ...

    def owner(self, target_kind: str, target_id: str) -> OwnerRow | None:
        """station_id, operator_id and the area chain of a target, for access checks."""
        ...

    def sessions_ended(self, scope: Scope, start: datetime, end: datetime) -> list[SessionEndedRow]:
        """Sessions ended in [start, end) in scope: session_id, connector_id, charger_id,
        station_id, operator_id, started_at, ended_at, energy_wh, peak_power_w,
        stop_reason."""
        ...

    def station_rows(self, scope: Scope) -> list[StationBriefRow]:
        """Stations in scope: station_id, operator_id, name, address, lat, lon."""
        ...

    def station_activity(
        self, scope: Scope, start: datetime, end: datetime, min_energy_wh: int
    ) -> dict[str, ActivityRow]:
        """Per station, within [start, end): sessions ended, successful sessions, alarms
        raised, incidents."""
        ...

    def operator_activity(
        self, scope: Scope, start: datetime, end: datetime, min_energy_wh: int
    ) -> dict[str, ActivityRow]:
        """Per operator, within [start, end): sessions ended, successful sessions, alarms
        raised, zombie cases open at some time (open_zombies)."""
        ...

    def latency_sample(
        self, scope: Scope, start: datetime, end: datetime, limit: int
    ) -> dict[str, list[float]]:
        """Per operator: seconds from the source's time to ours, for recent events."""
        ...


class EventFeed(Protocol):
    """A live subscription to stored events (the bus)."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    def subscribe(self, maxsize: int = 10_000) -> Any: ...
