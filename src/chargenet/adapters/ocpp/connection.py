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

The commonest frames do not even go through the Sans-I/O protocol's frame code, which
cost ≈ 4 µs to read one and ≈ 2.5 µs to write one (a generator per read, a `Frame`
dataclass, its checks and its serialisation), a tenth of an intake's CPU a message: a
chunk read from the socket while the protocol's parser waits between frames (its buffer
empty) is read here as long as it holds whole, masked, unfragmented text or binary
frames within the size limit with no reserved bits, text that is UTF-8; from the first
frame that is anything else (a ping, a close, a fragment, a frame cut by the TCP read, a
frame the library would refuse) the rest of the chunk goes to the library, which reads
it as it would have. An answer is framed here (the bytes the library would write: FIN,
text, unmasked, the length) when the protocol would frame it so: open, no extension, not
in the middle of a fragmented message, nothing of its own waiting to be written. Both
are off with the library's debug logging (it logs each frame), and when the protocol
lacks an attribute this relies on (`_RAW_FIELDS`, checked a connection).
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
from websockets.protocol import OPEN, Protocol
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

try:  # as websockets.frames has it: its C speedups when built
    from websockets.speedups import apply_mask
except ImportError:
    from websockets.utils import apply_mask

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
# The head of a server's text frame (FIN, text, unmasked) of fewer than 126 bytes, by length.
_SHORT_HEADS = [bytes((0x81, size)) for size in range(126)]
# What reading and writing frames here uses of the Sans-I/O protocol (attributes its
# __init__ sets); a protocol without one of them leaves every frame to the library.
_RAW_FIELDS = (
    "reader",
    "parser",
    "current_size",
    "max_message_size",
    "max_fragment_size",
    "extensions",
    "debug",
    "writes",
    "expect_continuation_frame",
    # (what its `state` property answers, read here without the property's call: twice
    # a message)
    "_state",
)
# Where the protocol's parser waits when it is between two frames with nothing buffered:
# in its reader's `at_eof`, called from its frame loop (`Protocol.parse`).
_AT_EOF = getattr(getattr(StreamReader, "at_eof", None), "__code__", None)
_FRAME_LOOP = getattr(getattr(Protocol, "parse", None), "__code__", None)


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
        protocol = self.protocol
        # Frames read and written here (see the module's docstring), while `_between` says
        # the protocol's parser waits between frames with nothing buffered.
        self._raw = (
            self.direct
            and _AT_EOF is not None
            and _FRAME_LOOP is not None
            and all(hasattr(protocol, name) for name in _RAW_FIELDS)
        )
        self._between = False
        self._write_failed = False

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
        if self.written(data):
            return
        if self._write_failed:  # the transport refused it: the connection is lost
            await asyncio.shield(self.connection_lost_waiter)
            raise self.close_exc from None
        protocol = self.protocol
        if (
            not self.direct
            or self.paused  # the transport's buffer is over its limit: wait for it
            or self.send_in_progress  # (never: we send no fragmented messages)
            or protocol.state is not OPEN
        ):
            await self.send(data, text=True)
            return
        try:
            protocol.send_text(data)
            self.send_data()
        except Exception as exc:  # what the library's send_context does with it
            self.set_connection_exc(exc)
            self.transport.abort()
            await asyncio.shield(self.connection_lost_waiter)
            raise self.close_exc from None

    def written(self, data: bytes) -> bool:
        """Write one text message now, framed here, when nothing makes it wait or needs
        the library's framing (then False: nothing written, `write` it)."""
        protocol = self.protocol
        if (
            not self._raw
            or self._write_failed
            or self.paused
            or self.send_in_progress
            or protocol._state is not OPEN
            or protocol.writes
            or protocol.extensions
            or protocol.debug
            or protocol.expect_continuation_frame
        ):
            return False
        # The frame `send_text` would make (FIN, text, a server's frames unmasked).
        size = len(data)
        if size < 126:
            head = _SHORT_HEADS[size]
        elif size < 65536:
            head = bytes((0x81, 126)) + size.to_bytes(2, "big")
        else:
            head = bytes((0x81, 127)) + size.to_bytes(8, "big")
        try:
            self.transport.write(head + data)
        except Exception as exc:  # what the library's send_context does with it; `write`
            self.set_connection_exc(exc)  # then raises ConnectionClosed as it does
            self.transport.abort()
            self._write_failed = True
            return False
        return True

    # --- frames read here -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if not self._raw:
            super().data_received(data)
            return
        if self._between:
            data = self._read_frames(data)
            if not data:
                return
        super().data_received(data)
        self._between = self._parser_between_frames()

    def _parser_between_frames(self) -> bool:
        """Whether the protocol's parser waits for the first byte of a frame, nothing
        buffered (else it is in the middle of one, or of the handshake, or discarding)."""
        protocol = self.protocol
        if protocol.reader.buffer:
            return False
        outer, inner = None, protocol.parser
        while (deeper := getattr(inner, "gi_yieldfrom", None)) is not None:
            outer, inner = inner, deeper
        return (
            getattr(inner, "gi_code", None) is _AT_EOF
            and getattr(outer, "gi_code", None) is _FRAME_LOOP
        )

    def _read_frames(self, data: bytes) -> bytes:
        """Hand over the whole frames at the start of `data` that are plain messages (as
        the library would have: the same checks, the same order); what is left, from
        the first frame that is anything else, is the library's to read."""
        protocol = self.protocol
        if (
            protocol._state is not OPEN
            or self.request is None
            or self._failed
            or self._fragments is not None
            or protocol.current_size is not None
            or protocol.extensions
            or protocol.debug
        ):
            return data
        limit: int | None = protocol.max_message_size
        fragment: int | None = protocol.max_fragment_size
        if fragment is not None:
            limit = fragment if limit is None else min(limit, fragment)
        size = len(data)
        at = 0
        while size - at >= 6:  # the shortest masked frame: 2 bytes of head, 4 of mask
            first, second = data[at], data[at + 1]
            opcode = first & 0x0F
            # FIN, no reserved bit, text or binary; masked, as a client's frames must be.
            if first & 0xF0 != 0x80 or (opcode != 1 and opcode != 2) or not second & 0x80:
                break
            length = second & 0x7F
            start = at + 6
            if length == 126:
                start = at + 8
                if size < start:
                    break
                length = int.from_bytes(data[at + 2 : at + 4], "big")
            elif length == 127:
                break
            end = start + length
            if end > size or (limit is not None and length > limit):
                break
            payload = apply_mask(data[start:end], data[start - 4 : start])
            if opcode == 1 and not payload.isascii():
                try:
                    payload.decode()
                except UnicodeDecodeError:
                    # Left to the protocol's parser with the rest, as if never read here:
                    # `process_event` fails the connection with 1007 (`_deliver`) after
                    # what the protocol answers to the frames that follow in the chunk.
                    break
            self._deliver(payload, False)  # (its text checked just above: not again)
            at = end
        return data[at:] if at else data

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
        """Hand a whole message over to the reader; `text`: check it is UTF-8 first (else
        the connection fails with 1007 and it is not handed over)."""
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
