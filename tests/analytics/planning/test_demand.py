"""Demand from what the platform records: sessions, busy-hour occupancy and the drivers
busy chargers turned away; vehicle stock and its planned growth; villages weighted by
their residents and passing traffic rather than counted as one each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargenet.analytics.planning.demand import (
    DEFAULT_PROFILE,
    DemandAssumptions,
    SessionRecord,
    build_demand,
    erlang_b,
    station_use,
    stock_in,
)
from tests.analytics.planning.worlds import village

START = datetime(2025, 6, 1, 16, tzinfo=UTC)  # 00:00 in Shanghai
END = START + timedelta(days=10)


def sessions(
    station: str, hour_local: int, minutes: int, per_day: int, kwh: float
) -> list[SessionRecord]:
    out = []
    for d in range(10):
        for k in range(per_day):
            t = START + timedelta(days=d, hours=hour_local, minutes=k)
            out.append(SessionRecord(station, t, t + timedelta(minutes=minutes), int(kwh * 1000)))
    return out


def test_observed_use_per_station_with_its_busy_hour() -> None:
    # One port, one 30-minute session at 19:00 local each day, 12 kWh.
    [use] = station_use(sessions("S1", 19, 30, 1, 12), {"S1": 1}, {"S1": "C1"}, START, END)
    assert use.sessions_day == pytest.approx(1.0)
    assert use.kwh_day == pytest.approx(12.0)
    assert use.busy_hour == 19
    assert use.carried_erlangs == pytest.approx(0.5)
    assert use.profile[19] == pytest.approx(1.0)
    # Half busy: Erlang B says some drivers found it taken; the offered load is higher.
    assert use.offered_erlangs * (1 - erlang_b(use.offered_erlangs, 1)) == pytest.approx(0.5)
    assert use.uplift > 1.0


def test_a_saturated_station_shows_more_demand_than_it_served_but_within_the_cap() -> None:
    # Two ports busy the whole hour from 18:00 every day.
    busy = sessions("S1", 18, 60, 2, 30)
    [use] = station_use(busy, {"S1": 2}, {"S1": "C1"}, START, END)
    assert use.carried_erlangs == pytest.approx(2.0, rel=0.01)
    assert use.uplift == pytest.approx(DemandAssumptions().max_uplift)
    # The same sessions on ten ports: no one was turned away.
    [roomy] = station_use(busy, {"S1": 10}, {"S1": "C1"}, START, END)
    assert roomy.uplift == pytest.approx(1.0, abs=1e-3)


def test_stock_grows_by_the_plans_new_vehicle_targets_else_by_the_last_growth() -> None:
    known = {2023: 1_000, 2024: 1_200}
    assert stock_in(2024, known) == (1_200.0, "recorded 2024")
    stock, how = stock_in(2026, known, {2025: 500, 2026: 600})
    assert stock == 2_300.0 and "2025 plan" in how
    stock, _ = stock_in(2025, known)  # 20 % last year
    assert stock == pytest.approx(1_440.0)
    stock, _ = stock_in(2025, known, growth=0.5)
    assert stock == pytest.approx(1_800.0)


def test_villages_are_weighted_by_residents_and_traffic_not_counted_equally() -> None:
    places = [village("V1", 0.0), village("V2", 0.1), village("V3", 0.2)]
    model = build_demand(
        2025,
        places,
        evs={"450202": 1_000},
        population={"V1": 3_000, "V2": 1_000, "V3": 0},
        traffic={"V3": 20_000},
    )
    a = DemandAssumptions()
    by = {p.code: p for p in model.points}
    county = 1_000 * a.kwh_per_ev_day * a.public_share
    assert by["V1"].kwh_day == pytest.approx(county * 0.75)
    assert by["V2"].kwh_day == pytest.approx(county * 0.25)
    passing = 20_000 * a.ev_share_of_traffic * a.stop_rate * a.session_kwh
    assert by["V3"].kwh_day == pytest.approx(passing)
    assert by["V3"].basis == "stock+traffic"
    assert by["V1"].peak_sessions_hour == pytest.approx(
        by["V1"].kwh_day / a.session_kwh * max(DEFAULT_PROFILE)
    )


def test_a_county_with_sessions_takes_its_public_share_from_them() -> None:
    places = [village("V1", 0.0), village("V2", 0.1)]
    uses = station_use(sessions("S1", 10, 30, 4, 25), {"S1": 4}, {"S1": "450202"}, START, END)
    model = build_demand(2026, places, uses=uses, evs={"450202": 200}, evs_now={"450202": 100})
    share = uses[0].kwh_day * uses[0].uplift / (100 * DemandAssumptions().kwh_per_ev_day)
    assert model.counties["450202"]["basis"] == "observed"
    assert model.counties["450202"]["public_share"] == pytest.approx(share)
    # Twice the vehicles in 2026 as in the observed window: twice the demand.
    assert model.total_kwh_day() == pytest.approx(2 * uses[0].kwh_day * uses[0].uplift)
    assert model.profile[10] == pytest.approx(1.0)  # the observed hourly profile


def test_each_county_has_its_demand_by_hour_from_its_own_stations() -> None:
    places = [village("V1", 0.0), village("V2", 0.1, name="乙村委会")]
    other = village("W1", 0.2)
    other = type(other)(other.code, other.level, other.name_zh, 0.0, 0.2, other.parent, "450203")
    evening = station_use(sessions("S1", 19, 30, 4, 25), {"S1": 4}, {"S1": "450202"}, START, END)
    morning = station_use(sessions("S2", 8, 30, 4, 25), {"S2": 4}, {"S2": "450203"}, START, END)
    model = build_demand(
        2025, [*places, other], uses=evening + morning, evs={"450202": 100, "450203": 100}
    )
    a, b = model.counties["450202"], model.counties["450203"]
    assert (a["busy_hour"], b["busy_hour"]) == (19, 8)
    assert sum(a["hourly_kwh"]) == pytest.approx(a["kwh_day"], rel=1e-3)
    assert a["hourly_kwh"][19] == pytest.approx(a["kwh_day"], rel=1e-3)
