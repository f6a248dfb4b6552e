"""Shipped policy packs hold the seeds' numbers; the pack format refuses what is wrong and
accepts partial tables."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from chargenet.app.planning import shipped_packs
from chargenet.core.planning.metrics import Comparator, Counted, MetricKind, Strength
from chargenet.core.planning.pack import PackError, PolicyPack, parse_pack


def pack(name: str) -> PolicyPack:
    return parse_pack(shipped_packs()[name])


def totals(p: PolicyPack, metric: str, exclude: str | None = None) -> dict[int, Decimal]:
    out: Counter[int] = Counter()
    for t in p.targets:
        if t.metric == metric and t.area_code != exclude:
            out[t.year] += t.value  # type: ignore[assignment]
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
    assert [(t.year, t.value) for t in wutaishan] == [(2023, 78), (2024, 75), (2025, 100)]
    [unit] = p.units
    assert (unit.code, unit.name_zh, unit.parent) == ("140971", "五台山风景名胜区", "140900")
    xinfu = {
        t.year: t.value for t in p.targets if t.target_id.startswith("140902|new_public_piles")
    }
    assert xinfu == {2023: 296, 2024: 291, 2025: 388}
    assert p.metric("new_public_piles").strength is Strength.INDICATIVE  # type: ignore[union-attr]
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
    assert [(t.year, t.value) for t in aim] == [(2025, 6)]
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
    assert p.metric("new_charging_piles").quantity.access == ()  # type: ignore[union-attr]
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
        ("evs_per_pile", 2),
        ("evs_served", 1250000),
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
    assert revs == [(None, 6000, "plan"), (date(2024, 6, 1), 6500, "revised plan")]


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
