"""Setting an operator's own channel for orders and notices (admins):
`PUT /api/v1/operators/{operator_id}/channel {url}` answers the new signing secret, once;
`DELETE` removes the channel (docs/supervision.md, "Orders and notices that reach the
operator")."""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Admin, bind, services
from chargenet.app.channels import ChannelService
from chargenet.app.queries import StateQueries
from chargenet.core.access import Audience, declared
from chargenet.core.errors import UnknownReference


class ChannelIn(BaseModel):
    url: str = Field(
        min_length=8, max_length=500, description="the operator's webhook (http/https)"
    )
    enabled: bool = True


@dataclass(frozen=True)
class Channels:
    service: ChannelService
    queries: StateQueries


Context = Annotated[Channels, Depends(services(Channels))]
router = APIRouter(prefix="/api/v1", tags=["operators' channels"])


def channels_router(
    service: ChannelService, queries: StateQueries, authenticators: Sequence[Authenticator]
) -> APIRouter:
    return bind(router, Channels(service, queries), authenticators)


async def _known(channels: Channels, operator_id: str) -> None:
    if await run_in_threadpool(channels.queries.operator, operator_id) is None:
        raise UnknownReference("operator", operator_id)


@router.put("/operators/{operator_id}/channel", **declared(Audience.ADMIN))
async def set_channel(
    operator_id: str, body: ChannelIn, principal: Admin, channels: Context
) -> Any:
    """Set the operator's webhook for orders and notices; the answer holds the signing
    secret, shown this once (messages are signed HMAC-SHA256, docs/supervision.md)."""
    await _known(channels, operator_id)
    secret = await run_in_threadpool(
        channels.service.set, operator_id, body.url, enabled=body.enabled
    )
    return {"operator_id": operator_id, "url": body.url, "secret": secret}


@router.delete("/operators/{operator_id}/channel", **declared(Audience.ADMIN))
async def remove_channel(operator_id: str, principal: Admin, channels: Context) -> Any:
    """Remove the operator's channel (orders then fail with the reason)."""
    removed = await run_in_threadpool(channels.service.store.remove, operator_id)
    if not removed:
        raise HTTPException(404, f"operator {operator_id!r} has no channel")
    return {"operator_id": operator_id, "removed": True}
