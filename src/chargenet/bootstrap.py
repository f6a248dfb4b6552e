"""The composition root: settings → adapters → application. The only place that chooses
implementations; tests call it with their own settings."""

from __future__ import annotations

import logging
import multiprocessing
import tomllib
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from zoneinfo import ZoneInfo

from chargenet.adapters.bus.memory import MemoryBus
from chargenet.adapters.ocpi.forward import UpstreamPeers, ocpi_pushes
from chargenet.adapters.ocpi.ids import parse_party
from chargenet.adapters.ocpi.party import OcpiParty, OcpiSettings
from chargenet.adapters.ocpi.registration import Identity
from chargenet.adapters.ocpp.admission import AdmissionConfig
from chargenet.adapters.ocpp.control import OcppControl
from chargenet.adapters.ocpp.gateway import GatewayConfig, OcppGateway
from chargenet.adapters.storage import history
from chargenet.adapters.storage.accounts import SqlUserStore
from chargenet.adapters.storage.channels import SqlChannelStore
from chargenet.adapters.storage.interface_log import SqlInterfaceLog
from chargenet.adapters.storage.log_tail import LogTail
from chargenet.adapters.storage.outbox import SqlDeliveryStore
from chargenet.adapters.storage.queries_credit import CreditReads
from chargenet.adapters.storage.queries_incidents import IncidentReads
from chargenet.adapters.storage.queries_inspections import InspectionReads
from chargenet.adapters.storage.queries_ocpi import (
    OcpiReads,
    SqlOcpiDirectory,
    registered_upstreams,
)
from chargenet.adapters.storage.queries_ocpp import OcppQueries
from chargenet.adapters.storage.queries_orderly import OrderlyReads
from chargenet.adapters.storage.queries_parking import ParkingReads
from chargenet.adapters.storage.queries_planning import PlanningQueries
from chargenet.adapters.storage.queries_settlement import SqlSettlementReads
from chargenet.adapters.storage.queries_supervision import SupervisionReads
from chargenet.adapters.storage.queries_swap import SwapReads
from chargenet.adapters.storage.queries_tcec import SettlementReadModel
from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.shared_state import (
    SqlRateLimiter,
    SqlSeen,
    SqlThrottleRecords,
    SqlTokenRecords,
)
from chargenet.adapters.storage.store import SqlEventStore
from chargenet.adapters.storage.tcec_config import SqlPartnerStore
from chargenet.adapters.tcec.crypto import Vault, master_keys
from chargenet.adapters.tcec.party import TcecGateway, TcecOptions
from chargenet.adapters.tcec.pushes import STATUS_PUSH, TCEC_KINDS, status_pushes
from chargenet.adapters.tcec.security import SharedTokenIssuer
from chargenet.adapters.webhook.control import WebhookControl, WebhookSender
from chargenet.adapters.webhook.signing import Sealer
from chargenet.app.accounts import AccountService
from chargenet.app.channels import ChannelService
from chargenet.app.credit import CreditService
from chargenet.app.filings import Filings
from chargenet.app.incidents import IncidentService
from chargenet.app.ingest import Attached, EventIngestor, Outcome
from chargenet.app.inspections import InspectionService
from chargenet.app.login_throttle import LoginThrottle
from chargenet.app.orderly import OrderlyService
from chargenet.app.orderly_figures import OrderlyFigures
from chargenet.app.orders import OrderService
from chargenet.app.outbox import Backoff, DeliveryRule, DeliveryStore, OutboxWorker
from chargenet.app.pipeline import IngestPipeline, WriterProcess
from chargenet.app.planning import PlanningService
from chargenet.app.planning_build import BuildPlanner
from chargenet.app.settlement import (
    AuthMode,
    Authoriser,
    DriverService,
    RemoteCharging,
    SettlementService,
)
from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_config import SupervisionConfig, config_from_mapping
from chargenet.config import Settings, warn_retired
from chargenet.core.billing import Tolerance
from chargenet.core.drivers import DEVELOPMENT_TOKEN_KEY, TokenKey
from chargenet.core.events import Event
from chargenet.core.tariffs import GridTou, grid_tou_from_toml
from chargenet.kit.clock import Clock, SystemClock
from chargenet.kit.timeutil import to_local

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
    tcec: TcecGateway  # T/CEC 102 interconnection (docs/tcec.md)
    outbox: OutboxWorker  # deliveries to partners that must arrive (app/outbox.py)
    supervision: SupervisionService
    accounts: AccountService
    clock: Clock = field(default_factory=SystemClock)
    ocpp: OcppGateway | None = None  # the OCPP server; `chargenet serve` runs it
    ocpp_queries: OcppQueries | None = None
    # Operators' own channels for orders and notices (signed webhooks, docs/supervision.md).
    channels: ChannelService | None = None
    channel_sealer: Sealer | None = None
    # drivers, their tokens and money (docs/settlement.md); built by `bootstrap`
    settlement_reads: SqlSettlementReads | None = None
    authoriser: Authoriser | None = None
    # the OCPI upstream platforms the delivery rule forwards to (adapters/ocpi/forward.py)
    ocpi_upstreams: UpstreamPeers | None = None
    # The key of token digests (CHARGENET_TOKEN_SECRET), read once by `bootstrap`.
    token_key: TokenKey = DEVELOPMENT_TOKEN_KEY
    # `serve` alone on its database: the log read for others' registry changes (log_tail.py)
    registry_tail: LogTail | None = None

    @cached_property
    def drivers(self) -> DriverService:
        assert self.settlement_reads is not None
        return DriverService(
            self.settlement_reads,
            self.accounts,
            self.pipeline,
            self.clock,
            self.token_key,
            self.settings.currency,
        )

    @cached_property
    def settlement(self) -> SettlementService:
        assert self.settlement_reads is not None
        return SettlementService(
            self.settlement_reads,
            self.pipeline,
            self.clock,
            fee_rate=self.settings.settlement_fee_rate,
            tolerance=Tolerance(
                self.settings.dispute_energy_tolerance_wh, self.settings.dispute_amount_tolerance
            ),
            currency=self.settings.currency,
        )

    @cached_property
    def charging(self) -> RemoteCharging:
        assert self.settlement_reads is not None and self.authoriser is not None
        return RemoteCharging(
            self.settlement_reads,
            self.drivers,
            self.authoriser,
            self.orders,
            self.settlement,
            self.clock,
        )

    async def start(self) -> None:
        await self.pipeline.start()

    async def stop(self) -> None:
        await self.pipeline.stop()

    def close(self) -> None:
        self.store.dispose()

    @cached_property
    def orderly(self) -> OrderlyService:
        """Orderly charging: plans sessions under site limits and prices (docs/orderly.md)."""
        tou = grid_tou(self.settings)
        return OrderlyService(
            queries=OrderlyReads(self.store.read_engine),
            orders=self.orders,
            pipeline=self.pipeline,
            clock=self.clock,
            zone=ZoneInfo(self.settings.local_timezone),
            tou=tou,
        )

    @cached_property
    def orderly_figures(self) -> OrderlyFigures:
        """Load against limits, demand response measured, flexibility ahead."""
        return OrderlyFigures(self.orderly, OrderlyReads(self.store.read_engine))

    @cached_property
    def build(self) -> BuildPlanner:
        """Demand, sized sites with cost and grid, phases and scenarios (docs/planning.md)."""
        return BuildPlanner(self.planning, PlanningQueries(self.store.read_engine))

    @cached_property
    def incidents(self) -> IncidentService:
        """Safety incidents and their timelines from the log (R33)."""
        return IncidentService(self.pipeline, IncidentReads(self.store.read_engine), self.clock)

    @cached_property
    def inspections(self) -> InspectionService:
        """Random inspections, 双随机一公开 (R38)."""
        return InspectionService(self.pipeline, InspectionReads(self.store.read_engine), self.clock)

    @cached_property
    def credit(self) -> CreditService:
        """Operators' credit records and demonstration designations (R38)."""
        return CreditService(self.pipeline, CreditReads(self.store.read_engine), self.clock)

    @cached_property
    def swap(self) -> SwapReads:
        """Battery-swap stations' supervision figures (R40)."""
        return SwapReads(self.store.read_engine)

    @cached_property
    def filings(self) -> Filings:
        """EV-ChART's quarterly modules (NEVI) and the UK annual reliability report."""
        return Filings(self.supervision)

    @cached_property
    def parking(self) -> ParkingReads:
        """Parking figures of charging bays (R39)."""
        return ParkingReads(self.store.read_engine)

    @cached_property
    def planning(self) -> PlanningService:
        """Plan vs actual, coverage, siting; today is the local date."""
        return PlanningService(
            PlanningQueries(self.store.read_engine),
            today=lambda: to_local(self.clock.now(), self.settings.local_timezone).date(),
        )


