"""The questions views, analytics and reports ask of current state (implemented by the
storage adapter). Rows are typed dicts (`TypedDict`): at run time plain dicts, so they go
to JSON as they are; to mypy, each row says which fields it has and of what type. Times
are timezone-aware UTC, days `date`, money `Decimal`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NotRequired, Protocol, TypedDict, TypeVar

from chargenet.core.access import Principal
from chargenet.core.areas import AreaLevel
from chargenet.core.registry.piles import PileCount
from chargenet.core.status import ConnectorStatus

R = TypeVar("R")
Page = tuple[list[R], int]  # rows, total matching

# Connectors by effective status: every `ConnectorStatus` value, zeros included.
StatusCounts = dict[str, int]


class PilesRow(TypedDict):
    """A `PileCount` as a row (R01)."""

    total: int
    public: int
    dedicated: int
    private: int
    fast: int
    slow: int


def piles_row(count: PileCount) -> PilesRow:
    return PilesRow(
        total=count.total,
        public=count.public,
        dedicated=count.dedicated,
        private=count.private,
        fast=count.fast,
        slow=count.slow,
    )


class AreaBriefRow(TypedDict):
    code: str
    level: str  # an `AreaLevel` value
    name_zh: str
    name_en: str | None


class AreaRow(AreaBriefRow):
    parent_code: str | None
    lat: float | None
    lon: float | None


class AreaStatisticsRow(TypedDict):
    year: int
    ev_count: int | None
    motor_vehicles: int | None
    population: int | None


class AreaDetailRow(AreaRow):
    ancestors: list[AreaBriefRow]  # from the province down
    children: int
    statistics: list[AreaStatisticsRow]  # by year
    piles: PilesRow
    stations: int
    status: StatusCounts


class OperatorRow(TypedDict):
    operator_id: str
    name: str
    name_en: str | None
    uscc: str | None
    service_phone: str | None
    licence_valid_until: date | None
    insurance_valid_until: date | None
    registered_at: datetime
    as_of: datetime


class OperatorDetailRow(OperatorRow):
    piles: PilesRow
    stations: int
    status: StatusCounts


class ConnectorRow(TypedDict):
    """A connector with its live state; `status` is the effective one (retirement, stop
    orders and charger presence applied: a retired connector is `unavailable`),
    `reported_status` what was last reported."""

    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    evse_no: int
    evse_uid: str | None
    connector_no: int
    standard: str  # a `ConnectorStandard` value
    power_type: str  # a `PowerType` value
    max_power_w: int
    max_voltage_v: int | None
    max_current_a: int | None
    is_pile: bool
    retired_at: datetime | None
    status: str  # a `ConnectorStatus` value
    reported_status: str | None
    stopped: bool  # under a stop order in force
    status_since: datetime | None
    error_code: str | None
    session_id: str | None
    power_w: int | None
    energy_register_wh: int | None
    soc_percent: float | None
    temperature_c: float | None
    meter_at: datetime | None
    charger_online: bool | None  # None: presence not tracked


class ChargerRow(TypedDict):
    charger_id: str
    station_id: str
    operator_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware: str | None
    protocol: str | None
    online: bool | None  # None: presence not tracked (an operator platform reports it)
    presence_since: datetime | None
    presence_at: datetime | None
    registered_at: datetime
    retired_at: datetime | None
    commissioned_at: datetime | None
    connectors: list[ConnectorRow]  # retired ones too


class InventoryItemRow(TypedDict):
    """One item a charger reported about its hardware or firmware."""

    component: str
    component_instance: str | None
    evse_no: int | None
    connector_no: int | None
    variable: str
    variable_instance: str | None
    value: str
    reported_at: datetime


class StationRow(TypedDict):
    station_id: str
    operator_id: str
    name: str
    name_en: str | None
    address: str | None
    lat: float
    lon: float
    area_code: str | None
    area_placed: str | None  # given | nearest | code
    county_code: str | None
    category: str  # a `SiteCategory` value
    scenic_grade: int | None
    access: str  # an `Access` value
    parking_spaces: int | None
    charging_spaces: int | None
    opening_hours: str
    commissioned_on: date | None
    source_adapter: str
    registered_at: datetime
    retired_at: datetime | None
    piles: PilesRow  # of its connectors in service
    status: StatusCounts


class StationDetailRow(StationRow):
    chargers: list[ChargerRow]  # retired ones too


class SwapStationRow(TypedDict):
    swap_station_id: str
    operator_id: str
    name: str
    address: str | None
    lat: float
    lon: float
    area_code: str | None
    area_placed: str | None
    province_code: str | None
    city_code: str | None
    county_code: str | None
    township_code: str | None
    village_code: str | None
    vehicle_types: list[str]
    bays: int
    battery_slots: int
    access: str
    opening_hours: str
    commissioned_on: date | None
    max_power_w: int | None
    status: str | None
    status_since: datetime | None
    status_at: datetime | None
    batteries_ready: int | None
    source_adapter: str
    registered_at: datetime
    retired_at: datetime | None


class SessionRow(TypedDict):
    session_id: str
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    state: str  # a `SessionState` value
    started_at: datetime
    ended_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int | None
    peak_power_w: int | None
    stop_reason: str | None
    cost_amount: Decimal | None
    currency: str | None
    flags: list[str]
    source_adapter: str


class TargetRow(TypedDict):
    target_id: str
    area_code: str
    metric: str
    year: int
    month: int | None
    value: Decimal
    definition: str
    source_ref: str
    valid_from: date | None
    as_of: datetime


class RejectedRow(TypedDict):
    id: int
    event_id: str
    type: str
    adapter: str
    operator_id: str | None
    received_at: datetime
    reason: str
    payload: str  # the event as it was received, JSON


class CountsRow(TypedDict):
    """Table sizes. With an area or a day only the four site counts are there, and
    `sessions_active` for today; the log's and the registry's sizes only platform-wide."""

    stations: int
    chargers: int
    connectors: int
    swap_stations: int
    sessions_active: NotRequired[int]
    events: NotRequired[int]
    rejected_events: NotRequired[int]
    areas: NotRequired[int]
    operators: NotRequired[int]


# One logged event as `codec.to_builtins` gives it, with its `seq`: its fields depend on its
# type (core/events), so the row cannot name them; `EventOut` in the API lists the common ones.
EventRow = dict[str, Any]


class StateQueries(Protocol):
    def areas(
        self,
        level: AreaLevel | None = None,
        parent: str | None = None,
        query: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[AreaRow]: ...

    def area(self, code: str) -> AreaDetailRow | None: ...

    def pile_count(
        self, area_code: str | None = None, operator_id: str | None = None, on: date | None = None
    ) -> PileCount: ...

    def station_count(
        self, area_code: str | None = None, operator_id: str | None = None
    ) -> int: ...

    def status_summary(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        station_id: str | None = None,
    ) -> StatusCounts: ...

    def operators(self, limit: int = 100, offset: int = 0) -> Page[OperatorRow]: ...

    def operator(self, operator_id: str) -> OperatorDetailRow | None: ...

    def stations(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        category: str | None = None,
        access: str | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
        changed_since: datetime | None = None,
    ) -> Page[StationRow]:
        """Stations (in service unless `include_retired`) by id; with `changed_since`, only
        those whose record, or a charger's or connector's, changed at or after it."""
        ...

    def station(
        self, station_id: str, viewer: Principal | None = None
    ) -> StationDetailRow | None: ...

    def chargers(
        self,
        station_id: str | None = None,
        operator_id: str | None = None,
        online: bool | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page[ChargerRow]: ...

    def charger(self, charger_id: str, viewer: Principal | None = None) -> ChargerRow | None: ...

    def charger_inventory(self, charger_id: str) -> list[InventoryItemRow]:
        """What the charger reported about its hardware and firmware, item by item."""
        ...

    def connectors(
        self,
        station_id: str | None = None,
        area_code: str | None = None,
        operator_id: str | None = None,
        status: ConnectorStatus | None = None,
        charger_ids: Sequence[str] | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page[ConnectorRow]: ...

    def connector(self, connector_id: str) -> ConnectorRow | None:
        """One connector as `connectors` lists it (effective status), retired or not."""
        ...

    def swap_stations(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page[SwapStationRow]: ...

    def sessions(
        self,
        station_id: str | None = None,
        connector_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page[SessionRow]: ...

    def targets(self, area_code: str | None = None, on: date | None = None) -> list[TargetRow]:
        """Targets, each with its latest value; with `on`, the value in force that day (its
        revisions' own valid_from decides, R16), leaving out those not yet in force."""
        ...

    def events(
        self,
        after_seq: int = 0,
        event_type: str | None = None,
        adapter: str | None = None,
        limit: int = 100,
        operator_id: str | None = None,
    ) -> list[EventRow]: ...

    def last_seq(self) -> int: ...

    def rejected(
        self, limit: int = 100, offset: int = 0, operator_id: str | None = None
    ) -> Page[RejectedRow]: ...

    def counts(self, area_code: str | None = None, on: date | None = None) -> CountsRow:
        """Table sizes; with an area or a day, what stood there that day (no log sizes)."""
        ...
