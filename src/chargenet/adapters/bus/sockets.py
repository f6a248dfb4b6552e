"""The socket map of a cluster: which OCPP intake node holds which charger's WebSocket,
and orders carried to that node (docs/scale.md).

Two NATS key-value buckets: `<cluster>_sockets` (charger → node, written by the node when
the charger connects, removed when its socket closes unless another node has taken the
charger since) and `<cluster>_nodes` (node → last beat, with a time to live: a node killed
without notice drops out once its beat is older than the TTL). A charger is reachable
when its node is alive.

An order for a charger held elsewhere goes as a NATS request to the node's subject
`<cluster>.node.<node>.orders`; the node sends the CALL over its socket and answers with
the charger's answer (or why there was none).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from chargenet.adapters.bus.jetstream import ClusterNames, stream_made
from chargenet.app.orders import ChargerControl, CheckingControl, Failure, Order, OrderResult
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind

log = logging.getLogger(__name__)

_PLAIN_KEY = re.compile(r"[-_a-zA-Z0-9]{1,200}")
_ANSWER_GRACE_S = 2.0  # the node's own timeout runs first; ours covers the trip


def socket_key(charger_id: str) -> str:
    """A charger id as a KV key: as it is when the key alphabet allows, else `=` + hex
    (`=` never starts a plain key, so two ids never share a key)."""
    return charger_id if _PLAIN_KEY.fullmatch(charger_id) else "=" + charger_id.encode().hex()


class NatsSocketMap:
    """`SocketRegistry` on NATS KV, for one node; also the lookup an API node routes by."""

    def __init__(self, js: Any, names: ClusterNames, node: str, ttl_s: float = 15.0) -> None:
        if not _PLAIN_KEY.fullmatch(node):
            raise ValueError(f"a node name is letters, digits, - and _: {node!r}")
        self._js = js
        self._names = names
        self.node = node
        self.ttl_s = ttl_s
        self._sockets: Any = None
        self._nodes: Any = None
        # Writes awaiting JetStream at once (a reconnect storm: see JetStreamIntake).
        self._window = asyncio.Semaphore(500)
        # charger → the revision of the entry this node last put for it: a socket that
        # closes removes that entry without reading it first (one request, not two).
        self._revisions: dict[str, int] = {}

    async def open(self) -> NatsSocketMap:
        from nats.js.api import KeyValueConfig, StorageType

        # Each bucket is a stream: made again if NATS refused it in its store race.
        sockets = KeyValueConfig(bucket=self._names.sockets, history=1, storage=StorageType.FILE)
        self._sockets = await stream_made(lambda: self._js.create_key_value(sockets))
        nodes = KeyValueConfig(bucket=self._names.nodes, history=1, ttl=self.ttl_s)
        self._nodes = await stream_made(lambda: self._js.create_key_value(nodes))
        return self

    async def beat(self) -> None:
        await self._nodes.put(self.node, str(time.time()).encode())

    async def beating(self) -> None:
        """This node's liveness, until cancelled (then it leaves at once)."""
        try:
            while True:
                try:
                    await self.beat()
                except Exception:
                    log.exception("node %s: beat not recorded", self.node)
                await asyncio.sleep(self.ttl_s / 3)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._nodes.purge(self.node))

    async def _entry(self, bucket: Any, key: str) -> Any:
        from nats.js.errors import KeyNotFoundError

        try:
            return await bucket.get(key)
        except KeyNotFoundError:  # also a deleted or expired key
            return None

    async def alive(self, node: str) -> bool:
        entry = await self._entry(self._nodes, node)
        return entry is not None and entry.value is not None

    # --- SocketRegistry ---------------------------------------------------------------------

    async def held(self, charger_id: str) -> None:
        async with self._window:
            revision = await self._sockets.put(socket_key(charger_id), self.node.encode())
        self._revisions[charger_id] = int(revision)

    async def released(self, charger_id: str) -> bool:
        from nats.js.errors import BadRequestError

        key = socket_key(charger_id)
        last = self._revisions.pop(charger_id, None)
        if last is None:  # not known to be ours (its put failed, or has not returned yet)
            entry = await self._entry(self._sockets, key)
            if entry is None or not entry.value:
                return True
            if entry.value.decode() != self.node:
                return False
            last = entry.revision
        try:  # only the entry we put or read: a node that took the charger since keeps it
            async with self._window:
                await self._sockets.delete(key, last=last)
        except BadRequestError:  # wrong last sequence: taken meanwhile
            return False
        return True

    async def held_elsewhere(self, charger_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        live: dict[str, bool] = {}
        for start in range(0, len(charger_ids), 500):
            chunk = charger_ids[start : start + 500]
            nodes = await asyncio.gather(*(self.node_of(c, live) for c in chunk))
            found.update(c for c, n in zip(chunk, nodes, strict=True) if n and n != self.node)
        return found

    async def node_of(self, charger_id: str, live: dict[str, bool] | None = None) -> str | None:
        """The live node holding the charger's socket, if any."""
        entry = await self._entry(self._sockets, socket_key(charger_id))
        if entry is None or not entry.value:
            return None
        node = str(entry.value.decode())
        if live is None or node not in live:
            alive = await self.alive(node)
            if live is not None:
                live[node] = alive
        else:
            alive = live[node]
        return node if alive else None


# --- orders between nodes -------------------------------------------------------------------


def order_to_wire(order: Order, timeout_s: float) -> bytes:
    return json.dumps({"order": asdict(order), "timeout_s": timeout_s}).encode()


def order_from_wire(data: bytes) -> tuple[Order, float]:
    raw = json.loads(data)
    o = raw["order"]
    order = Order(
        order_id=OrderId(o["order_id"]),
        kind=OrderKind(o["kind"]),
        charger_id=o["charger_id"],
        protocol=o["protocol"],
        target_kind=TargetKind(o["target_kind"]),
        target_id=o["target_id"],
        evse_no=o["evse_no"],
        connector_no=o["connector_no"],
        parameters=o["parameters"],
        reason=o["reason"],
        issued_by=o["issued_by"],
        private=o["private"],
    )
    return order, float(raw["timeout_s"])


def result_to_wire(result: OrderResult) -> bytes:
    return json.dumps(asdict(result)).encode()


def result_from_wire(data: bytes) -> OrderResult:
    r = json.loads(data)
    return OrderResult(
        outcome=OrderOutcome(r["outcome"]),
        detail=r["detail"],
        answer=r["answer"],
        failure=Failure(r["failure"]) if r["failure"] else None,
        session_id=r["session_id"],
    )


async def answer_orders(nc: Any, names: ClusterNames, node: str, control: ChargerControl) -> Any:
    """Carry orders other nodes send for chargers whose sockets this node holds; returns
    the subscription (unsubscribe to stop)."""

    async def handle(message: Any) -> None:
        try:
            order, timeout_s = order_from_wire(message.data)
            result = await control.execute(order, timeout_s)
        except Exception as exc:  # a bad request or a bug: the caller is told, not left waiting
            log.exception("an order from another node could not be carried")
            result = OrderResult(OrderOutcome.FAILED, f"node {node}: {exc}", failure=Failure.ERROR)
        await message.respond(result_to_wire(result))

    running: set[asyncio.Task[None]] = set()

    async def receive(message: Any) -> None:
        # A subscription's callbacks run one after another: each order in a task of its
        # own, so that a charger slow to answer holds up no other charger's order.
        task = asyncio.create_task(handle(message))
        running.add(task)
        task.add_done_callback(running.discard)

    return await nc.subscribe(names.orders(node), cb=receive)


class RoutedControl:
    """The OCPP `ChargerControl` of a node in a cluster: a charger whose socket this node
    holds is ordered here; one held by another live node, through that node."""

    def __init__(
        self, local: ChargerControl, sockets: NatsSocketMap, nc: Any, names: ClusterNames
    ) -> None:
        self.local = local
        self.sockets = sockets
        self._nc = nc
        self._names = names

    def problem(self, order: Order) -> str | None:
        return self.local.problem(order) if isinstance(self.local, CheckingControl) else None

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        import nats.errors

        node = await self.sockets.node_of(order.charger_id)
        if node is None or node == self.sockets.node:
            return await self.local.execute(order, timeout_s)
        try:
            reply = await self._nc.request(
                self._names.orders(node),
                order_to_wire(order, timeout_s),
                timeout=timeout_s + _ANSWER_GRACE_S,
            )
        except nats.errors.NoRespondersError:  # the node went away since its last beat
            return OrderResult(
                OrderOutcome.FAILED,
                f"charger's node {node} is gone",
                failure=Failure.NOT_CONNECTED,
            )
        except nats.errors.TimeoutError:
            return OrderResult(OrderOutcome.TIMEOUT, f"node {node}: no answer in {timeout_s:g} s")
        return result_from_wire(reply.data)