def bootstrap(settings: Settings, clock: Clock | None = None) -> Platform:
    for retired in settings.retired_set:
        warn_retired(retired)
    store = SqlEventStore(
        settings.database_url,
        synchronous=settings.sqlite_synchronous,
        allow_unsafe_durability=settings.allow_unsafe_durability,
    )
    if settings.shared_state not in ("memory", "database"):
        raise ValueError(f"shared_state is memory or database, not {settings.shared_state!r}")
    if settings.auto_migrate:
        store.upgrade()
    elif not store.is_current():
        raise RuntimeError("the database schema is not current: run `chargenet db upgrade`")
    clock = clock or SystemClock()
    key = token_key(settings)
    history.ensure_ahead(store.engine, clock.now())  # PostgreSQL: months to write into
    bus = MemoryBus()
    upstreams = ocpi_upstreams(store)
    ingestor = EventIngestor(store, bus, delivery_rules(settings, upstreams))
    pipeline = IngestPipeline(
        ingestor, max_batch=settings.ingest_max_batch, process=_writer_process(settings, bus)
    )
    read = ReadModel(store.read_engine)
    outbox = OutboxWorker(
        SqlDeliveryStore(store.engine, store.read_engine),
        clock,
        Backoff(
            settings.outbox_retry_base_s, settings.outbox_retry_max_s, settings.outbox_attempts
        ),
        keep_s=settings.outbox_keep_days * 86400.0,
    )
    orders = OrderService(pipeline, clock, outbox=outbox)
    tcec = _tcec(settings, store, pipeline, read, clock, outbox.store)
    orders.register("tcec", tcec.control)
    outbox.register(TCEC_KINDS, tcec.sender, backoff=tcec.backoff)
    outbox.register(STATUS_PUSH, latest_only=True)  # the sender sends the current status
    orders.queue_through(tcec.control, tcec.sender)
    if upstream_of(settings):  # status pushes are due at once: look when events are stored
        bus.listen(outbox.wake)
    sealer = Sealer(lambda: master_keys(settings.tcec_master_key, settings.tcec_master_key_file))
    channel_store = SqlChannelStore(store.engine, store.read_engine)
    channel_control = WebhookControl(
        channels=channel_store,
        queries=read,
        clock=clock,
        public_url=settings.public_url or f"http://{settings.host}:{settings.port}",
    )
    orders.fallback = channel_control
    orders.queue_through(
        channel_control, WebhookSender(channels=channel_store, sealer=sealer, clock=clock)
    )
    supervision = SupervisionService(
        SupervisionReads(store.read_engine), pipeline, orders, clock, supervision_config(settings)
    )
    ocpp_queries = OcppQueries(store.read_engine, store.engine)
    ocpp = OcppGateway(pipeline, ocpp_queries, clock, ocpp_config(settings, key))
    bus.listen(ocpp.forget)
    settlement_reads = SqlSettlementReads(store.read_engine, store.engine, settings.local_timezone)
    authoriser = Authoriser(settlement_reads, clock, AuthMode(settings.ocpp_authorization), key)
    ocpp.authoriser = authoriser
    for protocol in ("ocpp1.6", "ocpp2.0.1"):
        orders.register(protocol, OcppControl(ocpp, settlement_reads.local_list))
    return Platform(
        settings=settings,
        store=store,
        bus=bus,
        ingestor=ingestor,
        pipeline=pipeline,
        read=read,
        orders=orders,
        outbox=outbox,
        tcec=tcec,
        supervision=supervision,
        accounts=AccountService(
            SqlUserStore(store.engine, store.read_engine),
            clock,
            throttle=LoginThrottle(SqlThrottleRecords(store.engine))
            if settings.shared_state == "database"
            else None,
        ),
        clock=clock,
        ocpp=ocpp,
        ocpp_queries=ocpp_queries,
        channels=ChannelService(channel_store, sealer.seal, clock),
        channel_sealer=sealer,
        settlement_reads=settlement_reads,
        authoriser=authoriser,
        ocpi_upstreams=upstreams,
        token_key=key,
    )


