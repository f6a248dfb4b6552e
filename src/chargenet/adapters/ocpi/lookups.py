"""The EVSE facts a status PATCH needs (owner, Location, retired or not, `as_of`, the
connectors in service), kept in memory so that the hot path asks the database once per
EVSE instead of once per request.

What is kept is forgotten when the store says an EVSE changed: the events that write those
facts (an EVSE registered again, updated or retired; a Location retired, which retires its
EVSEs) arrive on the process's bus, from this node's writer or, on a cluster node, from the
stored-event feed every node hears (`adapters/bus/jetstream.hear_stored`), or, in a
process alone on its database, from the log (`adapters/storage/log_tail.py`: what other
processes wrote, within CHARGENET_REGISTRY_POLL_S). The receiver
also forgets what it itself submits, before and after, so that its own next request never
reads the old facts even if the bus is late. A lookup that was in flight while something
was forgotten is not kept (the generation moved): it may have read the old row.

Why nothing read of the old row outlives the change: the bus (and so the feed) tells of a
change only once it is committed. A lookup begun before that news is not kept if the news
comes before it ends (the generation), and is forgotten by it if it comes after; one begun
after it reads the new row. This holds even where the receiver's way in answers before the
store has the events (a JetStream pipeline, a writer storing later): its own forgetting
then comes too early to count, and the one that counts is the writer's news. On an api
node and in one process the way in answers once the events are committed (the pipeline's
writer, `app/pipeline.py`), so even the receiver's own forgetting comes after the commit.

Bounded: the least recently used EVSE leaves first; and what is held is read again after
`MAX_AGE_S`: the stored-event feed between nodes is news at most once (core NATS), and a
change it lost (a reconnect, a node restarted in between), or one written by another
process without a bus where nothing reads the log (the log tail turned off), would
otherwise be missed for as long as the EVSE stays held.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from chargenet.app.ocpi import EvseConnectorsRow
from chargenet.core.events import Event
from chargenet.core.registry.changes import changed_records

DEFAULT_SIZE = 50_000  # EVSEs; one entry is a few hundred bytes
MAX_AGE_S = 60.0  # a read a minute per busy EVSE, against one a PATCH without the cache


class EvseLookups:
    def __init__(
        self,
        read: Callable[[str], EvseConnectorsRow | None],
        size: int = DEFAULT_SIZE,
        max_age_s: float = MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._size = size
        self._max_age_s = max_age_s
        self._clock = clock
        # charger id → (its row, when it was read)
        self._held: OrderedDict[str, tuple[EvseConnectorsRow, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def cached(self, charger_id: str) -> EvseConnectorsRow | None:
        """What is held for this EVSE, without touching the database; None when nothing (or
        what is held is too old to answer from)."""
        with self._lock:
            found = self._held.get(charger_id)
            if found is None:
                return None
            row, read_at = found
            if self._clock() - read_at > self._max_age_s:
                del self._held[charger_id]
                return None
            self._held.move_to_end(charger_id)
            self.hits += 1
            return row

    def read(self, charger_id: str) -> EvseConnectorsRow | None:
        """From the database (blocking: run in a thread), kept unless something changed
        meanwhile. An unknown EVSE is not kept: a PUT will create it."""
        with self._lock:
            generation = self._generation
            self.misses += 1
        read_at = self._clock()
        found = self._read(charger_id)
        if found is None:
            return None
        with self._lock:
            if generation == self._generation:
                self._held[charger_id] = (found, read_at)
                self._held.move_to_end(charger_id)
                while len(self._held) > self._size:
                    self._held.popitem(last=False)
        return found

    def heard(self, events: Iterable[Event]) -> None:
        """A bus listener (called on the writer's thread, or the loop's for the stored-event
        feed): forget the EVSEs these events change."""
        for charger_id, station_id in changed_records(events):
            if charger_id is not None:
                self.forget(charger_id)
            elif station_id is not None:
                self.forget_station(station_id)

    def forget(self, charger_id: str) -> None:
        with self._lock:
            self._generation += 1
            self._held.pop(charger_id, None)

    def forget_station(self, station_id: str) -> None:
        with self._lock:
            self._generation += 1
            gone = [k for k, (row, _) in self._held.items() if row["station_id"] == station_id]
            for charger_id in gone:
                del self._held[charger_id]

    def __len__(self) -> int:
        return len(self._held)
