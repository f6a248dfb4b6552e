"""The composition root: settings → adapters → application. The only place that chooses
implementations; tests call it with their own settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.storage.accounts import SqlUserStore
from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.store import SqlEventStore
from chargenet.app.accounts import AccountService
from chargenet.app.ingest import EventIngestor
from chargenet.app.orders import OrderService
from chargenet.app.pipeline import IngestPipeline
from chargenet.config import Settings
from chargenet.kit.clock import Clock, SystemClock

log = logging.getLogger(__name__)


@dataclass
class Platform:
    settings: Settings
    store: SqlEventStore
    bus: MemoryBus
    ingestor: EventIngestor
    pipeline: IngestPipeline
    read: ReadModel
    orders: OrderService
    accounts: AccountService
    clock: Clock = field(default_factory=SystemClock)

    async def start(self) -> None:
        await self.pipeline.start()

    async def stop(self) -> None:
        await self.pipeline.stop()

    def close(self) -> None:
        self.store.dispose()


def bootstrap(settings: Settings, clock: Clock | None = None) -> Platform:
    store = SqlEventStore(settings.database_url, synchronous=settings.sqlite_synchronous)
    if settings.auto_migrate:
        store.upgrade()
    elif not store.is_current():
        raise RuntimeError("the database schema is not current: run `chargenet db upgrade`")
    bus = MemoryBus()
    ingestor = EventIngestor(store, bus)
    pipeline = IngestPipeline(ingestor, max_batch=settings.ingest_max_batch)
    clock = clock or SystemClock()
    return Platform(
        settings=settings,
        store=store,
        bus=bus,
        ingestor=ingestor,
        pipeline=pipeline,
        read=ReadModel(store.read_engine),
        orders=OrderService(pipeline, clock),
        accounts=AccountService(SqlUserStore(store.engine, store.read_engine), clock),
        clock=clock,
    )
