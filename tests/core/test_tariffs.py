"""One day-tariff model: T/CEC periods and OCPI elements read alike, grid periods as data."""

import tomllib
from datetime import date, time
from decimal import Decimal
from importlib import resources

import pytest

from chargenet.core.tariffs import (
    DayTariff,
    PeriodClass,
    PriceComponent,
    PriceDimension,
    TariffElement,
    TariffPeriod,
    grid_tou_from_toml,
    tariff_from_ocpi,
    tariff_from_tcec,
    tariff_to_ocpi,
)


def _period(start: str, energy: str, service: str = "0") -> TariffPeriod:
    return TariffPeriod(
        start=time.fromisoformat(start),
        energy_price=Decimal(energy),
        service_price=Decimal(service),
    )


def _energy(price: str, start: str | None = None, end: str | None = None) -> TariffElement:
    restrictions = []
    if end:
        restrictions.append(("end_time", f'"{end}"'))
    if start:
        restrictions.append(("start_time", f'"{start}"'))
    return TariffElement(
        components=(PriceComponent(dimension=PriceDimension.ENERGY, price=Decimal(price)),),
        restrictions=tuple(restrictions),
    )


def test_a_tcec_policy_is_a_day_tariff_whose_total_is_energy_plus_service() -> None:
    tariff = tariff_from_tcec((_period("00:00", "0.30", "0.40"), _period("08:00", "0.90", "0.60")))
    assert tariff is not None and not tariff.problems()
    assert tariff.total_at(time(3)) == Decimal("0.70")
    assert tariff.total_at(time(12)) == Decimal("1.50")
    assert tariff_from_tcec(()) is None


def test_an_ocpi_tariff_with_a_night_element_over_midnight_becomes_periods() -> None:
    elements = (
        _energy("0.35", start="23:00", end="07:00"),  # over midnight
        _energy("1.20"),  # every other time
    )
    tariff = tariff_from_ocpi(elements, "CNY", valid_from=date(2026, 1, 1))
    assert tariff is not None and not tariff.problems()
    assert tariff.total_at(time(2)) == Decimal("0.35")
    assert tariff.total_at(time(6, 59)) == Decimal("0.35")
    assert tariff.total_at(time(7)) == Decimal("1.20")
    assert tariff.total_at(time(23, 30)) == Decimal("0.35")
    assert tariff.in_force(date(2026, 6, 1)) and not tariff.in_force(date(2025, 12, 31))


def test_ocpi_elements_restricted_by_weekday_or_kwh_do_not_shape_the_day() -> None:
    weekend = TariffElement(
        components=(PriceComponent(dimension=PriceDimension.ENERGY, price=Decimal("0.10")),),
        restrictions=(("day_of_week", '["SATURDAY"]'),),
    )
    tariff = tariff_from_ocpi((weekend, _energy("1.00")), "CNY")
    assert tariff is not None and tariff.total_at(time(12)) == Decimal("1.00")
    flat_only = TariffElement(
        components=(PriceComponent(dimension=PriceDimension.FLAT, price=Decimal("2")),)
    )
    assert tariff_from_ocpi((flat_only,), "CNY") is None


def test_a_day_tariff_goes_out_as_ocpi_elements_and_comes_back_the_same() -> None:
    tariff = DayTariff(
        periods=(
            _period("00:00", "0.30", "0.40"),
            _period("08:00", "0.90", "0.60"),
            _period("22:00", "0.60", "0.40"),
        )
    )
    back = tariff_from_ocpi(tariff_to_ocpi(tariff), "CNY")
    assert back is not None
    for hour in range(24):
        assert back.total_at(time(hour)) == tariff.total_at(time(hour)), hour


@pytest.mark.parametrize(
    ("tariff", "reason"),
    [
        (DayTariff(periods=()), "at least one period"),
        (DayTariff(periods=(_period("01:00", "1"),)), "must start at 00:00"),
        (DayTariff(periods=(_period("00:00", "1"),), currency="yuan"), "ISO 4217"),
        (
            DayTariff(
                periods=(_period("00:00", "1"),),
                valid_from=date(2026, 2, 1),
                valid_until=date(2026, 1, 1),
            ),
            "valid_until",
        ),
    ],
)
def test_an_unusable_day_tariff_says_why(tariff: DayTariff, reason: str) -> None:
    assert any(reason in p for p in tariff.problems())


def test_the_shipped_grid_periods_name_their_source_and_cover_the_day() -> None:
    text = (resources.files("chargenet.core.gridtou") / "sample.toml").read_text("utf-8")
    provinces = grid_tou_from_toml(tomllib.loads(text))
    shanxi = next(p for p in provinces if p.region_code == "140000")
    assert "1093" in shanxi.source
    assert shanxi.is_valley(time(2)) and shanxi.is_valley(time(23, 30))
    assert shanxi.class_at(time(19, 30)) is PeriodClass.CRITICAL
    valley_hours = sum(shanxi.is_valley(time(h)) for h in range(24))
    assert valley_hours == 10


def test_grid_periods_that_do_not_start_at_midnight_are_refused() -> None:
    data: dict[str, object] = {
        "province": [
            {"region_code": "1", "name": "x", "source": "s", "periods": [["01:00", "valley"]]}
        ]
    }
    with pytest.raises(ValueError, match="00:00"):
        grid_tou_from_toml(data)
    with pytest.raises(ValueError, match="province 1"):
        grid_tou_from_toml({"province": [{"name": "x"}]})
