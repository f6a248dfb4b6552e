"""The ASGI application: the read API now, protocol adapters and the dashboard as they come."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from chargenet import __version__
from chargenet.adapters.api import errors as api_errors
from chargenet.adapters.api.auth import Authenticator, StaticTokens
from chargenet.adapters.api.bodies import JsonBodyLimits, StorableUrls
from chargenet.adapters.api.channels import channels_router
from chargenet.adapters.api.commands import commands_router
from chargenet.adapters.api.credit import credit_router
from chargenet.adapters.api.dashboard import MapLayers
from chargenet.adapters.api.drivers import BearerSessions, drivers_router
from chargenet.adapters.api.incidents import incidents_router
from chargenet.adapters.api.inspections import inspections_router
from chargenet.adapters.api.interconnection import Interconnection, interconnection_router
from chargenet.adapters.api.logins import SessionCookies
from chargenet.adapters.api.opendata import OpenData, RateLimiter, open_data_router
from chargenet.adapters.api.orderly import orderly_router
from chargenet.adapters.api.pages import mount_pages
from chargenet.adapters.api.parking import parking_router
from chargenet.adapters.api.planning import planning_router
from chargenet.adapters.api.planning_build import planning_build_router
from chargenet.adapters.api.routes import read_router
from chargenet.adapters.api.supervision import supervision_router
from chargenet.adapters.api.swap import swap_router
from chargenet.adapters.ocpi.commands import OcpiCommands
from chargenet.adapters.ocpi.forward import OCPI_KINDS, Forwarder, keys_of
from chargenet.adapters.ocpi.hub import CLIENT_INFO_KIND, ClientInfoSender, Hub
from chargenet.adapters.ocpi.opendata import OcpiOpenData
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.profiles import OcpiChargingProfiles, OcpiControl
from chargenet.adapters.ocpi.pull import pull_forever
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.adapters.payments import wechatpay
from chargenet.adapters.payments.routes import payments_router
from chargenet.adapters.reports.statements import statement_xlsx
from chargenet.adapters.storage.leases import SqlLeases
from chargenet.adapters.storage.shared_state import SqlHubState
from chargenet.adapters.tcec.pushes import TCEC_KINDS
from chargenet.adapters.webhook.routes import channel_router
from chargenet.app.ingest import Outcome
from chargenet.app.leases import Leases, is_singleton, run_leased, singleton
from chargenet.app.outbox import Backoff
from chargenet.app.payments import PaymentProvider
from chargenet.app.planning_build import scenario_event
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.access import Audience, declared
from chargenet.core.errors import DomainError
from chargenet.core.events import (
    ChargeDetailRecorded,
    ChargeOrdersReconciled,
    Event,
    SessionEnded,
    Source,
)
from chargenet.core.planning.scenario import Scenario
from chargenet.entrypoints.dashboard import dashboard_parts
from chargenet.kit.aio import wait_at_most

log = logging.getLogger(__name__)

BackgroundJob = Callable[[Platform], Awaitable[None]]


async def _run(job: BackgroundJob, platform: Platform, leases: Leases, holder: str) -> None:
    if not is_singleton(job):
        await job(platform)
        return
    # One node of those sharing the database runs it (app/leases.py).
    name = getattr(job, "__name__", "job")
    await run_leased(
        lambda: job(platform),
        leases,
        name,
        holder,
        platform.clock,
        platform.settings.job_lease_s,
    )


def node_holder() -> str:
    """This app's name as a lease holder: host, process and a random part (two apps in one
    process are two holders)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


SETTLE_EVERY_S = 300.0


def payment_providers(platform: Platform) -> list[PaymentProvider]:
    """The payment providers configured (docs/settlement.md: connecting a provider)."""
    s = platform.settings
    if s.wechatpay_apiv3_key and s.wechatpay_platform_cert and s.wechatpay_platform_serial:
        return [
            wechatpay.from_settings(
                s.wechatpay_apiv3_key,
                s.wechatpay_platform_cert,
                s.wechatpay_platform_serial,
                s.wechatpay_mchid,
            )
        ]
    return []


