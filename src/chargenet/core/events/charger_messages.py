"""Messages chargers send that are not state (OCPP gateway)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    ChargerId,
)

MAX_DATA_TRANSFER_CHARS = 10_000


@dataclass(frozen=True, kw_only=True)
class ChargerDataTransferred(Event):
    """A vendor-specific message from a charger (OCPP DataTransfer), kept as sent."""

    TYPE: ClassVar[str] = "charger.data_transferred"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"data": MAX_DATA_TRANSFER_CHARS}
    charger_id: ChargerId
    vendor_id: str
    message_id: str | None = None
    data: str | None = None  # as sent (JSON text when it was not a string), bounded

    def body_problems(self) -> list[str]:
        out = _empty(charger_id=self.charger_id, vendor_id=self.vendor_id)
        if self.data is not None and len(self.data) > MAX_DATA_TRANSFER_CHARS:
            out.append(f"data longer than {MAX_DATA_TRANSFER_CHARS} characters")
        return out
