"""T/CEC 102 code lists and their meaning in chargenet's words (docs/tcec.md has the tables).

Codes come from T/CEC 102.2–102.4 (2016) as several independent implementations read
them; where a code has no exact chargenet word the choice is explained beside it.
"""

from __future__ import annotations

from enum import IntEnum

from chargenet.core.registry.model import Access, ConnectorStandard, PowerType, SiteCategory


class Ret(IntEnum):
    """Envelope result codes (Part 4)."""

    OK = 0
    SYSTEM_BUSY = -1  # 系统繁忙，此时请求方稍后重试
    SIGNATURE = 4001  # 签名错误
    TOKEN = 4002  # Token 错误 (missing, unknown, expired)
    PARAMETERS = 4003  # POST 参数不合法，缺少必需的示例 (envelope, time, replay, payload shape)
    BUSINESS = 4004  # 请求的业务参数不合法 (payload well-formed but refused)
    SERVER = 500  # 系统错误


# --- StationInfo --------------------------------------------------------------------------

STATION_TYPE_ACCESS = {
    1: Access.PUBLIC,  # 公共
    50: Access.PRIVATE,  # 个人
    100: Access.DEDICATED,  # 公交（专用）
    101: Access.DEDICATED,  # 环卫（专用）
    102: Access.DEDICATED,  # 物流（专用）
    103: Access.DEDICATED,  # 出租车（专用）
    # 其他: the standard calls only 1 public; counting an unknown kind as public would
    # inflate the public-pile figures the plans are measured by.
    255: Access.DEDICATED,
}
FLEET_STATION_TYPES = frozenset({100, 101, 102, 103})
ACCESS_STATION_TYPE = {Access.PUBLIC: 1, Access.PRIVATE: 50, Access.DEDICATED: 255}


class StationStatus(IntEnum):
    UNKNOWN = 0  # 未知
    BUILDING = 1  # 建设中
    CLOSED = 5  # 关闭下线
    MAINTENANCE = 6  # 维护中
    IN_USE = 50  # 正常使用


CONSTRUCTION_CATEGORY = {
    # 居民区: T/CEC does not say whether the community is new; existing communities are
    # where reported chargers are retrofitted, so they count as residential_old.
    1: SiteCategory.RESIDENTIAL_OLD,
    2: SiteCategory.INSTITUTION,  # 公共机构
    3: SiteCategory.INSTITUTION,  # 企事业单位
    4: SiteCategory.COMMERCIAL,  # 写字楼
    5: SiteCategory.INDUSTRIAL_PARK,  # 工业园区
    6: SiteCategory.TRANSPORT_HUB,  # 交通枢纽
    7: SiteCategory.PUBLIC_CAR_PARK,  # 大型文体设施 (their public car parks)
    8: SiteCategory.PUBLIC_CAR_PARK,  # 城市绿地
    9: SiteCategory.COMMERCIAL,  # 大型建筑配建停车场 (malls, hotels)
    10: SiteCategory.PUBLIC_CAR_PARK,  # 路边停车位
    11: SiteCategory.HIGHWAY_SERVICE_AREA,  # 城际高速服务区
    255: SiteCategory.OTHER,  # 其他
}
CATEGORY_CONSTRUCTION = {
    SiteCategory.RESIDENTIAL_OLD: 1,
    SiteCategory.RESIDENTIAL_NEW: 1,
    SiteCategory.INSTITUTION: 2,
    SiteCategory.COMMERCIAL: 9,
    SiteCategory.INDUSTRIAL_PARK: 5,
    SiteCategory.TRANSPORT_HUB: 6,
    SiteCategory.PARK_AND_RIDE: 6,
    SiteCategory.PUBLIC_CAR_PARK: 10,
    SiteCategory.HIGHWAY_SERVICE_AREA: 11,
}


def construction_of(category: SiteCategory) -> int:
    return CATEGORY_CONSTRUCTION.get(category, 255)


