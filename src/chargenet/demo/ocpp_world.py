"""Chargers that really speak OCPP: the demo's OCPP fleet, and fleets registered for
`chargenet simulate --register`.

The demo's fleet stands at two hub stations of its own (one per city), added after the rest
of the world so that every other demo id stays as it was. Its chargers are registered with
protocol ocpp1.6 / ocpp2.0.1 and driven over WebSockets by the fleet simulator; their
passwords derive from a fleet secret, which is how the simulator knows them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from chargenet.core.events import (
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
from chargenet.demo.ocpp_fleet import SimCharger
from chargenet.kit.ids import stable_id
from chargenet.kit.secrets import derived_secret

SOURCE = Source(adapter="demo")
DEMO_FLEET_SIZE = 12  # chargers per city
COMMISSIONED = date(2024, 6, 1)
# (city, county code, operator, name)
DEMO_SITES = (
    ("XZ", "140902", "XZ-JB", "忻府区OCPP示范充电站"),
    ("LZ", "450202", "LZ-LC", "城中区OCPP示范充电站"),
)


def demo_fleet_secret(seed: int) -> str:
    return f"chargenet-demo-fleet-{seed}"


def _meta(seed: int, at: datetime, now: datetime, *parts: object) -> dict[str, Any]:
    return {
        "event_id": EventId(stable_id("demo-ocpp", seed, *parts)),
        "source": SOURCE,
        "occurred_at": at,
        "received_at": now,
    }


def fleet_chargers(prefix: str, count: int, secret: str, seed: int) -> list[SimCharger]:
    """`count` chargers, half OCPP 1.6 and half 2.0.1, DC 60–160 kW or AC 7 kW."""
    rng = random.Random(f"{prefix}-{seed}")
    out = []
    for i in range(1, count + 1):
        charger_id = f"{prefix}-{i:03d}"
        dc = rng.random() < 0.6
        power = rng.choice((60_000, 120_000, 160_000)) if dc else 7_000
        out.append(
            SimCharger(
                charger_id=charger_id,
                version="ocpp1.6" if i % 2 else "ocpp2.0.1",
                powers_w=(power, power) if dc else (power,),
                password=derived_secret(secret, charger_id),
            )
        )
    return out


def fleet_events(
    chargers: list[SimCharger],
    *,
    station_id: str,
    operator_id: str,
    name: str,
    lat: float,
    lon: float,
    area_code: str | None,
    now: datetime,
    seed: int,
    operator_name: str | None = None,
) -> list[Event]:
    """Registry events for a fleet at one station (and its operator when named)."""
    at = datetime.combine(COMMISSIONED, datetime.min.time(), UTC)
    events: list[Event] = []
    if operator_name is not None:
        events.append(
            OperatorRegistered(
                **_meta(seed, at, now, "op", operator_id),
                operator=OperatorRecord(operator_id=OperatorId(operator_id), name=operator_name),
            )
        )
    events.append(
        StationRegistered(
            **_meta(seed, at, now, "st", station_id),
            station=StationRecord(
                station_id=StationId(station_id),
                operator_id=OperatorId(operator_id),
                name=name,
                lat=lat,
                lon=lon,
                area_code=AreaCode(area_code) if area_code else None,
                category=SiteCategory.PUBLIC_CAR_PARK,
                access=Access.PUBLIC,
                parking_spaces=len(chargers) * 3,
                charging_spaces=sum(len(c.powers_w) for c in chargers),
                commissioned_on=COMMISSIONED,
            ),
        )
    )
    for spec in chargers:
        dc = spec.powers_w[0] > 22_000
        evses = tuple(
            EvseRecord(
                evse_no=n,
                connectors=(
                    ConnectorRecord(
                        connector_no=1,
                        standard=ConnectorStandard.GBT_DC if dc else ConnectorStandard.GBT_AC,
                        power_type=PowerType.DC if dc else PowerType.AC,
                        max_power_w=power,
                    ),
                ),
            )
            for n, power in enumerate(spec.powers_w, 1)
        )
        events.append(
            ChargerRegistered(
                **_meta(seed, at, now, "ch", spec.charger_id),
                charger=ChargerRecord(
                    charger_id=ChargerId(spec.charger_id),
                    station_id=StationId(station_id),
                    evses=evses,
                    vendor="chargenet-sim",
                    model="SIM-16" if spec.version == "ocpp1.6" else "SIM-201",
                    protocol=spec.version,
                ),
            )
        )
    return events


def demo_fleet(seed: int) -> list[SimCharger]:
    secret = demo_fleet_secret(seed)
    return [
        charger
        for city, _, _, _ in DEMO_SITES
        for charger in fleet_chargers(f"OCPP-{city}", DEMO_FLEET_SIZE, secret, seed)
    ]


def demo_fleet_events(places: Mapping[str, Any], seed: int, now: datetime) -> list[Event]:
    """The demo's OCPP stations, beside the county seats of Xinfu and Chengzhong."""
    secret = demo_fleet_secret(seed)
    events: list[Event] = []
    for city, county, operator_id, name in DEMO_SITES:
        place = places[county]
        events += fleet_events(
            fleet_chargers(f"OCPP-{city}", DEMO_FLEET_SIZE, secret, seed),
            station_id=f"OCPP-{city}-S1",
            operator_id=operator_id,
            name=name,
            lat=round(place.lat + 0.004, 6),
            lon=round(place.lon + 0.004, 6),
            area_code=county,
            now=now,
            seed=seed,
        )
    return events