def grid_tou(settings: Settings) -> GridTou | None:
    """The province's grid time-of-use periods: from CHARGENET_GRID_TOU_FILE, else the
    shipped sample; None when the region is not in the table."""
    if settings.grid_tou_file:
        with open(settings.grid_tou_file, "rb") as file:
            data = tomllib.load(file)
    else:
        text = (resources.files("chargenet.core.gridtou") / "sample.toml").read_text("utf-8")
        data = tomllib.loads(text)
    found = [t for t in grid_tou_from_toml(data) if t.region_code == settings.grid_tou_region]
    return found[0] if found else None


def token_key(settings: Settings) -> TokenKey:
    """The key of token digests from the settings; without one, the public development key
    and a warning, once per process however many platforms it starts (tools and tests
    bootstrap several)."""
    if settings.token_secret:
        return TokenKey.of(settings.token_secret)
    warn_development_key()
    return DEVELOPMENT_TOKEN_KEY


@cache
def warn_development_key() -> None:
    # Only the warning is remembered per process; the key itself is never process state.
    log.warning("CHARGENET_TOKEN_SECRET is not set: token digests use the development key")


def ocpp_config(settings: Settings, key: TokenKey) -> GatewayConfig:
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
        admission=AdmissionConfig(
            max_arriving=settings.ocpp_max_arriving,
            arrival_target_s=settings.ocpp_arrival_target_s,
            max_backlog=settings.ocpp_max_backlog,
            min_rate=settings.ocpp_admit_rate,
            start_rate=settings.ocpp_admit_start_rate,
            hold_s=settings.ocpp_admit_hold_s,
        ),
        token_key=key,
        credentials_poll_s=settings.ocpp_credentials_poll_s,
        direct_frames=settings.ocpp_direct_frames,
    )


