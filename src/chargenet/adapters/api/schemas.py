"""Response shapes, so that the OpenAPI document says exactly what comes back.

Times are UTC (ISO 8601); energy in Wh, power in W, money as decimal strings with currency.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class PileCountOut(BaseModel):
    total: int = Field(description="Connectors of 2.2 kW or more (R01)")
    public: int
    dedicated: int
    private: int
    fast: int = Field(description="DC piles")
    slow: int = Field(description="AC piles")


StatusCounts = dict[str, int]


class AreaBrief(BaseModel):
    code: str
    level: str
    name_zh: str
    name_en: str | None = None


class AreaOut(AreaBrief):
    parent_code: str | None = None
    lat: float | None = Field(default=None, description="WGS-84")
    lon: float | None = Field(default=None, description="WGS-84")


class AreaStatisticsOut(BaseModel):
    year: int
    ev_count: int | None
    motor_vehicles: int | None
    population: int | None


class AreaDetail(AreaOut):
    ancestors: list[AreaBrief]
    children: int
    statistics: list[AreaStatisticsOut]
    piles: PileCountOut
    stations: int
    status: StatusCounts


class OperatorOut(BaseModel):
    operator_id: str
    name: str
    name_en: str | None
    uscc: str | None
    service_phone: str | None
    licence_valid_until: date | None
    insurance_valid_until: date | None
    registered_at: datetime


class OperatorDetail(OperatorOut):
    piles: PileCountOut
    stations: int
    status: StatusCounts


class ConnectorOut(BaseModel):
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    evse_no: int
    evse_uid: str | None
    connector_no: int
    standard: str
    power_type: str
    max_power_w: int
    is_pile: bool
    status: str = Field(
        description="Effective status: offline when the charger is silent, unavailable under "
        "a stop order"
    )
    reported_status: str | None = Field(description="Last status the equipment reported")
    stopped: bool = Field(default=False, description="A regulator's stop order is in force")
    status_since: datetime | None
    error_code: str | None
    session_id: str | None
    power_w: int | None
    energy_register_wh: int | None
    soc_percent: float | None
    temperature_c: float | None
    meter_at: datetime | None
    charger_online: bool | None
    retired_at: datetime | None


class ChargerOut(BaseModel):
    charger_id: str
    station_id: str
    operator_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware: str | None
    protocol: str | None
    online: bool | None = Field(description="None where presence is not tracked by chargenet")
    presence_since: datetime | None
    registered_at: datetime
    retired_at: datetime | None
    connectors: list[ConnectorOut]


class InventoryItemOut(BaseModel):
    component: str
    component_instance: str | None
    evse_no: int | None
    connector_no: int | None
    variable: str
    variable_instance: str | None
    value: str
    reported_at: datetime


class ChargerInventoryOut(BaseModel):
    """What a charger says it is (BootNotification, OCPP 2.0.1 NotifyReport)."""

    charger_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware: str | None
    items: list[InventoryItemOut]


class StationOut(BaseModel):
    station_id: str
    operator_id: str
    name: str
    name_en: str | None
    address: str | None
    lat: float
    lon: float
    area_code: str | None
    area_placed: str | None = Field(description="given, nearest (by position) or code")
    county_code: str | None
    category: str
    scenic_grade: int | None
    access: str
    parking_spaces: int | None
    charging_spaces: int | None
    opening_hours: str
    commissioned_on: date | None
    source_adapter: str
    registered_at: datetime
    retired_at: datetime | None
    piles: PileCountOut
    status: StatusCounts


class StationDetail(StationOut):
    chargers: list[ChargerOut]


class SwapStationOut(BaseModel):
    swap_station_id: str
    operator_id: str
    name: str
    address: str | None
    lat: float
    lon: float
    area_code: str | None
    county_code: str | None
    vehicle_types: list[str]
    bays: int
    battery_slots: int
    access: str
    opening_hours: str
    commissioned_on: date | None
    status: str | None
    status_since: datetime | None
    batteries_ready: int | None


class SessionOut(BaseModel):
    session_id: str
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int | None = Field(description="None when the meter readings cannot be trusted")
    peak_power_w: int | None
    stop_reason: str | None
    cost_amount: Decimal | None
    currency: str | None
    flags: list[str]
    source_adapter: str


class EventOut(BaseModel):
    seq: int
    type: str
    version: int
    event_id: str
    source: dict[str, Any]
    occurred_at: str
    received_at: str

    model_config = {"extra": "allow"}


class RejectedEventOut(BaseModel):
    id: int
    event_id: str
    type: str
    adapter: str
    operator_id: str | None
    received_at: datetime
    reason: str
    payload: str


class Overview(BaseModel):
    area: str | None = Field(description="The area counted; null: the whole platform")
    on: date | None = Field(description="The day counted; null: now")
    counts: dict[str, int] = Field(
        description="Sites in service in the area on the day; the log's and registry's "
        "platform-wide sizes only when neither area nor day is given"
    )
    piles: PileCountOut
    status: StatusCounts | None = Field(description="Live connector status; null for a past day")
    last_seq: int
