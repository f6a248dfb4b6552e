"""The demo city's recent past: the last 35 days of what the live city does (demo/live.py),
written as events at their own times, so that the dashboard's first morning already has a
month of uptime, repairs, sessions and zombie piles to show (the supervision figures need
history; without it every connector would be "no data" until the demo had run a month).

Per charger: it connects when the history starts (or when it came into service, if later)
and now and then drops off the network for ten minutes to six hours. Per connector: it
fails now and then and is repaired an hour to a few days later; operators differ in how
often and how long (a quality factor), so their scorecards differ. Most chargers served a
session in the last three weeks; a few served none (idle zombies), a few never connected
(silent), and a few connectors are broken or out of service now.

Every event is received when it occurred (no artificial reporting latency), and ids are
stable for a seed, so the same seed builds the same past. Sessions of the past come
without their charging statuses (both count as up time) and faults with ordinary error
codes: it keeps the past to about 50,000 events, which ingest in some ten seconds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    SessionEnded,
    SessionStarted,
    Source,
)
from chargenet.core.ids import ChargerId, ConnectorId, EventId, SessionId
from chargenet.core.money import Money
from chargenet.core.registry.piles import is_pile
from chargenet.core.status import ConnectorStatus
from chargenet.kit.ids import stable_id

HISTORY = timedelta(days=35)
SOURCE = Source(adapter="demo")
FAULT_CODES = (  # the ordinary ones: the safety rules' codes come with the live city
    "OtherError",
    "PowerMeterFailure",
    "ConnectorLockFailure",
    "EVCommunicationError",
)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Equipment:
    charger_id: ChargerId
    operator_id: str
    station_id: str
    public: bool
    registered_at: datetime
    connectors: tuple[tuple[ConnectorId, int, bool], ...]  # id, max power W, DC


@dataclass
class _Past:
    seed: int
    now: datetime
    rng: random.Random
    events: list[Event]

    def meta(self, at: datetime, *parts: object) -> dict[str, Any]:
        return {
            "event_id": EventId(stable_id("demo", self.seed, "history", *parts)),
            "source": SOURCE,
            "occurred_at": at,
            "received_at": at,
        }

    def status(self, at: datetime, connector_id: str, status: ConnectorStatus, **kw: Any) -> None:
        self.events.append(
            ConnectorStatusChanged(
                **self.meta(at, "status", connector_id, at.isoformat()),
                connector_id=ConnectorId(connector_id),
                status=status,
                **kw,
            )
        )

    def presence(self, at: datetime, charger_id: str, online: bool, reason: str) -> None:
        self.events.append(
            ChargerPresenceChanged(
                **self.meta(at, "presence", charger_id, at.isoformat()),
                charger_id=ChargerId(charger_id),
                online=online,
                reason=reason,
            )
        )

    def spans(self, start: datetime, end: datetime, every: timedelta) -> list[datetime]:
        """Starts of events arriving at random (Poisson) with mean spacing `every`."""
        out: list[datetime] = []
        t = start
        while True:
            t += timedelta(seconds=self.rng.expovariate(1 / every.total_seconds()))
            if t >= end:
                return out
            out.append(t)


def history(equipment: Sequence[Equipment], now: datetime, seed: int) -> list[Event]:
    """The events of the last 35 days for `equipment`, in time order."""
    rng = random.Random(seed * 31 + 7)
    past = _Past(seed, now, rng, [])
    start = now - HISTORY
    operators = sorted({e.operator_id for e in equipment})
    # Operators differ: 0.4 fails rarely and repairs fast, 1.6 often and slowly.
    quality = {op: rng.uniform(0.4, 1.6) for op in operators}
    prices: dict[str, Decimal] = {}
    silent = set(rng.sample(range(len(equipment)), k=max(1, len(equipment) // 60)))
    for n, item in enumerate(equipment):
        if n in silent:
            continue  # never connected: a zombie candidate
        q = quality[item.operator_id]
        t0 = min(max(start, item.registered_at + HOUR), now - timedelta(minutes=10))
        past.presence(t0, item.charger_id, True, "connected")
        for lost in past.spans(t0, now - 6 * HOUR, timedelta(days=120) / q):
            back = lost + timedelta(seconds=rng.uniform(600, 6 * 3600))
            past.presence(lost, item.charger_id, False, "connection lost")
            past.presence(back, item.charger_id, True, "reconnected")
        busy: dict[str, list[tuple[datetime, datetime]]] = {}
        for connector_id, _, _ in item.connectors:
            past.status(t0 + timedelta(seconds=1), connector_id, ConnectorStatus.AVAILABLE)
            roll = rng.random()
            final = (
                ConnectorStatus.FAULTED
                if roll < 0.025
                else ConnectorStatus.UNAVAILABLE
                if roll < 0.035
                else ConnectorStatus.AVAILABLE
            )
            end = now - timedelta(minutes=10)
            if final is not ConnectorStatus.AVAILABLE:
                end = t0 + (now - HOUR - t0) * rng.random() + timedelta(seconds=2)
            down = busy.setdefault(connector_id, [])
            for failed in past.spans(t0 + timedelta(seconds=2), end, timedelta(days=80) / q):
                repaired = failed + timedelta(hours=rng.uniform(1, 48) * q)
                if repaired >= end:
                    break
                past.status(
                    failed,
                    connector_id,
                    ConnectorStatus.FAULTED,
                    error_code=rng.choice(FAULT_CODES),
                )
                past.status(repaired, connector_id, ConnectorStatus.AVAILABLE, info="repaired")
                down.append((failed, repaired))
            if final is not ConnectorStatus.AVAILABLE:
                past.status(
                    end,
                    connector_id,
                    final,
                    error_code="OtherError" if final is ConnectorStatus.FAULTED else None,
                    info="taken out of service" if final is ConnectorStatus.UNAVAILABLE else None,
                )
                down.append((end, now))
        if rng.random() < 0.03:
            continue  # served nobody lately: an idle zombie if public and long available
        piles = [c for c in item.connectors if is_pile(c[1])]
        if not piles:
            continue
        connector_id, power_w, dc = rng.choice(piles)
        price = prices.setdefault(item.station_id, Decimal(rng.randint(90, 180)) / 100)
        earliest = max(t0 + HOUR, now - timedelta(days=20))
        for _ in range(5):
            begin = earliest + (now - 3 * HOUR - earliest) * rng.random()
            energy_wh = int(rng.uniform(15_000, 50_000) if dc else rng.uniform(8_000, 35_000))
            hours = energy_wh / (power_w * rng.uniform(0.5, 0.95))
            finish = begin + timedelta(hours=hours)
            clash = any(a < finish and begin < b for a, b in busy.get(connector_id, ()))
            if earliest < now - 3 * HOUR and finish < now - HOUR and not clash:
                break
        else:
            continue
        session_id = SessionId(f"demo-h-{stable_id(seed, item.charger_id)[:16]}")
        register = rng.randint(0, 5_000_000)
        past.events.append(
            SessionStarted(
                **past.meta(begin, "session", session_id),
                session_id=session_id,
                connector_id=connector_id,
                meter_start_wh=register,
            )
        )
        cost = (price * energy_wh / 1000).quantize(Decimal("0.01"))
        past.events.append(
            SessionEnded(
                **past.meta(finish, "session-end", session_id),
                session_id=session_id,
                meter_stop_wh=register + energy_wh,
                stop_reason="EVDisconnected",
                cost=Money(cost, "CNY"),
            )
        )
    past.events.sort(key=lambda e: e.occurred_at)
    return past.events
