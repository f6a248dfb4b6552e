"""One charger's WebSocket connection and everything that lives only as long as it does.

Pending CALLs, the lock that keeps one CALL in flight, transaction bookkeeping and the
clock-skew flag all belong to the `Link` and die with its socket: a reconnect starts
clean, so nothing from a dead socket can jam the next one (the most reported failure of
other central systems). Frames from the charger are handled in order, one at a time, as
OCPP has them sent; the answer to a CALL goes out only after its events are durable.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec
from websockets.exceptions import ConnectionClosed

from chargenet.adapters.ocpp import wire
from chargenet.adapters.ocpp.connection import ChargerConnection
from chargenet.adapters.ocpp.context import ChargerContext, Handler, Reply, Services
from chargenet.adapters.ocpp.model import requires_nothing
from chargenet.adapters.ocpp.wire import Call, CallError, CallResult, Err, FrameError
from chargenet.app.endpoints import ChargerEndpoint
from chargenet.core.events import Event

log = logging.getLogger(__name__)

_ids = itertools.count(1)


class CallFailed(Exception):
    """Our CALL got no usable answer: the charger's CallError, a bad answer, or a closed
    socket."""


class Gateway(Services, Protocol):
    """What a connection needs of the server that accepted it."""

    def handlers(self, version: str) -> dict[str, Handler]: ...

    async def submit(self, events: Sequence[Event]) -> None: ...


class Link(ChargerContext):
    """The socket half of a connection; the handlers see only its `ChargerContext` half."""

    __slots__ = (
        "_handlers",
        "_lock",
        "_pending",
        "answered",
        "arrived",
        "call_failures",
        "close_reason",
        "gateway",
        "last_seen",
        "replaced",
        "revoked",
        "ws",
    )

    def __init__(
        self,
        gateway: Gateway,
        ws: ChargerConnection,
        endpoint: ChargerEndpoint,
        version: str,
        connected_at: datetime,
    ) -> None:
        super().__init__(gateway, endpoint, version, connected_at)
        self.gateway = gateway
        self.ws = ws
        self._handlers = gateway.handlers(version)  # (looked up once, not once a frame)
        self.last_seen = time.monotonic()
        self.call_failures = 0
        self.close_reason = "connection closed"
        self.replaced = False
        self.revoked = False  # closed by the gateway: its record no longer lets it in
        # Created on first use: most connections are idle most of the time.
        self._pending: dict[str, asyncio.Future[Any]] | None = None
        self._lock: asyncio.Lock | None = None
        # The "connected" presence on its way to the pipeline, sent beside the charger's
        # first frame rather than before it is read (gateway `_handle`); the first answer
        # waits for it, so a charger is told nothing before its connection is recorded.
        self.arrived: asyncio.Future[None] | None = None
        # Told once the first answer to a charger's CALL has gone out (the gateway's
        # admission control counts the connection as arriving until then).
        self.answered: Callable[[], None] | None = None

    # --- incoming ------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            while (data := await self.ws.message()) is not None:
                self.last_seen = time.monotonic()
                try:
                    # (read without a coroutine of its own: a level less for each message
                    # to pass on its way back from waiting for its events to be stored)
                    message = self._read(data)
                    if isinstance(message, Call):
                        await self._call(message)
                    elif message is not None:
                        await self._send(message)
                except ConnectionClosed:
                    raise
                except Exception:
                    # A bug in handling one frame must not cost the charger its connection.
                    self.gateway.stats.failed += 1
                    log.exception("%s: a frame could not be handled", self.charger_id)
        except ConnectionClosed:
            pass
        finally:
            self._fail_pending("connection closed")

    def _read(self, data: bytes) -> Call | bytes | None:
        """A frame read: a CALL to handle, else the CallError to answer it with (bytes),
        else None (an answer to our CALL, handed to its waiter, or a refusal only
        logged)."""
        gateway = self.gateway
        gateway.stats.frames += 1
        try:
            if len(data) > gateway.config.max_frame_bytes:
                raise wire.unreadable(
                    data,
                    Err.format(self.version),
                    f"frame of {len(data)} bytes exceeds {gateway.config.max_frame_bytes}",
                )
            message = wire.parse(data, self.version)
        except FrameError as exc:
            gateway.stats.refused += 1
            gateway.warn(self.charger_id, "refused frame: %s %s", exc.code, exc.description)
            if exc.answer:
                return wire.error(exc.message_id, exc.code, exc.description)
            return None
        if isinstance(message, Call):
            return message
        self._answer(message)
        return None

    async def _call(self, call: Call) -> None:
        gateway = self.gateway
        received = gateway.clock.now()
        handler = self._handlers.get(call.action)
        try:
            if handler is None:
                if requires_nothing(self.version, call.action):
                    await self._send(wire.result(call.message_id, {}))
                else:
                    await self._send(
                        wire.error(
                            call.message_id, Err.NOT_SUPPORTED, f"{call.action} is not supported"
                        )
                    )
                return
            handled = handler(self, call.payload, received)
            # (the commonest frames' handlers answer at once: no coroutine made for them)
            reply = handled if isinstance(handled, Reply) else await handled
            if reply.events:
                await gateway.submit(reply.events)
            if self.arrived is not None and not await self._recorded():
                return
            answer = wire.result(call.message_id, reply.payload)
            if not self.ws.written(answer):
                await self._send(answer)
            if self.answered is not None:
                answered, self.answered = self.answered, None
                answered()
        except ConnectionClosed:
            raise
        except Exception:
            gateway.stats.failed += 1
            log.exception("%s: %s failed", self.charger_id, call.action)
            await self._send(
                wire.error(call.message_id, Err.INTERNAL, f"{call.action} could not be handled")
            )

    async def _recorded(self) -> bool:
        """Whether the connection's presence is durable (waiting for it); if it could not
        be, the connection is closed, as it was when presence went before the first frame:
        the charger connects again."""
        arrived, self.arrived = self.arrived, None
        try:
            if arrived is not None:
                await arrived
        except Exception:
            log.exception("%s: the connection could not be recorded; closing it", self.charger_id)
            await self.ws.close(1011, "connection not recorded")
            return False
        return True

    def _answer(self, message: CallResult | CallError) -> None:
        future = self._pending.get(message.message_id) if self._pending else None
        if future is None or future.done():
            log.info("%s: answer to no pending call %s", self.charger_id, message.message_id)
            return
        future.set_result(message)

    async def _send(self, data: bytes) -> None:
        await self.ws.write(data)

    # --- outgoing ------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], timeout_s: float) -> Any:
        """Send a CALL and return the charger's validated answer. One CALL in flight at a
        time (OCPP); the wait for the lock counts against the timeout. Raises TimeoutError
        or CallFailed."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self._pending is None:
            self._pending = {}
        deadline = asyncio.get_running_loop().time() + timeout_s
        async with asyncio.timeout_at(deadline):
            async with self._lock:
                message_id = f"cn{next(_ids)}"
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                self._pending[message_id] = future
                try:
                    await self._send(wire.call(message_id, action, payload))
                    answer = await future
                except ConnectionClosed:
                    raise CallFailed("connection closed") from None
                finally:
                    self._pending.pop(message_id, None)
        if isinstance(answer, CallError):
            raise CallFailed(f"{answer.code}: {answer.description}")
        try:
            return wire.decode_result(self.version, action, answer.payload)
        except msgspec.ValidationError as exc:
            raise CallFailed(f"invalid {action} answer: {exc}") from None
        except msgspec.DecodeError as exc:
            raise CallFailed(f"unreadable {action} answer: {exc}") from None

    def _fail_pending(self, reason: str) -> None:
        if not self._pending:
            return
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CallFailed(reason))
        self._pending.clear()

    async def close(self, reason: str, code: int = 1000) -> None:
        self.close_reason = reason
        self._fail_pending(reason)
        await self.ws.close(code, reason[:120])
