"""What a charger gateway (OCPP) needs to know about the chargers that connect to it, and
the port through which it learns it. Implemented by the storage adapter."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ConnectorRef:
    connector_id: str
    max_power_w: int


@dataclass(frozen=True, slots=True)
class ChargerEndpoint:
    """A registered, networked charger: who it is, how it speaks, how it logs in."""

    charger_id: str
    protocol: str | None
    retired: bool
    # (evse_no, connector_no) → connector; OCPP 1.6 connectorId n is (n, 1)
    connectors: Mapping[tuple[int, int], ConnectorRef] = field(default_factory=dict)
    secret_hash: str | None = None  # hashed password (security profiles 1 and 2)

    def connector(self, evse_no: int, connector_no: int | None = None) -> ConnectorRef | None:
        if connector_no is not None:
            return self.connectors.get((evse_no, connector_no))
        # An EVSE named without a connector: its only (or first) connector.
        candidates = sorted(k for k in self.connectors if k[0] == evse_no)
        return self.connectors[candidates[0]] if candidates else None


@dataclass(frozen=True, slots=True)
class OpenSession:
    session_id: str
    connector_id: str
    started_at: datetime


class ChargerEndpoints(Protocol):
    def endpoint(self, charger_id: str) -> ChargerEndpoint | None: ...

    def endpoints(self, protocols: Sequence[str]) -> list[ChargerEndpoint]:
        """Every charger that speaks one of these protocols (to warm a cache)."""
        ...

    def online_chargers(self, protocols: Sequence[str]) -> list[str]:
        """Chargers of these protocols that state says are online."""
        ...

    def secrets_fingerprint(self) -> Hashable:
        """A cheap value that changes whenever any charger's password is set, changed or
        removed (by any process): the gateway polls it to drop what it cached."""
        ...

    def secret_hashes(self) -> dict[str, str]:
        """Every charger's hashed password (chargers without one are absent)."""
        ...

    def open_sessions(self, charger_id: str) -> list[OpenSession]: ...

    def open_alarm(self, target_id: str, code: str) -> str | None:
        """The id of the newest uncleared alarm with this code on this target."""
        ...


class SocketRegistry(Protocol):
    """Where several OCPP intake nodes record which of them holds each charger's socket
    (docs/scale.md: the socket map), so that an order reaches the node that can send it."""

    async def held(self, charger_id: str) -> None:
        """This node now holds the charger's socket."""

    async def released(self, charger_id: str) -> bool:
        """This node's socket closed: forget it, unless another node has taken the charger
        since. Whether the charger was still this node's (only then is it offline)."""

    async def held_elsewhere(self, charger_ids: Sequence[str]) -> set[str]:
        """Those of the chargers a live node other than this one holds."""