@singleton
async def settle_sessions(platform: Platform) -> None:
    """Charge each driver's session as it ends (from the bus), and every few minutes any
    ended session not charged yet (a restart, a lost notice): the charge's key makes a
    second attempt change nothing. Operators' statements and CDRs are compared with the
    platform's figures as they come: a difference beyond the tolerance opens a dispute."""
    subscription = platform.bus.subscribe()
    try:
        try:
            await platform.drivers.rekey_known()  # cards and VINs of unkeyed digests
        except DomainError as exc:
            log.warning("tokens not re-keyed: %s", exc)
        await platform.settlement.settle_pending()
        loop = asyncio.get_running_loop()
        sweep_at = loop.time() + SETTLE_EVERY_S
        while True:
            try:
                timeout = max(sweep_at - loop.time(), 0.0)
                event = await wait_at_most(subscription.get(), timeout)
            except TimeoutError:
                await platform.settlement.settle_pending()
                sweep_at = loop.time() + SETTLE_EVERY_S
                continue
            if isinstance(event, SessionEnded):
                try:
                    await platform.settlement.settle_session(event.session_id)
                except DomainError as exc:
                    log.warning("session %s not charged: %s", event.session_id, exc)
            elif isinstance(event, ChargeDetailRecorded | ChargeOrdersReconciled):
                await platform.settlement.examine(event)
    finally:
        subscription.close()


_PROTOCOL_PREFIXES: tuple[str, ...] = ("/ocpi/", "/tcec/")


def _under(router: APIRouter, prefixes: tuple[str, ...]) -> bool:
    """Every route of the router lies under one of the prefixes."""
    paths = [getattr(route, "path", "") for route in router.routes]
    return bool(paths) and all((router.prefix + path).startswith(prefixes) for path in paths)


def create_app(
    platform: Platform,
    *,
    api_tokens: Sequence[str] = (),
    authenticators: Sequence[Authenticator] = (),
    background: Sequence[BackgroundJob] = (),
    routers: Sequence[APIRouter] = (),
    map_layers: MapLayers | None = None,
    warm_up: bool = False,
    node: str | None = None,
) -> FastAPI:
    """Build the web application.

    `api_tokens` are admin bearer tokens; `authenticators` add other ways to log in.
    `background` jobs run for the life of the app (the demo city's activity, simulators,
    pollers, protocol servers) and are cancelled at shutdown. `routers` are mounted as
    they are (protocol endpoints, dashboard).
    `map_layers` are the boundaries and roads the dashboard's maps draw; `warm_up`
    computes the dashboard's slow figures in the background after start. Jobs marked
    `singleton` run on one app of those sharing the database (a lease held as `node`).
    """
    auth: list[Authenticator] = [
        StaticTokens.admins(api_tokens),
        SessionCookies(platform.accounts),
        BearerSessions(platform.accounts),
        *authenticators,
    ]
    dashboard = dashboard_parts(platform, auth, map_layers, warm_up=warm_up)
    background = [*background, *dashboard.jobs, settle_sessions]
    leases = SqlLeases(platform.store.engine)
    holder = node or node_holder()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(
                _run(job, platform, leases, holder), name=getattr(job, "__name__", "job")
            )
            for job in background
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("background job %s failed", task.get_name())
            await platform.stop()

    app = FastAPI(
        title="chargenet",
        version=__version__,
        description=(
            "Supervision and service platform for EV charging and battery swapping. "
            "Times are UTC (ISO 8601), energy in Wh, power in W, money as decimal strings."
        ),
        lifespan=lifespan,
        # /docs is served from the package by mount_pages; FastAPI's would load a CDN.
        docs_url=None,
        redoc_url=None,
    )
    # Every route's DomainError answered by its kind (adapters/api/errors.py).
    api_errors.install(app)
    app.add_middleware(JsonBodyLimits)
    app.add_middleware(StorableUrls)
    # Partners' pushes (OCPI, T/CEC 102) are the requests that come by the hundred a second.
    # Routing tries every route of every router in the order they were included, so their
    # routers go first: no other route matches a path under their prefixes, and a PATCH no
    # longer walks the API's ~180 routes before reaching its own.
    protocol = [r for r in routers if _under(r, _PROTOCOL_PREFIXES)]
    for router in protocol:
        app.include_router(router)
    app.include_router(read_router(platform.read, auth))
    app.include_router(planning_router(platform.planning, auth))

    def save_scenario(scenario: Scenario, saved_by: str) -> Outcome:
        now = platform.clock.now()
        event = scenario_event(scenario, saved_by, now, Source(adapter="planning"))
        return platform.ingestor.ingest([event])[0]

    app.include_router(planning_build_router(platform.build, save_scenario, auth))
    app.include_router(
        supervision_router(platform.supervision, auth, platform.settings.local_timezone)
    )
    local_list = platform.settlement_reads.local_list if platform.settlement_reads else None
    app.include_router(
        commands_router(platform.orders, platform.read, auth, local_list, platform.clock.now)
    )
    app.include_router(orderly_router(platform.orderly, auth, platform.orderly_figures))
    app.include_router(incidents_router(platform.incidents, platform.read, auth))
    app.include_router(inspections_router(platform.inspections, auth))
    app.include_router(credit_router(platform.credit, platform.read, auth))
    app.include_router(parking_router(platform.parking.figures, auth))
    app.include_router(swap_router(platform.swap, platform.pipeline.submit, auth))
    if platform.channels is not None:
        app.include_router(channels_router(platform.channels, platform.read, auth))
    app.include_router(
        drivers_router(
            platform.accounts,
            platform.drivers,
            platform.settlement,
            platform.charging,
            auth,
            statement=statement_xlsx,
            zone=platform.settings.local_timezone,
            operators=platform.read.operator,
        )
    )
    app.include_router(
        payments_router(payment_providers(platform), platform.settlement, platform.clock)
    )
    app.include_router(interconnection_router(interconnection_parts(platform), auth))
    for router in [*dashboard.routers, *(r for r in routers if r not in protocol)]:
        app.include_router(router)
    mount_pages(app, tile_url=platform.settings.map_tile_url)
    app.state.authenticators = auth

    @app.get("/healthz", tags=["operations"], **declared(Audience.PUBLIC))
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok",
            "version": __version__,
            "ingested_events": platform.pipeline.events,
        }

    app.state.platform = platform
    app.state.finder = dashboard.index
    return app


