"""Signing of webhook messages, both ways: HMAC-SHA256 over `<timestamp>.<body>` with the
operator's channel secret, hex, as `sha256=<hex>` — the scheme of the widely used webhook
senders (GitHub's `X-Hub-Signature-256`, Stripe's timestamped signatures), so operators'
platforms verify it with what they have. The timestamp (Unix seconds) is inside what is
signed and must be within `WINDOW_S` of the receiver's clock: a captured message cannot be
replayed later."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SIGNATURE = "X-Chargenet-Signature"
TIMESTAMP = "X-Chargenet-Timestamp"
OPERATOR = "X-Chargenet-Operator"
DELIVERY = "X-Chargenet-Delivery"  # the same on every resend: the receiver's dedup key
WINDOW_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def problem(
    secret: str, timestamp: str | None, body: bytes, signature: str | None, now: datetime
) -> str | None:
    """Why a signed message is not to be believed (None: it is)."""
    if not timestamp or not signature:
        return f"{TIMESTAMP} and {SIGNATURE} are required"
    try:
        sent = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP} is not Unix seconds"
    if abs(now.timestamp() - sent) > WINDOW_S:
        return f"{TIMESTAMP} is more than {WINDOW_S} s from our clock"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        return "signature does not match"
    return None


class Sealer:
    """Seals channel secrets under the master key(s) (the first seals, all open)."""

    def __init__(self, keys: Callable[[], list[str]]) -> None:
        self._load = keys  # loaded on first use: a platform without channels needs none
        self._fernet: MultiFernet | None = None

    def _multi(self) -> MultiFernet:
        if self._fernet is None:
            keys = self._load()
            if not keys:
                raise ValueError("no master key to seal channel secrets with")
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        return self._fernet

    def seal(self, secret: str) -> str:
        return self._multi().encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._multi().decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a channel secret does not open with the master key") from exc
