"""T/CEC 102 payloads (the decrypted `Data`), field for field as on the wire.

Decoding is tolerant where deployments differ and strict where meaning is at stake:
- unknown fields are ignored (platforms add their own: HasParkingLock, Wc, …);
- the standard's own misspelling `Sevice…` (Part 3 tables 5, 11, 12, 13, 19) and the
  corrected `Service…` are both accepted, as are `ElectMoney` and `ElecMoney`;
- numbers sent as strings are accepted; money and energy decode to exact Decimals;
- a missing required field or a wrong type is refused with its JSON path.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from chargenet.kit.bounds import nesting_problem

T = TypeVar("T")

_SPELLING = re.compile(r'"(\w*?)(Sevice|ElectMoney)(\w*)"(\s*):')


def _respell(match: re.Match[str]) -> str:
    word = "Service" if match.group(2) == "Sevice" else "ElecMoney"
    return f'"{match.group(1)}{word}{match.group(3)}"{match.group(4)}:'


class PayloadError(ValueError):
    """A payload that is not what the endpoint takes (missing field, wrong type)."""


def decode(text: str | bytes, kind: type[T]) -> T:
    try:
        raw = text.decode() if isinstance(text, bytes) else text
    except UnicodeDecodeError as exc:
        raise PayloadError(f"Data is not UTF-8: {exc}") from exc
    problem = nesting_problem(raw)
    if problem:
        raise PayloadError(f"Data is {problem}")
    try:
        return msgspec.json.decode(_SPELLING.sub(_respell, raw), type=kind, strict=False)
    except msgspec.ValidationError as exc:
        raise PayloadError(str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise PayloadError(f"Data is not JSON: {exc}") from exc


def to_builtins(value: Any) -> Any:
    """A payload as plain JSON-ready values, with None fields left out."""
    return msgspec.to_builtins(value, builtin_types=(Decimal,))


class Struct(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    pass


# --- token --------------------------------------------------------------------------------


class TokenRequest(Struct):
    OperatorID: str
    OperatorSecret: str


class TokenAnswer(Struct):
    OperatorID: str
    SuccStat: int
    FailReason: int
    AccessToken: str = ""
    TokenAvailableTime: int = 0


# --- stations (Part 2) ----------------------------------------------------------------------


class ConnectorInfo(Struct):
    ConnectorID: str
    ConnectorType: int
    Power: Decimal  # kW
    ConnectorName: str | None = None
    VoltageUpperLimits: int | None = None
    VoltageLowerLimits: int | None = None
    Current: int | None = None
    ParkNo: str | None = None
    NationalStandard: int | None = None


class EquipmentInfo(Struct):
    EquipmentID: str
    EquipmentType: int
    ConnectorInfos: list[ConnectorInfo]
    Power: Decimal | None = None  # kW
    ManufacturerID: str | None = None
    ManufacturerName: str | None = None
    EquipmentModel: str | None = None
    ProductionDate: str | None = None  # yyyy-MM-dd
    EquipmentLng: Decimal | None = None
    EquipmentLat: Decimal | None = None
    EquipmentName: str | None = None


class StationInfo(Struct):
    StationID: str
    OperatorID: str
    StationName: str
    AreaCode: str
    StationType: int
    StationStatus: int
    StationLng: Decimal
    StationLat: Decimal
    Construction: int
    EquipmentInfos: list[EquipmentInfo] = []
    EquipmentOwnerID: str | None = None
    CountryCode: str | None = None
    Address: str | None = None
    StationTel: str | None = None
    ServiceTel: str | None = None
    ParkNums: int | None = None
    SiteGuide: str | None = None
    Pictures: list[str] | None = None
    MatchCars: str | None = None
    ParkInfo: str | None = None
    BusineHours: str | None = None
    ElectricityFee: str | None = None
    ServiceFee: str | None = None
    ParkFee: str | None = None
    Payment: str | None = None
    SupportOrder: int | None = None
    Remark: str | None = None


class StationInfoNotice(Struct):
    StationInfo: StationInfo


class StationsQuery(Struct):
    PageNo: int = 1
    PageSize: int = 10
    LastQueryTime: str | None = None  # yyyy-MM-dd HH:mm:ss


class StationsPage(Struct):
    PageNo: int
    PageCount: int
    ItemSize: int
    StationInfos: list[StationInfo] = []


class ConnectorStatusInfo(Struct):
    ConnectorID: str
    Status: int
    ParkStatus: int | None = None
    LockStatus: int | None = None


class StationStatusNotice(Struct):
    ConnectorStatusInfo: ConnectorStatusInfo


class StationStatusInfo(Struct):
    StationID: str
    ConnectorStatusInfos: list[ConnectorStatusInfo] = []


class StationStatusQuery(Struct):
    StationIDs: list[str]


class StationStatusAnswer(Struct):
    Total: int
    StationStatusInfos: list[StationStatusInfo] = []


class NoticeAnswer(Struct):
    Status: int  # 0 accepted; 1 ignored, do not resend


class StatsQuery(Struct):
    StationID: str
    StartTime: str  # yyyy-MM-dd
    EndTime: str


class ConnectorStats(Struct):
    ConnectorID: str
    ConnectorElectricity: Decimal


class EquipmentStats(Struct):
    EquipmentID: str
    EquipmentElectricity: Decimal
    ConnectorStatsInfos: list[ConnectorStats] = []


class StationStats(Struct):
    StationID: str
    StartTime: str
    EndTime: str
    StationElectricity: Decimal
    EquipmentStatsInfos: list[EquipmentStats] = []


class StatsAnswer(Struct):
    StationStats: StationStats


# --- charging (Part 3) --------------------------------------------------------------------


class EquipAuthQuery(Struct):
    EquipAuthSeq: str
    ConnectorID: str


class EquipAuthAnswer(Struct):
    EquipAuthSeq: str
    ConnectorID: str
    SuccStat: int
    FailReason: int


class PolicyQuery(Struct):
    EquipBizSeq: str
    ConnectorID: str


class PolicyInfo(Struct):
    StartTime: str  # HHmmss
    ElecPrice: Decimal
    ServicePrice: Decimal


class PolicyAnswer(Struct):
    EquipBizSeq: str
    ConnectorID: str
    SuccStat: int
    FailReason: int
    SumPeriod: int = 0
    PolicyInfos: list[PolicyInfo] = []


class StartChargeQuery(Struct):
    StartChargeSeq: str
    ConnectorID: str
    QRCode: str | None = None


class StartChargeAnswer(Struct):
    StartChargeSeq: str
    StartChargeSeqStat: int
    ConnectorID: str
    SuccStat: int
    FailReason: int


class StartChargeResult(Struct):
    StartChargeSeq: str
    StartChargeSeqStat: int
    ConnectorID: str
    StartTime: str
    IdentCode: str | None = None


class ChargeResultAnswer(Struct):
    StartChargeSeq: str
    SuccStat: int
    FailReason: int = 0


class ChargeStatusQuery(Struct):
    StartChargeSeq: str


class ChargeDetail(Struct):
    DetailStartTime: str
    DetailEndTime: str
    ElecPrice: Decimal
    ServicePrice: Decimal
    DetailPower: Decimal
    DetailElecMoney: Decimal
    DetailServiceMoney: Decimal


class ChargingSnapshot(Struct):
    StartChargeSeq: str
    StartChargeSeqStat: int
    ConnectorID: str
    ConnectorStatus: int
    StartTime: str
    TotalPower: Decimal  # kWh so far
    EndTime: str | None = None  # the time of this reading
    CurrentA: float | None = None
    CurrentB: float | None = None
    CurrentC: float | None = None
    VoltageA: float | None = None
    VoltageB: float | None = None
    VoltageC: float | None = None
    Soc: float | None = None
    ElecMoney: Decimal | None = None
    ServiceMoney: Decimal | None = None
    TotalMoney: Decimal | None = None
    SumPeriod: int | None = None
    ChargeDetails: list[ChargeDetail] = []


class SnapshotAnswer(Struct):
    StartChargeSeq: str
    SuccStat: int


class StopChargeQuery(Struct):
    StartChargeSeq: str
    ConnectorID: str


class StopChargeAnswer(Struct):
    StartChargeSeq: str
    StartChargeSeqStat: int
    SuccStat: int
    FailReason: int


class StopChargeResult(Struct):
    StartChargeSeq: str
    StartChargeSeqStat: int
    ConnectorID: str
    SuccStat: int
    FailReason: int = 0


class ChargeOrderInfo(Struct):
    StartChargeSeq: str
    ConnectorID: str
    StartTime: str
    EndTime: str
    TotalPower: Decimal
    TotalElecMoney: Decimal
    TotalServiceMoney: Decimal
    TotalMoney: Decimal
    StopReason: int
    SumPeriod: int | None = None
    ChargeDetails: list[ChargeDetail] = []


class OrderInfoAnswer(Struct):
    StartChargeSeq: str
    ConnectorID: str
    ConfirmResult: int  # 0 agreed; 1 disputed


class OrderLine(Struct):
    StartChargeSeq: str
    TotalPower: Decimal
    TotalMoney: Decimal


class CheckOrders(Struct):
    CheckOrderSeq: str
    StartTime: str  # yyyy-MM-dd HH:mm:ss
    EndTime: str
    OrderCount: int
    TotalOrderPower: Decimal
    TotalOrderMoney: Decimal
    ChargeOrders: list[OrderLine] = []


class DisputeOrder(Struct):
    StartChargeSeq: str
    TotalPower: Decimal
    TotalMoney: Decimal
    DisputeReason: int


class CheckOrdersAnswer(Struct):
    CheckOrderSeq: str
    StartTime: str
    EndTime: str
    TotalDisputeOrder: int
    TotalDisputePower: Decimal
    TotalDisputeMoney: Decimal
    DisputeOrders: list[DisputeOrder]  # always sent, empty when all agree


# --- chargenet's supervision extension (outside the standard; same envelope) ---------------


class SupervisionOrder(Struct):
    """`notification_supervision_order`: a regulator's order about equipment (R33)."""

    OrderID: str
    Kind: str  # stop | resume
    EquipmentID: str
    Reason: str
    IssuedTime: str  # yyyy-MM-dd HH:mm:ss
    ConnectorID: str | None = None


