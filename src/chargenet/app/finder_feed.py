"""Keeps the live index (`app/finder.py`) current from the bus.

Subscribe first, then load: an event that lands during the load waits in the queue and is
applied after it, where the store's own rule (`core.status.newest_report`, which the index
applies) drops it if the load already saw something newer. Registry events and stop orders
reload the stations they concern from state (committed before the bus hears of them); if
the subscription ever loses events, the whole index is reloaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from chargenet.app.finder import FinderRow, LiveIndex, ParkingFee, Price
from chargenet.core.events import (
    ChargerPresenceChanged,
    ChargerRegistered,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    ConnectorTariffsSet,
    Event,
    StationPricesPublished,
    StationPublicHoursSet,
    StationRegistered,
    StationRetired,
    StationUpdated,
    StopOrderIssued,
    StopOrderLifted,
    TariffPublished,
    TariffWithdrawn,
)
from chargenet.core.tariffs import DayTariff
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)
PRICE_WINDOW = timedelta(days=30)
MAX_BATCH = 5_000
# What changes a station's published prices or parking fee: reload them at once.
PRICE_EVENTS = (StationPricesPublished, TariffPublished, TariffWithdrawn, ConnectorTariffsSet)
# Changes people make that the index shows once applied (`LiveIndex.heard`): a page that
# made one waits for its id (the stop-order routes answer with it) before it reloads.
NOTED = (
    StationRegistered,
    StationUpdated,
    StationRetired,
    StationPublicHoursSet,
    ChargerRegistered,
    ChargerUpdated,
    ChargerRetired,
    StopOrderIssued,
    StopOrderLifted,
    *PRICE_EVENTS,
)


class FinderSource(Protocol):
    def finder_rows(self, station_ids: Sequence[str] | None = None) -> list[FinderRow]:
        """One row per connector in service (station fields on each); stations without a
        connector in service come as one row with connector None."""
        ...

    def station_prices(self, since: datetime) -> dict[str, Price]: ...

    def station_tariffs(self) -> dict[str, DayTariff]:
        """Each station's day tariff as its operator published it (whole-station scope)."""
        ...

    def station_parking(self) -> dict[str, ParkingFee]:
        """Each station's parking fee where its operator published one."""
        ...


class Subscription(Protocol):
    dropped: int

    async def get(self) -> Event: ...

    def get_nowait(self) -> Event | None: ...

    def close(self) -> None: ...


def apply(index: LiveIndex, event: Event) -> set[str]:
    """Apply one event; returns the stations whose registry data must be reloaded."""
    if isinstance(event, ConnectorStatusChanged):
        index.set_status(event.connector_id, event.status, event.occurred_at)
    elif isinstance(event, ChargerPresenceChanged):
        index.set_presence(event.charger_id, event.online, event.occurred_at)
    elif isinstance(event, StationRegistered | StationUpdated):
        return {event.station.station_id}
    elif isinstance(event, StationRetired | StationPublicHoursSet):
        return {event.station_id}
    elif isinstance(event, ChargerRegistered | ChargerUpdated):
        before = index.station_of_charger(event.charger.charger_id)
        return {event.charger.station_id} | ({before} if before else set())
    elif isinstance(event, ChargerRetired):
        before = index.station_of_charger(event.charger_id)
        return {before} if before else set()
    elif isinstance(event, StopOrderIssued):
        if event.target_kind.value == "station":
            return {event.target_id}
        station = index.station_of_charger(event.target_id)
        return {station} if station else set()
    elif isinstance(event, StopOrderLifted):
        # The event names only the order: reload every station held by one (a handful);
        # state, committed before the bus hears of it, says which are still stopped.
        return index.stopped_stations()
    return set()


async def follow(
    index: LiveIndex,
    source: FinderSource,
    subscribe: Callable[[], Subscription],
    clock: Clock,
    *,
    price_every_s: float = 300.0,
) -> None:
    """Load the index and keep it current until cancelled."""
    subscription = subscribe()
    try:
        await _reload(index, source, clock)
        dropped = subscription.dropped
        while True:
            try:
                first = await wait_at_most(subscription.get(), price_every_s)
            except TimeoutError:
                await _prices(index, source, clock)
                continue
            batch = [first]
            while len(batch) < MAX_BATCH and (more := subscription.get_nowait()) is not None:
                batch.append(more)
            noted = [e.event_id for e in batch if isinstance(e, NOTED)]
            if subscription.dropped != dropped:
                log.warning("finder index fell behind the bus; reloading it")
                dropped = subscription.dropped
                await _reload(index, source, clock)  # state holds what the batch changed
                index.heard(noted)
                continue
            dirty: set[str] = set()
            for event in batch:
                dirty |= apply(index, event)
            if any(isinstance(e, PRICE_EVENTS) for e in batch):
                await _prices(index, source, clock)
            if dirty:
                rows = await asyncio.to_thread(source.finder_rows, sorted(dirty))
                index.replace_stations(dirty, rows)
            if noted:  # only now: what they changed is what the index answers
                index.heard(noted)
    finally:
        subscription.close()


async def _reload(index: LiveIndex, source: FinderSource, clock: Clock) -> None:
    rows = await asyncio.to_thread(source.finder_rows)
    await _prices(index, source, clock)  # before the index says it is loaded
    index.load(rows)
    log.info("finder index loaded: %d stations", len(index.stations))


async def _prices(index: LiveIndex, source: FinderSource, clock: Clock) -> None:
    index.prices = await asyncio.to_thread(source.station_prices, clock.now() - PRICE_WINDOW)
    index.tariffs = await asyncio.to_thread(source.station_tariffs)
    index.parking = await asyncio.to_thread(source.station_parking)
