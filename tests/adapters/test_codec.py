"""Every event type survives the trip through the log's JSON unchanged."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.adapters import codec
from chargenet.core.areas import AreaLevel
from chargenet.core.billing import Bill, BilledPeriod, Difference, DifferenceKind
from chargenet.core.drivers import DEVELOPMENT_TOKEN_KEY, TokenKind, legacy_token_digest
from chargenet.core.events import (
    EVENT_TYPES,
    AlarmAcknowledged,
    AlarmCleared,
    AlarmRaised,
    AreaRegistered,
    AreaStatisticsRecorded,
    BatteryReported,
    BatterySwapped,
    ChargeDetailRecorded,
    ChargeOrdersReconciled,
    ChargerDataTransferred,
    ChargerInventoryReported,
    ChargerPresenceChanged,
    ChargerRetired,
    ChargerUpdated,
    ChargingNeedsStated,
    ConnectorStatusChanged,
    ConnectorTariffsSet,
    CreditAppealDecided,
    CreditAppealed,
    CreditPenalized,
    DemandResponseCalled,
    DemandResponseScope,
    DemonstrationDesignated,
    DisputeOpened,
    DriverRegistered,
    EnergyStatsReported,
    EquipmentNoticed,
    Event,
    FeederStated,
    GridConnectionStated,
    IncidentClosed,
    IncidentReported,
    InspectionDrawn,
    InspectionRecorded,
    InspectionRectified,
    LedgerPosted,
    MeterSampled,
    ObjectStated,
    OperatorUpdated,
    OrderAcknowledged,
    OrderIssued,
    OutageExcluded,
    OutageExclusionWithdrawn,
    ParkingReported,
    PlanningScenarioSaved,
    PolicyPackLoaded,
    SessionBilled,
    SessionClaimed,
    SessionEnded,
    SessionStarted,
    SessionUpdated,
    StatedKind,
    StationNoticed,
    StationPricesPublished,
    StationPublicHoursSet,
    StationRetired,
    StationUpdated,
    StopOrderIssued,
    StopOrderLifted,
    StopOrderRectificationReported,
    SwapBatteriesReported,
    SwapStationRegistered,
    SwapStationRetired,
    SwapStationStatusChanged,
    SwapStationUpdated,
    TargetSet,
    TariffPublished,
    TariffWithdrawn,
    TokenRegistered,
    TokenRekeyed,
    TokenStatusChanged,
    ZombieClosed,
    ZombieDetected,
    ZombieEscalated,
    ZombieOperatorNotified,
    ZombieRectificationReported,
)
from chargenet.core.ids import (
    AlarmId,
    AreaCode,
    ChargerId,
    ConnectorId,
    OperatorId,
    OrderId,
    SessionId,
    StationId,
    SwapStationId,
)
from chargenet.core.ledger import topup
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
from chargenet.core.supervision.credit import DemonstrationKind
from chargenet.core.supervision.incidents import IncidentKind, Responsible
from chargenet.core.supervision.inspections import InspectionResult, draw
from chargenet.core.supervision.swap import BatteryPack, PackState
from chargenet.core.tariffs import (
    PriceComponent,
    PriceDimension,
    TariffElement,
    TariffKind,
    TariffPeriod,
)
from chargenet.core.text import storable, storable_all
from tests.builders import T0, charger, meta, operator, station

SWAP = SwapStationRecord(
    swap_station_id=SwapStationId("W1"),
    operator_id=OperatorId("OP1"),
    name="W",
    lat=38.4,
    lon=112.7,
    vehicle_types=(SwapVehicleType.TAXI, SwapVehicleType.MINING),
)

SAMPLES: list[Event] = [
    AreaRegistered(
        **meta(),
        code=AreaCode("140902"),
        level=AreaLevel.COUNTY,
        name_zh="忻府区",
        parent_code=AreaCode("140900"),
        lat=38.4,
        lon=112.7,
    ),
    AreaStatisticsRecorded(**meta(), area_code=AreaCode("140902"), year=2024, ev_count=5_000),
    operator(),
    OperatorUpdated(**meta(), operator=OperatorRecord(operator_id=OperatorId("OP1"), name="x")),
    station(),
    StationUpdated(**meta(), station=station().station),
    StationRetired(**meta(), station_id=StationId("S1"), reason="closed"),
    charger(),
    ChargerUpdated(
        **meta(), charger=replace(charger().charger, commissioned_at=T0 - timedelta(days=3))
    ),
    ChargerRetired(**meta(), charger_id=ChargerId("C1")),
    SwapStationRegistered(**meta(), swap_station=SWAP),
    SwapStationUpdated(**meta(), swap_station=SWAP),
    SwapStationRetired(**meta(), swap_station_id=SwapStationId("W1")),
    SwapStationStatusChanged(
        **meta(),
        swap_station_id=SwapStationId("W1"),
        status=ConnectorStatus.AVAILABLE,
        batteries_ready=4,
    ),
    BatterySwapped(**meta(), swap_station_id=SwapStationId("W1"), swap_id="X1", energy_wh=40_000),
    ChargerPresenceChanged(**meta(), charger_id=ChargerId("C1"), online=True),
    ConnectorStatusChanged(
        **meta(),
        connector_id=ConnectorId("C1-1-1"),
        status=ConnectorStatus.FAULTED,
        error_code="GroundFailure",
    ),
    MeterSampled(
        **meta(),
        connector_id=ConnectorId("C1-1-1"),
        energy_register_wh=10**9,
        power_w=1,
        soc_percent=55.5,
        temperature_c=-3.5,
        power_offered_w=150_000,
        session_energy_wh=12_345,
    ),
    SessionStarted(
        **meta(),
        session_id=SessionId("T1"),
        connector_id=ConnectorId("C1-1-1"),
        meter_start_wh=0,
        flags=(SessionFlag.STARTED_OFFLINE,),
    ),
    SessionUpdated(**meta(), session_id=SessionId("T1"), energy_wh=5, cost=Money.of("1.234567")),
    SessionEnded(
        **meta(), session_id=SessionId("T1"), meter_stop_wh=9, cost=Money.of("9.99", "EUR")
    ),
    AlarmRaised(
        **meta(),
        alarm_id=AlarmId("A1"),
        target_kind=TargetKind.CONNECTOR,
        target_id="C1-1-1",
        code="HighTemperature",
        severity=Severity.CRITICAL,
    ),
    AlarmAcknowledged(**meta(), alarm_id=AlarmId("A1"), by="inspector"),
    AlarmCleared(**meta(), alarm_id=AlarmId("A1")),
    OrderIssued(
        **meta(),
        order_id=OrderId("O1"),
        kind=OrderKind.STOP,
        target_kind=TargetKind.CHARGER,
        target_id="C1",
        parameters=(("connector", "0"),),
    ),
    OrderAcknowledged(
        **meta(),
        order_id=OrderId("O1"),
        outcome=OrderOutcome.ACCEPTED,
        detail='{"status": "Accepted"}',
        answer='{"status": "Accepted"}',
    ),
    TargetSet(
        **meta(),
        target_id="t",
        area_code=AreaCode("140900"),
        metric="public_piles",
        value=Decimal("6000"),
        year=2025,
    ),
    PlanningScenarioSaved(
        **meta(),
        scenario_id="140900|fast growth",
        area_code=AreaCode("140900"),
        name="fast growth",
        parameters='{"name": "fast growth", "area": "140900", "year": 2025, "growth": 0.3}',
        saved_by="regulator 1",
    ),
    PolicyPackLoaded(
        **meta(),
        pack_id="xinzhou",
        region_code=AreaCode("140900"),
        version=date(2023, 3, 1),
        title="忻州",
        # the smallest pack there is: its head, naming what the fields above say
        text='[pack]\nid = "xinzhou"\nregion = "140900"\ntitle = "忻州"\nversion = 2023-03-01\n',
    ),
    StationPricesPublished(
        **meta(),
        station_id=StationId("S1"),
        periods=(
            TariffPeriod(start=time(0), energy_price=Decimal("0.35"), service_price=Decimal("0.4")),
            TariffPeriod(start=time(8), energy_price=Decimal("0.95"), service_price=Decimal("0.6")),
        ),
        electricity_fee="峰谷电价",
    ),
    SessionBilled(
        **meta(),
        session_id=SessionId("T1"),
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
        operator_id=OperatorId("OP1"),
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
        station_id=StationId("S1"),
        day_from=date(2025, 5, 1),
        day_to=date(2025, 5, 31),
        energy_wh=5_000_000,
        connectors=((ConnectorId("C1-1-1"), 5_000_000),),
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
    BatteryReported(
        **meta(),
        connector_id=ConnectorId("C1-1-1"),
        soc_percent=62.5,
        voltage_v=380.0,
        current_a=60.0,
        cell_voltage_max_v=4.2,
        cell_voltage_min_v=3.7,
        cell_voltage_limit_v=4.25,
        temperature_max_c=41.0,
        temperature_min_c=30.0,
        temperature_limit_c=55.0,
    ),
    ParkingReported(**meta(), connector_id=ConnectorId("C1-1-1"), occupied=True, locked=False),
    SwapBatteriesReported(
        **meta(),
        swap_station_id=SwapStationId("W1"),
        packs=(
            BatteryPack("B1", PackState.READY, soh_percent=93.5, soc_percent=98.0, cycles=410),
            BatteryPack("B2", PackState.CHARGING, soh_percent=78.0),
        ),
    ),
    IncidentReported(
        **meta(),
        incident_id="I1",
        kind=IncidentKind.FIRE,
        station_id=StationId("S1"),
        charger_id=ChargerId("C1"),
        connector_id=ConnectorId("C1-1-1"),
        injuries=1,
        description="枪头起火",
        reported_by="inspector",
    ),
    IncidentClosed(
        **meta(),
        incident_id="I1",
        responsible=Responsible.OPERATOR,
        finding="传感器失效",
        by="inspector",
    ),
    InspectionDrawn(
        **meta(),
        draw_id="D1",
        title="2025年第二季度双随机抽查",
        seed=20250601,
        team=2,
        inspectors=("张三", "李四", "王五"),
        targets=("S1",),
        assignments=draw(20250601, ("张三", "李四", "王五"), ("S1",), 1, 2),
        drawn_by="inspector",
        area_code="140902",
    ),
    InspectionRecorded(
        **meta(),
        draw_id="D1",
        station_id=StationId("S1"),
        result=InspectionResult.RECTIFY,
        findings="消防器材过期",
        by="inspector",
        rectify_by=date(2025, 7, 1),
    ),
    InspectionRectified(
        **meta(), draw_id="D1", station_id=StationId("S1"), note="已更换", by="inspector"
    ),
    CreditPenalized(
        **meta(),
        penalty_id="P1",
        operator_id=OperatorId("OP1"),
        points=5,
        reason="抽查不合格，逾期未整改",
        basis="双随机抽查 D1",
        decided_on=date(2025, 7, 15),
        by="inspector",
        area_code="140902",
    ),
    CreditAppealed(**meta(), penalty_id="P1", grounds="已按期整改", by="OP1"),
    CreditAppealDecided(**meta(), penalty_id="P1", upheld=False, note="整改属实", by="inspector"),
    DemonstrationDesignated(
        **meta(),
        designation_id="M1",
        kind=DemonstrationKind.TOWNSHIP,
        name="示范乡镇",
        area_code="140902",
        year=2025,
        basis="忻州市充电基础设施示范名单",
        by="inspector",
    ),
    StationNoticed(
        **meta(), station_id=StationId("S1"), code="event 3/3001", info="停车场附近施工"
    ),
    EquipmentNoticed(
        **meta(),
        charger_id=ChargerId("C1"),
        kind=NoticeKind.SECURITY,
        code="FirmwareUpdated",
        connector_id=ConnectorId("C1-1-1"),
        severity=3,
    ),
    ZombieDetected(
        **meta(),
        case_id="Z1",
        charger_id=ChargerId("C1"),
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
        alarm_id=AlarmId("A1"),
    ),
    StopOrderRectificationReported(**meta(), stop_id="P1", note="cable replaced", by="jinbei"),
    StopOrderLifted(**meta(), stop_id="P1", by="bureau", reason="rectified"),
    TariffPublished(
        **meta(),
        tariff_id="CN*XZP*T1",
        operator_id=OperatorId("OP1"),
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
    ConnectorTariffsSet(**meta(), connector_id=ConnectorId("C1-1-1"), tariff_ids=("CN*XZP*T1",)),
    ChargeDetailRecorded(
        **meta(),
        cdr_id="CN*XZP*CDR1",
        connector_id=ConnectorId("C1-1-1"),
        started_at=T0,
        ended_at=T0 + timedelta(minutes=40),
        energy_wh=21_500,
        cost=Money.of("25.80"),
        cost_incl_vat=Decimal("29.15"),
        session_id=SessionId("T1"),
        tariff_ids=("CN*XZP*T1",),
    ),
    ChargerDataTransferred(
        **meta(),
        charger_id=ChargerId("C1"),
        vendor_id="com.example",
        message_id="Diag",
        data='{"t": 41.5}',
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
        charger_id=ChargerId("C2"),
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
    FeederStated(
        **meta(), feeder_id="F1", name="10 kV 忻州线 1号变", valid_from=T0, capacity_w=630_000
    ),
    GridConnectionStated(
        **meta(),
        station_id=StationId("S1"),
        valid_from=T0,
        capacity_w=200_000,
        capacity_va=250_000,
        feeder_id="F1",
        pv_peak_w=50_000,
        storage_wh=100_000,
        storage_power_w=50_000,
    ),
    ChargingNeedsStated(
        **meta(),
        session_id=SessionId("T1"),
        energy_wh=30_000,
        departure_at=T0 + timedelta(hours=8),
        max_power_w=7_000,
        min_power_w=1_380,
        discharge_max_w=11_000,
        dischargeable_wh=15_000,
    ),
    DemandResponseCalled(
        **meta(),
        dr_id="DR1",
        scope=DemandResponseScope.FEEDER,
        scope_id="F1",
        start=T0,
        end=T0 + timedelta(hours=1),
        share=0.6,
        called_by="vtn:state-grid",
        program="EV-1",
    ),
    DriverRegistered(**meta(), driver_id="D1", display_name="李娜", credit_limit=Decimal("20.00")),
    TokenRegistered(
        **meta(),
        token_digest=DEVELOPMENT_TOKEN_KEY.digest("04A1B2C3"),
        driver_id="D1",
        kind=TokenKind.RFID,
        label="card …B2C3",
        expires_at=T0 + timedelta(days=365),
    ),
    TokenStatusChanged(
        **meta(), token_digest=DEVELOPMENT_TOKEN_KEY.digest("04A1B2C3"), blocked=True, reason="lost"
    ),
    SessionClaimed(
        **meta(), claimed_session="T1", token_digest=DEVELOPMENT_TOKEN_KEY.digest("04A1B2C3")
    ),
    LedgerPosted(
        **meta(),
        entry=replace(
            topup("topup:manual:1", "D1", Decimal("50.00"), "manual", Decimal(0), "CNY"),
            memo="counter",
        ),
    ),
    StationPublicHoursSet(
        **meta(),
        station_id=StationId("S1"),
        hours="Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00",
        set_by="xinfu-bureau",
        note="机关单位内部充电桩错时开放",
    ),
    TokenRekeyed(
        **meta(),
        token_digest=legacy_token_digest("04A1B2C3"),
        new_digest=DEVELOPMENT_TOKEN_KEY.digest("04A1B2C3"),
    ),
    DisputeOpened(
        **meta(),
        dispute_id="ocpi:S1",
        disputed_session="S1",
        operator_id=OperatorId("OP1"),
        origin="ocpi",
        document_id="CN*ABC*CDR1",
        stated_energy_wh=12_500,
        stated_amount=Decimal("13.20"),
        recorded_energy_wh=11_000,
        recorded_amount=None,
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


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_an_event_decoded_encodes_to_the_same_bytes(event: Event) -> None:
    """What a writer stores and relays of an intake's event are the bytes the intake
    encoded (codec.reusing): the same as encoding the decoded event again."""
    data = codec.encode(event)
    decoded, kept = codec.decode_kept(event.TYPE, event.VERSION, data)
    assert codec.encode(decoded) == data
    assert kept == data
    with codec.reusing([(decoded, data)]):
        assert codec.encode(decoded) is data


def test_reused_bytes_answer_only_for_that_very_event() -> None:
    [sample] = [e for e in SAMPLES if isinstance(e, ConnectorStatusChanged)]
    data = codec.encode(sample)
    decoded, _ = codec.decode_kept(sample.TYPE, sample.VERSION, data)
    assert isinstance(decoded, ConnectorStatusChanged)
    changed = replace(decoded, info="changed on the way")
    with codec.reusing([(decoded, b"not these")]):
        assert codec.encode(changed) == codec.encode(replace(sample, info="changed on the way"))
        assert b"changed on the way" in codec.encode(changed)
    assert codec.encode(decoded) == data  # outside: encoded as ever


@pytest.mark.parametrize(
    ("info", "stored"),
    [
        ("plain", "plain"),
        ("tab\tkept", "tab\tkept"),
        ("nul\x00gone", "nulgone"),
        ("del\x7fgone", "delgone"),  # DEL: not escaped by JSON, and not printable
        ("c1\x85gone", "c1gone"),
        ('quote"kept', 'quote"kept'),
        ("7号桩", "7号桩"),
    ],
)
def test_a_reused_event_is_made_storable_as_any_other(info: str, stored: str) -> None:
    """Within `reusing`, `storable` answers an event whose bytes are printable ASCII as it
    is, unwalked; any other is walked, and what is removed is removed as ever."""
    [sample] = [e for e in SAMPLES if isinstance(e, ConnectorStatusChanged)]
    data = codec.encode(replace(sample, info=info))
    decoded, kept = codec.decode_kept(sample.TYPE, sample.VERSION, data)
    assert isinstance(decoded, ConnectorStatusChanged)
    with codec.reusing([(decoded, kept or b"")]):
        made = storable(decoded)
        assert made.info == stored
        assert (made is decoded) == (stored == info)
        if made is not decoded:  # changed on the way: encoded anew, not the bytes it came in
            assert codec.encode(made) == codec.encode(replace(sample, info=stored))
        # A batch made storable at once (the ingest path) is made as one at a time.
        [batch] = storable_all([decoded])
        assert batch == made and (batch is decoded) == (made is decoded)
    assert storable_all([decoded]) == [storable(decoded)]  # and outside


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
    # An upcast event's bytes are not today's: not kept for reuse.
    assert codec.decode_kept(new.TYPE, 0, json.dumps(body).encode()) == (new, None)
    # A batch decodes each item as `decode_kept` does, upcast ones included.
    items = [(new.TYPE, 0, json.dumps(body).encode()), (new.TYPE, new.VERSION, codec.encode(new))]
    assert codec.decode_all_kept(items) == [(new, None), (new, codec.encode(new))]


def test_a_batch_decodes_every_sample_as_one_at_a_time() -> None:
    """A writer's stream messages go through `decode_all_kept`: each event and its kept
    bytes as `decode_kept` gives them, whatever buffer the bytes come in."""
    items = [(e.TYPE, e.VERSION, msgspec.Raw(codec.encode(e))) for e in SAMPLES]
    got = codec.decode_all_kept(items)
    assert got == [codec.decode_kept(e.TYPE, e.VERSION, codec.encode(e)) for e in SAMPLES]
    assert [event for event, _ in got] == SAMPLES
    assert all(type(kept) is bytes for _, kept in got)
    with pytest.raises(codec.UnknownEventType, match="bogus"):
        codec.decode_all_kept([*items[:1], ("bogus", 1, b"{}")])


def _fields_as_decoded(value: object, ordered: bool = True) -> object:
    """A value with its type, taken apart: an event's or record's attributes in their order
    (its `__dict__`'s, where it has one; by name unless `ordered`), tuples, lists and
    mappings item by item."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = (
            list(vars(value))
            if hasattr(value, "__dict__")
            else [f.name for f in dataclasses.fields(value)]
        )
        if not ordered:
            names.sort()
        return type(value), [(n, _fields_as_decoded(getattr(value, n), ordered)) for n in names]
    if isinstance(value, tuple | list):
        return type(value), [_fields_as_decoded(v, ordered) for v in value]
    if isinstance(value, dict):
        return dict, [(k, _fields_as_decoded(v, ordered)) for k, v in value.items()]
    return type(value), value


