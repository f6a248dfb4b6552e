"""The OCPI party, assembled: directory, reads, receiver, registration and client. Built by
`bootstrap.build_ocpi`; the web routes, the pull and forwarding jobs and the CLI use it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chargenet.adapters.ocpi.client import OcpiClient
from chargenet.adapters.ocpi.receiver import Receiver, Submit
from chargenet.adapters.ocpi.registration import Identity, Registration
from chargenet.adapters.ocpi.wire import presented_tokens, token_digest
from chargenet.app.ocpi import Caller, OcpiDirectory, OcpiQueries
from chargenet.app.settlement import Authoriser, SettlementReads
from chargenet.core.drivers import TokenKey
from chargenet.kit.clock import Clock

if TYPE_CHECKING:
    from chargenet.adapters.ocpi.hub import Hub

CALLER_CACHE_S = 2.0  # a token revoked from another process stops working within this


@dataclass
class OcpiSettings:
    identity: Identity
    token_key: TokenKey  # keys the digests of drivers' tokens partners send (bootstrap)
    time_zone: str = "Asia/Shanghai"
    currency: str = "CNY"
    pull_interval_s: float = 900.0
    forward_retry_max_s: float = 60.0
    open_data_per_minute: int = 120


@dataclass
class ForwardStats:
    pushed: int = 0
    refused: int = 0  # dropped: the upstream refused them (2xxx)
    failures: int = 0  # retried later: the upstream was unreachable or failing
    full_syncs: int = 0


@dataclass
class OcpiParty:
    settings: OcpiSettings
    directory: OcpiDirectory
    reads: OcpiQueries
    submit: Submit
    clock: Clock
    client: OcpiClient = field(default_factory=OcpiClient)
    # the platform as eMSP: its drivers' tokens (OCPI Tokens sender, docs/settlement.md)
    tokens: SettlementReads | None = None
    authoriser: Authoriser | None = None
    # Commands sent as eMSP await their CommandResult here (adapters/ocpi/commands.py)
    command_results: Callable[[str, dict[str, Any]], bool] | None = None
    # ChargingProfiles sent as Sender await their results here (adapters/ocpi/profiles.py)
    profile_results: Callable[[str, dict[str, Any]], bool] | None = None
    # Message routing between the parties connected to us (adapters/ocpi/hub.py).
    hub: Hub | None = None
    # The open-data rate limiter, when several processes must share one (else in memory).
    limiter: Any = None
    forward_stats: ForwardStats = field(default_factory=ForwardStats)
    _callers: dict[str, tuple[float, Caller | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.receiver = Receiver(
            self.reads,
            self.directory,
            self.submit,
            self.clock,
            time_zone=self.settings.time_zone,
            country_code=self.settings.identity.party.country_code,
            token_key=self.settings.token_key,
        )
        self.registration = Registration(
            self.directory,
            self.reads,
            self.receiver,
            self.submit,
            self.client,
            self.settings.identity,
            self.clock,
            on_change=self.forget_callers,
        )

    def cached_caller(self, header: str | None) -> tuple[Caller | None, str | None] | None:
        """The caller from the cache, without touching the database; None when not cached."""
        now = time.monotonic()
        for token in presented_tokens(header):
            cached = self._callers.get(token_digest(token))
            if cached is not None and cached[1] is not None and now - cached[0] < CALLER_CACHE_S:
                return cached[1], token
        return None

    def caller(self, header: str | None) -> tuple[Caller | None, str | None]:
        """The caller a request's Authorization header names, and the token it used."""
        now = time.monotonic()
        for token in presented_tokens(header):
            digest = token_digest(token)
            cached = self._callers.get(digest)
            if cached is not None and now - cached[0] < CALLER_CACHE_S:
                found = cached[1]
            else:
                found = self.directory.caller(digest)
                if len(self._callers) > 10_000:
                    self._callers.clear()
                self._callers[digest] = (now, found)
            if found is not None:
                return found, token
        return None, None

    def forget_callers(self) -> None:
        self._callers.clear()
        if self.hub is not None:  # who is connected changed too
            self.hub.forget()
