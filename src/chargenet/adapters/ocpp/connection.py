"""One charger's WebSocket as the `Link` sees it: the next message, an answer written,
a close. The seam between the OCPP code and the WebSocket library.

websockets' asyncio server keeps what it does well: the opening handshake (the gateway's
admission, identity, Basic auth and subprotocol checks run in it), the `Server`'s
bookkeeping (its `close()` sends every open connection 1001 and `wait_closed()` waits for
every handler), the close handshake and its timeout, pings and pongs, the frame size
limit (its Sans-I/O `ServerProtocol`: a message over `max_size` closes with 1009).

What it is not used for, once the connection is open, is each message: its `recv()`
queues frames in an `Assembler`, wakes the reader through futures and decodes text to
`str`; its `send()` goes through `send_context()` (an async context manager a frame) and
`drain()`. Here, a complete message is put on a deque by `process_event` (the Sans-I/O
protocol's events, called from `data_received`) and the reader is woken only when it
waits; an answer is framed by the Sans-I/O protocol and written to the transport at
once. The library's path is still taken whenever the fast one would not be its equal:
writes while the transport's buffer is over its limit (backpressure: `drain()` waits),
after the close handshake began (it waits for the close and raises `ConnectionClosed`),
or when `GatewayConfig.direct_frames` is off (every message through `recv`/`send`).

Messages are handed over as they arrived (RFC 6455 §5.4: fragments joined in order),
text frames checked to be UTF-8 (else the connection fails with 1007, §8.1, as the
library's `recv()` does), a message in more than `MAX_FRAGMENTS` frames refused with 1009
(as the library's `Assembler` does: empty continuation frames would otherwise grow a list
without bound under `max_size`). Nothing is handed over after the connection failed. More
than `max_queue` messages waiting pause reading the socket until the reader took all but a
quarter of them, as the library's `Assembler` does.

The fast path relies on what websockets does not document as public (`process_event`,
`send_data`, `paused`, ...; present from 14.0 to at least 17.x). `direct_frames_supported`
checks they are there; when one is missing, connections take the library's `recv()`/
`send()` path, with one warning, rather than failing.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from chargenet.adapters.ocpp.admission import Admission, Arrival
from chargenet.app.endpoints import ChargerEndpoint

__all__ = ["ChargerConnection"]

log = logging.getLogger(__name__)

_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
# The library's limit on the frames of one message (its Assembler's, same variable).
MAX_FRAGMENTS = int(os.environ.get("WEBSOCKETS_MAX_FRAGMENTS", "4096"))

# What the fast path uses of websockets beyond its documented API: methods of its asyncio
# connection and Sans-I/O protocol, and attributes a connection sets in its __init__.
_CONNECTION_METHODS = ("process_event", "send_data", "set_connection_exc", "connection_lost")
_PROTOCOL_METHODS = ("send_text", "fail", "data_to_send")
_CONNECTION_FIELDS = (
    "protocol",
    "paused",
    "send_in_progress",
    "connection_lost_waiter",
    "max_queue_high",
    "max_queue_low",
    "close_timeout",
)
_supported: bool | None = None  # None: not checked yet


def direct_frames_supported(connection: object | None = None) -> bool:
    """Whether the installed websockets has what the fast path uses (checked once; with a
    `connection`, also the attributes its __init__ sets). When not, a warning (once) and
    every connection takes the library's recv()/send()."""
    global _supported
    if _supported is False:
        return False
    missing = [
        *(f"ServerConnection.{n}" for n in _CONNECTION_METHODS if not hasattr(ServerConnection, n)),
        *(f"ServerProtocol.{n}" for n in _PROTOCOL_METHODS if not hasattr(ServerProtocol, n)),
        *(
            f"ServerConnection().{n}"
            for n in (_CONNECTION_FIELDS if connection is not None else ())
            if not hasattr(connection, n)
        ),
        *(
            ["ServerConnection().close_exc"]
            if not isinstance(getattr(ServerConnection, "close_exc", None), property)
            else []
        ),
    ]
    if missing:
        _supported = False
        log.warning(
            "OCPP: websockets %s lacks %s: messages go through its recv()/send() instead "
            "of the direct path (ocpp_direct_frames)",
            _websockets_version(),
            ", ".join(missing),
        )
        return False
    if connection is not None:
        _supported = True
    return True


def _websockets_version() -> str:
    import websockets

    return str(getattr(websockets, "__version__", "?"))


