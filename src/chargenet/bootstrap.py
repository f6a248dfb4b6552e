"""The composition root: settings → adapters → application. The only place that chooses
implementations; tests call it with their own settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.ocpp.control import OcppControl
from chargenet.adapters.ocpp.gateway import GatewayConfig, OcppGateway
from chargenet.adapters.storage.queries_ocpp import OcppQueries
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
    ocpp: OcppGateway | None = None  # the OCPP server; `chargenet serve` runs it
    ocpp_queries: OcppQueries | None = None

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
    ocpp_queries = OcppQueries(store.read_engine, store.engine)
    ocpp = OcppGateway(pipeline, ocpp_queries, clock, ocpp_config(settings))
    bus.listen(ocpp.forget)
    for protocol in ("ocpp1.6", "ocpp2.0.1"):
        orders.register(protocol, OcppControl(ocpp))
    return Platform(
        settings=settings,
        store=store,
        bus=bus,
        ingestor=ingestor,
        pipeline=pipeline,
        read=ReadModel(store.read_engine),
        orders=orders,
        clock=clock,
        ocpp=ocpp,
        ocpp_queries=ocpp_queries,
    )


def ocpp_config(settings: Settings) -> GatewayConfig:
    profile = settings.ocpp_security_profile
    if settings.ocpp_tls_cert and profile < 2:
        profile = 2
    if settings.ocpp_tls_client_ca:
        profile = 3
    return GatewayConfig(
        heartbeat_s=settings.ocpp_heartbeat_s,
        security_profile=profile,
        tls_cert=settings.ocpp_tls_cert,
        tls_key=settings.ocpp_tls_key,
        tls_client_ca=settings.ocpp_tls_client_ca,
    )
