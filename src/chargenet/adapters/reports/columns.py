"""The monthly report's columns, in Chinese and English, shared by every format."""

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
    Column("ev_year", "车辆数年份", "EV figure of year", _get("ev_year"), "0"),
    Column("ratio", "车桩比(公共)", "EVs per public pile", _get("ev_per_public_pile"), "0.0"),
)

NOTES = (
    (
        "充电桩",
        "Pile",
        "每个额定功率大于2.2kW的充电枪计为一个桩 (R01)",
        "every connector above 2.2 kW counts as one pile (R01)",
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
        "EVs per public pile",
        "最近年末新能源汽车保有量除以月末公共桩数",
        "EVs at the latest year end over public piles at month end",
    ),
)
