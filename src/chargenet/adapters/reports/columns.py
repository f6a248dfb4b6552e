"""The monthly report's columns, in Chinese and English, shared by every format: the
month's figures (COLUMNS), planning's progress (PROGRESS_COLUMNS) and
supervision's month (SUPERVISION_COLUMNS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    value: Callable[[Row], Any]
    number: str = "#,##0"  # Excel number format

    def header(self) -> str:
        return f"{self.zh}\n{self.en}"


def _get(*path: str) -> Callable[[Row], Any]:
    def value(row: Row) -> Any:
        out: Any = row
        for key in path:
            out = out.get(key) if isinstance(out, dict) else None
        return out

    return value


COLUMNS = (
    Column("code", "代码", "Code", _get("code"), "@"),
    Column("name_zh", "区县", "Area", _get("name_zh"), "@"),
    Column("name_en", "名称", "Name", _get("name_en"), "@"),
    Column("piles", "充电桩", "Piles", _get("piles", "total")),
    Column("public", "公共桩", "Public piles", _get("piles", "public")),
    Column("fast", "快充桩", "Fast (DC)", _get("piles", "fast")),
    Column("slow", "慢充桩", "Slow (AC)", _get("piles", "slow")),
    Column("new", "本月新增", "New in month", _get("new_piles")),
    Column("new_public", "本月新增公共桩", "New public in month", _get("new_public_piles")),
    Column("ytd_public", "年内新增公共桩", "New public this year", _get("ytd_new_public_piles")),
    Column("ytd", "年内新增桩", "New piles this year", _get("ytd_new_piles")),
    Column("target", "年度新增目标", "Year target (new)", _get("year_target")),
    Column("done", "目标完成率%", "Target done %", _get("target_done_percent"), "0.0"),
    Column("evs", "新能源汽车", "EVs", _get("ev_count")),
    Column("ev_year", "车辆数取自年末", "EVs at the end of", _get("ev_year"), "0"),
    Column(
        "ratio",
        "车桩比(公共, 按规划写法)",
        "Public piles to EVs, as the plan writes it",
        _get("ev_per_public_pile_written"),
        "@",
    ),
)

NOTES = (
    (
        "充电桩",
        "Pile",
        "每个额定功率2.2kW及以上的充电枪计为一个桩 (R01)",
        "every connector of 2.2 kW or more counts as one pile (R01)",
    ),
    (
        "本月新增",
        "New in month",
        "月末在役桩数减上月末在役桩数",
        "piles in service at month end minus the month before",
    ),
    (
        "年内新增",
        "New this year",
        "月末在役桩数减上年末在役桩数",
        "piles in service at month end minus at last year end",
    ),
    (
        "目标完成率",
        "Target done",
        "年内新增(按目标口径: 公共桩或全部桩)除以年度新增目标",
        "new this year, counted as the target counts (public or all piles), over the target",
    ),
    (
        "车桩比",
        "Public piles to EVs",
        "月末已过的最近一个年末的新能源汽车保有量 (年份见“车辆数取自年末”) 与月末公共桩数之比，"
        "按规划的写法：忻州“公共充电桩与电动汽车比例 1:N”写作 1 : N，其他写作 N : 1",
        "EVs at the latest year end already past at month end (its year is shown; the "
        "latest_year_end method: a May ratio does not use the year-end stock still to come) "
        "to public piles at month end, written the plan's way: Xinzhou's “public piles : "
        "EVs 1:N” as 1 : N, others as N : 1",
    ),
)


STATUS_WORDS = {
    "met": "已完成 met",
    "missed": "未完成 missed",
    "on_track": "按计划 on track",
    "behind": "滞后 behind",
    "not_started": "未开始 not started",
    "no_data": "无数据 no data",
}


def _status(row: Row) -> Any:
    status = row.get("status")
    return STATUS_WORDS.get(status, status) if status else None


def _overall(row: Row) -> Any:
    """The unit as a whole (its targets and its coverage rules), worded apart from the pile
    target's own status so a row never reads "on track" and "not on track" at once."""
    flag = row.get("on_track")
    return None if flag is None else ("正常 all clear" if flag else "需关注 needs attention")


FLAG_WORDS = {
    "behind": "滞后 behind",
    "forecast_short": "预计年末未达 forecast short",
    "coverage": "未达标 unmet",
}
METRIC_WORDS = {
    "new_public_piles": "年度新增公共桩 new public piles",
    "public_piles": "公共桩总量 public piles in place",
    "new_charging_piles": "年度新增充电设施 new charging piles",
    "charging_piles": "充电设施总量 piles in place",
    "private_piles": "自用充电设施 private piles",
    "evs_per_public_pile": "车桩比(公共) public piles to EVs",
    "evs_per_public_pile_aim": "车桩比力争目标 public piles to EVs, aim",
    "evs_per_pile": "车桩比 vehicles to piles",
    "new_nev": "新增新能源汽车 new EVs",
    "ev_count": "新能源汽车保有量 EVs",
}


