"""The T/CEC 102 endpoints on chargenet's web server: POST {prefix}/{endpoint}.

Every answer is HTTP 200 with the protocol's own Ret (as partners expect), except an
unknown endpoint (404) and a body over the size limit (413, refused before it is all
read), both still in the envelope with Ret 4003.
"""

from __future__ import annotations

import logging

import msgspec
from fastapi import APIRouter, Request, Response

from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.receiver import MAX_BODY, InboundService
from chargenet.adapters.tcec.wire import build_reply
from chargenet.core.access import Audience, declared
from chargenet.kit.bounds import DocumentRefused, read_capped

log = logging.getLogger(__name__)

PREFIX = "/tcec/v1"


def _json(body: object, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def tcec_router(inbound: InboundService, prefix: str = PREFIX) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["T/CEC 102 interconnection"])

    @router.post(
        "/{endpoint}",
        summary="A T/CEC 102 request envelope (OperatorID, Data, …)",
        **declared(Audience.PARTNER),
    )
    async def receive(endpoint: str, request: Request) -> Response:
        if endpoint not in inbound.handlers:
            return _json(
                build_reply(Ret.PARAMETERS, f"unknown endpoint {endpoint}", None, None), 404
            )
        try:
            body = await read_capped(
                request.stream(), MAX_BODY, request.headers.get("content-length")
            )
        except DocumentRefused:
            log.warning("tcec %s: request over %d bytes refused", endpoint, MAX_BODY)
            return _json(build_reply(Ret.PARAMETERS, "request too large", None, None), 413)
        return _json(await inbound.handle(endpoint, body, request.headers.get("authorization")))

    return router
