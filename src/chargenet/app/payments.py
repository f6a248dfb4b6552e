"""The payment-provider port: a provider's signed notification that money was received
for a driver becomes a top-up of the driver's wallet, keyed by the provider's transaction
id, so a resent notification changes nothing (docs/settlement.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class NotificationRefused(Exception):
    """A notification that is not the provider's (signature, time, decryption) or cannot
    be read; nothing changes. `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    provider: str
    transaction_id: str  # the provider's: the top-up's idempotency key
    driver_id: str
    amount: Decimal
    currency: str


class PaymentProvider(Protocol):
    name: str

    def read(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> PaymentReceived | None:
        """The payment a verified notification reports; None for a verified notification
        that reports no received money (a closed or refunded order). Raises
        NotificationRefused for anything not verified."""
        ...
