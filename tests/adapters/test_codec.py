"""Every event type survives the trip through the log's JSON unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from chargenet.adapters import codec
from chargenet.core.areas import AreaLevel
from chargenet.core.billing import Bill, BilledPeriod, Difference, DifferenceKind
from chargenet.core.events import (
    EVENT_TYPES,
    AlarmAcknowledged,
    AlarmCleared,
    AlarmRaised,
    AreaRegistered,
    AreaStatisticsRecorded,
    BatterySwapped,
    ChargeDetailRecorded,
    ChargeOrdersReconciled,
    ChargerDataTransferred,
    ChargerInventoryReported,
    ChargerPresenceChanged,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    ConnectorTariffsSet,
    EnergyStatsReported,
    EquipmentNoticed,
    Event,
    MeterSampled,
    ObjectStated,
    OperatorUpdated,
    OrderAcknowledged,
    OrderIssued,
    OutageExcluded,
    OutageExclusionWithdrawn,
    PolicyPackLoaded,
    SessionBilled,
    SessionEnded,
    SessionStarted,
    SessionUpdated,
    StatedKind,
    StationPricesPublished,
    StationRetired,
    StationUpdated,
    StopOrderIssued,
    StopOrderLifted,
    SwapStationRegistered,
    SwapStationRetired,
    SwapStationStatusChanged,
    SwapStationUpdated,
    TargetSet,
    TariffPublished,
    TariffWithdrawn,
    ZombieClosed,
    ZombieDetected,
    ZombieEscalated,
    ZombieOperatorNotified,
    ZombieRectificationReported,
)
from chargenet.core.money import Money
from chargenet.core.oversight import ExclusionReason, NoticeKind, ZombieOutcome, ZombieRule
from chargenet.core.registry.model import (
    InventoryItem,
    OperatorRecord,
    SwapStationRecord,
    SwapVehicleType,
)
from chargenet.core.sessions import SessionFlag
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import OrderKind, OrderOutcome, Severity, TargetKind
from chargenet.core.tariffs import (
    PriceComponent,
    PriceDimension,
    TariffElement,
    TariffKind,
    TariffPeriod,
)
from tests.builders import T0, charger, meta, operator, station

SWAP = SwapStationRecord(
    swap_station_id="W1",
    operator_id="OP1",
    name="W",
    lat=38.4,
    lon=112.7,
    vehicle_types=(SwapVehicleType.TAXI, SwapVehicleType.MINING),
)

SAMPLES: list[Event] = [
    AreaRegistered(
        **meta(),
        code="140902",
        level=AreaLevel.COUNTY,
        name_zh="忻府区",
        parent_code="140900",
        lat=38.4,
        lon=112.7,
    ),
    AreaStatisticsRecorded(**meta(), area_code="140902", year=2024, ev_count=5_000),
    operator(),
    OperatorUpdated(**meta(), operator=OperatorRecord(operator_id="OP1", name="x")),
    station(),
    StationUpdated(**meta(), station=station().station),
    StationRetired(**meta(), station_id="S1", reason="closed"),
    charger(),
    ChargerUpdated(
        **meta(), charger=replace(charger().charger, commissioned_at=T0 - timedelta(days=3))
    ),
    ChargerRetired(**meta(), charger_id="C1"),
    SwapStationRegistered(**meta(), swap_station=SWAP),
    SwapStationUpdated(**meta(), swap_station=SWAP),
    SwapStationRetired(**meta(), swap_station_id="W1"),
    SwapStationStatusChanged(
        **meta(), swap_station_id="W1", status=ConnectorStatus.AVAILABLE, batteries_ready=4
    ),
    BatterySwapped(**meta(), swap_station_id="W1", swap_id="X1", energy_wh=40_000),
    ChargerPresenceChanged(**meta(), charger_id="C1", online=True),
    ConnectorStatusChanged(
        **meta(), connector_id="C1-1-1", status=ConnectorStatus.FAULTED, error_code="GroundFailure"
    ),
    MeterSampled(
        **meta(),
        connector_id="C1-1-1",
        energy_register_wh=10**9,
        power_w=1,
        soc_percent=55.5,
        temperature_c=-3.5,
        power_offered_w=150_000,
    ),
    SessionStarted(
        **meta(),
        session_id="T1",
        connector_id="C1-1-1",
        meter_start_wh=0,
        flags=(SessionFlag.STARTED_OFFLINE,),
    ),
    SessionUpdated(**meta(), session_id="T1", energy_wh=5, cost=Money.of("1.234567")),
    SessionEnded(**meta(), session_id="T1", meter_stop_wh=9, cost=Money.of("9.99", "EUR")),
    AlarmRaised(
        **meta(),
        alarm_id="A1",
        target_kind=TargetKind.CONNECTOR,
        target_id="C1-1-1",
        code="HighTemperature",
        severity=Severity.CRITICAL,
    ),
    AlarmAcknowledged(**meta(), alarm_id="A1", by="inspector"),
    AlarmCleared(**meta(), alarm_id="A1"),
    OrderIssued(
        **meta(),
        order_id="O1",
        kind=OrderKind.STOP,
        target_kind=TargetKind.CHARGER,
        target_id="C1",
        parameters=(("connector", "0"),),
    ),
    OrderAcknowledged(
        **meta(),
        order_id="O1",
        outcome=OrderOutcome.ACCEPTED,
        detail='{"status": "Accepted"}',
        answer='{"status": "Accepted"}',
    ),
    TargetSet(
        **meta(),
        target_id="t",
        area_code="140900",
        metric="public_piles",
        value=Decimal("6000"),
        year=2025,
    ),
    PolicyPackLoaded(
        **meta(),
        pack_id="xinzhou",
        region_code="140900",
        version=date(2023, 3, 1),
        title="忻州",
        text='id = "xinzhou"',
    ),
    StationPricesPublished(
        **meta(),
        station_id="S1",
        periods=(
            TariffPeriod(start=time(0), energy_price=Decimal("0.35"), service_price=Decimal("0.4")),
            TariffPeriod(start=time(8), energy_price=Decimal("0.95"), service_price=Decimal("0.6")),
        ),
        electricity_fee="峰谷电价",
    ),
    SessionBilled(
        **meta(),
        session_id="T1",
        bill=Bill(
            energy_wh=10_000,
            energy_amount=Decimal("3.5"),
            service_amount=Decimal("4"),
            total=Decimal("7.5"),
            periods=(
                BilledPeriod(
                    start=T0,
                    end=T0,
                    energy_wh=10_000,
                    energy_price=Decimal("0.35"),
                    service_price=Decimal("0.4"),
                    energy_amount=Decimal("3.5"),
                    service_amount=Decimal("4"),
                ),
            ),
        ),
    ),
    ChargeOrdersReconciled(
        **meta(),
        reconciliation_id="R1",
        operator_id="OP1",
        period_start=T0,
        period_end=T0,
        stated_orders=2,
        stated_energy_wh=1,
        stated_amount=Decimal("1.00"),
        recorded_orders=1,
        recorded_energy_wh=1,
        recorded_amount=Decimal("1"),
        differences=(Difference(order_id="X", kind=DifferenceKind.MISSING),),
    ),
    EnergyStatsReported(
        **meta(),
        station_id="S1",
        day_from=date(2025, 5, 1),
        day_to=date(2025, 5, 31),
        energy_wh=5_000_000,
        connectors=(("C1-1-1", 5_000_000),),
    ),
    OutageExcluded(
        **meta(),
        exclusion_id="X1",
        target_kind=TargetKind.STATION,
        target_id="S1",
        start=T0,
        end=T0 + timedelta(hours=3),
        reason=ExclusionReason.UTILITY_OUTAGE,
        note="grid fault",
        by="inspector",
    ),
    OutageExclusionWithdrawn(**meta(), exclusion_id="X1", by="inspector", note="wrong"),
    EquipmentNoticed(
        **meta(),
        charger_id="C1",
        kind=NoticeKind.SECURITY,
        code="FirmwareUpdated",
        connector_id="C1-1-1",
        severity=3,
    ),
    ZombieDetected(
        **meta(),
        case_id="Z1",
        charger_id="C1",
        rules=(ZombieRule.NEVER_CONNECTED, ZombieRule.LONG_DOWN),
        since=T0,
        evidence="no contact",
    ),
    ZombieOperatorNotified(
        **meta(), case_id="Z1", deadline=T0 + timedelta(days=30), channel="letter"
    ),
    ZombieEscalated(**meta(), case_id="Z1", level=2, deadline=T0 + timedelta(days=45)),
    ZombieRectificationReported(**meta(), case_id="Z1", note="module replaced", by="jinbei"),
    ZombieClosed(**meta(), case_id="Z1", outcome=ZombieOutcome.RETIRED, by="bureau"),
    StopOrderIssued(
        **meta(),
        stop_id="P1",
        target_kind=TargetKind.STATION,
        target_id="S1",
        reason="fire risk",
        issued_by="bureau",
        alarm_id="A1",
    ),
    StopOrderLifted(**meta(), stop_id="P1", by="bureau", reason="rectified"),
    TariffPublished(
        **meta(),
        tariff_id="CN*XZP*T1",
        operator_id="OP1",
        currency="CNY",
        elements=(
            TariffElement(
                components=(
                    PriceComponent(
                        dimension=PriceDimension.ENERGY, price=Decimal("1.2"), vat=Decimal("13")
                    ),
                ),
                restrictions=(("start_time", "08:00"),),
            ),
        ),
        kind=TariffKind.AD_HOC_PAYMENT,
        valid_from=T0,
    ),
    TariffWithdrawn(**meta(), tariff_id="CN*XZP*T1"),
    ConnectorTariffsSet(**meta(), connector_id="C1-1-1", tariff_ids=("CN*XZP*T1",)),
    ChargeDetailRecorded(
        **meta(),
        cdr_id="CN*XZP*CDR1",
        connector_id="C1-1-1",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=40),
        energy_wh=21_500,
        cost=Money.of("25.80"),
        cost_incl_vat=Decimal("29.15"),
        session_id="T1",
        tariff_ids=("CN*XZP*T1",),
    ),
    ChargerDataTransferred(
        **meta(), charger_id="C1", vendor_id="com.example", message_id="Diag", data='{"t": 41.5}'
    ),
    ObjectStated(
        **meta(),
        kind=StatedKind.EVSE,
        object_id="CN*XZP*E1",
        protocol="ocpi-2.2.1",
        body='{"uid": "E1", "capabilities": ["RFID_READER"], "physical_reference": "7号桩"}',
    ),
    ChargerInventoryReported(
        **meta(),
        charger_id="C2",
        vendor="Peer",
        model="M2",
        serial_number="SN-2",
        firmware="4.2.1",
        items=(
            InventoryItem(component="BootNotification", variable="iccid", value="8986"),
            InventoryItem(
                component="Connector",
                variable="ConnectorType",
                value="cGBT",
                evse_no=1,
                connector_no=1,
                component_instance="left",
            ),
        ),
    ),
]


def test_every_event_type_has_a_round_trip_sample() -> None:
    """A new event type must come with a sample here (or its own round-trip test)."""
    assert set(EVENT_TYPES) - {e.TYPE for e in SAMPLES} == set()


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_an_event_round_trips_through_json(event: Event) -> None:
    decoded = codec.decode(event.TYPE, event.VERSION, codec.encode(event))
    assert decoded == event
    assert type(decoded) is type(event)


def test_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(codec.UnknownEventType, match="bogus"):
        codec.decode("bogus", 1, b"{}")


def test_old_versions_are_upcast(monkeypatch: pytest.MonkeyPatch) -> None:
    # Version 0 of connector.status_changed called the status "state".
    monkeypatch.setitem(
        codec.UPCASTERS,
        ("connector.status_changed", 0),
        lambda d: {**{k: v for k, v in d.items() if k != "state"}, "status": d["state"]},
    )
    [new] = [e for e in SAMPLES if isinstance(e, ConnectorStatusChanged)]
    body = codec.to_builtins(new)
    body.pop("type")
    body.pop("version")
    body["state"] = body.pop("status")
    decoded = codec.decode(new.TYPE, 0, json.dumps(body))
    assert decoded == new
