"""Who holds what the event names, looked up for the ownership rule (core/ownership.py)."""

from __future__ import annotations

from chargenet.adapters.storage.raw import Raw
from chargenet.core.events import Event
from chargenet.core.ownership import Holder, references, refusal, speaks_for_someone

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
