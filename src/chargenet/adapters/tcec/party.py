"""The T/CEC 102 interconnection, assembled: what bootstrap builds and the web app mounts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from chargenet.adapters.tcec.backfill import Backfill
from chargenet.adapters.tcec.client import Clients
from chargenet.adapters.tcec.control import TcecControl
from chargenet.adapters.tcec.crypto import Vault
from chargenet.adapters.tcec.intake import Intake
from chargenet.adapters.tcec.outward import Charging, Puller
from chargenet.adapters.tcec.partners import PartnerAdmin, PartnerDirectory
from chargenet.adapters.tcec.pushes import TcecSender
from chargenet.adapters.tcec.receiver import InboundService
from chargenet.adapters.tcec.routes import PREFIX, tcec_router
from chargenet.adapters.tcec.security import ReplayGuard, SeenMessages, TokenIssuer, Tokens
from chargenet.app.compliance import InterfaceLog, InterfaceRecorder
from chargenet.app.interconnect import PartnerStore, SettlementQueries
from chargenet.app.leases import singleton
from chargenet.app.outbox import Backoff, DeliveryStore
from chargenet.app.pipeline import IngestPipeline
from chargenet.app.queries import StateQueries
from chargenet.core.billing import Tolerance
from chargenet.kit.clock import Clock


@dataclass(frozen=True, kw_only=True)
class TcecOptions:
    our_operator_id: str = "CHARGENET"
    zone: str = "Asia/Shanghai"
    token_ttl_s: int = 7200
    time_window_s: int = 300
    retries: int = 5
    retry_interval_s: float = 60.0
    poll_interval_s: float = 300.0
    prefix: str = PREFIX
    upstream: frozenset[str] = frozenset()  # partners served as a provincial platform (R37)
    backfill_gap_s: float = 600.0  # a partner silent this long is back-filled when heard
    backfill_retry_s: float = 60.0  # a back-fill that failed is tried again after this
    # What check_charge_orders takes for rounding, not a dispute (core.billing.Tolerance).
    tolerance: Tolerance = field(default_factory=Tolerance)


Job = Callable[[object], Awaitable[None]]
INTERFACE_FLUSH_S = 5.0
log = logging.getLogger(__name__)


class TcecGateway:
    def __init__(
        self,
        *,
        partners: PartnerStore,
        deliveries: DeliveryStore,
        settlement: SettlementQueries,
        queries: StateQueries,
        pipeline: IngestPipeline,
        vault: Vault,
        clock: Clock,
        options: TcecOptions,
        interface_log: InterfaceLog | None = None,
        tokens: Tokens | None = None,
        seen: SeenMessages | None = None,
    ) -> None:
        self.options = options
        # Every message partners send, counted and its refusals kept (docs/supervision.md).
        self.interface_log = interface_log
        self.recorder = InterfaceRecorder(interface_log) if interface_log is not None else None
        self.partners = partners
        zone = ZoneInfo(options.zone)
        self.directory = PartnerDirectory(partners, vault, zone)
        self.admin = PartnerAdmin(partners, vault, clock)
        self.settlement = settlement
        self.deliveries = deliveries
        self.tokens: Tokens = tokens or TokenIssuer(clock, options.token_ttl_s)
        self.replay = ReplayGuard(clock, options.time_window_s, seen=seen)
        self.intake = Intake(pipeline, queries)
        self.clients = Clients(self.directory, options.our_operator_id, clock)
        # Pushes go through the durable outbox (app/outbox.py) with this sender, resent a
        # fixed interval apart, more than three times (T/CEC 102 Part 4).
        self.sender = TcecSender(self.clients, self.directory, queries)
        self.backoff = Backoff(
            base_s=options.retry_interval_s,
            max_s=options.retry_interval_s,
            attempts=options.retries + 1,
            factor=1.0,
        )
        self.inbound = InboundService(
            directory=self.directory,
            tokens=self.tokens,
            replay=self.replay,
            intake=self.intake,
            settlement=settlement,
            clock=clock,
            zone=zone,
            recorder=self.recorder,
            queries=queries,
            upstream=options.upstream,
            tolerance=options.tolerance,
            # Tokens or the replay guard in the shared store: their checks leave the loop.
            checks_block=tokens is not None or seen is not None,
        )
        self.puller = Puller(
            clients=self.clients,
            directory=self.directory,
            intake=self.intake,
            queries=queries,
            partners=partners,
            settlement=settlement,
            clock=clock,
            our_operator_id=options.our_operator_id,
        )
        self.charging = Charging(
            clients=self.clients,
            intake=self.intake,
            clock=clock,
            our_operator_id=options.our_operator_id,
        )
        self.inbound.charge_listeners.append(self.charging.heard)
        self.backfill = Backfill(
            puller=self.puller,
            directory=self.directory,
            partners=partners,
            clock=clock,
            gap_s=options.backfill_gap_s,
            retry_s=options.backfill_retry_s,
        )
        self.inbound.message_listeners.append(self.backfill.heard)
        self.control = TcecControl(
            directory=self.directory,
            charging=self.charging,
            queries=queries,
            clock=clock,
        )

    def router(self) -> APIRouter:
        """The protocol endpoints (partners authenticate with T/CEC tokens)."""
        return tcec_router(self.inbound, self.options.prefix)

    def jobs(self) -> list[Job]:
        """Background jobs: pulling from query-only partners, back-filling after gaps, the
        interface record. (Pushes are the outbox's job: entrypoints/web.py.)"""

        async def tcec_pull(_: object) -> None:
            try:
                await self.puller.run(self.options.poll_interval_s)
            finally:
                await self.clients.close()

        async def tcec_backfill(_: object) -> None:
            await self.backfill.run()

        async def tcec_interface_log(_: object) -> None:
            recorder = self.recorder
            if recorder is None:
                return
            try:
                while True:
                    await asyncio.sleep(INTERFACE_FLUSH_S)
                    try:
                        await asyncio.to_thread(recorder.flush)
                    except Exception:
                        log.exception("interface compliance record not written; kept for later")
            finally:
                await asyncio.to_thread(recorder.flush)

        # Pulls and back-fills run on one node of a deployment; each node writes down its
        # own interface calls.
        return [singleton(tcec_pull), singleton(tcec_backfill), tcec_interface_log]