# --- supervision data of the municipal platforms (beyond the 2016 text) --------------------
# Field names as municipal supervision platforms take them from operator platforms (the
# Shanghai-style interface list: 9.9 notification_bmsInfo, 9.11 notification_alarmInfo,
# 9.13 notification_eventInfo), spelling included (`TatalVoltage`, `TemptureH`). Codes may
# arrive as numbers or as strings of digits; both are read.


class BmsInfo(Struct):
    Soc: Decimal | None = None  # %
    TatalVoltage: Decimal | None = None  # V, the pack (the interface's spelling)
    TotalCurrent: Decimal | None = None  # A
    VoltageH: Decimal | None = None  # V, highest cell
    VoltageL: Decimal | None = None  # V, lowest cell
    MaxChargeCellVoltage: Decimal | None = None  # V, the BMS's highest allowed cell voltage
    TemptureH: Decimal | None = None  # °C, highest battery temperature
    TemptureL: Decimal | None = None  # °C, lowest
    MaxTemp: Decimal | None = None  # °C, the BMS's highest allowed temperature
    MaxChargeCurrent: Decimal | None = None
    RatedCapacity: Decimal | None = None
    BMSCode: str | None = None
    BMSVer: str | None = None
    StartChargingTime: str | None = None
    ChargingSessionMin: int | None = None
    ConnectorID: str | None = None


class BmsNotice(Struct):
    ConnectorID: str
    BmsInfo: BmsInfo
    Status: int | None = None  # the connector's status, as in notification_stationStatus
    StartChargeSeq: str | None = None


class AlarmInfo(Struct):
    ConnectorID: str | None = None
    EquipmentID: str | None = None
    StationID: str | None = None
    AlarmCode: str | int = ""
    AlarmType: str | int | None = None
    AlarmLevel: str | int | None = None
    AlarmStatus: str | int = 1  # 1 occurring, 0 over
    AlarmTime: str | None = None  # yyyy-MM-dd HH:mm:ss
    NoteString: str | None = None
    BmsInfo: BmsInfo | None = None


class AlarmNotice(Struct):
    AlarmInfos: list[AlarmInfo]


class EventInfo(Struct):
    StationID: str
    EventCode: str | int
    EventType: str | int | None = None
    EventTime: str | None = None
    EquipmentID: str | None = None
    ConnectorID: str | None = None
    NoteString: str | None = None


class EventNotice(Struct):
    EventInfos: list[EventInfo]