# --- EquipmentInfo / ConnectorInfo --------------------------------------------------------


class EquipmentType(IntEnum):
    DC = 1  # 直流设备
    AC = 2  # 交流设备
    AC_DC = 3  # 交直流一体设备
    WIRELESS = 4  # 无线设备
    OTHER = 5  # 其他


# ConnectorType → (standard, power type). GB/T 20234: 2 and 3 are AC (mode 3, socket or
# tethered cable), 4 is the DC gun; 1 is a household socket (mode 2).
CONNECTOR_TYPE = {
    1: (ConnectorStandard.HOUSEHOLD, PowerType.AC),  # 家用插座（模式2）
    2: (ConnectorStandard.GBT_AC, PowerType.AC),  # 交流接口插座（模式3，连接方式B）
    3: (ConnectorStandard.GBT_AC, PowerType.AC),  # 交流接口插头（带枪线，模式3，连接方式C）
    4: (ConnectorStandard.GBT_DC, PowerType.DC),  # 直流接口枪头（带枪线，模式4）
    5: (ConnectorStandard.OTHER, PowerType.AC),  # 无线充电座
    6: (ConnectorStandard.OTHER, PowerType.AC),  # 其他 (power type from the equipment)
}
STANDARD_CONNECTOR_TYPE = {
    ConnectorStandard.HOUSEHOLD: 1,
    ConnectorStandard.GBT_AC: 3,
    ConnectorStandard.GBT_DC: 4,
}


def connector_type_of(standard: ConnectorStandard) -> int:
    return STANDARD_CONNECTOR_TYPE.get(standard, 6)


# --- charging -----------------------------------------------------------------------------


class ChargeState(IntEnum):
    """StartChargeSeqStat."""

    STARTING = 1  # 启动中
    CHARGING = 2  # 充电中
    STOPPING = 3  # 停止中
    ENDED = 4  # 已结束
    UNKNOWN = 5  # 未知


STOP_REASONS = {
    0: "user stopped",  # 用户手动停止充电
    1: "stopped by the customer's platform",  # 客户归属地运营商平台停止充电
    2: "BMS stopped",  # BMS停止充电
    3: "equipment fault",  # 充电机设备故障
    4: "connector disconnected",  # 连接器断开
}


def stop_reason_text(code: int) -> str:
    return STOP_REASONS.get(code, f"operator reason {code}")  # 5–99: operator-defined


class DisputeReason(IntEnum):
    """DisputeReason in check_charge_orders answers. 1–3 are the standard's; 4 and 10 are
    chargenet's, inside the range the standard leaves to the parties (4–99)."""

    NOT_FOUND = 1  # 交易不存在: chargenet has no record of the stated order
    AMOUNT = 2  # 交易金额错误
    ENERGY = 3  # 交易电量错误
    AMOUNT_AND_ENERGY = 4
    NOT_STATED = 10  # chargenet recorded an order in the period that was not stated


class TokenFailure(IntEnum):
    NONE = 0
    UNKNOWN_OPERATOR = 1  # 无此运营商
    WRONG_SECRET = 2  # 密钥错误


# --- supervision data (municipal platforms' interface) -------------------------------------

PARK_OCCUPIED = {0: None, 10: False, 50: True}  # ParkStatus: 0 未知, 10 空闲, 50 已停车
LOCK_UP = {0: None, 10: False, 50: True}  # LockStatus: 0 未知, 10 已解锁, 50 已上锁
ALARM_CLEARED = {"0": True, "1": False}  # AlarmStatus: 0 恢复 (over), 1 发生 (occurring)
# AlarmLevel → the OCPP 2.0.1 severity scale the safety rules read (0 danger … 9 debug):
# level 1 is the gravest (一级告警), as in the grading of alarms across China's grid
# equipment; an alarm without a level is a warning. Agree the scale with each partner.
ALARM_LEVEL_SEVERITY = {"1": 1, "2": 3, "3": 5}
ALARM_DEFAULT_SEVERITY = 5
