"""What an OCPP handler may see and touch: one charger's connection memory and a few of the
gateway's services. No socket.

Handlers (handlers.py) take a `ChargerContext`, a typed payload and the time it arrived,
and return a `Reply` — the events to store and the answer to send. They never reach the
WebSocket or the gateway's internals, so each action is tested without a socket
(tests/adapters/ocpp/test_handlers.py), and the modules form no loop: `link.py` (the
socket) and `gateway.py` (the server) build on this one; this one imports neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import msgspec

from chargenet.adapters.ocpp.admission import AdmissionConfig
from chargenet.app.endpoints import ChargerEndpoint, ChargerEndpoints
from chargenet.core.drivers import DEVELOPMENT_TOKEN_KEY, Authorisation, TokenKey
from chargenet.core.events import Event, Source
from chargenet.core.ids import ChargerId
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_prefix

MAX_TRACKED_TRANSACTIONS = 64  # per connection; more open at once is not a charger


@dataclass(frozen=True)
class GatewayConfig:
    heartbeat_s: int = 60  # the interval the platform gives chargers at boot
    security_profile: int = 1  # 0 identity only, 1 Basic auth, 2 TLS + Basic, 3 mutual TLS
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None  # profile 3: chargers' certificates must chain to this
    max_connections: int = 50_000  # beyond: 503 Retry-After
    # Bounds on the arriving connections and the pipeline's backlog (admission.py)
    admission: AdmissionConfig = field(default_factory=AdmissionConfig)
    max_frame_bytes: int = 64 * 1024  # larger frames get a CallError, the link lives
    call_timeout_s: float = 30.0
    failed_calls_before_drop: int = 2  # a charger that heartbeats but ignores CALLs is dropped
    missed_heartbeats: float = 3.0  # silent this many intervals: offline
    # How often the gateway looks whether a password was changed or removed (by the CLI or
    # another process): a change bites within this long (0: never looked at; tests only).
    credentials_poll_s: float = 5.0
    # Messages handed to and from websockets' Sans-I/O protocol directly once a connection
    # is open (connection.py); off: through its asyncio recv()/send(), as before (more of
    # the intake's CPU a message: docs/scale.md, "Sans-I/O once a connection is open").
    direct_frames: bool = True
    # Keys the digests of the tokens chargers present (sessions' token_hash): the
    # deployment's, from the settings (bootstrap); the public development key otherwise.
    token_key: TokenKey = DEVELOPMENT_TOKEN_KEY

    @property
    def stale_after_s(self) -> float:
        return self.heartbeat_s * self.missed_heartbeats


@dataclass
class GatewayStats:
    connections: int = 0
    accepted: int = 0
    refused_handshakes: dict[int, int] = field(default_factory=dict)  # by HTTP status
    # 503s of admission control by cause: "arriving", "backlog", "connections"
    busy: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    refused: int = 0  # frames answered with a CallError
    failed: int = 0  # handler failures (bugs), answered InternalError
    dropped_values: int = 0  # implausible meter values not trusted
    replaced: int = 0
    stale: int = 0
    # connections closed (1008) because the charger's password changed or went, or it or
    # its station was retired, or it was registered for another protocol
    revoked: int = 0


class Reply(msgspec.Struct):
    events: Sequence[Event]
    payload: dict[str, Any]


class TokenAuthority(Protocol):
    """Who answers a token presented at a charger (app/settlement.py's `Authoriser`)."""

    def authorise(self, token: str | None) -> Authorisation: ...


class Services(Protocol):
    """The gateway's parts a handler uses (the gateway is one; a test passes its own)."""

    @property
    def clock(self) -> Clock: ...

    @property
    def config(self) -> GatewayConfig: ...

    @property
    def stats(self) -> GatewayStats: ...

    @property
    def endpoints(self) -> ChargerEndpoints: ...

    @property
    def authoriser(self) -> TokenAuthority | None: ...

    def warn(self, charger_id: str, message: str, *args: Any) -> None:
        """Log a charger's bad data (rate-limited by the gateway)."""


class ChargerContext:
    """One charger's connection as its handlers know it: who it is, what it is registered
    with, and what this connection has seen (open transactions, last meter registers, the
    clock-skew flag). It all dies with the connection: a reconnect starts clean."""

    __slots__ = (
        "charger_id",
        "charging",
        "clock_flagged",
        "connected_at",
        "endpoint",
        "prefixes",
        "registers",
        "services",
        "source",
        "transactions",
        "version",
    )

    def __init__(
        self,
        services: Services,
        endpoint: ChargerEndpoint,
        version: str,
        connected_at: datetime,
    ) -> None:
        self.services = services
        self.endpoint = endpoint
        self.charger_id = endpoint.charger_id
        # Who tells us what arrives on this connection: the charger itself (one frozen
        # value for all its events, made with the connection, not one an event; a plain
        # attribute, not a property: read once a meter value).
        self.source = Source(adapter="ocpp", charger_id=ChargerId(self.charger_id))
        self.version = version
        self.connected_at = connected_at
        self.clock_flagged = False
        # Created on first use: most connections are idle most of the time.
        self.transactions: dict[str, tuple[str, int | None]] | None = None  # tx → connector, reg
        self.registers: dict[str, tuple[int, datetime]] | None = None  # connector → (Wh, t)
        # 2.0.1 connectors whose transaction says energy flows: "Occupied" there means charging
        self.charging: set[str] | None = None
        # (connector, session) → the hash of the first parts of its meter values' ids
        self.prefixes: dict[tuple[str, str | None], Any] | None = None

    def meter_prefix(self, connector_id: str, session: str | None) -> Any:
        """The first parts of the ids of this connector's meter values in `session`
        (handlers' `meta`: "ocpp", the charger, "meter", the connector, the session),
        hashed once (`kit.ids.stable_prefix`), not again with each value."""
        prefixes = self.prefixes
        if prefixes is None:
            prefixes = self.prefixes = {}
        key = (connector_id, session)
        prefix = prefixes.get(key)
        if prefix is None:
            if len(prefixes) >= MAX_TRACKED_TRANSACTIONS:
                prefixes.clear()
            prefix = prefixes[key] = stable_prefix(
                "ocpp", self.charger_id, "meter", connector_id, session
            )
        return prefix

    def remember_transaction(self, tx: str, connector_id: str, register: int | None) -> None:
        if self.transactions is None:
            self.transactions = {}
        if tx not in self.transactions and len(self.transactions) >= MAX_TRACKED_TRANSACTIONS:
            self.transactions.pop(next(iter(self.transactions)))
        self.transactions[tx] = (connector_id, register)

    def forget_transaction(self, tx: str) -> tuple[str, int | None] | None:
        return self.transactions.pop(tx, None) if self.transactions else None

    def plausible_register(
        self, connector_id: str, wh: int, max_power_w: int, at: datetime
    ) -> bool:
        """Whether a meter register can follow the last one seen on this connection: a
        jump beyond what the connector could deliver in the time is not trusted."""
        registers = self.registers
        if registers is None:
            registers = self.registers = {}
        last = registers.get(connector_id)
        if last is not None:
            gained = wh - last[0]
            # Up to 1,000 Wh more is within the allowance whatever the time between (it is
            # never less for a connector of no negative power): the two times are read
            # (`timestamp`, once a meter value) only beyond.
            if gained > 1_000 or max_power_w < 0:
                hours = max(at.timestamp() - last[1].timestamp(), 0.0) / 3600
                if gained > max_power_w * hours * 1.2 + 1_000:
                    return False
        registers[connector_id] = (wh, at)
        return True


# A handler answers at once (the commonest frames: nothing to wait for, no coroutine made
# a frame) or when its awaitable is done.
Handler = Callable[[ChargerContext, Any, datetime], Reply | Awaitable[Reply]]
