"""POST /payments/{provider}/notify: a payment provider's asynchronous notification.

Verified by the provider's adapter (signature, time, decryption) before anything is read;
a refused notification changes nothing and is answered 4xx `{"code": "FAIL", "message"}`
(the provider resends); a taken one 204. The top-up is keyed by the provider's transaction
id, so resends change nothing."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from chargenet.app.payments import NotificationRefused, PaymentProvider
from chargenet.app.settlement import SettlementService
from chargenet.core.access import Audience, declared
from chargenet.core.errors import DomainError
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _fail(message: str, status: int) -> JSONResponse:
    return JSONResponse({"code": "FAIL", "message": message}, status_code=status)


def payments_router(
    providers: Sequence[PaymentProvider], settlement: SettlementService, clock: Clock
) -> APIRouter:
    router = APIRouter(prefix="/payments", tags=["payments"])
    by_name = {p.name: p for p in providers}

    @router.post("/{provider}/notify", **declared(Audience.PARTNER))
    async def notify(provider: str, request: Request) -> Response:
        """A payment provider's signed notification of money received for a driver."""
        adapter = by_name.get(provider)
        if adapter is None:
            return _fail(f"no provider {provider!r}", 404)
        body = await request.body()
        if len(body) > MAX_BODY:
            return _fail("notification too large", 413)
        try:
            payment = adapter.read(dict(request.headers), body, clock.now())
        except NotificationRefused as exc:
            log.warning("%s notification refused: %s", provider, exc)
            return _fail(str(exc), exc.status)
        if payment is None:
            return Response(status_code=204)
        try:
            await settlement.payment_received(payment)
        except DomainError as exc:
            log.error("%s payment %s not credited: %s", provider, payment.transaction_id, exc)
            return _fail(str(exc), 400)
        return Response(status_code=204)

    return router
