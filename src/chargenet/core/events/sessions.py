"""Charging sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargenet.core.events.base import MAX_ENERGY_REGISTER_WH, Event, _empty
from chargenet.core.ids import (
    ConnectorId,
    SessionId,
)
from chargenet.core.money import Money
from chargenet.core.sessions import MAX_SESSION_ENERGY_WH, SessionFlag


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    TYPE: ClassVar[str] = "session.started"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"token_hash": 128}
    session_id: SessionId
    connector_id: ConnectorId
    meter_start_wh: int | None = None
    token_hash: str | None = None  # never the raw RFID / account token
    flags: tuple[SessionFlag, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id, connector_id=self.connector_id)
        if self.meter_start_wh is not None and not (
            0 <= self.meter_start_wh <= MAX_ENERGY_REGISTER_WH
        ):
            out.append(f"meter start {self.meter_start_wh} Wh out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SessionUpdated(Event):
    TYPE: ClassVar[str] = "session.updated"
    session_id: SessionId
    energy_wh: int | None = None  # delivered so far
    power_w: int | None = None
    cost: Money | None = None

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id)
        if self.energy_wh is not None and not 0 <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"session energy {self.energy_wh} Wh out of range")
        return out


@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    """A session ended. Energy is from the meter stop reading when the source gives one,
    else the source's own total."""

    TYPE: ClassVar[str] = "session.ended"
    session_id: SessionId
    meter_stop_wh: int | None = None
    energy_wh: int | None = None
    stop_reason: str | None = None
    cost: Money | None = None
    flags: tuple[SessionFlag, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(session_id=self.session_id)
        if self.meter_stop_wh is not None and not 0 <= self.meter_stop_wh <= MAX_ENERGY_REGISTER_WH:
            out.append(f"meter stop {self.meter_stop_wh} Wh out of range")
        if self.energy_wh is not None and not 0 <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"session energy {self.energy_wh} Wh out of range")
        return out
