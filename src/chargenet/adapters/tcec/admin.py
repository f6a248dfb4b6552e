"""Read endpoints for officials: partner platforms (never their keys), the outbox,
reconciliations of operators' orders, bills and tariffs. Mounted behind the regulator
guard by the web app; money is given as decimal strings."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from chargenet.app.interconnect import Outbox, PartnerStore, SettlementQueries
from chargenet.kit.bounds import StoredInt

Limit = Annotated[int, Query(ge=1, le=1000)]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _found(row: dict[str, Any] | None, what: str) -> Any:
    if row is None:
        raise HTTPException(status_code=404, detail=f"unknown {what}")
    return _plain(row)


def admin_router(
    partners: PartnerStore,
    outbox: Outbox,
    settlement: SettlementQueries,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["interconnection and settlement"])

    @router.get("/tcec/partners")
    async def list_partners() -> Any:
        """Partner platforms and how they are connected (keys are never shown)."""
        records = await run_in_threadpool(partners.partners)
        return [
            {
                "partner_id": r.partner_id,
                "operator_id": r.operator_id,
                "name": r.name,
                "base_url": r.base_url,
                "pull": r.pull,
                "datum": r.datum,
                "enabled": r.enabled,
                "can_be_called": r.outbound_keys is not None and r.base_url is not None,
                "last_station_pull": r.last_station_pull,
            }
            for r in records
        ]

    @router.get("/tcec/outbox")
    async def list_outbox(state: str | None = None, limit: Limit = 100) -> Any:
        """Pushes to partners: pending (being resent), delivered or failed."""
        items = await run_in_threadpool(outbox.items, state, limit)
        return [asdict(i) for i in items]

    @router.get("/reconciliations")
    async def list_reconciliations(
        response: Response,
        operator: str | None = None,
        limit: Limit = 100,
        offset: StoredInt = 0,
    ) -> Any:
        """Operators' statements of orders checked against chargenet's records."""
        rows, total = await run_in_threadpool(settlement.reconciliations, operator, limit, offset)
        response.headers["X-Total-Count"] = str(total)
        return _plain(rows)

    @router.get("/reconciliations/{reconciliation_id}")
    async def reconciliation(reconciliation_id: str) -> Any:
        """One reconciliation with every difference found."""
        row = await run_in_threadpool(settlement.reconciliation, reconciliation_id)
        return _found(row, f"reconciliation {reconciliation_id!r}")

    @router.get("/sessions/{session_id}/bill")
    async def bill(session_id: str) -> Any:
        """A session's bill by time-of-use period, with its consistency flags."""
        return _found(
            await run_in_threadpool(settlement.bill, session_id), f"bill of {session_id!r}"
        )

    @router.get("/stations/{station_id}/tariffs")
    async def station_tariffs(station_id: str) -> Any:
        """Published prices of a station and its connectors."""
        return _plain(await run_in_threadpool(settlement.tariffs, station_id))

    return router
