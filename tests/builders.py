"""Builders with defaults: a test states only what matters to it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from chargenet.core.areas import AreaLevel
from chargenet.core.events import (
    AreaRegistered,
    ChargerRegistered,
    Event,
    OperatorRegistered,
    Source,
    StationRegistered,
)
from chargenet.core.ids import AreaCode, ChargerId, EventId, OperatorId, StationId
from chargenet.core.registry.model import (
    Access,
    ChargerRecord,
    ConnectorRecord,
    ConnectorStandard,
    EvseRecord,
    OperatorRecord,
    PowerType,
    SiteCategory,
    StationRecord,
)

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
_ids = itertools.count(1)


class Meta(TypedDict):
    """The fields every event starts with, for `Event(**meta(), ...)`."""

    event_id: EventId
    source: Source
    occurred_at: datetime
    received_at: datetime


def meta(
    at: datetime | None = None,
    *,
    event_id: str | None = None,
    adapter: str = "test",
    operator_id: str | None = None,
) -> Meta:
    when = at or T0
    return {
        "event_id": EventId(event_id or f"ev-{next(_ids)}"),
        "source": Source(
            adapter=adapter, operator_id=None if operator_id is None else OperatorId(operator_id)
        ),
        "occurred_at": when,
        "received_at": when,
    }


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def areas() -> list[Event]:
    """Shanxi › Xinzhou › Xinfu District › one township › one village, with points."""
    return [
        AreaRegistered(
            **meta(),
            code=AreaCode("140000"),
            level=AreaLevel.PROVINCE,
            name_zh="山西省",
            name_en="Shanxi",
        ),
        AreaRegistered(
            **meta(),
            code=AreaCode("140900"),
            level=AreaLevel.CITY,
            name_zh="忻州市",
            parent_code=AreaCode("140000"),
            name_en="Xinzhou",
            lat=38.417,
            lon=112.734,
        ),
        AreaRegistered(
            **meta(),
            code=AreaCode("140902"),
            level=AreaLevel.COUNTY,
            name_zh="忻府区",
            parent_code=AreaCode("140900"),
            name_en="Xinfu District",
            lat=38.404,
            lon=112.746,
        ),
        AreaRegistered(
            **meta(),
            code=AreaCode("140981"),
            level=AreaLevel.COUNTY,
            name_zh="原平市",
            parent_code=AreaCode("140900"),
            name_en="Yuanping City",
            lat=38.73,
            lon=112.71,
        ),
        AreaRegistered(
            **meta(),
            code=AreaCode("140902100"),
            level=AreaLevel.TOWNSHIP,
            name_zh="豆罗镇",
            parent_code=AreaCode("140902"),
            name_en="Douluo Town",
            lat=38.55,
            lon=112.80,
        ),
        AreaRegistered(
            **meta(),
            code=AreaCode("140902100201"),
            level=AreaLevel.VILLAGE,
            name_zh="豆罗村",
            parent_code=AreaCode("140902100"),
            name_en="Douluo Village",
            lat=38.56,
            lon=112.81,
        ),
    ]


def operator(operator_id: str = "OP1", **kw: Any) -> OperatorRegistered:
    record = OperatorRecord(
        operator_id=OperatorId(operator_id), name=kw.pop("name", "Operator One"), **kw
    )
    return OperatorRegistered(**meta(kw.pop("when", None)), operator=record)


def station(
    station_id: str = "S1", operator_id: str = "OP1", *, when: datetime | None = None, **kw: Any
) -> StationRegistered:
    fields: dict[str, Any] = {
        "name": "Station",
        "lat": 38.405,
        "lon": 112.747,
        "category": SiteCategory.PUBLIC_CAR_PARK,
        "access": Access.PUBLIC,
        **kw,
    }
    return StationRegistered(
        **meta(when),
        station=StationRecord(
            station_id=StationId(station_id), operator_id=OperatorId(operator_id), **fields
        ),
    )


def charger(
    charger_id: str = "C1",
    station_id: str = "S1",
    *,
    guns: int = 2,
    power_w: int = 60_000,
    dc: bool = True,
    protocol: str | None = "ocpp1.6",
    when: datetime | None = None,
) -> ChargerRegistered:
    connector = ConnectorRecord(
        connector_no=1,
        standard=ConnectorStandard.GBT_DC if dc else ConnectorStandard.GBT_AC,
        power_type=PowerType.DC if dc else PowerType.AC,
        max_power_w=power_w,
    )
    record = ChargerRecord(
        charger_id=ChargerId(charger_id),
        station_id=StationId(station_id),
        protocol=protocol,
        evses=tuple(EvseRecord(evse_no=i, connectors=(connector,)) for i in range(1, guns + 1)),
    )
    return ChargerRegistered(**meta(when), charger=record)


def small_world() -> list[Event]:
    """Areas, one operator, one station with a two-gun DC charger (C1-1-1, C1-2-1)."""
    return [*areas(), operator(), station(), charger()]
