"""Domain errors as HTTP answers, in one place for the whole API.

The kind of a failure is the class it derives from (core/errors.py); every route answers
the same kind with the same status and the same body, `{"detail": "<what and why>"}`
(FastAPI's own shape for HTTPException and validation errors, which pages and clients
read). Routes raise domain errors and let them pass; they do not catch and translate.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chargenet.core.errors import Conflict, DomainError, NotPermitted, UnknownReference

log = logging.getLogger(__name__)

# First match wins: a class may derive from two kinds (a settlement conflict is also a
# settlement refusal), and the more specific kind is listed first.
STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (UnknownReference, 404),
    (NotPermitted, 403),
    (Conflict, 409),
    (DomainError, 422),  # Invalid, and any refusal by a rule whose kind is unsaid
)


def status_for(exc: DomainError) -> int:
    """The HTTP status for a domain error, by its kind."""
    return next(status for kind, status in STATUS if isinstance(exc, kind))


def answer(exc: DomainError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status_for(exc))


def install(app: FastAPI) -> None:
    """Answer every DomainError a route lets through by its kind."""

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        response = answer(exc)
        log.info(
            "%s %s → %d %s: %s",
            request.method,
            request.url.path,
            response.status_code,
            type(exc).__name__,
            exc,
        )
        return response

    app.add_exception_handler(DomainError, domain_error)
