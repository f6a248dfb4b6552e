"""The composition root: settings → adapters → application. The only place that chooses
implementations; tests call it with their own settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.ocpi.ids import parse_party
from chargenet.adapters.ocpi.party import OcpiParty, OcpiSettings
from chargenet.adapters.ocpi.registration import Identity
from chargenet.adapters.storage.queries_ocpi import OcpiReads, SqlOcpiDirectory
from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.store import SqlEventStore
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
        clock=clock,
    )


def build_ocpi(platform: Platform) -> OcpiParty:
    """The OCPI party of a platform (docs/ocpi.md)."""
    s = platform.settings
    identity = Identity(
        party=parse_party(s.ocpi_party),
        name=s.ocpi_name,
        base_url=s.public_url or f"http://{s.host}:{s.port}",
    )
    return OcpiParty(
        settings=OcpiSettings(
            identity=identity,
            time_zone=s.local_timezone,
            currency=s.currency,
            pull_interval_s=s.ocpi_pull_interval_s,
            open_data_per_minute=s.open_data_per_minute,
        ),
        directory=SqlOcpiDirectory(s.database_url),
        reads=OcpiReads(platform.store.read_engine),
        submit=platform.pipeline.submit,
        clock=platform.clock,
    )