def _both_ways(event_type: str, data: bytes) -> tuple[object, object]:
    """A payload decoded as `decode` does and as a writer's batch (`decode_all_kept`)
    does: each the event, or the class of the error it raised."""
    version = EVENT_TYPES[event_type].VERSION

    def one() -> object:
        return codec.decode(event_type, version, data)

    def batched() -> object:
        return codec.decode_all_kept([(event_type, version, data)])[0][0]

    outcomes: list[object] = []
    for decode in (one, batched):
        try:
            outcomes.append(decode())
        except msgspec.MsgspecError as exc:
            outcomes.append(type(exc))
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_a_batch_decodes_each_event_to_the_same_object(event: Event) -> None:
    """The batch path makes each event from a Struct of its fields (codec.py, "decoding into
    objects with a dictionary of their own"): the same class, the same fields in the same
    order with values of the same types, records inside as records, the same bytes again."""
    data = codec.encode(event)
    one, batched = _both_ways(event.TYPE, data)
    assert batched == one == event
    assert type(batched) is type(one)
    assert _fields_as_decoded(batched) == _fields_as_decoded(one)
    assert codec.encode(batched) == data


def test_every_event_type_and_its_source_are_decoded_through_a_mirror() -> None:
    """A batch's event given a dictionary of its own is the writer's speed-up (codec.py):
    a class the mirror cannot be made for (an annotation it cannot read, a `__post_init__`,
    slots) falls back to msgspec's own decoding unseen. Every event type of today, and
    the record inside each (`source`), has its mirror."""
    missing = [name for name, cls in EVENT_TYPES.items() if codec._mirror(cls) is None]
    assert missing == []
    sources = {type(event.source) for event in SAMPLES}
    assert sources and all(codec._mirror(cls) is not None for cls in sources)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_a_batch_refuses_and_accepts_what_decode_does(event: Event, data: st.DataObject) -> None:
    """Any field of any sample given another JSON value, left out, or joined by one not
    declared: the batch path decodes it to the same event, or refuses it as `decode` does.
    (A field left out is set last by msgspec's own decoding, in its order by the batch
    path's, as `__init__` sets it: the same fields and values, in another order.)"""
    body = json.loads(codec.encode(event))
    for _ in range(data.draw(st.integers(1, 3))):
        name = data.draw(st.sampled_from(sorted(body)) | st.text(max_size=8))
        choice = data.draw(st.sampled_from(["value", "leave out", "time", "source"]))
        if choice == "leave out":
            body.pop(name, None)
        elif choice == "time":
            body[name] = data.draw(st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01", "x"]))
        elif choice == "source":
            body[name] = data.draw(
                st.fixed_dictionaries({"adapter": _JSON}, optional={"charger_id": _JSON})
            )
        else:
            body[name] = data.draw(_JSON)
    one, batched = _both_ways(event.TYPE, json.dumps(body).encode())
    if isinstance(one, type):
        assert batched is one
    else:
        assert batched == one
        assert _fields_as_decoded(batched, ordered=False) == _fields_as_decoded(one, ordered=False)
