"""A minimal WebSocket client for load generation: one asyncio Protocol per charger, frames
built by hand, the next CALL sent from the callback that receives the last answer.

A full client library (websockets) costs ~500 µs of Python per round trip, which made the
load generator, not the server, the bottleneck. Client frames must be masked (RFC 6455);
a zero masking key is valid and makes masking free. Only what the benchmark needs is here:
text frames under 64 KiB, no fragmentation, no extensions; a Ping is answered.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable
from typing import cast

_ZERO_MASK = b"\x00\x00\x00\x00"


def frame(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    short = n < 126
    header = struct.pack("!BB", 0x81, 0x80 | n) if short else struct.pack("!BBH", 0x81, 0xFE, n)
    return header + _ZERO_MASK + data


class Refused(Exception):
    def __init__(self, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after  # seconds, from a Retry-After header


def _retry_after(head: bytes) -> float | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"retry-after":
            try:
                return float(value.strip())
            except ValueError:
                return None
    return None


class Charger(asyncio.Protocol):
    """Sends `next_frame()` after each answer until it returns None; records latencies."""

    def __init__(
        self,
        request: bytes,
        next_frame: Callable[[], str | None],
        latencies: list[float],
        done: asyncio.Future[None],
        keep_open: bool = False,
        opened: list[float] | None = None,
    ) -> None:
        self.keep_open = keep_open
        self.opened = opened
        self.request = request
        self.next_frame = next_frame
        self.latencies = latencies
        self.done = done
        self.buffer = b""
        self.upgraded = False
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def _send_next(self) -> None:
        text = self.next_frame()
        assert self.transport is not None
        if text is None:
            if not self.keep_open:
                self.transport.write(b"\x88\x82" + _ZERO_MASK + b"\x03\xe8")  # close 1000
            if not self.done.done():
                self.done.set_result(None)
            return
        self.sent_at = time.perf_counter()
        self.transport.write(frame(text))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = int(self.buffer[9:12])
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            if status != 101:
                if not self.done.done():
                    self.done.set_exception(Refused(status, _retry_after(head)))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            if self.opened is not None:
                self.opened.append(time.perf_counter())
            self._send_next()
        while len(self.buffer) >= 2:
            opcode, length = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length = struct.unpack("!H", self.buffer[2:4])[0]
                offset = 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                length = struct.unpack("!Q", self.buffer[2:10])[0]
                offset = 10
            if len(self.buffer) < offset + length:
                return
            payload = self.buffer[offset : offset + length]
            self.buffer = self.buffer[offset + length :]
            if opcode == 0x1:
                if not payload.startswith(b"[3,"):
                    if not self.done.done():
                        self.done.set_exception(RuntimeError(payload[:200].decode()))
                    return
                self.latencies.append(time.perf_counter() - self.sent_at)
                self._send_next()
            elif opcode == 0x9 and self.transport is not None:
                # A Ping is answered with a Pong of its payload (RFC 6455 5.5.2), as any
                # charger's stack does: unanswered, the example CSMS's websockets server
                # closed every connection after 40 s (its keepalive), and a run that long
                # (its 60,200 messages at 1,050/s) started all over again.
                n = len(payload)
                self.transport.write(bytes((0x8A, 0x80 | n)) + _ZERO_MASK + payload)
            elif opcode == 0x8 and not self.done.done():
                self.done.set_exception(ConnectionError("closed by the server"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("connection lost"))


def upgrade_request(host: str, port: int, path: str, identity: str, password: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    auth = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic {auth}\r\n\r\n"
    ).encode()


async def run_charger(
    host: str,
    port: int,
    path: str,
    identity: str,
    password: str,
    frames: list[str],
    latencies: list[float],
    keep_open: bool = False,
    opened: list[float] | None = None,
) -> asyncio.Transport:
    """Connect, send `frames` one at a time (each after the last answer); then close, or
    with `keep_open` return the still open transport (an idle charger). The moment the
    upgrade is answered goes into `opened` (perf_counter)."""
    loop = asyncio.get_running_loop()
    pending = iter(frames)
    done: asyncio.Future[None] = loop.create_future()
    request = upgrade_request(host, port, path, identity, password)
    transport, _ = await loop.create_connection(
        lambda: Charger(request, lambda: next(pending, None), latencies, done, keep_open, opened),
        host,
        port,
    )
    try:
        await done
    finally:
        if not keep_open:
            transport.close()  # after our close frame, as a client does
    return transport
