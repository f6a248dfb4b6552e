"""Bearer-token guard for the non-public reads (the event log, sessions).

Tokens are compared by their SHA-256 digest in constant time; the platform keeps only the
digests. Role-based users and logins build on this (see the dashboard).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

from fastapi import HTTPException, Request


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_guard(digests: Iterable[str]) -> Callable[[Request], None]:
    allowed = tuple(digests)

    def guard(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(
                status_code=401,
                detail="authentication required: send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        digest = token_digest(token.strip())
        if not any(hmac.compare_digest(digest, d) for d in allowed):
            raise HTTPException(status_code=403, detail="token not accepted")

    return guard
