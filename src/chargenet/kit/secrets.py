"""Hashed secrets for machine logins (charger passwords).

PBKDF2-SHA256 with a random salt. Charger passwords are long random strings (OCPP asks for
16–40 characters), so a moderate work factor is enough; the gateway remembers a verified
password in memory, so a reconnect storm does not re-run the hash for every charger.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ALGO = "pbkdf2_sha256"
ITERATIONS = 2_000  # ~1 ms: a storm of 10k logins after a restart costs ~10 s of CPU


def hash_secret(secret: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), iterations)
    return f"{_ALGO}${iterations}${salt}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        algo, iterations, salt, digest = stored.split("$")
        if algo != _ALGO:
            return False
        candidate = hashlib.pbkdf2_hmac(
            "sha256", secret.encode(), bytes.fromhex(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def new_secret() -> str:
    """A fresh charger password: 32 characters, within OCPP's 16–40."""
    return secrets.token_urlsafe(24)


def derived_secret(fleet_secret: str, charger_id: str) -> str:
    """A per-charger password derived from one fleet secret (demo and simulator fleets)."""
    return hmac.new(fleet_secret.encode(), charger_id.encode(), hashlib.sha256).hexdigest()[:32]
