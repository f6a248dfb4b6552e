"""`chargenet serve --role intake|writer|api`: one deployment as several processes that
share PostgreSQL and NATS JetStream (docs/scale.md).

- intake: holds chargers' OCPP WebSockets; every event goes to the stream and the charger
  is answered once JetStream has stored it; records in the socket map which chargers it
  holds and carries orders other nodes send for them.
- writer: takes events from the stream (all buckets, or those of `--buckets`: whole
  partitions, `CHARGENET_STREAM_PARTITIONS`), stores
  them in the log and its projections, then acknowledges them; what it stored is told to
  the other processes' buses (core NATS, at most once, like the in-process bus).
- api: the HTTP API, dashboard, OCPI and T/CEC; it writes to PostgreSQL itself (a user's
  request reads what it just wrote) and routes orders for OCPP chargers to the intake
  node that holds the charger.

`--role all` (the default) is the embedded platform of one process, unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import re
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from chargenet.adapters.bus.jetstream import (
    ClusterNames,
    JetStreamIntake,
    JetStreamPipeline,
    JetStreamWriter,
    Layout,
    ensure_stream,
    hear_stored,
    relay_stored,
)
from chargenet.adapters.bus.sockets import NatsSocketMap, RoutedControl, answer_orders
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event

log = logging.getLogger(__name__)

ROLES = ("all", "intake", "writer", "api")
OCPP_PROTOCOLS = ("ocpp1.6", "ocpp2.0.1")
WRITER_BATCH = 500


def writer_lanes(layout: Layout, buckets: Sequence[int], lanes: int) -> list[list[int]]:
    """A writer's buckets in at most `lanes` groups of whole partitions, each stored by a
    round loop of its own on a connection of its own, and at least two partitions a lane:
    two writers of two partitions each in lanes of one made their intakes answer slower
    (docs/scale.md, "A writer's lanes")."""
    partitions = layout.partitions_of(buckets)
    count = max(1, min(lanes, len(partitions) // 2))
    # In runs, as writers split them: an older layout's wider subject then spans fewer
    # lanes (it is drained by the lane of its first bucket, the other waiting).
    cuts = [n * len(partitions) // count for n in range(count + 1)]
    return [
        [b for k in partitions[cuts[n] : cuts[n + 1]] for b in layout.buckets(k)]
        for n in range(count)
    ]


def node_name(given: str | None) -> str:
    """This process's name in the socket map: given, else host and process id."""
    name = given or f"{socket.gethostname()}-{os.getpid()}"
    return re.sub(r"[^-_a-zA-Z0-9]", "_", name)[:64]


def buckets_label(buckets: Sequence[int]) -> str:
    """`0-15_32-47`: the buckets, as the writer's log names them."""
    ranges: list[str] = []
    for b in sorted(buckets):
        if ranges and int(ranges[-1].rsplit("-", 1)[-1]) == b - 1:
            ranges[-1] = f"{ranges[-1].split('-')[0]}-{b}"
        else:
            ranges.append(f"{b}-{b}")
    return "_".join(ranges)


@contextlib.asynccontextmanager
async def jetstream(settings: Settings, name: str) -> AsyncIterator[tuple[Any, Any, ClusterNames]]:
    """A connection to NATS (reconnecting for ever) and this deployment's stream. `name`
    names the connection in the server's monitoring (`/connz`): which role and node."""
    import nats

    if not settings.nats_url:
        raise SystemExit("roles other than `all` need NATS: --nats or CHARGENET_NATS_URL")
    names = ClusterNames(settings.cluster_name)
    nc = await nats.connect(
        settings.nats_url, name=name, max_reconnect_attempts=-1, connect_timeout=5
    )
    try:
        # JetStream's answers may take a while on a loaded server (a reconnect storm): an
        # intake waits for them rather than failing the charger after nats-py's 5 s.
        js = nc.jetstream(timeout=30)
        await ensure_stream(js, names.stream, names.prefix)
        yield nc, js, names
    finally:
        with contextlib.suppress(Exception):
            await nc.drain()


