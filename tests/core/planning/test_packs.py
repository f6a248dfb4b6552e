"""Shipped policy packs hold the seeds' numbers; the pack format refuses what is wrong and
accepts partial tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from chargenet.app.planning import shipped_packs
from chargenet.core.planning.metrics import Comparator, Counted, MetricKind, Strength
from chargenet.core.planning.pack import PackError, PolicyPack, parse_pack


def pack(name: str) -> PolicyPack:
    return parse_pack(shipped_packs()[name])


def totals(p: PolicyPack, metric: str, exclude: str | None = None) -> dict[int, Decimal]:
    out: defaultdict[int, Decimal] = defaultdict(Decimal)
    for t in p.targets:
        if t.metric == metric and t.area_code != exclude:
            out[t.year] += t.value
    return dict(out)


def test_every_value_in_the_shipped_packs_cites_its_source() -> None:
    assert set(shipped_packs()) == {"xinzhou", "liuzhou", "guangxi", "shanghai"}
    for name in shipped_packs():
        p = pack(name)
        assert all(t.source.strip() for t in p.targets), name
        assert all(r.source.strip() for r in p.rules) and all(r.source for r in p.parking)


def test_xinzhou_holds_attachment_1_including_wutaishan() -> None:
    p = pack("xinzhou")
    assert totals(p, "new_public_piles", exclude="140900") == {2023: 1654, 2024: 1617, 2025: 2158}
    city = {t.year: t.value for t in p.targets if t.target_id.startswith("140900|new_public_piles")}
    assert city == {2023: 1654, 2024: 1617, 2025: 2158}  # the table's own 总计 row
    wutaishan = [t for t in p.targets if t.area_code == "140971"]
    assert [(t.year, t.value) for t in wutaishan] == [
        (2023, Decimal(78)),
        (2024, Decimal(75)),
        (2025, Decimal(100)),
    ]
    [unit] = p.units
    assert (unit.code, unit.name_zh, unit.parent) == ("140971", "五台山风景名胜区", "140900")
    xinfu = {
        t.year: t.value for t in p.targets if t.target_id.startswith("140902|new_public_piles")
    }
    assert xinfu == {2023: 296, 2024: 291, 2025: 388}
    metric = p.metric("new_public_piles")
    assert metric is not None and metric.strength is Strength.INDICATIVE
    public = {t.year: t.value for t in p.targets if t.target_id.startswith("140900|public_piles")}
    assert public == {2023: 2000, 2024: 3000, 2025: 6000}


def test_xinzhou_ratios_keep_the_floor_and_the_aim_apart() -> None:
    p = pack("xinzhou")
    ratio = p.metric("evs_per_public_pile")
    assert ratio is not None and ratio.kind is MetricKind.RATIO
    assert ratio.comparator is Comparator.AT_MOST
    assert ratio.numerator is not None and ratio.numerator.counted is Counted.EVS
    assert ratio.denominator is not None and ratio.denominator.access == ("public",)
    city = {
        t.year: t.value for t in p.targets if t.target_id.startswith("140900|evs_per_public_pile|")
    }
    assert city == {2023: 8, 2024: 7, 2025: 8}
    aim = [t for t in p.targets if t.metric == "evs_per_public_pile_aim"]
    assert [(t.year, t.value) for t in aim] == [(2025, Decimal(6))]
    counties = [
        t for t in p.targets if t.metric == "evs_per_public_pile" and t.area_code != "140900"
    ]
    assert len(counties) == 14 * 3 and {t.value for t in counties if t.year == 2025} == {6}
    village = next(r for r in p.rules if r.id == "village_distance")
    assert dict(village.max_km) == {2023: 50, 2024: 30, 2025: 10}


def test_liuzhou_totals_and_its_partial_vehicle_table() -> None:
    p = pack("liuzhou")
    assert totals(p, "new_charging_piles", exclude="450200") == {2023: 3000, 2024: 3400, 2025: 3600}
    assert totals(p, "new_nev", exclude="450200") == {2023: 30000, 2024: 32400, 2025: 37600}
    zones = {u.code for u in p.units}
    assert zones == {"450200-LD", "450200-YH"}
    # The zones are "/" in table 1: no target, not a zero.
    assert not [t for t in p.targets if t.metric == "new_nev" and t.area_code in zones]
    assert (
        len([t for t in p.targets if t.metric == "new_charging_piles" and t.area_code in zones])
        == 6
    )
    metric = p.metric("new_charging_piles")
    assert metric is not None and metric.quantity is not None
    assert metric.quantity.access == ()
    r15 = {t.metric: t.value for t in p.targets if t.metric.endswith(("_t", "_pct"))}
    assert r15 == {
        "energy_intensity_reduction_pct": Decimal("14.5"),
        "nox_reduction_t": 2800,
        "voc_reduction_t": 1050,
        "cod_reduction_t": 6021,
        "nh3n_reduction_t": 445,
    }


def test_guangxi_and_shanghai() -> None:
    g = pack("guangxi")
    assert totals(g, "new_nev_2021_2025", exclude="450000") == {2025: 522000}
    assert totals(g, "new_public_fast_piles_2021_2025", exclude="450000") == {2025: 26600}
    assert totals(g, "new_public_slow_piles_2021_2025", exclude="450000") == {2025: 53400}
    fast = g.metric("new_public_fast_piles_2021_2025")
    assert fast is not None and fast.quantity is not None and fast.quantity.since_year == 2021
    whole = {
        t.metric: t.value
        for t in g.targets
        if t.area_code == "450000"
        and t.metric in ("charging_piles", "public_piles", "private_piles", "evs_per_pile")
    }
    assert whole == {
        "charging_piles": 295000,
        "public_piles": 110500,
        "private_piles": 184500,
        "evs_per_pile": Decimal("2.3"),
    }
    s = pack("shanghai")
    ratio = s.metric("evs_per_pile")
    assert ratio is not None and ratio.denominator is not None and ratio.denominator.access == ()
    assert [(t.metric, t.value) for t in s.targets] == [
        ("evs_per_pile", Decimal(2)),
        ("evs_served", Decimal(1250000)),
    ]


MINIMAL = """
[pack]
id = "t"
region = "140900"
title = "test"
version = 2023-03-01
"""


def test_a_table_whose_rows_do_not_add_up_to_its_total_is_refused() -> None:
    text = (
        MINIMAL
        + """
