"""The finder shows the price in force: the operator's day tariff for the local time of day
where one is published, else what recent sessions cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from chargenet.app.finder import LiveIndex, Price
from chargenet.bootstrap import Platform
from chargenet.core.ids import StationId
from chargenet.core.tariffs import DayTariff, TariffPeriod


def _period(start: int, energy: str, service: str) -> TariffPeriod:
    return TariffPeriod(
        start=time(start), energy_price=Decimal(energy), service_price=Decimal(service)
    )


def _tariff(valid_from: date | None = None) -> DayTariff:
    return DayTariff(
        periods=(
            TariffPeriod(
                start=time(0), energy_price=Decimal("0.30"), service_price=Decimal("0.40")
            ),
            TariffPeriod(
                start=time(8), energy_price=Decimal("0.90"), service_price=Decimal("0.60")
            ),
        ),
        valid_from=valid_from,
    )


def test_the_price_follows_the_local_time_of_day_of_the_published_tariff() -> None:
    index = LiveIndex("Asia/Shanghai")
    index.tariffs["S1"] = _tariff()
    index.prices["S1"] = Price(per_kwh=Decimal("1.11"), currency="CNY", source="observed")
    night = index.price("S1", datetime(2026, 1, 5, 18, tzinfo=UTC))  # 02:00 in Xinzhou
    day = index.price("S1", datetime(2026, 1, 5, 2, tzinfo=UTC))  # 10:00 there
    assert night == Price(per_kwh=Decimal("0.70"), currency="CNY", source="tariff")
    assert day is not None and day.per_kwh == Decimal("1.50")


def test_a_tariff_not_in_force_leaves_the_observed_price() -> None:
    index = LiveIndex("Asia/Shanghai")
    index.tariffs["S1"] = _tariff(valid_from=date(2027, 1, 1))
    index.prices["S1"] = Price(per_kwh=Decimal("1.11"), currency="CNY", source="observed")
    assert index.price("S1", datetime(2026, 1, 5, 2, tzinfo=UTC)) == index.prices["S1"]
    assert index.price("S2", datetime(2026, 1, 5, 2, tzinfo=UTC)) is None


def test_a_published_tcec_policy_reaches_the_finders_tariffs(platform: Platform) -> None:
    from chargenet.adapters.storage.queries_dashboard import DashboardQueries
    from chargenet.core.events import StationPricesPublished
    from tests.builders import meta, small_world

    policy = StationPricesPublished(
        **meta(),
        station_id=StationId("S1"),
        periods=(_period(0, "0.30", "0.40"), _period(8, "0.90", "0.60")),
    )
    assert all(o.ok for o in platform.ingestor.ingest([*small_world(), policy]))
    tariffs = DashboardQueries(platform.store.read_engine, platform.read).station_tariffs()
    assert tariffs["S1"].total_at(time(9)) == Decimal("1.50")