EVENT_LOOPS = ("auto", "uvloop", "asyncio")


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a role runs on: uvloop's when installed (or asked for), else None
    (asyncio's own). "uvloop" asked for but missing is an error, not a silent fallback."""
    if choice not in EVENT_LOOPS:
        raise SystemExit(f"event loop is one of {', '.join(EVENT_LOOPS)}, not {choice!r}")
    if choice == "asyncio":
        return None
    try:
        uvloop = importlib.import_module("uvloop")  # optional: no stubs needed without it
    except ImportError:
        if choice == "uvloop":
            raise SystemExit("CHARGENET_EVENT_LOOP=uvloop but uvloop is not installed") from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run_role(settings: Settings, main: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run(main)` on the loop `settings.event_loop` names."""
    try:
        factory = loop_factory(settings.event_loop)
    except SystemExit:
        main.close()  # never started: no "never awaited" warning on the way out
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        log.info("event loop: %s", type(runner.get_loop()).__module__)
        runner.run(main)


YOUNG_COLLECTION = 10_000  # container objects allocated, net, between collections


def settle_heap() -> None:
    """Once started, what was loaded stays for the life of the process (modules, routes,
    the directory of chargers): moved out of the collector's sight, a collection scans only
    what the traffic allocates; else each full collection walks the whole platform's
    objects again while chargers wait (docs/scale.md, "An intake's CPU"). Cyclic garbage
    among the frozen objects is never collected: start-up makes little that dies later.

    Then the youngest generation is collected after `YOUNG_COLLECTION` more container
    objects rather than CPython's 700. The traffic makes almost no cyclic garbage (in a
    run of 40,000 meter values, 932 collections found 585 objects), but a few hundred
    messages in flight at once cross 700 live objects again and again: at 700 the
    collections took 7.5% of an intake's CPU (4.4% of a writer's), at this bound 0.2%
    (3 collections in a run as long). What cycles there are wait that many objects longer."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, middle, old)


async def until_stopped() -> None:
    """Until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_intake(settings: Settings, node: str, host: str, port: int) -> None:
    platform = bootstrap(settings)
    gateway = platform.ocpp
    assert gateway is not None
    try:
        async with jetstream(settings, f"chargenet intake {node}") as (nc, js, names):
            sockets = await NatsSocketMap(js, names, node).open()
            await sockets.beat()
            beating = asyncio.create_task(sockets.beating(), name="node-beat")
            gateway.pipeline = JetStreamPipeline(
                JetStreamIntake(js, names.prefix, partitions=settings.stream_partitions)
            )
            gateway.sockets = sockets
            # Registry changes only (the gateway's directory of chargers): its bus has no
            # other reader of events (the outbox's wake reads none, and no outbox runs
            # here), so the writers' `<cluster>.stored_all` is not heard at all.
            await hear_stored(nc, names.stored, platform.bus.publish, gateway.HEARS)
            # Either protocol's controller: each sends in the version of the charger's link.
            orders = await answer_orders(
                nc, names, node, platform.orders.controls[OCPP_PROTOCOLS[0]]
            )
            await platform.start()
            try:
                async with gateway.running(host, port):
                    settle_heap()
                    log.warning(
                        "intake node %s: chargers connect to ws://%s:%s/ocpp/{id}",
                        node,
                        host,
                        gateway.port,
                    )
                    await until_stopped()
            finally:
                await orders.unsubscribe()
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating
                await platform.stop()
    finally:
        platform.close()


async def run_writer(settings: Settings, buckets: Sequence[int]) -> None:
    platform = bootstrap(settings)
    try:
        async with jetstream(settings, f"chargenet writer {buckets_label(buckets)}") as (
            nc,
            js,
            names,
        ):
            layout = Layout(settings.stream_partitions)
            writers = [
                JetStreamWriter(
                    js,
                    platform.ingestor.ingest,
                    "writer",  # its consumers: writer-p<partitions>-<partition>
                    names.prefix,
                    WRITER_BATCH,
                    stream=names.stream,
                    buckets=lane,
                    ack_wait_s=settings.nats_ack_wait_s,
                    partitions=settings.stream_partitions,
                )
                for lane in writer_lanes(layout, buckets, settings.writer_lanes)
            ]
            platform.bus.listen(relay_stored(nc, names.stored))
            # Ready means taking events: the consumers exist and their feeds are open
            # before the line that scripts and the cluster harness wait for.
            await asyncio.gather(*(w.subscribe() for w in writers))
            settle_heap()
            tasks = [
                asyncio.create_task(w.run(), name=f"stream-writer-{n}")
                for n, w in enumerate(writers)
            ]
            log.warning(
                "writer: buckets %s of stream %s: ready, their consumers subscribed "
                "(%d partitions, %d lanes)",
                buckets_label(buckets),
                names.stream,
                settings.stream_partitions,
                len(writers),
            )
            await until_stopped()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for w in writers:
                await w.close()
            log.warning(
                "writer: stopped after %d rounds: %d stream messages, %d events, %d pull requests",
                sum(w.rounds for w in writers),
                sum(w.messages for w in writers),
                sum(w.events for w in writers),
                sum(w.requests for w in writers),
            )
    finally:
        platform.close()


_hearing = threading.local()


def heard_here(publish: Callable[[Sequence[Event]], None]) -> Callable[[Sequence[Event]], None]:
    """`publish`, marking what it hands on as heard from the feed (see
    relayed_unless_heard)."""

    def hand_on(events: Sequence[Event]) -> None:
        _hearing.now = True
        try:
            publish(events)
        finally:
            _hearing.now = False

    return hand_on


def relayed_unless_heard(
    relay: Callable[[Sequence[Event]], None],
) -> Callable[[Sequence[Event]], None]:
    """A bus listener relaying what this process stored, not what it heard from the feed
    (the bus calls its listeners on the publishing thread): else two api nodes would send
    each other's news back and forth for ever."""

    def listener(events: Sequence[Event]) -> None:
        if not getattr(_hearing, "now", False):
            relay(events)

    return listener


def api_job(settings: Settings, node: str) -> Any:
    """The API node's background job: orders for OCPP chargers go to their intake node."""

    async def cluster_orders(platform: Platform) -> None:
        async with jetstream(settings, f"chargenet api {node}") as (nc, js, names):
            sockets = await NatsSocketMap(js, names, node).open()
            # The dashboard, alarm rules and forwarders hear what the writers store, and
            # what the other api nodes store of partners' pushes (an EVSE re-PUT there
            # must reach this node's OCPI lookups); what this node stores, they hear.
            own = f"api:{node}"
            await hear_stored(nc, names.stored, heard_here(platform.bus.publish), own=own)
            platform.bus.listen(relayed_unless_heard(relay_stored(nc, names.stored, own)))
            for protocol in OCPP_PROTOCOLS:
                local = platform.orders.controls[protocol]
                platform.orders.register(protocol, RoutedControl(local, sockets, nc, names))
            log.warning("api node %s: orders reach chargers through their intake node", node)
            await asyncio.Event().wait()

    return cluster_orders