[[tables]]
metric = "new_public_piles"
source = "s"
years = [2023]
total = "140900"
rows = [["140900", "total", 10], ["140902", "a", 4], ["140981", "b", 5]]
"""
    )
    with pytest.raises(PackError) as caught:
        parse_pack(text)
    assert caught.value.problems == ["tables[1]: 2023: rows add up to 9, the total row says 10"]


def test_partial_tables_and_revisions() -> None:
    text = (
        MINIMAL
        + """
[[tables]]
metric = "new_public_piles"
source = "s"
years = [2023, 2024]
total = "140900"
rows = [["140900", "total", 10, 20], ["140902", "a", 4, "/"], ["140981", "b", 6, 7]]

[[targets]]
area = "140900"
metric = "public_piles"
year = 2025
value = 6000
source = "plan"
revisions = [{ on = 2024-06-01, value = 6500, source = "revised plan" }]
"""
    )
    p = parse_pack(text)
    given = {(t.area_code, t.year): t.value for t in p.targets if t.metric == "new_public_piles"}
    assert given == {
        ("140900", 2023): 10,
        ("140900", 2024): 20,
        ("140902", 2023): 4,
        ("140981", 2023): 6,
        ("140981", 2024): 7,
    }
    revs = [(t.revised_on, t.value, t.source) for t in p.targets if t.metric == "public_piles"]
    assert revs == [
        (None, Decimal(6000), "plan"),
        (date(2024, 6, 1), Decimal(6500), "revised plan"),
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = (
        MINIMAL
        + """
[metrics.odd]
counted = "piles"
power = "fast"
definition = ""

[[targets]]
area = "140900"
metric = "unknown_metric"
year = 2025
value = -3
source = "x"

[[rules]]
id = "r1"
kind = "area_distance"
requirement = "R20"
source = "s"
description = "d"
"""
    )
    with pytest.raises(PackError) as caught:
        parse_pack(text)
    problems = "\n".join(caught.value.problems)
    assert "'fast' is not one of any, dc, ac" in problems
    assert "definition must be a non-empty string" in problems
    assert "-3 must be a finite number ≥ 0" in problems
    assert "rules[1] (r1): kind area_distance needs max_km" in problems
    assert "needs a level" in problems
    with pytest.raises(PackError, match="not valid TOML"):
        parse_pack("[pack\n")


def test_packs_are_dated_by_their_documents() -> None:
    """Seed 002 opens "忻政办发〔2023〕39号 … 忻州市人民政府办公室 2023年9月6日"; seed 000 Part 3
    is signed "柳州市人民政府办公室 … 20231214"; seed 004 "柳州市人民政府 2023年1月3日". A target
    is in force from its document's date, not before."""
    assert pack("xinzhou").version == date(2023, 9, 6)
    liuzhou = pack("liuzhou")
    assert liuzhou.version == date(2023, 12, 14)
    r15 = {t.metric: t.revised_on for t in liuzhou.targets if t.metric.endswith(("_t", "_pct"))}
    assert set(r15.values()) == {date(2023, 1, 3)}
    plan = {t.revised_on for t in liuzhou.targets if t.metric == "new_charging_piles"}
    assert plan == {None}  # the pack's own date


