"""What one refused connection costs the OCPP gateway: its process CPU per 503, refused at
accept (`admission.Refusal`: no WebSocket connection object) against refused after
websockets has read the request (the way every refusal went before: a connection object,
its handshake task and timeout, the request parsed, the response built).

    python -m benchmarks.ocpp_ingest.refusal --connections 5000 --rounds 3

The gateway is full (no connection allowed: every attempt gets 503, as in a storm); the
connections come from a child process, 100 at a time, each sending an upgrade request
and reading the answer to its close. Printed: the gateway process's CPU (user + system)
per refusal in each way, the median of the rounds (alternating), and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from benchmarks.cluster.intake import Directory
from chargenet.adapters.ocpp.gateway import GatewayConfig, OcppGateway
from chargenet.core.events import Event
from chargenet.kit.clock import SystemClock

REQUEST = (
    b"GET /ocpp/B%05d HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
    b"Authorization: Basic QjAwMDAwOnNlY3JldA==\r\n\r\n"
)


class Dropped:
    async def submit(self, events: Sequence[Event]) -> list[Any]:
        return []


class AfterRequest(OcppGateway):
    """The former way: nothing refused at accept; refused once websockets read the request."""

    def _busy(self, accepting: bool) -> str | None:
        return None if accepting else super()._busy(accepting)


async def _knock(port: int, count: int, at_once: int) -> dict[str, int]:
    statuses: dict[str, int] = {}
    gate = asyncio.Semaphore(at_once)

    async def one(n: int) -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(REQUEST % n)
            answer = await reader.read()
            writer.close()
            status = answer[9:12].decode() or "reset"
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(n) for n in range(count)))
    return statuses


def _client(conn: Connection) -> None:
    while (request := conn.recv()) is not None:
        port, count, at_once = request
        conn.send(asyncio.run(_knock(port, count, at_once)))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_round(kind: type[OcppGateway], conn: Connection, count: int) -> float:
    """Gateway CPU (µs) per refused connection."""
    gateway = kind(Dropped(), Directory([]), SystemClock(), GatewayConfig(max_connections=0))
    async with gateway.running("127.0.0.1", 0):
        loop = asyncio.get_running_loop()
        start = _cpu()
        conn.send((gateway.port, count, 100))
        statuses = await loop.run_in_executor(None, conn.recv)
        spent = _cpu() - start
    assert statuses == {"503": count}, statuses
    return spent / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_client, args=(child,), daemon=True)
    process.start()
    found: dict[str, list[float]] = {"at accept": [], "after the request": []}
    try:
        for _ in range(args.rounds):  # alternating: both see the same machine
            found["after the request"].append(
                asyncio.run(one_round(AfterRequest, parent, args.connections))
            )
            found["at accept"].append(asyncio.run(one_round(OcppGateway, parent, args.connections)))
    finally:
        parent.send(None)
        process.join(10)
    for label, each in found.items():
        print(
            f"refused {label}: {statistics.median(each):.0f} µs of gateway CPU a refusal "
            f"(median of {args.rounds}: " + ", ".join(f"{x:.0f}" for x in each) + ")"
        )
    ratio = statistics.median(found["after the request"]) / statistics.median(found["at accept"])
    print(f"a refusal at accept costs {ratio:.1f}× less ({args.connections} connections a round)")


if __name__ == "__main__":
    main()
