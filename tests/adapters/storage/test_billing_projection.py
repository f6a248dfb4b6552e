"""Tariffs, bills, reconciliations and energy reports: late and revised facts, and a
rebuild that gives back the same state."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from sqlalchemy import select

from chargenet.adapters.storage.tables_tcec import session_bills, station_prices
from chargenet.bootstrap import Platform
from chargenet.core.billing import Bill, BilledPeriod, Difference, DifferenceKind
from chargenet.core.events import (
    ChargeOrdersReconciled,
    EnergyStatsReported,
    Event,
    SessionBilled,
    SessionEnded,
    SessionStarted,
    StationPricesPublished,
)
from chargenet.core.ids import ConnectorId, OperatorId, SessionId, StationId
from chargenet.core.tariffs import TariffPeriod
from tests.adapters.storage.test_ingest import snapshot
from tests.builders import at, meta, small_world


def bill(total: str) -> Bill:
    period = BilledPeriod(
        start=at(0),
        end=at(30),
        energy_wh=10_000,
        energy_price=Decimal("1.0"),
        service_price=Decimal("0.8"),
        energy_amount=Decimal("10.00"),
        service_amount=Decimal("8.00"),
    )
    return Bill(
        energy_wh=10_000,
        energy_amount=Decimal("10.00"),
        service_amount=Decimal("8.00"),
        total=Decimal(total),
        periods=(period,),
    )


def facts() -> list[Event]:
    periods = (
        TariffPeriod(start=time(0), energy_price=Decimal("0.3"), service_price=Decimal("0.8")),
    )
    return [
        *small_world(),
        StationPricesPublished(
            **meta(at(10)), station_id=StationId("S1"), periods=periods, service_fee="0.8/kWh"
        ),
        # Older, arriving late: must not overwrite.
        StationPricesPublished(**meta(at(5)), station_id=StationId("S1"), service_fee="stale"),
        StationPricesPublished(
            **meta(at(10)),
            station_id=StationId("S1"),
            connector_id=ConnectorId("C1-1-1"),
            periods=periods,
        ),
        SessionStarted(
            **meta(at(0)), session_id=SessionId("T1"), connector_id=ConnectorId("C1-1-1")
        ),
        SessionEnded(**meta(at(30)), session_id=SessionId("T1"), energy_wh=10_000),
        SessionBilled(**meta(at(31)), session_id=SessionId("T1"), bill=bill("20.00")),  # flagged
        SessionBilled(**meta(at(40)), session_id=SessionId("T1"), bill=bill("18.00")),  # revised
        SessionBilled(
            **meta(at(35)), session_id=SessionId("T1"), bill=bill("99.00")
        ),  # late, older
        ChargeOrdersReconciled(
            **meta(at(60)),
            reconciliation_id="R1",
            operator_id=OperatorId("OP1"),
            period_start=at(0),
            period_end=at(60),
            stated_orders=2,
            stated_energy_wh=11_000,
            stated_amount=Decimal("19.00"),
            recorded_orders=1,
            recorded_energy_wh=10_000,
            recorded_amount=Decimal("18.00"),
            differences=(
                Difference(
                    order_id="X",
                    kind=DifferenceKind.MISSING,
                    stated_energy_wh=1000,
                    stated_amount=Decimal(1),
                ),
            ),
        ),
        EnergyStatsReported(
            **meta(at(70)),
            station_id=StationId("S1"),
            day_from=date(2025, 4, 30),
            day_to=date(2025, 4, 30),
            energy_wh=30_000,
            connectors=((ConnectorId("C1-1-1"), 30_000),),
        ),
    ]


def test_late_and_revised_facts_and_rebuild(any_platform: Platform) -> None:
    outcomes = any_platform.ingestor.ingest(facts())
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    with any_platform.store.read_engine.connect() as conn:
        station_tariff = conn.execute(
            select(station_prices).where(station_prices.c.scope == "")
        ).one()
        billed = conn.execute(select(session_bills)).one()
    assert station_tariff.service_fee == "0.8/kWh"
    assert (billed.total_amount, billed.flags) == (Decimal("18"), "")
    reconciliation = any_platform.tcec.settlement.reconciliation("R1")
    assert reconciliation is not None and [i["kind"] for i in reconciliation["items"]] == [
        "missing"
    ]
    before = snapshot(any_platform)
    report = any_platform.store.rebuild()
    assert report.skipped == 0
    assert snapshot(any_platform) == before