def test_the_township_rules_count_townships_and_subdistricts() -> None:
    """Seed 002 三年行动计划 一: "实现公共充电桩全市152个乡镇（街道）全覆盖" — a 街道 is one of
    the 152: a subdistrict without a public pile leaves the rule unmet."""
    from chargenet.analytics.planning.coverage import CoverageInput, check_rule
    from chargenet.analytics.planning.results import Status
    from tests.analytics.planning.worlds import CITY, station, township

    rules = {r.id: r for r in pack("xinzhou").rules}
    town, street = township("450202100", 0.0), township("450202001", 0.5, name="秀容街道")
    piles_in_town = station("S", 0.0, chain=("450000", CITY, "450202", "450202100", None))
    inp = CoverageInput(2023, CITY, CITY, [town, street], [piles_in_town])
    presence = check_rule(inp, rules["township_presence"])
    assert presence is not None and presence.status is Status.UNMET
    assert presence.summary["areas"] == 2 and [s.id for s in presence.shortfalls] == [street.code]
    average = check_rule(
        CoverageInput(2025, CITY, CITY, [town, street], [piles_in_town]),
        rules["township_average_piles"],
    )
    assert average is not None and average.summary["areas"] == 2


def test_the_seed_figures_once_left_out_are_stored_with_their_sources() -> None:
    """Seed 000 Part 3 一、4: "Strive to promote new energy vehicles in the public domain.
    12177"; seed 002 三年行动计划 二、4: "中心城区公交等公共服务领域桩车比不低于1:2，力争达到
    1:1"; seed 001 （4）发展目标: "新建自用充电设施14.7万个 … 可满足约67.89万辆新能源汽车充电
    需求", 重点任务: "全区建成不少于600个综合供能服务站"; seed 000 Part 3 二、7: "scenic spots,
    caravan camps, four-star hotels … each charging station shall be equipped with at least
    2 DC charging piles"."""

    def stored(p: PolicyPack, metric: str) -> list[tuple[str, int, Decimal]]:
        found = [t for t in p.targets if t.metric == metric]
        assert all(t.source.startswith(("000", "001", "002")) for t in found), metric
        return [(t.area_code, t.year, t.value) for t in found]

    liuzhou, xinzhou, guangxi = pack("liuzhou"), pack("xinzhou"), pack("guangxi")
    assert stored(liuzhou, "new_public_sector_vehicles") == [("450200", 2025, Decimal(12177))]
    assert stored(xinzhou, "fleet_vehicles_per_pile") == [("140900", 2025, Decimal(2))]
    assert stored(xinzhou, "fleet_vehicles_per_pile_aim") == [("140900", 2025, Decimal(1))]
    aim = xinzhou.metric("fleet_vehicles_per_pile_aim")
    assert aim is not None and aim.strength is Strength.AIM
    assert stored(guangxi, "new_private_piles_2021_2025") == [("450000", 2025, Decimal(147000))]
    private = guangxi.metric("new_private_piles_2021_2025")
    assert private is not None and private.quantity is not None
    assert (private.quantity.access, private.quantity.since_year) == (("private",), 2021)
    assert stored(guangxi, "evs_served") == [("450000", 2025, Decimal(678900))]
    assert stored(guangxi, "integrated_energy_stations") == [("450000", 2025, Decimal(600))]
    [rule] = [r for r in liuzhou.rules if r.kind.value == "site_equipment"]
    assert set(rule.stations.categories) == {"scenic_spot", "rv_camp", "hotel"}
    assert rule.stations.min_dc_piles == 2 and "caravan camps" in rule.source


def test_a_pack_event_names_the_pack_its_text_is() -> None:
    """A PolicyPackLoaded whose text is no pack, or whose fields say another pack than its
    text, is refused: it would put one pack's text in force under another's name."""
    from chargenet.core.events import PolicyPackLoaded
    from chargenet.core.ids import AreaCode
    from tests.builders import meta

    text = shipped_packs()["xinzhou"]
    loaded = parse_pack(text)
    right = PolicyPackLoaded(
        **meta(),
        pack_id=loaded.id,
        region_code=AreaCode(loaded.region),
        version=loaded.version,
        title=loaded.title,
        text=text,
    )
    assert right.problems() == []
    assert any("table is missing" in p for p in replace(right, text='id = "x"').problems())
    other = replace(right, pack_id="liuzhou", region_code=AreaCode("450200"))
    assert sorted(p.split()[0] for p in other.problems()) == ["pack_id", "region_code"]
