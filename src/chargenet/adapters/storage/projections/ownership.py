"""Who holds what the event names, looked up for the ownership rule (core/ownership.py)."""

from __future__ import annotations

from collections.abc import Sequence

from chargenet.adapters.storage.raw import Raw
from chargenet.core.events import Event
from chargenet.core.ownership import Holder, references, refusal, speaks_for_someone

# The same lookups for many at once: (id, operator_id, charger_id) of those that exist.
_HOLDERS = {
    "connector": "SELECT connector_id, operator_id, charger_id FROM connectors"
    " WHERE connector_id = ANY(:ids)",
    "charger": "SELECT charger_id, operator_id, charger_id FROM chargers"
    " WHERE charger_id = ANY(:ids)",
    "station": "SELECT station_id, operator_id, NULL FROM stations WHERE station_id = ANY(:ids)",
    "session": "SELECT session_id, operator_id, charger_id FROM sessions"
    " WHERE session_id = ANY(:ids)",
    "swap_station": "SELECT swap_station_id, operator_id, NULL FROM swap_stations"
    " WHERE swap_station_id = ANY(:ids)",
    "operator": "SELECT operator_id, operator_id, NULL FROM operators"
    " WHERE operator_id = ANY(:ids)",
}

_HOLDER = {
    "connector": "SELECT operator_id, charger_id FROM connectors WHERE connector_id = :id",
    "charger": "SELECT operator_id, charger_id FROM chargers WHERE charger_id = :id",
    "station": "SELECT operator_id, NULL FROM stations WHERE station_id = :id",
    "session": "SELECT operator_id, charger_id FROM sessions WHERE session_id = :id",
    "swap_station": "SELECT operator_id, NULL FROM swap_stations WHERE swap_station_id = :id",
    "operator": "SELECT operator_id, NULL FROM operators WHERE operator_id = :id",
}


def check_sender(raw: Raw, event: Event) -> None:
    """Refuse the event when its sender names something it does not hold. Things not yet
    known are left to the projection (a registration brings them; anything else is an
    unknown reference there)."""
    source = event.source
    if not speaks_for_someone(source):
        return
    for kind, ident in references(event):
        row = raw.one(_HOLDER[kind], {"id": ident})
        if row is not None:
            holder = Holder(row[0], row[1])
        elif kind == "operator":
            holder = Holder(ident)  # an operator not yet known holds itself
        else:
            continue
        refused = refusal(source, kind, ident, holder)
        if refused is not None:
            raise refused


def check_senders(
    raw: Raw, events: Sequence[Event], known: dict[tuple[str, str], Holder | None] | None = None
) -> None:
    """`check_sender` for many events, with one lookup per kind of thing they name
    (PostgreSQL: arrays). The events must not change who holds what among themselves.
    `known`: holders the caller has read already, by (kind, id); None for one that does
    not exist. Those are not asked again."""
    named = []
    for e in events:
        source = e.source  # `speaks_for_someone`, without its call an event
        if source.charger_id is not None or source.operator_id is not None:
            named.append((e, references(e)))
    held: dict[tuple[str, str], Holder | None] = dict(known or {})
    wanted: dict[str, set[str]] = {}
    for _, refs in named:
        for ref in refs:
            if ref not in held:
                wanted.setdefault(ref[0], set()).add(ref[1])
    for kind, ids in wanted.items():
        for row in raw.all(_HOLDERS[kind], {"ids": sorted(ids)}):
            held[(kind, row[0])] = Holder(row[1], row[2])
    for event, refs in named:
        source = event.source
        charger_id, operator_id = source.charger_id, source.operator_id
        for ref in refs:
            holder = held.get(ref)
            if holder is None:
                if ref[0] != "operator":
                    continue
                holder = Holder(ref[1])  # an operator not yet known holds itself
            # What `refusal` lets pass, asked here without its call (nearly every one).
            if (charger_id is None or holder.charger_id == charger_id) and (
                operator_id is None or holder.operator_id == operator_id
            ):
                continue
            refused = refusal(source, ref[0], ref[1], holder)
            if refused is not None:
                raise refused
