"""The composition root: settings → adapters → application. The only place that chooses
implementations; tests call it with their own settings."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.storage.queries_supervision import SupervisionReads
from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.store import SqlEventStore
from chargenet.app.ingest import EventIngestor
from chargenet.app.orders import OrderService
from chargenet.app.pipeline import IngestPipeline
from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_config import SupervisionConfig, config_from_mapping
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
    supervision: SupervisionService
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
    orders = OrderService(pipeline, clock)
    supervision = SupervisionService(
        SupervisionReads(store.read_engine), pipeline, orders, clock, supervision_config(settings)
    )
    return Platform(
        settings=settings,
        store=store,
        bus=bus,
        ingestor=ingestor,
        pipeline=pipeline,
        read=ReadModel(store.read_engine),
        orders=orders,
        supervision=supervision,
        clock=clock,
    )


def supervision_config(settings: Settings) -> SupervisionConfig:
    """Supervision defaults, overridden by the TOML file the settings name (if any)."""
    data: dict[str, object] = {}
    if settings.supervision_config:
        with open(settings.supervision_config, "rb") as file:
            data = tomllib.load(file)
    return config_from_mapping(data, local_timezone=settings.local_timezone)
