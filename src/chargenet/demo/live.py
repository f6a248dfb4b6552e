"""The demo city's activity: drivers arrive, charge and leave; piles fail and get
repaired; chargers drop off the network and come back.

Every change enters through the same ingest pipeline as protocol data (source adapter
"demo"). Times are real: `speed` makes drivers arrive more often and leave sooner, but
energy always equals power × real elapsed time, so every session stays physically
plausible and passes the same checks as real data.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chargenet.app.pipeline import IngestPipeline
from chargenet.app.queries import StateQueries
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    EventMeta,
    MeterSampled,
    SessionEnded,
    SessionStarted,
    Source,
    event_meta,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId
from chargenet.core.registry.piles import is_pile
from chargenet.core.status import ConnectorStatus
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id


class Platform(Protocol):
    """What the activity needs of the running platform."""

    @property
    def read(self) -> StateQueries: ...

    @property
    def pipeline(self) -> IngestPipeline: ...

    @property
    def clock(self) -> Clock: ...


log = logging.getLogger(__name__)
SOURCE = Source(adapter="demo")
DAY = 86_400.0
METER_INTERVAL_S = 60.0
FAULT_CODES = (
    "GroundFailure",
    "HighTemperature",
    "OverCurrentFailure",
    "PowerMeterFailure",
    "ConnectorLockFailure",
    "EVCommunicationError",
    "OtherError",
)


@dataclass
class Pile:
    connector_id: ConnectorId
    charger_id: ChargerId
    max_power_w: int
    dc: bool
    public: bool
    status: ConnectorStatus
    register_wh: int
    session: SessionId | None = None
    power_w: int = 0
    ends_at: float = 0.0
    last_meter: float = 0.0
    repair_at: float = 0.0


@dataclass
class Charger:
    online: bool
    silent: bool  # never connected: a zombie candidate
    back_at: float = 0.0


class LiveCity:
    def __init__(
        self,
        piles: list[Pile],
        chargers: dict[ChargerId, Charger],
        submit: Callable[[list[Event]], Awaitable[object]],
        now: Callable[[], datetime],
        seed: int,
        speed: float,
    ) -> None:
        self.piles = piles
        self.chargers = chargers
        self.submit = submit
        self.now = now
        self.rng = random.Random(seed)
        self.speed = speed
        self.held: set[ChargerId] = set()  # under a stop order: left alone until resumed

    def set_charger(self, charger_id: ChargerId, status: ConnectorStatus, info: str) -> list[Event]:
        """Put every connector of a charger in `status` (a stop order or its lifting): a
        running session ends first. Held chargers stay as they are until released."""
        if status is ConnectorStatus.AVAILABLE:
            self.held.discard(charger_id)
        else:
            self.held.add(charger_id)
        out: list[Event] = []
        for pile in self.piles:
            if pile.charger_id != charger_id:
                continue
            if pile.session is not None:
                out += self._end(pile)[:1]  # the SessionEnded; the status follows
            pile.status = status
            out.append(
                ConnectorStatusChanged(
                    **self._meta(), connector_id=pile.connector_id, status=status, info=info
                )
            )
        return out

    def _meta(self) -> EventMeta:
        return event_meta(new_id(), SOURCE, self.now())

    def step(self, t: float, dt: float) -> list[Event]:
        """Events for the `dt` seconds ending at monotonic time `t`."""
        out: list[Event] = []
        rng = self.rng
        hour_factor = 1.0
        for charger_id, charger in self.chargers.items():
            if charger.silent:
                continue
            if charger.online and rng.random() < dt * self.speed / (25 * DAY):
                charger.online = False
                charger.back_at = t + rng.uniform(600, 6 * 3600) / self.speed
                out.append(
                    ChargerPresenceChanged(
                        **self._meta(),
                        charger_id=charger_id,
                        online=False,
                        reason="connection lost",
                    )
                )
            elif not charger.online and t >= charger.back_at:
                charger.online = True
                out.append(
                    ChargerPresenceChanged(
                        **self._meta(), charger_id=charger_id, online=True, reason="reconnected"
                    )
                )
        for pile in self.piles:
            charger = self.chargers[pile.charger_id]
            if charger.silent or not charger.online or pile.charger_id in self.held:
                continue
            if pile.session is not None:
                pile.register_wh += round(pile.power_w * dt / 3600)
                if t >= pile.ends_at:
                    out += self._end(pile)
                elif t - pile.last_meter >= METER_INTERVAL_S:
                    pile.last_meter = t
                    out.append(
                        MeterSampled(
                            **self._meta(),
                            connector_id=pile.connector_id,
                            session_id=pile.session,
                            energy_register_wh=pile.register_wh,
                            power_w=pile.power_w,
                            soc_percent=round(rng.uniform(20, 95), 1),
                            temperature_c=round(rng.uniform(25, 55), 1),
                        )
                    )
                continue
            if pile.status is ConnectorStatus.FAULTED:
                if t >= pile.repair_at:
                    pile.status = ConnectorStatus.AVAILABLE
                    out.append(
                        ConnectorStatusChanged(
                            **self._meta(),
                            connector_id=pile.connector_id,
                            status=pile.status,
                            info="repaired",
                        )
                    )
                continue
            if pile.status is not ConnectorStatus.AVAILABLE:
                continue
            if rng.random() < dt * self.speed / (40 * DAY):
                pile.status = ConnectorStatus.FAULTED
                pile.repair_at = t + rng.uniform(2 * 3600, 3 * DAY) / self.speed
                out.append(
                    ConnectorStatusChanged(
                        **self._meta(),
                        connector_id=pile.connector_id,
                        status=pile.status,
                        error_code=rng.choice(FAULT_CODES),
                    )
                )
                continue
            daily = (5.0 if pile.dc else 1.5) if pile.public else 0.8
            if (
                is_pile(pile.max_power_w)
                and rng.random() < dt * self.speed * daily * hour_factor / DAY
            ):
                out += self._start(pile, t)
        return out

    def _start(self, pile: Pile, t: float) -> list[Event]:
        rng = self.rng
        pile.session = SessionId(f"demo-{new_id()[:16]}")
        pile.power_w = int(pile.max_power_w * rng.uniform(0.5, 0.95))
        energy_wh = rng.uniform(15_000, 50_000) if pile.dc else rng.uniform(8_000, 35_000)
        pile.ends_at = t + energy_wh / pile.power_w * 3600 / self.speed
        pile.last_meter = t
        pile.status = ConnectorStatus.CHARGING
        return [
            SessionStarted(
                **self._meta(),
                session_id=pile.session,
                connector_id=pile.connector_id,
                meter_start_wh=pile.register_wh,
            ),
            ConnectorStatusChanged(
                **self._meta(), connector_id=pile.connector_id, status=ConnectorStatus.CHARGING
            ),
        ]

    def _end(self, pile: Pile) -> list[Event]:
        assert pile.session is not None
        events: list[Event] = [
            SessionEnded(
                **self._meta(),
                session_id=pile.session,
                meter_stop_wh=pile.register_wh,
                stop_reason="EVDisconnected",
            ),
            ConnectorStatusChanged(
                **self._meta(), connector_id=pile.connector_id, status=ConnectorStatus.AVAILABLE
            ),
        ]
        pile.session = None
        pile.power_w = 0
        pile.status = ConnectorStatus.AVAILABLE
        return events


def load_city(platform: Platform, seed: int, speed: float) -> LiveCity:
    """The demo's piles and chargers as state says they are now."""
    rng = random.Random(seed + 1)
    rows, _ = platform.read.connectors(limit=10_000_000)
    chargers: dict[ChargerId, Charger] = {}
    piles: list[Pile] = []
    public = {r["station_id"] for r in platform.read.stations(access="public", limit=10_000_000)[0]}
    # Chargers that speak OCPP themselves are driven by the fleet simulator, not here.
    from chargenet.demo.ocpp_world import demo_fleet

    talking = {c.charger_id for c in demo_fleet(seed)}
    for row in rows:
        if row["charger_id"] in talking:
            continue
        charger_id = ChargerId(row["charger_id"])
        online = bool(row["charger_online"])
        if charger_id not in chargers:
            chargers[charger_id] = Charger(online=online, silent=row["reported_status"] is None)
        if row["session_id"] is not None:
            status = ConnectorStatus.CHARGING
        else:
            status = ConnectorStatus(row["reported_status"] or "offline")
        pile = Pile(
            connector_id=ConnectorId(row["connector_id"]),
            charger_id=charger_id,
            max_power_w=row["max_power_w"],
            dc=row["power_type"] == "dc",
            public=row["station_id"] in public,
            status=status,
            register_wh=row["energy_register_wh"] or rng.randint(0, 5_000_000),
        )
        if row["session_id"] is not None:
            # A session left open by the previous run: close it now, honestly.
            pile.session = SessionId(row["session_id"])
            pile.power_w = 0
            pile.ends_at = 0.0
        piles.append(pile)
    return LiveCity(piles, chargers, platform.pipeline.submit, platform.clock.now, seed, speed)


def live_city(
    seed: int, speed: float, tick_s: float = 1.0, holds: Any = None
) -> Callable[[Platform], Awaitable[None]]:
    """A background job for the web app: the city's activity until cancelled. `holds`
    (demo.control.Holds) shares the chargers held by stop orders with their controller."""

    async def run(platform: Platform) -> None:
        city = await asyncio.to_thread(load_city, platform, seed, speed)
        if holds is not None:
            city.held |= holds.chargers
            holds.city = city
        log.info("demo city live: %d connectors, speed ×%g", len(city.piles), speed)
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(tick_s)
            t = loop.time()
            events = city.step(t, t - last)
            last = t
            if events:
                await city.submit(events)

    run.__name__ = "demo_city"
    return run
