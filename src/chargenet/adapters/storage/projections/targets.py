"""Plan targets and their revision history (R16)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore, upsert
from chargenet.adapters.storage.schema import areas, target_revisions, targets
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import Event, TargetSet


def _apply_target(conn: Connection, event: TargetSet) -> None:
    if fetch_row(conn, areas, code=event.area_code) is None:
        raise UnknownReference("area", event.area_code, "area_code")
    existing = fetch_row(conn, targets, target_id=event.target_id)
    if existing is not None and (existing["area_code"], existing["metric"], existing["year"]) != (
        event.area_code,
        event.metric,
        event.year,
    ):
        raise Conflict(f"target {event.target_id} is for another area, metric or year")
    insert_ignore(
        conn,
        target_revisions,
        {
            "event_id": event.event_id,
            "target_id": event.target_id,
            "value": event.value,
            "source_ref": event.source_ref,
            "revised_at": event.occurred_at,
            "valid_from": event.valid_from,
        },
    )
    upsert(
        conn,
        targets,
        {
            "target_id": event.target_id,
            "area_code": event.area_code,
            "metric": event.metric,
            "year": event.year,
            "month": event.month,
            "value": event.value,
            "definition": event.definition,
            "source_ref": event.source_ref,
            "valid_from": event.valid_from,
            "as_of": event.occurred_at,
        },
        ["target_id"],
    )


APPLIERS: dict[type[Event], Any] = {TargetSet: _apply_target}
