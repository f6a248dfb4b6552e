"""Planning over real storage: packs loaded as events (idempotent, revisions kept with
their dates, rebuilt from the log), plan vs actual, coverage and the monthly report, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chargenet.adapters.files.importer import ImportKind, read_file
from chargenet.app.figures import Figures, Month
from chargenet.app.ingest import Disposition
from chargenet.app.planning import pack_events, shipped_packs
from chargenet.bootstrap import Platform
from chargenet.core.events import AreaStatisticsRecorded, ConnectorStatusChanged, Event
from chargenet.core.ids import AreaCode, ConnectorId
from chargenet.core.registry.model import SiteCategory
from chargenet.core.status import ConnectorStatus
from chargenet.demo.world import data_dir
from tests.adapters.storage.test_ingest import snapshot
from tests.builders import areas, charger, meta, operator, station

NOW = datetime(2025, 7, 15, 4, tzinfo=UTC)

PACK = """
[pack]
id = "test-xinzhou"
region = "140900"
title = "a small plan"
version = {version}

[[tables]]
metric = "new_public_piles"
source = "table 1"
years = [2025]
total = "140900"
rows = [["140900", "total", {total}], ["140902", "忻府区", {xinfu}], ["140981", "原平市", "/"]]

[[tables]]
metric = "evs_per_public_pile"
source = "ratio"
years = [2025]
rows = [["140902", "忻府区", 8]]

[[rules]]
id = "village_distance"
kind = "area_distance"
requirement = "R20"
source = "s"
description = "villages within 10 km"
level = "village"
max_km = {{ 2025 = 10 }}

