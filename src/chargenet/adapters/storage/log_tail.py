"""Registry changes another process wrote into the log, read back for this one's bus.

On a cluster every node hears what the writers store (the stored-event feed,
`adapters/bus/jetstream.hear_stored`). A single process (`chargenet serve`, the embedded
set-up) hears on its bus only what it stored itself, yet other processes write into the
same database: `chargenet import` of a registry file, an admin command, a second process.
Its caches of charger records (the OCPP gateway's directory and its connected chargers,
the OCPI receiver's EVSE look-ups: `core/registry/changes.py`) would keep a retired charger
in until they happened to read its row again. So the process reads the log's new rows of
those kinds every `registry_poll_s` and hands them to its bus (`MemoryBus.publish_heard`,
which hands on each event once: its own events, which its bus had first, are not handed on
again).

A round is one indexed range read on the log's key (`seq` after the last row read), of
those kinds only: when nothing was written it reads no row, and otherwise only the rows
written since the last round. On SQLite the writers take turns, so rows appear in `seq`
order and what was read is done with. On PostgreSQL a transaction takes its `seq` when it
inserts and is seen when it commits, so a row may appear below one already read; the read
starts again below every row a transaction still running may hold — the highest `seq` read
by a round is final once every transaction begun before the next round has ended (the
snapshot's `xmin`) — and the rows of that range already handed on are not handed on again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence

from sqlalchemy import Engine, func, select, text

from chargenet.adapters import codec
from chargenet.adapters.storage.schema import events as events_table
from chargenet.core.events import Event

log = logging.getLogger(__name__)

_LIMIT = 1000  # rows a read; more are read at once, in the same round


class LogTail:
    """Reads the log's new rows of some kinds (blocking: run in a thread)."""

    def __init__(self, engine: Engine, kinds: Collection[type[Event]]) -> None:
        self.engine = engine
        self.kinds = sorted(cls.TYPE for cls in kinds)
        self._postgres = engine.dialect.name == "postgresql"
        self._after = 0  # every row at or below this seq has been handed on (or is older)
        # PostgreSQL: rows above `_after` handed on already (seq), and the rounds whose
        # highest seq is not final yet: (highest seq read, the snapshot's xmax then)
        self._handed: set[int] = set()
        self._rounds: list[tuple[int, int]] = []
        self.rounds = 0
        self.rows = 0

    def start(self) -> None:
        """From now on: what the log holds already is not read."""
        with self.engine.connect() as conn:
            self._after = conn.execute(
                select(func.coalesce(func.max(events_table.c.seq), 0))
            ).scalar_one()

    def read(self) -> list[Event]:
        """The rows of these kinds written since the last read (on PostgreSQL: and seen
        since), decoded; a row that cannot be decoded is logged and left out."""
        new: list[tuple[int, str, int, str]] = []
        xmin = xmax = 0
        with self.engine.connect() as conn:
            if self._postgres:
                xmin, xmax = conn.execute(
                    text(
                        "SELECT pg_snapshot_xmin(s)::text::bigint,"
                        " pg_snapshot_xmax(s)::text::bigint FROM pg_current_snapshot() s"
                    )
                ).one()
            highest = self._after
            while True:
                rows = conn.execute(
                    select(
                        events_table.c.seq,
                        events_table.c.type,
                        events_table.c.version,
                        events_table.c.payload,
                    )
                    .where(events_table.c.seq > highest, events_table.c.type.in_(self.kinds))
                    .order_by(events_table.c.seq)
                    .limit(_LIMIT)
                ).all()
                new += [row for row in rows if row[0] not in self._handed]
                if rows:
                    highest = rows[-1][0]
                if len(rows) < _LIMIT:
                    break
            conn.rollback()
        found: list[Event] = []
        for seq, kind, version, payload in new:
            try:
                found.append(codec.decode(kind, version, payload))
            except Exception:  # a newer process's event this one cannot read
                log.exception("log row %d (%s) could not be read", seq, kind)
        self.rounds += 1
        self.rows += len(new)
        if not self._postgres:
            self._after = highest
            return found
        self._handed.update(seq for seq, *_ in new)
        # The highest seq a round saw is final once every transaction begun before the
        # next round's snapshot has ended: one holding a lower seq had its xid by then (it
        # takes one with its first row, in the statement that took the seq).
        self._rounds.append((max(highest, self._rounds[-1][0] if self._rounds else 0), xmax))
        final = self._after
        while len(self._rounds) >= 2 and xmin >= self._rounds[1][1]:
            final = max(final, self._rounds[0][0])
            self._rounds.pop(0)
        if final > self._after:
            self._after = final
            self._handed = {seq for seq in self._handed if seq > final}
        return found


async def tail_log(
    tail: LogTail, publish: Callable[[Sequence[Event]], int], period_s: float
) -> None:
    """Every `period_s`, hand the new rows to `publish` (the bus's `publish_heard`), until
    cancelled. A database away for a moment: the next round reads what this one missed."""
    await asyncio.to_thread(tail.start)
    while True:
        await asyncio.sleep(period_s)
        try:
            found = await asyncio.to_thread(tail.read)
        except Exception:
            log.warning("the log's registry changes not read", exc_info=True)
            continue
        if found:
            handed = publish(found)
            if handed:
                log.info("%d registry change(s) written by another process heard", handed)
