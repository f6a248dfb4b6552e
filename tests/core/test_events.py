"""Events say what is wrong with them before anything is stored."""

from dataclasses import replace
from datetime import datetime

from chargenet.core.areas import AreaLevel
from chargenet.core.events import (
    AreaRegistered,
    ConnectorStatusChanged,
    MeterSampled,
    SessionEnded,
)
from chargenet.core.ids import AreaCode, ChargerId, ConnectorId, OperatorId, SessionId, StationId
from chargenet.core.registry.model import (
    MAX_EVSES_PER_CHARGER,
    ChargerRecord,
    ConnectorRecord,
    ConnectorStandard,
    EvseRecord,
    PowerType,
    StationRecord,
)
from chargenet.core.status import ConnectorStatus
from tests.builders import Meta, charger, meta, station


def test_a_naive_time_is_refused_because_its_zone_would_be_a_guess() -> None:
    naive: Meta = {**meta(), "occurred_at": datetime(2025, 1, 1, 8, 0)}
    event = ConnectorStatusChanged(
        **naive,
        connector_id=ConnectorId("C1-1-1"),
        status=ConnectorStatus.AVAILABLE,
    )
    assert event.problems() == ["occurred_at must be timezone-aware"]


def test_absurd_meter_values_are_bounded_not_trusted() -> None:
    event = MeterSampled(
        **meta(),
        connector_id=ConnectorId("C1-1-1"),
        energy_register_wh=-5,
        power_w=10**9,
        soc_percent=140,
    )
    problems = event.problems()
    assert any("energy register" in p for p in problems)
    assert any("power" in p for p in problems)
    assert any("state of charge" in p for p in problems)


def test_a_charger_claiming_thousands_of_evses_is_refused() -> None:
    one = EvseRecord(
        evse_no=1,
        connectors=(
            ConnectorRecord(
                connector_no=1,
                standard=ConnectorStandard.GBT_DC,
                power_type=PowerType.DC,
                max_power_w=60_000,
            ),
        ),
    )
    evses = tuple(replace(one, evse_no=i) for i in range(1, 1_635))
    record = ChargerRecord(charger_id=ChargerId("C9"), station_id=StationId("S1"), evses=evses)
    assert record.problems() == [f"a charger has 1..{MAX_EVSES_PER_CHARGER} EVSEs, got 1634"]


def test_connector_standard_and_power_type_must_agree() -> None:
    connector = ConnectorRecord(
        connector_no=1,
        standard=ConnectorStandard.GBT_DC,
        power_type=PowerType.AC,
        max_power_w=60_000,
    )
    assert connector.problems() == ["a GB/T DC connector must have power_type dc"]


def test_a_valid_charger_and_station_have_no_problems() -> None:
    assert charger().problems() == []
    assert station().problems() == []


def test_station_rules_name_the_field() -> None:
    record = StationRecord(
        station_id=StationId("S"),
        operator_id=OperatorId("OP"),
        name="x",
        lat=0.0,
        lon=0.0,
        scenic_grade=4,
        parking_spaces=10,
        charging_spaces=12,
        opening_hours="always",
    )
    problems = record.problems()
    assert "coordinates are 0,0 (missing position)" in problems
    assert "scenic_grade is only for category scenic_spot" in problems
    assert "charging_spaces exceeds parking_spaces" in problems
    assert any("opening hours" in p for p in problems)


def test_area_codes_must_fit_their_level_and_parent() -> None:
    wrong_parent = AreaRegistered(
        **meta(),
        code=AreaCode("141002"),
        level=AreaLevel.COUNTY,
        name_zh="x",
        parent_code=AreaCode("140900"),
    )
    assert wrong_parent.problems() == ["code 141002 does not lie under parent 140900"]
    short = AreaRegistered(
        **meta(),
        code=AreaCode("1409021"),
        level=AreaLevel.TOWNSHIP,
        name_zh="x",
        parent_code=AreaCode("140902"),
    )
    assert short.problems() == ["a numeric township code has 9 digits, got 7"]
    unofficial = AreaRegistered(
        **meta(),
        code=AreaCode("WTS-SCENIC"),
        level=AreaLevel.COUNTY,
        name_zh="五台山风景区",
        parent_code=AreaCode("140900"),
    )
    assert unofficial.problems() == []


def test_session_energy_is_bounded() -> None:
    ended = SessionEnded(**meta(), session_id=SessionId("T1"), energy_wh=5_000_000)
    assert ended.problems() == ["session energy 5000000 Wh out of range"]


def test_official_codes_say_their_level_and_chain() -> None:
    from chargenet.core.areas import official_chain, official_level

    assert official_level("140000") is AreaLevel.PROVINCE
    assert official_level("140900") is AreaLevel.CITY
    assert official_level("140902") is AreaLevel.COUNTY
    assert official_level("140902100") is AreaLevel.TOWNSHIP
    assert official_level("140902100201") is AreaLevel.VILLAGE
    assert official_level("450200-LD") is None
    assert official_chain("140000") == {AreaLevel.PROVINCE: "140000"}  # no phantom city
    assert official_chain("140902100") == {
        AreaLevel.PROVINCE: "140000",
        AreaLevel.CITY: "140900",
        AreaLevel.COUNTY: "140902",
        AreaLevel.TOWNSHIP: "140902100",
    }


def test_a_target_is_never_negative() -> None:
    """Seed 002 附件1 plans new public piles per county ("忻府区 296/291/388"): a target counts
    piles, vehicles or a ratio of them, so a negative one is refused at the door, whatever
    sent it."""
    from decimal import Decimal

    from chargenet.core.events import TargetSet

    target = TargetSet(
        **meta(),
        target_id="140902|new_public_piles|2025",
        area_code=AreaCode("140902"),
        metric="new_public_piles",
        value=Decimal(388),
        year=2025,
    )
    assert target.problems() == []
    negative = replace(target, value=Decimal(-388))
    assert [p for p in negative.problems() if "negative" in p]