def _flags(row: Row) -> Any:
    """Each flag in words: what is wrong, and with what (a metric's name, a rule's own
    description), instead of codes like `behind:evs_per_public_pile`."""
    subjects = row.get("flag_subjects") or {}
    words = []
    for flag in row.get("flags") or ():
        kind, _, subject = flag.partition(":")
        name = METRIC_WORDS.get(subject) or subjects.get(flag) or subject.replace("_", " ")
        words.append(f"{FLAG_WORDS.get(kind, kind)}: {name}")
    return "；".join(words) or None


PROGRESS_COLUMNS = (
    Column("code", "代码", "Code", _get("code"), "@"),
    Column("name_zh", "区县", "Area", _get("name_zh"), "@"),
    Column("name_en", "名称", "Name", _get("name_en"), "@"),
    Column("new_month", "本月新增公共桩", "New public in month", _get("new_public_in_month")),
    Column("new_ytd", "年内新增公共桩", "New public this year", _get("new_public_ytd")),
    Column("public", "在役公共桩", "Public piles", _get("public_in_service")),
    Column("dc_public", "在役公共直流桩", "Public DC piles", _get("dc_public_in_service")),
    Column("target", "年度新增目标", "Year target (new)", _get("year_target")),
    Column("actual", "按目标口径已建", "Built, as the target counts", _get("target_actual")),
    Column("done", "完成率%", "Done %", _get("progress_percent"), "0.0"),
    Column("status", "新增目标进度", "New-pile target", _status, "@"),
    Column("forecast", "年末预测", "Year-end forecast", _get("forecast")),
    Column("method", "预测方法", "Forecast method", _get("forecast_method"), "@"),
    Column("villages_ok", "充电距离达标村", "Villages within distance", _get("villages_within")),
    Column("villages", "行政村", "Villages", _get("villages")),
    Column("on_track", "总体", "Overall", _overall, "@"),
    Column("flags", "需关注事项", "Needs attention", _flags, "@"),
)

SUPERVISION_COLUMNS = (
    Column("code", "代码", "Code", _get("code"), "@"),
    Column("name_zh", "区县", "Area", _get("name_zh"), "@"),
    Column("name_en", "名称", "Name", _get("name_en"), "@"),
    Column("connectors", "充电枪", "Connectors", _get("connectors")),
    Column("nevi", "可用率% (NEVI)", "Uptime % (NEVI)", _get("nevi_uptime"), "0.0"),
    Column("uk", "可靠率% (英国)", "Reliability % (UK)", _get("uk_reliability"), "0.0"),
    Column("meeting", "达标端口 (>97%)", "Ports > 97 %", _get("ports_meeting_nevi")),
    Column("faulted", "故障小时", "Hours faulted", _get("faulted_hours"), "#,##0"),
    Column("offline", "离线小时", "Hours offline", _get("offline_hours"), "#,##0"),
    Column("alarms", "本月告警", "Alarms raised", _get("alarms_raised")),
    Column("alarms_open", "月末未处理告警", "Alarms open at month end", _get("alarms_open")),
    Column("zombies", "本月新发现僵尸桩", "Zombie cases opened", _get("zombies_opened")),
    Column(
        "zombies_open", "月末在办僵尸桩", "Zombie cases open at month end", _get("zombies_open")
    ),
    Column("stops", "本月停止令", "Stop orders issued", _get("stops_issued")),
    Column(
        "stops_open", "月末生效停止令", "Stop orders in force at month end", _get("stops_in_force")
    ),
)

SUPERVISION_NOTES = (
    (
        "可用率 (NEVI)",
        "Uptime (NEVI)",
        "(总时长 − (停运时长 − 豁免时长)) ÷ 总时长；离线 (无数据)、故障、停用计为停运；"
        "本月无任何状态数据时留空",
        "(T − (T_outage − T_excluded)) / T over the month, 23 CFR 680.116(b); offline, faulted "
        "and out of service are outage; blank when nothing was reported in the month",
    ),
    (
        "可靠率 (英国)",
        "Reliability (UK)",
        "可用 ÷ (可用 + 故障/停用)，离线和车位被占不计",
        "up / (up + down); offline and blocked time left out (PCPR 2023)",
    ),
    (
        "告警、僵尸桩、停止令",
        "Alarms, zombies, stop orders",
        "本月内发生的数量，以及月末仍未处理 (未清除、未结案、未解除) 的数量",
        "raised (opened, issued) in the month, and still open (in force) at its end",
    ),
    (
        "规划进度",
        "Planning progress",
        "新增桩按投运日计 (规划口径)；状态、预测和需关注事项见规划文档",
        "new piles by commissioning day (planning's count); status, forecast and flags as "
        "docs/planning.md defines them",
    ),
)