class ChargerConnection(ServerConnection):
    """A charger's WebSocket connection (websockets' asyncio `ServerConnection`, made by
    the `serve` its gateway runs). An admitted connection is counted among those
    accepted and not yet read until its request is read, then among the arriving
    (`Arrival`) until its first answer; both places are given back when its socket goes,
    whenever that is."""

    chargenet_admission: Admission | None = None
    chargenet_arrival: Arrival | None = None
    chargenet_lost = False
    chargenet_endpoint: ChargerEndpoint | None = None

    def __init__(self, *args: Any, direct: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct = direct and (_supported or direct_frames_supported(self))
        self._inbox: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._fragments: list[bytes] | None = None  # a message still arriving in pieces
        self._fragments_text = False
        self._failed = False  # failed by us (1007, 1009): nothing more is handed over
        self._reading_paused = False
        self._abort_later: asyncio.TimerHandle | None = None
        high: int | None = getattr(self, "max_queue_high", None)
        self._pause_at = high
        low: int | None = getattr(self, "max_queue_low", None)
        self._resume_at = low if low is not None else (high // 4 if high is not None else 0)

    # --- admission --------------------------------------------------------------------

    def read(self) -> None:
        """Its request is read: no longer pending."""
        admission, self.chargenet_admission = self.chargenet_admission, None
        if admission is not None:
            admission.pending -= 1

    # --- what the Link uses -------------------------------------------------------------

    async def message(self) -> bytes | None:
        """The next message from the charger, as its bytes; None once the connection is
        closed and every message that came before the close was taken."""
        if not self.direct:
            try:
                data = await self.recv()
            except ConnectionClosed:
                return None
            return data.encode() if isinstance(data, str) else data
        inbox = self._inbox
        while not inbox:
            if self.connection_lost_waiter.done():
                return None
            waiter = self._waiter = self.loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        data = inbox.popleft()
        if self._reading_paused and len(inbox) <= self._resume_at:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def write(self, data: bytes) -> None:
        """Send one text message (UTF-8 `data`). Raises ConnectionClosed when the
        connection is closed or closing."""
        if (
            not self.direct
            or self.paused  # the transport's buffer is over its limit: wait for it
            or self.send_in_progress  # (never: we send no fragmented messages)
            or self.protocol.state is not OPEN
        ):
            await self.send(data, text=True)
            return
        self.protocol.send_text(data)
        try:
            self.send_data()
        except Exception as exc:  # what the library's send_context does with it
            self.set_connection_exc(exc)
            self.transport.abort()
            await asyncio.shield(self.connection_lost_waiter)
            raise self.close_exc from None

    # --- the Sans-I/O protocol's events -------------------------------------------------

    def process_event(self, event: Any) -> None:
        if self.request is None or not self.direct:  # the handshake's request
            super().process_event(event)
            return
        frame: Frame = event
        opcode = frame.opcode
        if self._failed:  # frames parsed with the one that failed the connection
            if opcode is not _TEXT and opcode is not _BINARY and opcode is not _CONT:
                super().process_event(event)
            return
        if opcode is _TEXT or opcode is _BINARY:
            if frame.fin:
                self._deliver(frame.data, opcode is _TEXT)
            else:
                self._fragments = [bytes(frame.data)]
                self._fragments_text = opcode is _TEXT
        elif opcode is _CONT:
            # (the protocol refuses a continuation with no message begun: 1002)
            fragments = self._fragments
            if fragments is None:
                return
            if len(fragments) >= MAX_FRAGMENTS:
                self._fragments = None
                self._fail(CloseCode.MESSAGE_TOO_BIG, "too many fragments")
                return
            fragments.append(bytes(frame.data))
            if frame.fin:
                self._fragments = None
                self._deliver(b"".join(fragments), self._fragments_text)
        else:  # pongs answer our pings (the protocol answers pings and closes itself)
            super().process_event(event)

    def _deliver(self, data: Any, text: bool) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        if text and not data.isascii():
            try:
                data.decode()
            except UnicodeDecodeError as exc:
                self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
                return
        inbox = self._inbox
        inbox.append(data)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        high = self._pause_at
        if high is not None and len(inbox) > high and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def _fail(self, code: CloseCode, reason: str) -> None:
        """Fail the connection (RFC 6455 §7.1.7): the close frame and our half-close go
        out now; the socket is dropped if the charger does not close it in time."""
        self._failed = True
        self.protocol.fail(code, reason)
        try:
            self.send_data()
        except Exception as exc:
            self.set_connection_exc(exc)
        # (cancelled when the socket goes first: it would keep the connection 10 s more)
        self._abort_later = self.loop.call_later(self.close_timeout or 0, self.transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.chargenet_lost = True
        if self._abort_later is not None:
            self._abort_later.cancel()
            self._abort_later = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.read()
        if self.chargenet_arrival is not None:
            self.chargenet_arrival.leave()
