"""The durable outbox's table (app/outbox.py: DeliveryStore; tables_outbox.py).

Deliveries are inserted by the writer's unit of work, in the transaction of their cause
(`insert_deliveries`); the worker leases, settles and lists them here. A lease is the
row's `next_attempt_at` moved ahead by a conditional UPDATE: only one round (of any
process on the database) wins it, so a delivery is not sent twice at once. On PostgreSQL
the rounds' reads take their rows FOR UPDATE SKIP LOCKED, so that two workers claiming at
the same moment take different rows instead of queueing behind each other; SQLite's
writer transactions are serialised by BEGIN IMMEDIATE.

Deliveries of one queue (`queue` not empty: "ocpi:<partner>") are claimed only from the
queue's head, oldest first, so they are sent in the order they were made: a worker takes
the head and the due deliveries right behind it, and another worker, finding the head
leased or locked, leaves the whole queue alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from chargenet.adapters.storage.raw import Raw
from chargenet.adapters.storage.tables_outbox import deliveries
from chargenet.app.outbox import (
    ANSWERED,
    DELIVERED,
    FAILED,
    HOLD_S,
    PENDING,
    SUPERSEDED,
    DeliveryRecord,
    NewDelivery,
)

_FIELDS = tuple(f.name for f in fields(DeliveryRecord))
# A round takes at most this many of one queue: sent one after another, they must all be
# attempted within the lease (60 s at 10 s a timed-out attempt), or another worker could
# take the queue's head while this one is still sending it.
QUEUE_BATCH = 5
_INSERT = (
    "INSERT INTO deliveries (delivery_id, kind, destination, ref, payload, event_id, state,"
    " attempts, next_attempt_at, created_at, queue) VALUES (:delivery_id, :kind,"
    " :destination, :ref, :payload, :event_id, 'pending', 0, :due, :created, :queue)"
    " ON CONFLICT (delivery_id) DO NOTHING"
)


def insert_deliveries(
    raw: Raw, event_id: str, when: datetime, items: Sequence[NewDelivery]
) -> None:
    """Queue deliveries inside the caller's transaction (the event's savepoint). One the
    caller attempts itself (`held`) is due for the worker only after a lease's time."""
    created, held = raw.t(when), raw.t(when + timedelta(seconds=HOLD_S))
    for item in items:
        raw.execute(
            _INSERT,
            {
                "delivery_id": item.delivery_id,
                "kind": item.kind,
                "destination": item.destination,
                "ref": item.ref,
                "payload": item.payload,
                "event_id": event_id,
                "created": created,
                "due": held if item.held else created,
                "queue": item.queue,
            },
        )


