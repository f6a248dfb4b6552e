"""One pydantic model per import kind: field-level checks with precise messages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from chargenet.core.areas import AreaLevel
from chargenet.core.events import target_value_problem
from chargenet.core.registry.model import (
    Access,
    ConnectorStandard,
    PowerType,
    SiteCategory,
    SwapVehicleType,
)
from chargenet.kit.bounds import StoredInt


def _datum(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    key = (text or "WGS84").upper().replace("-", "").replace("_", "")
    if key not in ("WGS84", "GCJ02"):
        raise ValueError("datum must be WGS84 or GCJ02")
    return key


# Blank cells never reach these models (the importer drops them, so defaults apply), and
# the models strip whitespace (str_strip_whitespace) before length checks.
Datum = Annotated[str, BeforeValidator(_datum)]
Str = Annotated[str, Field(min_length=1)]
OptStr = str | None
OptInt = StoredInt | None  # counts and ratings: ≥ 0 and within what the store holds
OptFloat = float | None
OptDate = date | None


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaRow(Row):
    code: Str
    level: AreaLevel
    name_zh: Str
    parent_code: OptStr = None
    name_en: OptStr = None
    lat: OptFloat = Field(default=None, ge=-90, le=90)
    lon: OptFloat = Field(default=None, ge=-180, le=180)
    datum: Datum = "WGS84"
    coord_source: OptStr = None  # informational (where the point came from)


class AreaStatisticsRow(Row):
    area_code: Str
    year: int = Field(ge=1990, le=2100)
    ev_count: OptInt = Field(default=None, ge=0)
    motor_vehicles: OptInt = Field(default=None, ge=0)
    population: OptInt = Field(default=None, ge=0)


class OperatorRow(Row):
    operator_id: Str
    name: Str
    name_en: OptStr = None
    uscc: OptStr = None
    service_phone: OptStr = None
    licence_valid_until: OptDate = None
    insurance_valid_until: OptDate = None


class StationRow(Row):
    station_id: Str
    operator_id: Str
    name: Str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    datum: Datum = "WGS84"
    name_en: OptStr = None
    address: OptStr = None
    area_code: OptStr = None
    category: SiteCategory = SiteCategory.OTHER
    scenic_grade: OptInt = Field(default=None, ge=1, le=5)
    access: Access = Access.PUBLIC
    parking_spaces: OptInt = Field(default=None, ge=0)
    charging_spaces: OptInt = Field(default=None, ge=0)
    opening_hours: str = "24/7"
    commissioned_on: OptDate = None
    # When an institution's own station is open to the public (R39): "Mo-Fr 18:00-08:00;
    # Sa-Su 00:00-24:00". Empty: left as it stands.
    public_hours: OptStr = None


class ConnectorRow(Row):
    """One row per connector; charger fields repeat on each of its rows."""

    charger_id: Str
    station_id: Str
    evse_no: int = Field(ge=1, le=64)
    connector_no: int = Field(default=1, ge=1, le=8)
    standard: ConnectorStandard
    power_type: PowerType
    max_power_w: int = Field(gt=0, le=3_750_000)
    connector_id: OptStr = None
    evse_uid: OptStr = None
    max_voltage_v: OptInt = Field(default=None, gt=0)
    max_current_a: OptInt = Field(default=None, gt=0)
    vendor: OptStr = None
    model: OptStr = None
    serial_number: OptStr = None
    firmware: OptStr = None
    protocol: OptStr = None
    commissioned_at: AwareDatetime | None = None  # ISO 8601 with its offset


class SwapStationRow(Row):
    swap_station_id: Str
    operator_id: Str
    name: Str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    datum: Datum = "WGS84"
    vehicle_types: str = "passenger"  # separated by | or ,
    bays: int = Field(default=1, ge=1, le=64)
    battery_slots: StoredInt = 0
    access: Access = Access.PUBLIC
    area_code: OptStr = None
    address: OptStr = None
    opening_hours: str = "24/7"
    commissioned_on: OptDate = None
    max_power_w: OptInt = Field(default=None, gt=0)

    @field_validator("vehicle_types")
    @classmethod
    def _known_types(cls, value: str) -> str:
        names = [v.strip() for v in value.replace("|", ",").split(",") if v.strip()]
        bad = [n for n in names if n not in SwapVehicleType.__members__.values()]
        if bad or not names:
            allowed = ", ".join(v.value for v in SwapVehicleType)
            raise ValueError(f"vehicle types must be among {allowed}")
        return ",".join(names)


class TargetRow(Row):
    area_code: Str
    metric: Str
    year: int = Field(ge=1990, le=2100)
    value: Decimal
    month: OptInt = Field(default=None, ge=1, le=12)
    target_id: OptStr = None
    definition: str = ""
    source: str = ""
    valid_from: OptDate = None

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        problem = target_value_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def _one_or_three(value: int) -> int:
    if value not in (1, 3):
        raise ValueError("phases are 1 or 3")
    return value


class FeederRow(Row):
    """A feeder or transformer shared by several stations (orderly charging)."""

    feeder_id: Str
    name: Str
    capacity_w: StoredInt = Field(ge=0)
    phases: int = 3
    area_code: OptStr = None
    valid_from: datetime | None = None  # with its UTC offset; none: the import's time

    @field_validator("phases")
    @classmethod
    def _phases(cls, value: int) -> int:
        return _one_or_three(value)


class GridConnectionRow(Row):
    """A station as an electrical system from a time on (orderly charging)."""

    station_id: Str
    capacity_w: StoredInt = Field(ge=0)
    capacity_va: OptInt = Field(default=None, ge=0)
    phases: int = 3
    voltage_v: int = Field(default=220, ge=100, le=2000)
    feeder_id: OptStr = None
    pv_peak_w: StoredInt = Field(default=0, ge=0)
    storage_wh: StoredInt = Field(default=0, ge=0)
    storage_power_w: StoredInt = Field(default=0, ge=0)
    valid_from: datetime | None = None

    @field_validator("phases")
    @classmethod
    def _phases(cls, value: int) -> int:
        return _one_or_three(value)
