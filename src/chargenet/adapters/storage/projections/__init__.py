"""Projections: how each event type changes the current-state tables.

Each projection is idempotent: applying an event a second time leaves state as it was,
and an event older than a row's `as_of` does not overwrite it. Domain rules (what a pile
is, whether an energy reading can be trusted) come from `chargenet.core`; only the SQL is
here. The live-data projections (status, meter, presence, sessions) run raw SQL on the
driver's cursor for speed (storage/raw.py); the rest use SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from chargenet.adapters.storage.projections import (
    areas,
    billing,
    live,
    live_batch,
    ocpi,
    ocpp,
    orderly,
    oversight,
    planning,
    registry,
    sessions,
    settlement,
    supervision,
    supervision_data,
    swap,
    targets,
)
from chargenet.adapters.storage.projections.ownership import check_sender
from chargenet.adapters.storage.raw import Raw
from chargenet.core.events import Event


@dataclass
class Ctx:
    """The transaction a projection writes in, through Core (`conn`) or raw (`raw`)."""

    conn: Connection
    raw: Raw

    @classmethod
    def on(cls, conn: Connection) -> Ctx:
        return cls(conn, Raw(conn))


_CORE: dict[type[Event], Callable[[Connection, Any], None]] = {
    **areas.APPLIERS,
    **registry.APPLIERS,
    **swap.APPLIERS,
    **supervision.APPLIERS,
    **oversight.APPLIERS,
    **supervision_data.APPLIERS,
    **targets.APPLIERS,
    **planning.APPLIERS,
    **billing.APPLIERS,
    **ocpi.APPLIERS,
    **ocpp.CORE_APPLIERS,
    **orderly.APPLIERS,
    **settlement.APPLIERS,
}
_RAW: dict[type[Event], Callable[[Raw, Any], None]] = {
    **live.APPLIERS,
    **sessions.APPLIERS,
    **ocpp.APPLIERS,
}


def apply_event(ctx: Ctx, event: Event) -> None:
    check_sender(ctx.raw, event)
    kind = type(event)
    raw_applier = _RAW.get(kind)
    if raw_applier is not None:
        raw_applier(ctx.raw, event)
        return
    core_applier = _CORE.get(kind)
    if core_applier is None:
        raise NotImplementedError(f"no projection for {event.TYPE}")
    core_applier(ctx.conn, event)


def apply_events(ctx: Ctx, events: Sequence[Event]) -> None:
    """Apply events in order, ending as `apply_event` on each in turn would. On PostgreSQL
    each run of status reports, meter samples and chargers' presence, boots and data
    transfers goes in one go (live_batch.py): a few statements for the run instead of
    several for each event. Any other event is applied on its own, after the run before
    it, so whatever it reads or changes is in its order."""
    if ctx.raw.sqlite:
        for event in events:
            apply_event(ctx, event)
        return
    run: list[Event] = []
    for event in events:
        if live_batch.joins_run(event):
            run.append(event)
            continue
        _apply_run(ctx, run)
        run = []
        apply_event(ctx, event)
    _apply_run(ctx, run)


def _apply_run(ctx: Ctx, run: list[Event]) -> None:
    if len(run) > 1:
        live_batch.apply_run(ctx.raw, run)
    elif run:
        apply_event(ctx, run[0])