class SqlDeliveryStore:
    def __init__(self, writer: Engine, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader

    @staticmethod
    def _record(row: Any) -> DeliveryRecord:
        return DeliveryRecord(**{name: row[name] for name in _FIELDS})

    def _lease(self, conn: Any, row: Any, now: datetime, until: datetime) -> bool:
        t = deliveries
        won = conn.execute(
            update(t)
            .where(t.c.id == row["id"], t.c.state == PENDING, t.c.next_attempt_at <= now)
            .values(next_attempt_at=until)
        )
        return bool(won.rowcount)

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]:
        t = deliveries
        with self._writer.begin() as conn:
            skip = conn.dialect.name == "postgresql"
            stmt = (
                select(t)
                .where(t.c.state == PENDING, t.c.queue == "", t.c.next_attempt_at <= now)
                .order_by(t.c.next_attempt_at, t.c.id)
                .limit(limit)
            )
            if skip:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = conn.execute(stmt).mappings().all()
            claimed = [self._record(r) for r in rows if self._lease(conn, r, now, lease_until)]
            heads = conn.execute(
                select(t.c.queue, func.min(t.c.id))
                .where(t.c.state == PENDING, t.c.queue != "")
                .group_by(t.c.queue)
            ).all()
            for _, head in heads:
                budget = min(limit - len(claimed), QUEUE_BATCH)
                if budget <= 0:
                    break
                claimed += self._claim_queue(conn, head, now, lease_until, budget, skip)
            return claimed

    def _claim_queue(
        self, conn: Any, head: int, now: datetime, until: datetime, budget: int, skip: bool
    ) -> list[DeliveryRecord]:
        """The head of a queue and the due deliveries right behind it, in order; none when
        the head is not due (backing off, or leased by another round)."""
        t = deliveries
        stmt = select(t).where(t.c.id == head, t.c.state == PENDING, t.c.next_attempt_at <= now)
        if skip:  # another worker holding the head holds the queue
            stmt = stmt.with_for_update(skip_locked=True)
        first = conn.execute(stmt).mappings().first()
        if first is None:
            return []
        rows = [first]
        if budget > 1:
            after = (
                select(t)
                .where(t.c.queue == first["queue"], t.c.state == PENDING, t.c.id > head)
                .order_by(t.c.id)
                .limit(budget - 1)
            )
            if skip:
                after = after.with_for_update()
            for row in conn.execute(after).mappings():
                if row["next_attempt_at"] > now:
                    break
                rows.append(row)
        return [self._record(r) for r in rows if self._lease(conn, r, now, until)]

    def release(self, ids: Sequence[int], lease_until: datetime, at: datetime) -> None:
        """Give back deliveries claimed with `lease_until` and not attempted: due at `at`."""
        t = deliveries
        if not ids:
            return
        with self._writer.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id.in_(ids), t.c.state == PENDING, t.c.next_attempt_at == lease_until)
                .values(next_attempt_at=at)
            )

    def collapse(self, queue: str, kinds: Sequence[str], when: datetime) -> int:
        """Settle the waiting deliveries of `queue` (of the `kinds` prefixes) that have a
        later one for the same object waiting behind them: what the worker would do to
        each on reaching it, done at once for a stalled queue's backlog."""
        t = deliveries
        if not kinds:
            return 0
        later = deliveries.alias("later")
        newer = (
            select(later.c.id)
            .where(
                later.c.queue == t.c.queue,
                later.c.kind == t.c.kind,
                later.c.ref == t.c.ref,
                later.c.destination == t.c.destination,
                later.c.state == PENDING,
                later.c.id > t.c.id,
            )
            .exists()
        )
        with self._writer.begin() as conn:
            done = conn.execute(
                update(t)
                .where(
                    t.c.queue == queue,
                    t.c.state == PENDING,
                    t.c.next_attempt_at <= when,  # not the backing-off head, nothing leased
                    or_(*(t.c.kind.startswith(k, autoescape=True) for k in kinds)),
                    newer,
                )
                .values(state=DELIVERED, answer=SUPERSEDED, finished_at=when)
            )
        return int(done.rowcount)

    def add(self, items: Sequence[NewDelivery], when: datetime) -> None:
        """Queue deliveries no event causes (a partner's first full copy)."""
        if not items:
            return
        rows = [
            {
                "delivery_id": i.delivery_id,
                "kind": i.kind,
                "destination": i.destination,
                "ref": i.ref,
                "payload": i.payload,
                "queue": i.queue,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": when,
                "created_at": when,
            }
            for i in items
        ]
        with self._writer.begin() as conn:
            conn.execute(insert(deliveries), rows)

    def claim(
        self, delivery_id: str, now: datetime, lease_until: datetime
    ) -> DeliveryRecord | None:
        t = deliveries
        with self._writer.begin() as conn:
            row = (
                conn.execute(
                    select(t).where(
                        t.c.delivery_id == delivery_id, t.c.state == PENDING, t.c.attempts == 0
                    )
                )
                .mappings()
                .first()
            )
            # Its first attempt: due, or held for its caller and not leased since (a lease
            # moves next_attempt_at away from the hold); the conditional update loses to
            # any round that leased it meanwhile.
            if row is None:
                return None
            hold = row["created_at"] + timedelta(seconds=HOLD_S)
            if row["next_attempt_at"] > now and row["next_attempt_at"] != hold:
                return None
            won = conn.execute(
                update(t)
                .where(
                    t.c.id == row["id"],
                    t.c.state == PENDING,
                    t.c.next_attempt_at == row["next_attempt_at"],
                )
                .values(next_attempt_at=lease_until)
            )
            return self._record(row) if won.rowcount else None

    def next_due(self) -> datetime | None:
        t = deliveries
        with self._reader.connect() as conn:
            # A queued delivery is due only at its queue's head.
            heads = (
                select(func.min(t.c.id))
                .where(t.c.state == PENDING, t.c.queue != "")
                .group_by(t.c.queue)
            )
            value: datetime | None = conn.execute(
                select(func.min(t.c.next_attempt_at)).where(
                    t.c.state == PENDING, or_(t.c.queue == "", t.c.id.in_(heads))
                )
            ).scalar_one()
        return value

    def delivered(self, id_: int, when: datetime, answer: str | None) -> None:
        t = deliveries
        with self._writer.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == id_)
                .values(state=DELIVERED, attempts=t.c.attempts + 1, answer=answer, finished_at=when)
            )

    def attempt_failed(
        self, id_: int, when: datetime, error: str, retry_at: datetime | None
    ) -> None:
        t = deliveries
        values: dict[str, Any] = {"attempts": t.c.attempts + 1, "last_error": error[:2000]}
        if retry_at is None:
            values.update(state=FAILED, finished_at=when)
        else:
            values["next_attempt_at"] = retry_at
        with self._writer.begin() as conn:
            conn.execute(update(t).where(t.c.id == id_).values(**values))

    def newer_pending(self, record: DeliveryRecord) -> bool:
        t = deliveries
        with self._reader.connect() as conn:
            found = conn.execute(
                select(t.c.id)
                .where(
                    t.c.kind == record.kind,
                    t.c.ref == record.ref,
                    t.c.destination == record.destination,
                    t.c.state == PENDING,
                    t.c.id > record.id,
                )
                .limit(1)
            ).first()
        return found is not None

    def prune(self, before: datetime) -> int:
        t = deliveries
        with self._writer.begin() as conn:
            done = conn.execute(delete(t).where(t.c.state != PENDING, t.c.finished_at < before))
        return int(done.rowcount)

    def answered(self, kind: str, ref: str, when: datetime, answer: str) -> int:
        t = deliveries
        with self._writer.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.kind == kind, t.c.ref == ref)
                .values(state=ANSWERED, answer=answer, finished_at=when, last_error=None)
            )
        return int(done.rowcount)

    def items(
        self, state: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        t = deliveries
        stmt = select(t).order_by(t.c.id.desc()).limit(limit)
        if state is not None:
            stmt = stmt.where(t.c.state == state)
        if kind is not None:
            stmt = stmt.where(t.c.kind.startswith(kind, autoescape=True))
        with self._reader.connect() as conn:
            return [self._record(r) for r in conn.execute(stmt).mappings()]
