"""Plan vs actual: definitions stay apart, statuses, forecasts and month-by-month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chargenet.analytics.planning.model import PileRecord
from chargenet.analytics.planning.targets import (
    Actuals,
    ForecastMethod,
    Progress,
    TargetRow,
    monthly,
    plan_vs_actual,
)
from chargenet.app.planning import shipped_packs
from chargenet.core.planning.metrics import STANDARD_METRICS
from chargenet.core.planning.pack import parse_pack
from chargenet.core.planning.revisions import in_force
from chargenet.core.registry.model import Access, PowerType

AREA = "140902"
CHAIN = ("140000", "140900", AREA, None, None)


def pile(
    day: date, access: Access = Access.PUBLIC, dc: bool = True, retired: date | None = None
) -> PileRecord:
    return PileRecord(
        "S",
        access,
        PowerType.DC if dc else PowerType.AC,
        60_000 if dc else 7_000,
        day,
        retired,
        CHAIN,
    )


def world() -> Actuals:
    """End-2024: 100 public (60 DC, 40 AC) and 50 private piles; 2025 by 30 June: 30 public
    DC and 20 private; 1,000 EVs at end-2024 (800 at end-2023)."""
    piles = [pile(date(2022, 5, 1)) for _ in range(60)]
    piles += [pile(date(2022, 5, 1), dc=False) for _ in range(40)]
    piles += [pile(date(2023, 5, 1), Access.PRIVATE, dc=False) for _ in range(50)]
    piles += [pile(date(2025, 1 + i % 6, 10)) for i in range(30)]
    piles += [pile(date(2025, 3, 1), Access.PRIVATE, dc=False) for _ in range(20)]
    return Actuals(piles, evs={(AREA, 2023): 800, (AREA, 2024): 1_000})


def row(metric: str, value: str, year: int = 2024) -> TargetRow:
    return TargetRow(f"{AREA}|{metric}|{year}", AREA, metric, year, Decimal(value))


def test_ratio_definitions_stay_apart() -> None:
    """The same world read by three plans' definitions gives three different ratios."""
    xinzhou = parse_pack(shipped_packs()["xinzhou"]).metric("evs_per_public_pile")
    guangxi = parse_pack(shipped_packs()["guangxi"]).metric("evs_per_pile")
    liuzhou = parse_pack(shipped_packs()["liuzhou"]).metric("public_sector_vehicles_per_new_pile")
    assert xinzhou is not None and guangxi is not None and liuzhou is not None
    end_2024 = date(2024, 12, 31)
    x = plan_vs_actual(row("evs_per_public_pile", "8"), xinzhou, world(), end_2024)
    g = plan_vs_actual(row("evs_per_pile", "2.3"), guangxi, world(), end_2024)
    l_ = plan_vs_actual(
        row("public_sector_vehicles_per_new_pile", "1.5"), liuzhou, world(), end_2024
    )
    assert (x.numerator, x.denominator, x.actual) == (
        Decimal(1000),
        Decimal(100),
        Decimal("10.000"),
    )  # public only
    assert (g.numerator, g.denominator, g.actual) == (
        Decimal(1000),
        Decimal(150),
        Decimal("6.667"),
    )  # all piles
    assert x.status is Progress.MISSED and g.status is Progress.MISSED
    assert l_.actual is None and l_.status is Progress.NO_DATA  # public-sector vehicles: reported
    assert x.comparator == g.comparator == "at_most" and l_.comparator == "about"


def test_new_and_in_place_piles_are_counted_by_their_own_definitions() -> None:
    actuals = world()
    mid = date(2025, 6, 30)
    new_public = plan_vs_actual(
        row("new_public_piles", "60", 2025), STANDARD_METRICS["new_public_piles"], actuals, mid
    )
    new_all = plan_vs_actual(
        row("new_charging_piles", "60", 2025), STANDARD_METRICS["new_charging_piles"], actuals, mid
    )
    fast = plan_vs_actual(
        row("new_public_fast_piles", "60", 2025),
        STANDARD_METRICS["new_public_fast_piles"],
        actuals,
        mid,
    )
    stock = plan_vs_actual(
        row("public_piles", "160", 2025), STANDARD_METRICS["public_piles"], actuals, mid
    )
    assert (new_public.actual, new_all.actual, fast.actual, stock.actual) == (
        Decimal(30),
        Decimal(50),
        Decimal(30),
        Decimal(130),
    )
    # Half the year gone: 30 of a 60-pile target is on track (expected 30 by 30 June).
    assert new_public.expected_to_date == 30 and new_public.status is Progress.ON_TRACK
    assert new_public.forecast is not None and new_public.forecast.method == "run_rate"
    assert new_public.forecast.value == 60
    # A stock target pro-rates from the start-of-year stock: 100 + (160 − 100) × ½ = 130.
    assert stock.expected_to_date == 130 and stock.status is Progress.ON_TRACK
    behind = plan_vs_actual(
        row("new_public_piles", "100", 2025), STANDARD_METRICS["new_public_piles"], actuals, mid
    )
    assert behind.status is Progress.BEHIND and behind.forecast is not None
    assert behind.forecast.meets_target is False