[[rules]]
id = "township_presence"
kind = "area_presence"
requirement = "R20"
source = "s"
description = "every township"
level = "township"
min_areas = {{ 2025 = "all" }}
"""


def pack_text(version: str = "2023-03-01", total: int = 10, xinfu: int = 10) -> str:
    return PACK.format(version=version, total=total, xinfu=xinfu)


def world() -> list[Event]:
    """Xinfu District: 4 public DC piles commissioned in 2025 (2 in March, 2 in June) at
    the county seat, 20 km from the village; 40 EVs at end-2024."""
    when = datetime(2025, 1, 5, tzinfo=UTC)
    return [
        *areas(),
        operator(),
        station(
            "S1",
            commissioned_on=date(2025, 3, 10),
            lat=38.40,
            lon=112.74,
            parking_spaces=20,
            charging_spaces=2,
            when=when,
        ),
        charger("C1", "S1", guns=2, when=when),
        station(
            "S2",
            commissioned_on=date(2025, 6, 10),
            lat=38.41,
            lon=112.75,
            category=SiteCategory.COMMERCIAL,
            when=when,
        ),
        charger("C2", "S2", guns=2, when=when),
        AreaStatisticsRecorded(**meta(when), area_code=AreaCode("140902"), year=2024, ev_count=40),
    ]


@pytest.fixture
def city(any_platform: Platform) -> Platform:
    outcomes = any_platform.ingestor.ingest(world())
    assert {o.disposition for o in outcomes} == {Disposition.ACCEPTED}
    any_platform.planning._today = lambda: date(2025, 7, 15)  # a pinned clock
    return any_platform


def load(platform: Platform, text: str) -> list[Disposition]:
    return [o.disposition for o in platform.ingestor.ingest(pack_events(text, NOW), atomic=True)]


def test_loading_a_pack_twice_changes_nothing_and_a_revision_is_kept_with_its_date(
    city: Platform,
) -> None:
    assert set(load(city, pack_text())) == {Disposition.ACCEPTED}
    assert set(load(city, pack_text())) == {Disposition.DUPLICATE}
    # The plan is revised on 1 June 2025: Xinfu's target goes from 10 to 3.
    assert Disposition.ACCEPTED in load(city, pack_text("2025-06-01", total=3, xinfu=3))
    history = city.planning.revisions("140902", "140902|new_public_piles|2025")
    assert [(r["value"], r["revised_at"].date()) for r in history] == [
        (Decimal(10), date(2023, 3, 1)),
        (Decimal(3), date(2025, 6, 1)),
    ]
    [now] = city.planning.plan_vs_actual("140902", 2025, metric="new_public_piles")
    assert now.target == 3 and now.actual == 4 and now.status.value == "on_track"
    assert "2 revisions" in now.notes[0]
    # As known on 31 May, before the revision, the target was 10.
    [before] = city.planning.plan_vs_actual(
        "140902", 2025, metric="new_public_piles", as_of=date(2025, 5, 31)
    )
    assert before.target == 10 and before.actual == 2
    # An older version loaded late does not undo the newer one.
    assert Disposition.ACCEPTED in load(city, pack_text("2024-01-01", total=7, xinfu=7))
    [latest] = city.planning.plan_vs_actual("140902", 2025, metric="new_public_piles")
    assert latest.target == 3
    packs = city.planning.loaded_packs()
    assert [(p.id, p.version) for p, _ in packs] == [("test-xinzhou", date(2025, 6, 1))]


def test_a_revision_takes_effect_on_its_own_valid_from_not_on_the_day_it_was_imported(
    city: Platform, tmp_path: Path
) -> None:
    """Seed 002 保障措施（三）滚动调整: "建立滚动调整机制 … 予以动态调整充（换）电基础设施建设
    任务", and counties report "每月3日前将上月 … 工作落实情况" (R16). A revision imported on
    20 May that is valid from 1 October leaves May's report with May's target."""
    load(city, pack_text())  # Xinfu: 10 new public piles in 2025, set on 2023-03-01
    revision = tmp_path / "targets.csv"
    revision.write_text(
        "area_code,metric,year,value,valid_from,source\n"
        "140902,new_public_piles,2025,3,2025-10-01,the October revision\n",
        encoding="utf-8",
    )
    imported = read_file(revision, ImportKind.TARGETS, datetime(2025, 5, 20, 2, tzinfo=UTC))
    assert not imported.errors
    assert {o.disposition for o in city.ingestor.ingest(imported.events)} == {Disposition.ACCEPTED}
    target = "140902|new_public_piles|2025"

    def in_force(day: date) -> Decimal:
        [row] = city.planning.plan_vs_actual("140902", 2025, metric="new_public_piles", as_of=day)
        return row.target

    assert (in_force(date(2025, 5, 31)), in_force(date(2025, 10, 31))) == (Decimal(10), Decimal(3))
    may = city.planning.progress("140900", 2025, 5)
    xinfu = next(u for u in may["units"] if u["area_code"] == "140902")
    assert [t["target"] for t in xinfu["targets"] if t["target_id"] == target] == [10]
    assert city.planning.monthly(target, date(2025, 5, 31))[-1].expected == round(10 * 151 / 365)
    # The monthly report's sheet reads the same value.
    rows = Figures(city.read, city.clock).month("140900", Month(2025, 5))["rows"]
    assert next(r for r in rows if r["code"] == "140902")["year_target"] == 10
    october = Figures(city.read, city.clock).month("140900", Month(2025, 10))["rows"]
    assert next(r for r in october if r["code"] == "140902")["year_target"] == 3
    assert [(r["value"], r["valid_from"]) for r in city.planning.revisions("140902", target)] == [
        (Decimal(10), date(2023, 3, 1)),
        (Decimal(3), date(2025, 10, 1)),
    ]


def test_partial_tables_leave_the_missing_cells_without_a_target(city: Platform) -> None:
    load(city, pack_text())
    ids = {r["target_id"] for r in city.read.targets()}
    assert "140981|new_public_piles|2025" not in ids
    assert {"140900|new_public_piles|2025", "140902|new_public_piles|2025"} <= ids


def test_plan_vs_actual_ratio_and_monthly(city: Platform) -> None:
    load(city, pack_text())
    rows = {r.metric: r for r in city.planning.plan_vs_actual("140902", 2025)}
    ratio = rows["evs_per_public_pile"]
    assert (ratio.numerator, ratio.denominator, ratio.actual) == (
        Decimal(40),
        Decimal(4),
        Decimal("10.000"),
    )
    assert ratio.notes == ["evs at end-2024 (latest known on 2025-07-15; latest_year_end)"]
    assert ratio.status.value == "behind"
    months = city.planning.monthly("140902|new_public_piles|2025")
    assert [m.new for m in months] == [0, 0, 2, 0, 0, 2, 0]


def test_coverage_and_the_monthly_report(city: Platform) -> None:
    load(city, pack_text())
    results, pack, _ = city.planning.coverage("140900", 2025)
    assert pack is not None and pack.id == "test-xinzhou"
    by_id = {r.rule_id: r for r in results}
    assert by_id["village_distance"].status.value == "unmet"  # the village is 20 km away
    assert by_id["township_presence"].status.value == "unmet"
    report = city.planning.progress("140900", 2025, 6)
    assert report["due"] == "2025-07-03" and report["year_report_due"] is None
    xinfu = next(u for u in report["units"] if u["area_code"] == "140902")
    assert xinfu["piles"] == {
        "new_public_in_month": 2,
        "new_public_year_to_date": 4,
        "new_all_in_month": 2,
        "public_in_service": 4,
        "dc_public_in_service": 4,
        "all_in_service": 4,
    }
    assert xinfu["coverage"]["village_distance"] == {
        "total": 1,
        "met": 0,
        "status": "unmet",
        "requirement": "R20",
        "description": "villages within 10 km",
    }
    assert not xinfu["on_track"] and "coverage:village_distance" in xinfu["flags"]
    assert city.planning.progress("140900", 2025, 12)["year_report_due"] == "2026-01-10"


def test_coverage_is_kept_until_the_registry_changes_not_while_status_flows(
    city: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(city, pack_text())
    computed: list[str] = []
    inner = city.planning._coverage_input

    def counting(*args: Any, **kwargs: Any) -> Any:
        computed.append(args[0])
        return inner(*args, **kwargs)

    monkeypatch.setattr(city.planning, "_coverage_input", counting)
    first, _, _ = city.planning.coverage("140900", 2025)
    again, _, _ = city.planning.coverage("140900", 2025)
    assert computed == ["140900"] and again is first  # the second regulator waits for nothing
    city.ingestor.ingest(
        [
            ConnectorStatusChanged(
                **meta(NOW), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
            )
        ]
    )
    city.planning.coverage("140900", 2025)
    assert computed == ["140900"]  # a status report is not an input of coverage
    # A new public station near the village is: the next question is answered anew.
    city.ingestor.ingest(
        [
            station("S9", commissioned_on=date(2025, 5, 1), lat=38.61, lon=112.61),
            charger("X9", "S9"),
        ]
    )
    fresh, _, _ = city.planning.coverage("140900", 2025)
    assert computed == ["140900", "140900"] and fresh is not first


def test_the_city_row_is_off_track_while_the_city_leaves_its_own_rules_unmet(
    city: Platform,
) -> None:
    """Seed 002 三年行动计划 一: "实现公共充电桩全市152个乡镇（街道）全覆盖" is the city's rule.
    Its pile target on pace does not make the city row on track while a township has no
    public pile."""
    load(city, pack_text(total=3, xinfu=3))
    region = city.planning.progress("140900", 2025, 6)["region"]
    assert [t["status"] for t in region["targets"]] == ["on_track"]
    assert region["coverage"]["township_presence"]["status"] == "unmet"
    assert "coverage:township_presence" in region["flags"]
    assert region["on_track"] is False


def test_rebuild_gives_back_the_packs_in_force(city: Platform) -> None:
    load(city, pack_text("2025-06-01", total=3, xinfu=3))
    load(city, pack_text("2024-01-01", total=7, xinfu=7))  # older, arrives later
    before = snapshot(city)
    city.store.rebuild()
    assert snapshot(city) == before


@pytest.fixture(scope="module")
def demo_areas() -> list[Event]:
    result = read_file(data_dir() / "areas.csv", ImportKind.AREAS, NOW, adapter="demo")
    assert not result.errors
    return result.events


def test_the_shipped_packs_load_onto_the_real_areas(
    platform: Platform, demo_areas: list[Event]
) -> None:
    platform.ingestor.ingest(demo_areas)
    for name, text in shipped_packs().items():
        dispositions = load(platform, text)
        assert set(dispositions) == {Disposition.ACCEPTED}, name
    stored = platform.read.targets()
    xinzhou = [
        t for t in stored if t["metric"] == "new_public_piles" and t["area_code"] != "140900"
    ]
    assert sum(t["value"] for t in xinzhou if t["year"] == 2025) == 2158
    wutaishan = platform.read.area("140971")
    assert wutaishan is not None and wutaishan["name_zh"] == "五台山风景名胜区"
    liuzhou = [
        t for t in stored if t["metric"] == "new_charging_piles" and t["area_code"] != "450200"
    ]
    assert [sum(t["value"] for t in liuzhou if t["year"] == y) for y in (2023, 2024, 2025)] == [
        3000,
        3400,
        3600,
    ]
    assert {p.id for p, _ in platform.planning.loaded_packs()} == {
        "xinzhou",
        "liuzhou",
        "guangxi",
        "shanghai",
    }
    # Liuzhou's districts are governed by the city's pack first, then Guangxi's.
    assert [p.id for p in platform.planning.packs_for("450202")] == ["liuzhou", "guangxi"]


def test_road_rules_see_only_the_roads_of_the_region() -> None:
    """A road file (or the demo's) may hold several cities: Liuzhou's expressway must not
    become a gap in Xinzhou's road-spacing check, nor a siting candidate there."""
    from chargenet.analytics.planning.model import AreaPoint
    from chargenet.analytics.planning.spatial import Road
    from chargenet.app.planning import roads_near
    from chargenet.core.areas import AreaLevel

    xinzhou = Road("G55", "expressway", ((38.42, 112.73), (38.73, 112.71)))
    liuzhou = Road("G72", "expressway", ((24.33, 109.42), (24.40, 109.51)))
    counties = [
        AreaPoint("140902", AreaLevel.COUNTY, "忻府区", 38.40, 112.74),
        AreaPoint("140981", AreaLevel.COUNTY, "原平市", 38.73, 112.71),
    ]
    assert roads_near([xinzhou, liuzhou], counties) == [xinzhou]
    assert roads_near([xinzhou, liuzhou], []) == [xinzhou, liuzhou]  # nothing to go by