def open_data(ocpi: OcpiParty) -> APIRouter:
    """The public open-data feed, its rows from the OCPI party's reads, rate-limited by the
    party's limiter (shared between processes) or one in memory."""
    limiter = ocpi.limiter or RateLimiter(ocpi.settings.open_data_per_minute)
    feed = OcpiOpenData(ocpi.reads)
    return open_data_router(OpenData(ocpi.settings.identity.name, limiter, feed))


def ocpi_parts(
    platform: Platform, party: OcpiParty | None = None
) -> tuple[list[APIRouter], list[BackgroundJob]]:
    """The OCPI party's routers (OCPI 2.2.1, open data) and jobs (pull, forwarding)."""
    ocpi = party or build_ocpi(platform)
    forwarder = Forwarder(ocpi, platform.outbox.store)
    # Pushes to upstream platforms go through the durable outbox, in order per platform;
    # each renders the object's current state, so one with a later one waiting is skipped.
    # Resent while the platform is away (a push it refused is given up at once).
    platform.outbox.register(
        OCPI_KINDS,
        forwarder,
        backoff=Backoff(0.5, ocpi.settings.forward_retry_max_s, attempts=1_000_000),
        latest_only=True,
    )
    upstreams = platform.ocpi_upstreams
    if upstreams is not None:  # pushes are due at once: look when events are stored

        def wake(events: Sequence[Event]) -> None:
            if upstreams() and any(keys_of(e) for e in events):
                platform.outbox.wake()

        platform.bus.listen(wake)
    # as eMSP: drivers' starts and stops at OCPI operators (Commands, asynchronous results)
    commands = OcpiCommands(ocpi)
    ocpi.command_results = commands.result_received
    # as SCSP: orderly charging's limits for sessions at OCPI operators (ChargingProfiles)
    profiles = OcpiChargingProfiles(ocpi)
    ocpi.profile_results = profiles.result_received
    platform.orders.register("ocpi", OcpiControl(commands, profiles))
    # as a hub: routing between the parties connected to us, ClientInfo pushes through the
    # durable outbox, the still-alive check
    still_alive = platform.settings.ocpi_still_alive_s
    # Several nodes share the tickets and who is OFFLINE through the database.
    ocpi.hub = Hub(
        ocpi,
        platform.pipeline.submit,
        still_alive_s=still_alive,
        check_every_s=min(60.0, max(still_alive / 5, 1.0)),
        state=SqlHubState(platform.store.engine)
        if platform.settings.shared_state == "database"
        else None,
    )
    platform.outbox.register(CLIENT_INFO_KIND, ClientInfoSender(ocpi), latest_only=True)

    async def ocpi_pull(_: Platform) -> None:
        await pull_forever(ocpi)

    async def ocpi_hub(_: Platform) -> None:
        # One node asks the parties whether they are still alive and states what it finds
        # (the statements, and the ClientInfo pushes they cause, once).
        if ocpi.hub is not None and still_alive > 0:
            await ocpi.hub.run()

    async def ocpi_forward(_: Platform) -> None:
        try:
            await forwarder.run()
        finally:
            await ocpi.client.close()

    return [ocpi_router(ocpi), open_data(ocpi)], [
        singleton(ocpi_pull),
        singleton(ocpi_forward),
        singleton(ocpi_hub),
    ]


