"""Policy packs: the latest version of each pack (by occurred_at) is the one in force."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from chargenet.adapters.storage.projections._sql import fetch_row, upsert
from chargenet.adapters.storage.schema import areas
from chargenet.adapters.storage.tables_planning import planning_scenarios, policy_packs
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import Event, PlanningScenarioSaved, PolicyPackLoaded


def _apply_pack(conn: Connection, event: PolicyPackLoaded) -> None:
    if fetch_row(conn, areas, code=event.region_code) is None:
        raise UnknownReference("area", event.region_code)
    existing = fetch_row(conn, policy_packs, pack_id=event.pack_id)
    if existing is not None and existing["region_code"] != event.region_code:
        raise Conflict(f"pack {event.pack_id} governs {existing['region_code']}")
    upsert(
        conn,
        policy_packs,
        {
            "pack_id": event.pack_id,
            "region_code": event.region_code,
            "version": event.version,
            "title": event.title,
            "text": event.text,
            "loaded_at": event.received_at,
            "as_of": event.occurred_at,
        },
        ["pack_id"],
    )


def _apply_scenario(conn: Connection, event: PlanningScenarioSaved) -> None:
    if fetch_row(conn, areas, code=event.area_code) is None:
        raise UnknownReference("area", event.area_code)
    upsert(
        conn,
        planning_scenarios,
        {
            "scenario_id": event.scenario_id,
            "area_code": event.area_code,
            "name": event.name,
            "parameters": event.parameters,
            "saved_by": event.saved_by,
            "saved_at": event.received_at,
            "as_of": event.occurred_at,
        },
        ["scenario_id"],
    )


APPLIERS: dict[type[Event], Any] = {
    PolicyPackLoaded: _apply_pack,
    PlanningScenarioSaved: _apply_scenario,
}
