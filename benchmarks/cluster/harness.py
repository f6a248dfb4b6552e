"""A cluster of `chargenet serve --role …` processes on one machine, for the fault tests
(tests/entrypoints/test_cluster_faults.py) and the cluster benchmark: real subprocesses
sharing one PostgreSQL database and one NATS server, each on its own ports, under a
cluster name of its own (so runs never see each other's stream), all killed on exit.

Also the chargers' side: `ocpp`-library charge points that send numbered MeterValues,
each awaiting its answer, and resend the unanswered one after reconnecting to the next
intake node — as a charger behind a load balancer does when its node dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import chargenet
from chargenet.kit.net import free_port

SRC = str(Path(chargenet.__file__).resolve().parents[1])
METER = "connector.meter_sampled"

# A node that has not said it is ready within this long is killed and reported. Generous:
# on a machine loaded by other work (load average 15-20) an intake's imports and first
# connections alone took over a minute, and a process that fails exits (seen at once).
START_S = 240.0


def register_fleet(database_url: str, count: int, prefix: str) -> list[str]:
    """`count` OCPP 1.6 chargers of one connector at one station; migrates the database
    first (the role processes then find it current and do not race to migrate)."""
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings
    from chargenet.demo.ocpp_fleet import SimCharger
    from chargenet.demo.ocpp_world import fleet_events

    platform = bootstrap(Settings(database_url=database_url, allow_unsafe_durability=True))
    try:
        specs = [SimCharger(f"{prefix}{i:05d}", "ocpp1.6", (22_000,)) for i in range(count)]
        events = fleet_events(
            specs,
            station_id=f"{prefix}-S",
            operator_id=f"{prefix}-OP",
            operator_name="cluster",
            name="cluster",
            lat=38.4,
            lon=112.7,
            area_code=None,
            now=platform.clock.now(),
            seed=1,
        )
        for start in range(0, len(events), 2000):
            platform.ingestor.ingest(events[start : start + 2000])
        return [s.charger_id for s in specs]
    finally:
        platform.close()


def stored_meters(database_url: str, prefix: str) -> list[tuple[str, str]]:
    """(connector, occurred_at) of the fleet's meter values in the log, in log order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT payload, occurred_at FROM events WHERE type = :t ORDER BY seq"),
                {"t": METER},
            ).all()
    finally:
        engine.dispose()
    found: list[tuple[str, str]] = []
    for payload, at in rows:
        connector = json.loads(payload).get("connector_id", "")
        if connector.startswith(prefix):
            found.append((connector, _iso(at)))
    return found


def _iso(at: Any) -> str:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return str(at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))