@singleton
async def orderly_charging(platform: Platform) -> None:
    """Re-plans managed sites on every change and checks meter values against limits."""
    subscription = platform.bus.subscribe()
    planner = asyncio.create_task(platform.orderly.run(), name="orderly-planner")
    try:
        async for event in subscription:
            await platform.orderly.observe([event])
    finally:
        planner.cancel()
        subscription.close()


async def outbox(platform: Platform) -> None:
    """Delivers the durable outbox: orders through operators' channels, T/CEC pushes."""
    await platform.outbox.run()


@singleton
async def openadr_ven(platform: Platform) -> None:
    """chargenet as an OpenADR 2.0b VEN towards the VTN in CHARGENET_OPENADR_VTN_URL."""
    from chargenet.adapters.openadr.ven import Ven, VenConfig

    url = platform.settings.openadr_vtn_url
    assert url is not None
    settings = platform.settings
    opt_out = frozenset(s.strip() for s in settings.openadr_opt_out.split(",") if s.strip())
    ven = Ven(
        VenConfig(url, settings.openadr_ven_name, opt_out=opt_out),
        platform.orderly,
        platform.clock.now,
        platform.orderly_figures,
    )
    await ven.run()
    try:
        await asyncio.Event().wait()
    finally:
        await ven.stop()


def channel_routers(platform: Platform) -> list[APIRouter]:
    """Operators' later answers to orders sent through their channels (signed webhooks)."""
    if platform.channels is None or platform.channel_sealer is None:
        return []
    return [
        channel_router(
            channels=platform.channels.store,
            sealer=platform.channel_sealer,
            pipeline=platform.pipeline,
            clock=platform.clock,
            deliveries=platform.outbox.store,
        )
    ]


def interconnection_parts(platform: Platform) -> Interconnection:
    """What the API's reads of the T/CEC interconnection and settlement take of it."""
    tcec = platform.tcec
    return Interconnection(
        partners=tcec.partners,
        deliveries=tcec.deliveries,
        settlement=tcec.settlement,
        interface_log=tcec.interface_log,
        outbox_kinds=TCEC_KINDS,
    )


def protocol_parts(platform: Platform) -> dict[str, Any]:
    """The protocol adapters' routers and background jobs, as `create_app` keyword
    arguments, for `chargenet serve` and `chargenet demo`."""
    ocpi_routers, ocpi_jobs = ocpi_parts(platform)
    if platform.settings.openadr_vtn_url:
        ocpi_jobs = [*ocpi_jobs, openadr_ven]
    return {
        "routers": [platform.tcec.router(), *ocpi_routers, *channel_routers(platform)],
        "background": [*platform.tcec.jobs(), *ocpi_jobs, orderly_charging, outbox],
    }