def _tcec(
    settings: Settings,
    store: SqlEventStore,
    pipeline: IngestPipeline,
    read: ReadModel,
    clock: Clock,
    deliveries: DeliveryStore,
) -> TcecGateway:
    vault = Vault(lambda: master_keys(settings.tcec_master_key, settings.tcec_master_key_file))
    shared = settings.shared_state == "database"
    return TcecGateway(
        tokens=SharedTokenIssuer(
            SqlTokenRecords(store.engine), vault, clock, settings.tcec_token_ttl_s
        )
        if shared
        else None,
        seen=SqlSeen(store.engine) if shared else None,
        partners=SqlPartnerStore(store.engine, store.read_engine),
        deliveries=deliveries,
        interface_log=SqlInterfaceLog(store.engine, store.read_engine),
        settlement=SettlementReadModel(store.read_engine),
        queries=read,
        pipeline=pipeline,
        vault=vault,
        clock=clock,
        options=TcecOptions(
            our_operator_id=settings.tcec_operator_id,
            zone=settings.local_timezone,
            token_ttl_s=settings.tcec_token_ttl_s,
            time_window_s=settings.tcec_time_window_s,
            retries=settings.tcec_retry_attempts,
            retry_interval_s=settings.tcec_retry_interval_s,
            poll_interval_s=settings.tcec_poll_interval_s,
            upstream=upstream_of(settings),
            backfill_gap_s=settings.tcec_backfill_gap_s,
            backfill_retry_s=settings.tcec_backfill_retry_s,
            tolerance=Tolerance(
                settings.dispute_energy_tolerance_wh, settings.dispute_amount_tolerance
            ),
        ),
    )