def test_retired_piles_leave_the_stock_but_stay_built() -> None:
    actuals = Actuals([pile(date(2025, 2, 1), retired=date(2025, 4, 1))])
    mid = date(2025, 6, 30)
    assert (
        plan_vs_actual(
            row("new_public_piles", "1", 2025), STANDARD_METRICS["new_public_piles"], actuals, mid
        ).actual
        == 1
    )
    assert (
        plan_vs_actual(
            row("public_piles", "1", 2025), STANDARD_METRICS["public_piles"], actuals, mid
        ).actual
        == 0
    )


def test_statuses_over_the_life_of_a_target() -> None:
    m = STANDARD_METRICS["new_public_piles"]
    actuals = world()
    assert (
        plan_vs_actual(row("new_public_piles", "30", 2026), m, actuals, date(2025, 6, 30)).status
        is Progress.NOT_STARTED
    )
    assert (
        plan_vs_actual(row("new_public_piles", "30", 2025), m, actuals, date(2026, 1, 5)).status
        is Progress.MET
    )
    assert (
        plan_vs_actual(row("new_public_piles", "31", 2025), m, actuals, date(2026, 1, 5)).status
        is Progress.MISSED
    )


def test_last_year_pace_forecast_uses_last_years_profile() -> None:
    # Last year: 10 piles by 30 June, 40 in all. This year: 20 by 30 June → forecast 80.
    piles = [pile(date(2024, 3, 1)) for _ in range(10)] + [
        pile(date(2024, 10, 1)) for _ in range(30)
    ]
    piles += [pile(date(2025, 3, 1)) for _ in range(20)]
    result = plan_vs_actual(
        row("new_public_piles", "70", 2025),
        STANDARD_METRICS["new_public_piles"],
        Actuals(piles),
        date(2025, 6, 30),
        ForecastMethod.LAST_YEAR_PACE,
    )
    assert result.forecast is not None and result.forecast.method == "last_year_pace"
    assert result.forecast.value == 80 and result.forecast.meets_target is True


def test_month_by_month_progress() -> None:
    months = monthly(
        row("new_public_piles", "60", 2025),
        STANDARD_METRICS["new_public_piles"],
        world(),
        date(2025, 6, 30),
    )
    assert [m.new for m in months] == [5, 5, 5, 5, 5, 5]
    assert months[-1].cumulative == 30 and months[-1].expected == 30
    assert months[0].expected == 5 and months[0].on_track


def test_the_value_in_force_on_a_day() -> None:
    revisions = [(date(2023, 3, 1), Decimal(100)), (date(2024, 6, 1), Decimal(120))]
    assert in_force(revisions, date(2023, 1, 1)) is None
    assert in_force(revisions, date(2024, 5, 31)) == 100
    assert in_force(revisions, date(2024, 6, 1)) == 120
    # Two revisions taking effect on the same day: the one recorded later stands.
    same_day = [*revisions, (date(2024, 6, 1), Decimal(110))]
    assert in_force(same_day, date(2024, 7, 1)) == 110


def test_ev_figures_are_year_end_statistics() -> None:
    m = STANDARD_METRICS["new_nev"]
    done = plan_vs_actual(row("new_nev", "150"), m, world(), date(2025, 1, 2))
    assert done.actual == 200 and done.status is Progress.MET
    pending = plan_vs_actual(row("new_nev", "150", 2025), m, world(), date(2025, 6, 30))
    assert pending.actual is None and pending.status is Progress.NO_DATA
    assert pending.notes == ["evs added in 2025: known at end-2025"]


def test_a_mid_year_ratio_divides_by_the_vehicle_stock_known_that_day() -> None:
    """Seed 002 三年行动计划 二、1: "2023年、2024年、2025年，全市14个县（市、区）公共充电桩与
    电动汽车桩车比分别达到1:8、1:7和1:6"; its vehicle figures are year-end stocks ("截至2022年
    底 … 新能源电动汽车保有量12407辆"). On 30 June 2025 the end-2025 stock does not exist
    yet, even when a figure for it is already recorded: June's ratio divides end-2024's
    EVs by June's public piles, and says so."""
    actuals = world()
    actuals = Actuals(actuals.piles, evs={**actuals.evs, (AREA, 2025): 2_000})
    metric = parse_pack(shipped_packs()["xinzhou"]).metric("evs_per_public_pile")
    assert metric is not None
    june = plan_vs_actual(row("evs_per_public_pile", "6", 2025), metric, actuals, date(2025, 6, 30))
    # 1,000 EVs at end-2024 ÷ 130 public piles on 30 June, not 2,000 ÷ 130.
    assert (june.numerator, june.denominator, june.actual) == (
        Decimal(1000),
        Decimal(130),
        Decimal("7.692"),
    )
    assert (june.vehicles_year, june.vehicles_method) == (2024, "latest_year_end")
    assert june.notes == ["evs at end-2024 (latest known on 2025-06-30; latest_year_end)"]
    year_end = plan_vs_actual(
        row("evs_per_public_pile", "6", 2025), metric, actuals, date(2025, 12, 31)
    )
    assert (year_end.numerator, year_end.vehicles_year) == (Decimal(2000), 2025)
    assert pytest.approx(0) == 0
