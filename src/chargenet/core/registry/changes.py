"""Which stored events change a charger's record, for every cache of charger records (the
OCPP gateway's directory of chargers, the OCPI receiver's EVSE look-ups): one rule, so
that a cache cannot miss a kind of change another one hears (a station retired retires
its chargers without an event for each)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from chargenet.core.events import (
    ChargerRegistered,
    ChargerRetired,
    ChargerUpdated,
    Event,
    StationRetired,
)

CHARGER_RECORD_CHANGES: frozenset[type[Event]] = frozenset(
    {ChargerRegistered, ChargerUpdated, ChargerRetired, StationRetired}
)


def changed_records(events: Iterable[Event]) -> Iterator[tuple[str | None, str | None]]:
    """(charger id, None) for each charger whose record changed, (None, station id) for a
    station whose chargers all did; nothing for any other event."""
    for event in events:
        if type(event) not in CHARGER_RECORD_CHANGES:  # nearly always: statuses, meters …
            continue
        if isinstance(event, ChargerRegistered | ChargerUpdated):
            yield event.charger.charger_id, None
        elif isinstance(event, ChargerRetired):
            yield event.charger_id, None
        elif isinstance(event, StationRetired):
            yield None, event.station_id