def supervision_config(settings: Settings) -> SupervisionConfig:
    """Supervision defaults, overridden by the TOML file the settings name (if any)."""
    data: dict[str, object] = {}
    if settings.supervision_config:
        with open(settings.supervision_config, "rb") as file:
            data = tomllib.load(file)
    return config_from_mapping(data, local_timezone=settings.local_timezone)


def build_ocpi(platform: Platform) -> OcpiParty:
    """The OCPI party of a platform (docs/ocpi.md)."""
    s = platform.settings
    identity = Identity(
        party=parse_party(s.ocpi_party),
        name=s.ocpi_name,
        base_url=s.public_url or f"http://{s.host}:{s.port}",
    )
    party = OcpiParty(
        settings=OcpiSettings(
            identity=identity,
            token_key=platform.token_key,
            time_zone=s.local_timezone,
            currency=s.currency,
            pull_interval_s=s.ocpi_pull_interval_s,
            open_data_per_minute=s.open_data_per_minute,
        ),
        directory=SqlOcpiDirectory(s.database_url),
        reads=OcpiReads(platform.store.read_engine),
        submit=platform.pipeline.submit,
        clock=platform.clock,
        tokens=platform.settlement_reads,
        authoriser=platform.authoriser,
        limiter=SqlRateLimiter(platform.store.engine, "open_data", s.open_data_per_minute)
        if s.shared_state == "database"
        else None,
    )
    # The receiver keeps what status PATCHes look up about EVSEs; the bus tells it what
    # the store changed (on a cluster node, what every node stored: hear_stored).
    platform.bus.listen(party.receiver.heard)
    return party


# --- the store's writer in a process of its own (settings.ingest_writer == "process") ---

_WRITER: EventIngestor | None = None


class _Unpublished:
    """The writer process publishes nothing: the parent publishes what it accepted."""

    def publish(self, events: Sequence[Event]) -> None:
        return None


def _open_writer(settings: Settings) -> None:
    global _WRITER
    store = SqlEventStore(
        settings.database_url, settings.sqlite_synchronous, settings.allow_unsafe_durability
    )
    _WRITER = EventIngestor(store, _Unpublished(), delivery_rules(settings, ocpi_upstreams(store)))


def _ingest_in_writer(events: list[Event], deliveries: Attached | None) -> list[Outcome]:
    assert _WRITER is not None, "writer process not initialised"
    return _WRITER.ingest(events, deliveries=deliveries)


def delivery_rules(settings: Settings, ocpi: UpstreamPeers | None = None) -> list[DeliveryRule]:
    """Deliveries that accepted events cause, whoever sent them (app/outbox.py): T/CEC
    pushes to the upstream partners in the settings, OCPI pushes to the upstream platforms
    registered in the database."""
    upstream = upstream_of(settings)
    rules = [status_pushes(upstream)] if upstream else []
    if ocpi is not None:
        rules.append(ocpi_pushes(ocpi))
    return rules


def ocpi_upstreams(store: SqlEventStore) -> UpstreamPeers:
    engine = store.read_engine
    return UpstreamPeers(lambda: registered_upstreams(engine))


def upstream_of(settings: Settings) -> frozenset[str]:
    return frozenset(p.strip() for p in settings.tcec_upstream.split(",") if p.strip())


def _writer_process(settings: Settings, bus: MemoryBus) -> WriterProcess | None:
    if settings.ingest_writer == "thread":
        return None
    if settings.ingest_writer != "process":
        raise ValueError(f"ingest_writer must be thread or process, not {settings.ingest_writer!r}")

    def executor() -> Executor:
        # spawn, not fork: the parent holds threads and open database connections.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_writer,
            initargs=(settings,),
        )

    return WriterProcess(executor=executor, ingest=_ingest_in_writer, publisher=bus)
