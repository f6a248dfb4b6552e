"""The frames a charger connection reads itself (`ChargerConnection._read_frames`) against
the library's reading of the same bytes: whatever a charger sends, however TCP cuts it,
the same messages are handed over, the same bytes answered (pongs, close frames and
their codes) and the connection ends in the same state. Chargers are untrusted: the
streams mix valid frames with every kind RFC 6455 refuses (unmasked, reserved bits,
unknown opcodes, long or fragmented control frames, a continuation with nothing begun,
text that is not UTF-8, a code point split over two fragments, 16- and 64-bit lengths,
frames over the size limit)."""

from __future__ import annotations

import asyncio
import random
import struct
from typing import Any

import pytest
from websockets.protocol import OPEN, State
from websockets.server import ServerProtocol

from chargenet.adapters.ocpp.connection import ChargerConnection


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.paused = False
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.closing = True

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.written.append(b"")

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


class _Server:
    def __init__(self) -> None:
        self.handler_tasks: set[asyncio.Task[None]] = set()

    async def handler(self, connection: Any) -> None:
        pass


def _open(read_here: bool, max_size: Any) -> tuple[ChargerConnection, _Transport]:
    """An open connection past its handshake; `read_here` False: every frame the library's."""
    protocol = ServerProtocol(state=OPEN, max_size=max_size)
    connection = ChargerConnection(
        protocol, _Server(), direct=True, ping_interval=None, max_queue=100_000
    )
    transport = _Transport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    connection.request = object()  # type: ignore[assignment]
    assert connection._raw
    if not read_here:
        connection._raw = False
    else:
        connection._between = connection._parser_between_frames()
        assert connection._between
    return connection, transport


def _frame(
    payload: bytes, opcode: int = 1, first: int = 0x80, masked: bool = True, wide: int = 0
) -> bytes:
    """A frame as a client writes it; `wide` 2 or 8: the length in that many bytes."""
    size = len(payload)
    bit = 0x80 if masked else 0
    head = bytes((first | opcode,))
    if not wide:
        wide = 0 if size < 126 else 2 if size < 65536 else 8
    if wide == 2:
        head += bytes((bit | 126,)) + struct.pack("!H", size)
    elif wide == 8:
        head += bytes((bit | 127,)) + struct.pack("!Q", size)
    else:
        head += bytes((bit | size,))
    if not masked:
        return head + payload
    mask = random.randbytes(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


_TEXTS = [
    b'[2,"a","Heartbeat",{}]',
    "é⚡".encode(),
    b"\xff\xfe",  # not UTF-8
    "é".encode()[:1],  # a code point cut short
    b"\xed\xa0\x80",  # a surrogate: not UTF-8
    b"",
    b"x" * 200,
    b"y" * 130,
    "\U0001f600".encode(),
]


def _some_frames(r: random.Random) -> bytes:
    p = r.choice(_TEXTS)
    e = "é".encode()
    k = r.random()
    if k < 0.5:
        return _frame(p, r.choice([1, 1, 1, 2]))
    choices = [
        lambda: _frame(p, 1, masked=False),
        lambda: _frame(p, 1, first=r.choice([0xC0, 0xA0, 0x90])),
        lambda: _frame(p, r.choice([3, 4, 5, 6, 7, 11, 12, 15])),  # no such opcode
        lambda: _frame(b"ping", 9),
        lambda: _frame(b"x" * 126, 9),  # a control frame over 125 bytes
        lambda: _frame(b"", 9, first=0x00),  # a fragmented control frame
        lambda: _frame(b"\x03\xe8bye", 8),
        lambda: _frame(b"\x03", 8),  # a close frame of one byte
        lambda: _frame(p, 1, first=0x00) + _frame(p, 0),
        lambda: _frame(p, 0),  # a continuation with nothing begun
        lambda: _frame(p, 1, wide=2),
        lambda: _frame(p, 1, wide=8),
        lambda: _frame(b"z" * 20, 1, first=0x00) + _frame(b"ping", 9) + _frame(b"w", 0),
        lambda: _frame(e[:1], 1, first=0x00) + _frame(e[1:], 0),  # a code point split
        lambda: _frame(b"y" * 70_000),
        lambda: _frame(p, 1, first=0x00) + _frame(p, 1),  # a message inside a message
    ]
    return r.choice(choices)()


_consumed = [0]  # frames' bytes `_read_frames` took


def _read(
    read_here: bool, chunks: list[bytes], max_size: Any
) -> tuple[list[bytes], list[bytes], State, int | None]:
    connection, transport = _open(read_here, max_size)
    read_frames = connection._read_frames

    def counted(data: bytes) -> bytes:
        left = read_frames(data)
        _consumed[0] += len(data) - len(left)
        return left

    connection._read_frames = counted  # type: ignore[method-assign]
    for chunk in chunks:
        if transport.paused or transport.closing:
            break
        connection.data_received(chunk)
    closed = connection.protocol.close_sent
    return (
        list(connection._inbox),
        transport.written,
        connection.protocol.state,
        None if closed is None else closed.code,
    )


@pytest.mark.parametrize("seed", range(8))
def test_frames_read_here_are_read_as_the_library_reads_them(seed: int) -> None:
    async def scenario() -> None:
        r = random.Random(seed)
        for _ in range(100):
            stream = b"".join(_some_frames(r) for _ in range(r.randint(1, 8)))
            cuts = sorted(r.sample(range(1, len(stream)), min(len(stream) - 1, r.randint(0, 4))))
            chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
            max_size = r.choice([2**20, 100, 150, None, (2**20, 64)])
            here = _read(True, chunks, max_size)
            assert here == _read(False, chunks, max_size), (chunks, max_size)

    _consumed[0] = 0
    asyncio.run(scenario())
    assert _consumed[0] > 0  # (frames were read here, not all left to the library)
