"""Registry records as the sources state them. Each record knows what is wrong with it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from chargenet.core.ids import (
    AreaCode,
    ChargerId,
    ConnectorId,
    OperatorId,
    StationId,
    SwapStationId,
)
from chargenet.core.text import MAX_ID

# Bounds against hostile or broken sources: a charger once reported 1,634,030,126 connectors.
MAX_EVSES_PER_CHARGER = 64
MAX_CONNECTORS_PER_EVSE = 8
MAX_CONNECTOR_POWER_W = 3_750_000  # megawatt truck charging tops out near 3.75 MW
MAX_PARKING_SPACES = 100_000


class SiteCategory(StrEnum):
    """Where a station stands; covers every category the plans set ratios for (R23–R25)."""

    PUBLIC_CAR_PARK = "public_car_park"
    COMMERCIAL = "commercial"
    TRANSPORT_HUB = "transport_hub"
    PARK_AND_RIDE = "park_and_ride"
    RESIDENTIAL_NEW = "residential_new"
    RESIDENTIAL_OLD = "residential_old"
    INSTITUTION = "institution"  # government, public institutions, state-owned enterprises
    INDUSTRIAL_PARK = "industrial_park"
    SCENIC_SPOT = "scenic_spot"
    HIGHWAY_SERVICE_AREA = "highway_service_area"
    TRUNK_ROAD_PARKING = "trunk_road_parking"  # national/provincial trunk-road parking area
    TOURISM_ROAD = "tourism_road"
    RV_CAMP = "rv_camp"
    HOTEL = "hotel"  # Liuzhou: stations at (four-star) hotels need ≥ 2 DC piles (R25)
    VILLAGE_POINT = "village_point"
    FLEET_DEPOT = "fleet_depot"  # bus, taxi, logistics, sanitation depots
    OTHER = "other"


class Access(StrEnum):
    """R02: public (公共), dedicated (专用: fleets, buses, units) or private (自用)."""

    PUBLIC = "public"
    DEDICATED = "dedicated"
    PRIVATE = "private"


class PowerType(StrEnum):
    AC = "ac"
    DC = "dc"


class ConnectorStandard(StrEnum):
    GBT_AC = "gbt_ac"  # GB/T 20234.2
    GBT_DC = "gbt_dc"  # GB/T 20234.3
    CCS2 = "ccs2"
    CCS1 = "ccs1"
    TYPE2 = "type2"
    CHADEMO = "chademo"
    CHAOJI = "chaoji"
    HOUSEHOLD = "household"  # mode 2 household socket
    OTHER = "other"


class SwapVehicleType(StrEnum):
    PASSENGER = "passenger"
    TAXI = "taxi"
    BUS = "bus"
    HEAVY_TRUCK = "heavy_truck"
    MINING = "mining"
    LOGISTICS = "logistics"
    OTHER = "other"


_HOURS = re.compile(r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def opening_hours_problems(text: str) -> list[str]:
    """Opening hours are "24/7" or daily ranges "07:00-22:00[,23:00-24:00]"."""
    if text == "24/7":
        return []
    bad = [part for part in text.split(",") if not _HOURS.match(part.strip())]
    if bad:
        return [f"opening hours {text!r}: use 24/7 or HH:MM-HH:MM ranges separated by commas"]
    return []


def _coordinate_problems(lat: float, lon: float) -> list[str]:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return [f"coordinates out of range: lat={lat}, lon={lon}"]
    if lat == 0.0 and lon == 0.0:
        return ["coordinates are 0,0 (missing position)"]
    return []


@dataclass(frozen=True, kw_only=True)
class OperatorRecord:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": 200,
        "name_en": 200,
        "uscc": 18,
        "service_phone": 64,
    }

    operator_id: OperatorId
    name: str
    uscc: str | None = None  # unified social credit code (统一社会信用代码), 18 characters
    service_phone: str | None = None
    licence_valid_until: date | None = None
    insurance_valid_until: date | None = None
    name_en: str | None = None

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.operator_id.strip():
            out.append("operator_id is empty")
        if not self.name.strip():
            out.append("operator name is empty")
        if self.uscc is not None and not _USCC.match(self.uscc):
            out.append(f"uscc {self.uscc!r} is not an 18-character unified social credit code")
        return out


@dataclass(frozen=True, kw_only=True)
class StationRecord:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": 200,
        "name_en": 200,
        "address": 300,
        "opening_hours": 100,
    }

    station_id: StationId
    operator_id: OperatorId
    name: str
    lat: float  # WGS-84
    lon: float
    category: SiteCategory = SiteCategory.OTHER
    access: Access = Access.PUBLIC
    area_code: AreaCode | None = None  # finest known; placed by position when absent
    address: str | None = None
    scenic_grade: int | None = None  # A-grade of a scenic spot, 1 (A) to 5 (5A)
    parking_spaces: int | None = None
    charging_spaces: int | None = None  # spaces served by a charger
    opening_hours: str = "24/7"
    commissioned_on: date | None = None
    name_en: str | None = None

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.station_id.strip():
            out.append("station_id is empty")
        if not self.operator_id.strip():
            out.append("operator_id is empty")
        if not self.name.strip():
            out.append("station name is empty")
        out += _coordinate_problems(self.lat, self.lon)
        if self.scenic_grade is not None:
            if not 1 <= self.scenic_grade <= 5:
                out.append(f"scenic_grade must be 1..5 (A..5A), got {self.scenic_grade}")
            if self.category is not SiteCategory.SCENIC_SPOT:
                out.append("scenic_grade is only for category scenic_spot")
        for name in ("parking_spaces", "charging_spaces"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_PARKING_SPACES:
                out.append(f"{name} must be 0..{MAX_PARKING_SPACES}, got {value}")
        if (
            self.parking_spaces is not None
            and self.charging_spaces is not None
            and self.charging_spaces > self.parking_spaces
        ):
            out.append("charging_spaces exceeds parking_spaces")
        out += opening_hours_problems(self.opening_hours)
        return out


@dataclass(frozen=True, kw_only=True)
class ConnectorRecord:
    connector_no: int  # 1-based within its EVSE
    standard: ConnectorStandard
    power_type: PowerType
    max_power_w: int
    connector_id: ConnectorId | None = None  # global id; derived from the charger when absent
    max_voltage_v: int | None = None
    max_current_a: int | None = None

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.connector_no < 1:
            out.append(f"connector_no must be ≥ 1, got {self.connector_no}")
        if not 0 < self.max_power_w <= MAX_CONNECTOR_POWER_W:
            out.append(f"max_power_w must be 1..{MAX_CONNECTOR_POWER_W}, got {self.max_power_w}")
        if self.standard is ConnectorStandard.GBT_DC and self.power_type is not PowerType.DC:
            out.append("a GB/T DC connector must have power_type dc")
        if self.standard in (ConnectorStandard.GBT_AC, ConnectorStandard.TYPE2) and (
            self.power_type is not PowerType.AC
        ):
            out.append(f"a {self.standard.value} connector must have power_type ac")
        return out


@dataclass(frozen=True, kw_only=True)
class EvseRecord:
    evse_no: int  # 1-based; OCPP 1.6 connectorId maps here with a single connector
    connectors: tuple[ConnectorRecord, ...]
    evse_uid: str | None = None  # OCPI EVSE uid or operator equipment id when it has one

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.evse_no < 1:
            out.append(f"evse_no must be ≥ 1, got {self.evse_no}")
        if not 1 <= len(self.connectors) <= MAX_CONNECTORS_PER_EVSE:
            out.append(
                f"an EVSE has 1..{MAX_CONNECTORS_PER_EVSE} connectors, got {len(self.connectors)}"
            )
            return out
        numbers = [c.connector_no for c in self.connectors]
        if len(set(numbers)) != len(numbers):
            out.append(f"EVSE {self.evse_no} repeats a connector_no")
        for connector in self.connectors:
            out += [f"EVSE {self.evse_no}: {p}" for p in connector.problems()]
        return out


def connector_key(charger_id: str, evse_no: int, connector_no: int) -> ConnectorId:
    """The global id of a connector that was registered without one."""
    return ConnectorId(f"{charger_id}-{evse_no}-{connector_no}")


@dataclass(frozen=True, kw_only=True)
class ChargerRecord:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "vendor": 100,
        "model": 100,
        "serial_number": 100,
        "firmware": 100,
        "protocol": 16,
    }

    charger_id: ChargerId
    station_id: StationId
    evses: tuple[EvseRecord, ...]
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware: str | None = None
    protocol: str | None = None  # "ocpp1.6", "ocpp2.0.1", "ocpi", "tcec", or None if not networked
    # When it entered service, as its operator states it (None: from its first report).
    commissioned_at: datetime | None = None

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.charger_id.strip():
            out.append("charger_id is empty")
        if self.commissioned_at is not None and self.commissioned_at.utcoffset() is None:
            out.append("commissioned_at must carry its UTC offset")
        if not self.station_id.strip():
            out.append("station_id is empty")
        if not 1 <= len(self.evses) <= MAX_EVSES_PER_CHARGER:
            out.append(f"a charger has 1..{MAX_EVSES_PER_CHARGER} EVSEs, got {len(self.evses)}")
            return out
        numbers = [e.evse_no for e in self.evses]
        if len(set(numbers)) != len(numbers):
            out.append("charger repeats an evse_no")
        ids = [cid for cid, _, _ in self.connector_ids()]
        if len(set(ids)) != len(ids):
            out.append("charger repeats a connector_id")
        out += [f"connector_id {cid!r} is longer than {MAX_ID}" for cid in ids if len(cid) > MAX_ID]
        for evse in self.evses:
            out += evse.problems()
        return out

    def connector_ids(self) -> list[tuple[ConnectorId, EvseRecord, ConnectorRecord]]:
        return [
            (c.connector_id or connector_key(self.charger_id, e.evse_no, c.connector_no), e, c)
            for e in self.evses
            for c in e.connectors
        ]


MAX_INVENTORY_ITEMS = 5_000  # one report of a charger's device model
MAX_INVENTORY_VALUE = 2_500  # OCPP 2.0.1 attributeValue maxLength
MAX_INVENTORY_NAME = 50  # OCPP 2.0.1 component/variable name and instance maxLength


@dataclass(frozen=True, kw_only=True)
class InventoryItem:
    """One fact of a charger's hardware and firmware inventory as the charger states it:
    a variable of one of its components (OCPP 2.0.1 device model: component, EVSE,
    connector, variable → its actual value), or a field of its BootNotification
    (component "BootNotification")."""

    component: str
    variable: str
    value: str
    evse_no: int | None = None
    connector_no: int | None = None
    component_instance: str | None = None
    variable_instance: str | None = None

    def problems(self) -> list[str]:
        out: list[str] = []
        for name in ("component", "variable"):
            text = getattr(self, name)
            if not text or not text.strip() or len(text) > MAX_INVENTORY_NAME:
                out.append(f"{name} must be 1..{MAX_INVENTORY_NAME} characters")
        for name in ("component_instance", "variable_instance"):
            text = getattr(self, name)
            if text is not None and len(text) > MAX_INVENTORY_NAME:
                out.append(f"{name} longer than {MAX_INVENTORY_NAME} characters")
        if len(self.value) > MAX_INVENTORY_VALUE:
            out.append(f"value longer than {MAX_INVENTORY_VALUE} characters")
        if self.evse_no is not None and not 0 <= self.evse_no <= MAX_EVSES_PER_CHARGER:
            out.append(f"evse {self.evse_no} out of range")
        if self.connector_no is not None and not 0 <= self.connector_no <= MAX_CONNECTORS_PER_EVSE:
            out.append(f"connector {self.connector_no} out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SwapStationRecord:
    """A battery-swap station (R40): taxis, heavy trucks, mining vehicles."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": 200, "address": 300, "opening_hours": 100}

    swap_station_id: SwapStationId
    operator_id: OperatorId
    name: str
    lat: float
    lon: float
    vehicle_types: tuple[SwapVehicleType, ...] = field(default=(SwapVehicleType.PASSENGER,))
    bays: int = 1  # swap lanes
    battery_slots: int = 0  # batteries held and charged on site
    access: Access = Access.PUBLIC
    area_code: AreaCode | None = None
    address: str | None = None
    opening_hours: str = "24/7"
    commissioned_on: date | None = None
    max_power_w: int | None = None  # grid connection of the battery charging racks

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.swap_station_id.strip():
            out.append("swap_station_id is empty")
        if not self.operator_id.strip():
            out.append("operator_id is empty")
        if not self.name.strip():
            out.append("swap station name is empty")
        out += _coordinate_problems(self.lat, self.lon)
        if not 1 <= self.bays <= 64:
            out.append(f"bays must be 1..64, got {self.bays}")
        if not 0 <= self.battery_slots <= 10_000:
            out.append(f"battery_slots must be 0..10000, got {self.battery_slots}")
        if not self.vehicle_types:
            out.append("a swap station serves at least one vehicle type")
        out += opening_hours_problems(self.opening_hours)
        return out
