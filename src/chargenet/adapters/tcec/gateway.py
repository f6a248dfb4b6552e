"""The T/CEC 102 interconnection, assembled: what bootstrap builds and the web app mounts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from chargenet.adapters.tcec.admin import admin_router
from chargenet.adapters.tcec.client import Clients
from chargenet.adapters.tcec.control import TcecControl
from chargenet.adapters.tcec.crypto import Vault
from chargenet.adapters.tcec.inbound import InboundService
from chargenet.adapters.tcec.intake import Intake
from chargenet.adapters.tcec.outbox import Delivery
from chargenet.adapters.tcec.outward import Charging, Puller
from chargenet.adapters.tcec.partners import PartnerAdmin, PartnerDirectory
from chargenet.adapters.tcec.security import ReplayGuard, SeenMessages, TokenIssuer, Tokens
from chargenet.adapters.tcec.server import PREFIX, tcec_router
from chargenet.app.compliance import InterfaceLog, InterfaceRecorder
from chargenet.app.interconnect import Outbox, PartnerStore, SettlementQueries
from chargenet.app.pipeline import IngestPipeline
from chargenet.app.queries import StateQueries
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


Job = Callable[[object], Awaitable[None]]
INTERFACE_FLUSH_S = 5.0
log = logging.getLogger(__name__)


class TcecGateway:
    def __init__(
        self,
        *,
        partners: PartnerStore,
        outbox: Outbox,
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
        self._partners = partners
        zone = ZoneInfo(options.zone)
        self.directory = PartnerDirectory(partners, vault, zone)
        self.admin = PartnerAdmin(partners, vault, clock)
        self.settlement = settlement
        self.outbox = outbox
        self.tokens: Tokens = tokens or TokenIssuer(clock, options.token_ttl_s)
        self.replay = ReplayGuard(clock, options.time_window_s, seen=seen)
        self.intake = Intake(pipeline, queries)
        self.clients = Clients(self.directory, options.our_operator_id, clock)
        self.delivery = Delivery(
            outbox,
            self.clients,
            clock,
            retries=options.retries,
            interval_s=options.retry_interval_s,
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
        self.control = TcecControl(
            directory=self.directory,
            delivery=self.delivery,
            charging=self.charging,
            queries=queries,
            pipeline=pipeline,
            clock=clock,
        )

    def router(self) -> APIRouter:
        """The protocol endpoints (partners authenticate with T/CEC tokens)."""
        return tcec_router(self.inbound, self.options.prefix)

    def admin_router(self) -> APIRouter:
        """Reads for officials and operators (partners, outbox, reconciliations, bills,
        tariffs): mount where the caller is known (`request.state.principal`)."""
        return admin_router(self._partners, self.outbox, self.settlement, self.interface_log)

    def jobs(self) -> list[Job]:
        """Background jobs: resending queued pushes, pulling from query-only partners."""

        async def tcec_outbox(_: object) -> None:
            try:
                await self.delivery.run()
            finally:
                await self.clients.close()

        async def tcec_pull(_: object) -> None:
            await self.puller.run(self.options.poll_interval_s)

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

        return [tcec_outbox, tcec_pull, tcec_interface_log]
