"""T/CEC 102 payloads mapped into chargenet's words (docs/tcec.md has the tables)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from chargenet.adapters.tcec import inbound, model
from chargenet.adapters.tcec.crypto import KeySet
from chargenet.adapters.tcec.inbound import BadParameters, Sent
from chargenet.adapters.tcec.partners import Partner
from chargenet.core.events import (
    ChargerRegistered,
    ConnectorStatusChanged,
    SessionBilled,
    SessionEnded,
    StationPricesPublished,
    StationRegistered,
    StationRetired,
)
from chargenet.core.ids import OperatorId
from chargenet.core.registry.model import Access, ConnectorStandard, PowerType, SiteCategory
from chargenet.core.status import ConnectorStatus
from chargenet.demo.tcec_operator import sample_station
from chargenet.kit.geo import haversine_m

ZONE = ZoneInfo("Asia/Shanghai")
T = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
SENT = Sent(at=T, stamp="202506011000000001", received_at=T)


def partner(partner_id: str = "MA59J8YL8", datum: str = "GCJ02") -> Partner:
    keys = KeySet.generate()
    return Partner(
        partner_id=partner_id,
        operator_id=OperatorId("OPT"),
        name="x",
        base_url=None,
        pull=False,
        datum=datum,
        enabled=True,
        zone=ZONE,
        inbound_keys=keys,
        inbound_secret_hash="",
        outbound_keys=None,
        outbound_secret=None,
    )


def station(**changes: Any) -> model.StationInfo:
    raw = {**sample_station("MA59J8YL8", 1), **changes}
    return model.decode(msgspec.json.encode(raw), model.StationInfo)


@pytest.mark.parametrize(
    ("station_type", "access"),
    [
        (1, Access.PUBLIC),
        (50, Access.PRIVATE),
        (100, Access.DEDICATED),
        (103, Access.DEDICATED),
        (255, Access.DEDICATED),
    ],
)
def test_station_type_gives_access(station_type: int, access: Access) -> None:
    assert inbound.station_record(partner(), station(StationType=station_type)).access is access


@pytest.mark.parametrize(
    ("construction", "station_type", "category"),
    [
        (1, 1, SiteCategory.RESIDENTIAL_OLD),
        (2, 1, SiteCategory.INSTITUTION),
        (4, 1, SiteCategory.COMMERCIAL),
        (5, 1, SiteCategory.INDUSTRIAL_PARK),
        (6, 1, SiteCategory.TRANSPORT_HUB),
        (10, 1, SiteCategory.PUBLIC_CAR_PARK),
        (11, 1, SiteCategory.HIGHWAY_SERVICE_AREA),
        (255, 1, SiteCategory.OTHER),
        (255, 100, SiteCategory.FLEET_DEPOT),  # a bus depot says so by its type
    ],
)
def test_construction_gives_the_site_category(
    construction: int, station_type: int, category: SiteCategory
) -> None:
    record = inbound.station_record(
        partner(), station(Construction=construction, StationType=station_type)
    )
    assert record.category is category


def test_positions_ids_spaces_and_hours() -> None:
    info = station(ParkNums=0, BusineHours="周一至周日 07:30-22:00")
    record = inbound.station_record(partner(), info)
    assert record.station_id == "tcec:MA59J8YL8:1001"
    assert haversine_m(record.lat, record.lon, 38.412, 112.732) < 1.0  # GCJ-02 undone
    assert record.charging_spaces is None  # ParkNums 0 means unknown
    assert record.opening_hours == "07:30-22:00"
    wgs = inbound.station_record(partner(datum="WGS84"), info)
    assert float(info.StationLat) == pytest.approx(wgs.lat)
    # Two operators' station "1001" are two stations.
    assert inbound.station_record(partner("OTHER0001"), info).station_id != record.station_id


def test_equipment_and_connectors() -> None:
    facts = inbound.station_facts(partner(), station(), SENT)
    chargers = [f.event.charger for f in facts if isinstance(f.event, ChargerRegistered)]
    assert [c.charger_id for c in chargers] == ["tcec:MA59J8YL8:1001E1", "tcec:MA59J8YL8:1001E2"]
    connector = chargers[0].evses[1].connectors[0]
    assert connector.connector_id == "tcec:MA59J8YL8:1001E1C2"
    assert (connector.standard, connector.power_type) == (ConnectorStandard.GBT_DC, PowerType.DC)
    assert (connector.max_power_w, connector.max_voltage_v, connector.max_current_a) == (
        60_000,
        750,
        250,
    )
    assert chargers[0].protocol == "tcec" and chargers[0].vendor == "示例电气"
    fees = [f.event for f in facts if isinstance(f.event, StationPricesPublished)]
    assert fees[0].parking_fee == "充电免费停车2小时"


def test_station_status_codes() -> None:
    def kinds(status: int) -> list[str]:
        return [
            type(f.event).__name__
            for f in inbound.station_facts(partner(), station(StationStatus=status), SENT)
        ]

    assert kinds(1) == [StationRegistered.__name__, "StationPricesPublished"]
    assert kinds(5)[-2:] == [StationRetired.__name__, "StationPricesPublished"]
    maintenance = inbound.station_facts(partner(), station(StationStatus=6), SENT)
    statuses = {f.event.status for f in maintenance if isinstance(f.event, ConnectorStatusChanged)}
    assert statuses == {ConnectorStatus.UNAVAILABLE}


@pytest.mark.parametrize(
    "changes",
    [
        {"StationType": 2},
        {"StationStatus": 7},
        {"Construction": 0},
        {"AreaCode": "1409"},
        {"StationLat": 0, "StationLng": 0},
        {"StationID": "has space"},
    ],
)
def test_bad_station_fields_are_bad_parameters(changes: dict[str, Any]) -> None:
    with pytest.raises(BadParameters):
        inbound.station_facts(partner(), station(**changes), SENT)


def test_both_spellings_of_service_are_read() -> None:
    details = {
        "DetailStartTime": "2025-06-01 10:00:00",
        "DetailEndTime": "2025-06-01 10:30:00",
        "ElecPrice": 1.0,
        "DetailPower": 10,
        "DetailElecMoney": 10.0,
    }
    order = {
        "StartChargeSeq": "S1",
        "ConnectorID": "C1",
        "StartTime": "2025-06-01 10:00:00",
        "EndTime": "2025-06-01 10:30:00",
        "TotalPower": 10,
        "TotalElecMoney": 10.0,
        "TotalMoney": 18.0,
        "StopReason": 2,
    }
    # The bill arrives after the charge ended (10:30 local).
    received = Sent(at=T, stamp=SENT.stamp, received_at=datetime(2025, 6, 1, 3, 0, tzinfo=UTC))
    for word in ("Sevice", "Service"):
        raw = {
            **order,
            f"Total{word}Money": 8.0,
            "ChargeDetails": [{**details, f"{word}Price": 0.8, f"Detail{word}Money": 8.0}],
        }
        facts = inbound.order_facts(
            partner(), model.decode(msgspec.json.encode(raw), model.ChargeOrderInfo), received
        )
        ended = next(f.event for f in facts if isinstance(f.event, SessionEnded))
        billed = next(f.event for f in facts if isinstance(f.event, SessionBilled))
        assert ended.stop_reason == "BMS stopped"
        assert ended.occurred_at == datetime(2025, 6, 1, 2, 30, tzinfo=UTC)  # local → UTC
        assert billed.bill.service_amount == Decimal("8.0")
        assert billed.bill.periods[0].service_price == Decimal("0.8")
        assert billed.bill.energy_wh == 10_000
    with pytest.raises(model.PayloadError, match="TotalServiceMoney"):
        model.decode(msgspec.json.encode(order), model.ChargeOrderInfo)


def test_the_reverse_code_maps_lead_back_to_the_same_words() -> None:
    from chargenet.adapters.tcec import codes

    for category in SiteCategory:
        construction = codes.construction_of(category)
        if codes.CONSTRUCTION_CATEGORY[construction] is not SiteCategory.OTHER:
            back = codes.CONSTRUCTION_CATEGORY[construction]
            assert back is category or {back, category} <= {
                SiteCategory.RESIDENTIAL_OLD,
                SiteCategory.RESIDENTIAL_NEW,
                SiteCategory.TRANSPORT_HUB,
                SiteCategory.PARK_AND_RIDE,
            }
    for access, station_type in codes.ACCESS_STATION_TYPE.items():
        assert codes.STATION_TYPE_ACCESS[station_type] is access
    for standard in ConnectorStandard:
        assert codes.CONNECTOR_TYPE.get(
            codes.connector_type_of(standard), (ConnectorStandard.OTHER,)
        )[0] in (
            standard,
            ConnectorStandard.OTHER,
        )