# --- orderly charging (有序充电) ------------------------------------------------------------


def _scaled(key: str, factor: float, digits: int = 1) -> Callable[[Row], Any]:
    def value(row: Row) -> Any:
        raw = row.get(key)
        return None if raw is None else round(raw * factor, digits)

    return value


_KWH = 1 / 1000  # Wh → kWh, W → kW

VALLEY_COLUMNS = (
    Column("code", "代码", "Code", _get("code"), "@"),
    Column("name_zh", "区县", "Area", _get("name_zh"), "@"),
    Column("name_en", "名称", "Name", _get("name_en"), "@"),
    Column("energy", "充电量 kWh", "Energy kWh", _scaled("energy_wh", _KWH, 0)),
    Column("valley", "谷段电量 kWh", "In valley hours kWh", _scaled("valley_energy_wh", _KWH, 0)),
    Column("share", "谷电占比%", "Valley share %", _scaled("valley_share", 100), "0.0"),
)

OPERATOR_VALLEY_COLUMNS = (
    Column("code", "运营商", "Operator", _get("operator_id"), "@"),
    Column("sessions", "充电次数", "Sessions", _get("sessions")),
    Column("energy", "充电量 kWh", "Energy kWh", _scaled("energy_wh", _KWH, 0)),
    Column("share", "谷电占比%", "Valley share %", _scaled("valley_share", 100), "0.0"),
)

PEAK_AREA_COLUMNS = (
    Column("code", "代码", "Code", _get("code"), "@"),
    Column("name_zh", "区县", "Area", _get("name_zh"), "@"),
    Column("name_en", "名称", "Name", _get("name_en"), "@"),
    Column("peak", "最大负荷 kW", "Peak load kW", _scaled("peak_w", _KWH), "#,##0.0"),
    Column("at", "出现时间", "At", _get("peak_at"), "@"),
)

PEAK_SITE_COLUMNS = (
    Column("code", "充电站", "Station", _get("code"), "@"),
    Column("name_zh", "名称", "Name", _get("name_zh"), "@"),
    Column("operator", "运营商", "Operator", _get("operator_id"), "@"),
    Column("peak", "最大负荷 kW", "Peak load kW", _scaled("peak_w", _KWH), "#,##0.0"),
    Column("at", "出现时间", "At", _get("peak_at"), "@"),
    Column("limit", "限额 kW", "Limit kW", _scaled("limit_w", _KWH), "#,##0.0"),
    Column("percent", "占限额%", "Of limit %", _get("peak_percent"), "0.0"),
)

DR_COLUMNS = (
    Column("program", "事件", "Event", _get("program"), "@"),
    Column("scope", "范围", "Scope", lambda r: f"{r['scope']} {r['scope_id']}".strip(), "@"),
    Column("start", "开始", "Start", _get("start"), "@"),
    Column("end", "结束", "End", _get("end"), "@"),
    Column("share", "允许负荷%", "Allowed %", _scaled("share", 100, 0), "0"),
    Column("stations", "站数", "Stations", _get("stations")),
    Column("target", "目标负荷 kW", "Target kW", _scaled("target_w", _KWH), "#,##0.0"),
    Column("baseline", "基线 kW", "Baseline kW", _scaled("baseline_w", _KWH), "#,##0.0"),
    Column("measured", "实测负荷 kW", "Measured kW", _scaled("measured_w", _KWH), "#,##0.0"),
    Column(
        "requested",
        "要求削减 kW",
        "Shed requested kW",
        _scaled("requested_shed_w", _KWH),
        "#,##0.0",
    ),
    Column("shed", "实际削减 kW", "Shed measured kW", _scaled("measured_shed_w", _KWH)),
    Column("performance", "完成率%", "Performance %", _get("performance_percent"), "0.0"),
)

ORDERLY_NOTES = (
    (
        "谷电占比",
        "Valley share",
        "结束于本月的充电会话电量按时长均摊，落在电网低谷时段的份额",
        "energy of the sessions ended in the month, spread evenly over each session, that "
        "falls in the grid's valley periods",
    ),
    (
        "最大负荷",
        "Peak load",
        "受管充电站实测功率的15分钟平均值之和的最大值 (区县为同时最大负荷)",
        "the highest 15-minute mean of the managed stations' metered power (for an area, "
        "of their sum: the coincident peak)",
    ),
    (
        "需求响应",
        "Demand response",
        "基线: 事件前10个同类工作日 (周末4天) 同时段平均负荷, 不含事件日 (CAISO 10-in-10)；"
        "要求削减 = 基线 − 目标；实际削减 = 基线 − 实测；完成率 = 实际 ÷ 要求",
        "baseline: mean load in the same quarter hours of the 10 most recent similar weekdays "
        "(4 weekend days) without an event (CAISO 10 in 10); requested shed = baseline − "
        "target; measured shed = baseline − measured; performance = measured ÷ requested",
    ),
)