@dataclass
class Node:
    role: str
    name: str
    args: list[str]
    log: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def pids(self) -> list[int]:
        """The process and its children (an intake of several processes)."""
        if self.process is None or self.process.poll() is not None:
            return []
        pid = self.process.pid
        found = [pid]
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
        return found

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class Cluster:
    database_url: str
    nats_url: str
    workdir: Path
    name: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    ack_wait_s: float = 3.0
    token: str = "cluster-test-token-000000000001"
    nodes: list[Node] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            # Ours first; anything the caller adds (a measuring tool's packages) after it.
            "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p),
            "CHARGENET_DATABASE_URL": self.database_url,
            "CHARGENET_NATS_URL": self.nats_url,
            "CHARGENET_CLUSTER_NAME": self.name,
            "CHARGENET_NATS_ACK_WAIT_S": str(self.ack_wait_s),
            "CHARGENET_SHARED_STATE": "database",
            "CHARGENET_OCPP_SECURITY_PROFILE": "0",
            "CHARGENET_ALLOW_UNSAFE_DURABILITY": "1",
            "CHARGENET_AUTO_MIGRATE": "0",
            "CHARGENET_LOG_LEVEL": "WARNING",
        }

    def _start(self, node: Node, ready: str, timeout_s: float) -> Node:
        command = [
            sys.executable,
            "-c",
            "from chargenet.entrypoints.cli.main import app; app()",
            "serve",
            "--role",
            node.role,
            *node.args,
        ]
        seen = node.log.stat().st_size if node.log.exists() else 0  # a restart appends
        with node.log.open("ab") as out:
            node.process = subprocess.Popen(
                command, env={**self.env(), **node.env}, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited:\n{node.tail()}")
            if ready in node.log.read_bytes()[seen:].decode(errors="replace"):
                return node
            time.sleep(0.2)
        node.kill9()
        raise TimeoutError(f"{node.name} not ready in {timeout_s:g} s:\n{node.tail()}")

    def _node(self, role: str, name: str, args: list[str], port: int | None = None) -> Node:
        node = Node(role, name, args, self.workdir / f"{self.name}-{name}.log", port)
        self.nodes.append(node)
        return node

    def intake(
        self,
        name: str,
        timeout_s: float = START_S,
        extra: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> Node:
        """An intake node; `extra` adds command-line options, `env` adds to (or
        overrides) its environment."""
        port = free_port()
        args = ["--node", name, "--ocpp-port", str(port), *extra]
        node = self._node("intake", name, args, port)
        node.env = env or {}
        return self._start(node, f"intake node {name}", timeout_s)

    def writer(self, name: str = "writer", buckets: str = "", timeout_s: float = START_S) -> Node:
        args = ["--buckets", buckets] if buckets else []
        return self._start(self._node("writer", name, args), "writer: buckets", timeout_s)

    def restart(self, node: Node, ready: str, timeout_s: float = START_S) -> Node:
        node.kill9()
        return self._start(node, ready, timeout_s)

    def api(self, name: str = "api", timeout_s: float = START_S) -> Node:
        port = free_port()
        args = ["--node", name, "--port", str(port), "--token", self.token]
        return self._start(self._node("api", name, args, port), f"api node {name}", timeout_s)

    def close(self) -> None:
        for node in self.nodes:
            node.kill9()
        # In a thread of its own: the caller may be inside an event loop (the benchmark).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self._forget()).result(30)

    async def _forget(self) -> None:
        """The run's stream and key-value buckets leave the NATS server with it."""
        import nats

        from chargenet.adapters.bus.jetstream import ClusterNames

        names = ClusterNames(self.name)
        nc = await nats.connect(self.nats_url, connect_timeout=2, max_reconnect_attempts=0)
        js = nc.jetstream()
        for drop in (
            js.delete_stream(names.stream),
            js.delete_key_value(names.sockets),
            js.delete_key_value(names.nodes),
        ):
            with contextlib.suppress(Exception):
                await drop
        await nc.close()


@contextlib.contextmanager
def cluster(database_url: str, nats_url: str, workdir: Path, **kw: Any) -> Iterator[Cluster]:
    made = Cluster(database_url, nats_url, workdir, **kw)
    try:
        yield made
    finally:
        made.close()


# --- chargers -------------------------------------------------------------------------------


@dataclass
class Sent:
    """What one charger had acknowledged: (connector, occurred_at) of each MeterValues, and
    the nodes it was connected to; orders it received."""

    acked: list[tuple[str, str]] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0
    refused: int = 0


def _charge_point_class() -> Any:
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action, AvailabilityStatus

    from chargenet.demo.ocpp_fleet import on

    class Charger(ChargePoint):  # type: ignore[misc]
        sent: Sent

        @on(Action.change_availability)
        def on_change_availability(self, connector_id: int, type: str) -> Any:
            self.sent.orders.append({"action": "ChangeAvailability", "type": type})
            return call_result.ChangeAvailability(status=AvailabilityStatus.accepted)

    return Charger


async def run_charger(
    identity: str,
    urls: list[str],
    messages: int,
    sent: Sent,
    first: int = 0,
    pause_s: float = 0.0,
    hold: asyncio.Event | None = None,
) -> None:
    """Boot, then send `messages` MeterValues one at a time (each the next register, a
    minute later); on a lost connection, reconnect to the next URL and resend the one not
    answered. With `hold`, stay connected afterwards until it is set."""
    import websockets
    from ocpp.exceptions import OCPPError
    from ocpp.v16 import call
    from websockets.typing import Subprotocol

    charger_class = _charge_point_class()
    t0 = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=zlib.crc32(identity.encode()) % 300)
    n, attempt = 0, first
    while True:
        url = urls[attempt % len(urls)]
        try:
            async with websockets.connect(
                f"{url}/{identity}",
                subprotocols=[Subprotocol("ocpp1.6")],
                open_timeout=10,
            ) as ws:
                cp = charger_class(identity, ws, response_timeout=15)
                cp.sent = sent
                sent.nodes.append(url)
                reader = asyncio.create_task(cp.start())
                try:
                    await _race(cp.call(call.BootNotification("cluster", "C1")), reader)
                    while n < messages:
                        at = t0 + timedelta(minutes=n)
                        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
                        request = call.MeterValues(
                            connector_id=1,
                            meter_value=[
                                {
                                    "timestamp": stamp,
                                    "sampledValue": [
                                        {
                                            "value": str(1_000 + 100 * n),
                                            "measurand": "Energy.Active.Import.Register",
                                            "unit": "Wh",
                                        }
                                    ],
                                }
                            ],
                        )
                        try:
                            await _race(cp.call(request, suppress=False), reader)
                        except OCPPError:
                            # A CallError (OCPP-J 1.6 §4.2.3) is no acknowledgement: the
                            # node could not store the message, e.g. while its stream or
                            # database is away. The charger sends it again.
                            sent.refused += 1
                            await asyncio.sleep(0.2)
                            continue
                        sent.acked.append((f"{identity}-1-1", stamp[:-1]))
                        n += 1
                        if pause_s:
                            await asyncio.sleep(pause_s)
                    if hold is not None:
                        await _race(hold.wait(), reader)
                    return
                finally:
                    reader.cancel()
        except (OSError, TimeoutError, ConnectionError, websockets.exceptions.WebSocketException):
            sent.reconnects += 1
            attempt += 1
            await asyncio.sleep(0.2)


class _Lost(ConnectionError):
    pass


async def _race(work: Any, reader: asyncio.Task[Any]) -> Any:
    """`work`, unless the connection's reader ends first (the socket closed)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task, reader}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        return task.result()
    task.cancel()
    if not reader.cancelled():
        reader.exception()  # retrieved: the closed socket is the reason, and expected
    raise _Lost("connection closed")
