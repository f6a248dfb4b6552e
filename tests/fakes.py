"""In-memory stand-ins for the stores the application declares (its Protocols), for the
unit tier: tests of a service's rules that need no database (`pytest -m unit`).

Each fake keeps the behaviour of its SQL store that callers can notice: what is kept,
what an update leaves alone, the order of lists, what a conditional update refuses.
tests/adapters/storage/test_fakes_agree.py runs the same scenarios against a fake and
the real store, so the two cannot drift apart.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chargenet.adapters.storage.outbox import QUEUE_BATCH
from chargenet.app.accounts import LoginSession, User, UserStore
from chargenet.app.channels import ChannelRecord, ChannelStore
from chargenet.app.interconnect import PartnerRecord, PartnerStore
from chargenet.app.leases import Leases
from chargenet.app.outbox import (
    ANSWERED,
    DELIVERED,
    FAILED,
    HOLD_S,
    PENDING,
    SUPERSEDED,
    DeliveryRecord,
    DeliveryStore,
    NewDelivery,
)


class FakeUserStore:
    """app.accounts.UserStore (adapters/storage/accounts.py: SqlUserStore)."""

    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._sessions: dict[str, LoginSession] = {}

    def user(self, username: str) -> User | None:
        return self._users.get(username)

    def users(self) -> list[User]:
        return [self._users[name] for name in sorted(self._users)]

    def save_user(self, user: User) -> None:
        old = self._users.get(user.username)
        # an update changes everything but the name and when the user was created
        self._users[user.username] = (
            user if old is None else replace(user, created_at=old.created_at)
        )

    def delete_user(self, username: str) -> bool:
        return self._users.pop(username, None) is not None

    def save_session(self, session: LoginSession) -> None:
        if session.token_digest in self._sessions:  # the table's primary key
            raise ValueError(f"session {session.token_digest} exists")
        self._sessions[session.token_digest] = session

    def session(self, token_digest: str) -> LoginSession | None:
        return self._sessions.get(token_digest)

    def delete_session(self, token_digest: str) -> None:
        self._sessions.pop(token_digest, None)

    def delete_sessions_of(self, username: str) -> None:
        for digest in [d for d, s in self._sessions.items() if s.username == username]:
            del self._sessions[digest]

    def delete_expired_sessions(self, now: datetime) -> int:
        expired = [d for d, s in self._sessions.items() if s.expires_at <= now]
        for digest in expired:
            del self._sessions[digest]
        return len(expired)


class FakeDeliveryStore:
    """app.outbox.DeliveryStore (adapters/storage/outbox.py: SqlDeliveryStore). Deliveries
    enter with `enqueue`, as the writer's unit of work inserts them with their event."""

    def __init__(self) -> None:
        self._rows: dict[int, DeliveryRecord] = {}
        self._next_id = 1

    def enqueue(self, event_id: str, when: datetime, items: Sequence[NewDelivery]) -> None:
        held = when + timedelta(seconds=HOLD_S)
        taken = {r.delivery_id for r in self._rows.values()}
        for item in items:
            if item.delivery_id in taken:  # ON CONFLICT (delivery_id) DO NOTHING
                continue
            taken.add(item.delivery_id)
            self._rows[self._next_id] = DeliveryRecord(
                id=self._next_id,
                delivery_id=item.delivery_id,
                kind=item.kind,
                destination=item.destination,
                payload=item.payload,
                ref=item.ref,
                state=PENDING,
                attempts=0,
                next_attempt_at=held if item.held else when,
                created_at=when,
                event_id=event_id,
                queue=item.queue,
            )
            self._next_id += 1

    def add(self, items: Sequence[NewDelivery], when: datetime) -> None:
        for item in items:
            self._rows[self._next_id] = DeliveryRecord(
                id=self._next_id,
                delivery_id=item.delivery_id,
                kind=item.kind,
                destination=item.destination,
                payload=item.payload,
                ref=item.ref,
                state=PENDING,
                attempts=0,
                next_attempt_at=when,
                created_at=when,
                queue=item.queue,
            )
            self._next_id += 1

    def _heads(self) -> list[int]:
        """The oldest pending delivery of each queue (its head)."""
        heads: dict[str, int] = {}
        for r in sorted(self._rows.values(), key=lambda r: r.id):
            if r.state == PENDING and r.queue and r.queue not in heads:
                heads[r.queue] = r.id
        return list(heads.values())

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]:
        due = sorted(
            (
                r
                for r in self._rows.values()
                if r.state == PENDING and not r.queue and r.next_attempt_at <= now
            ),
            key=lambda r: (r.next_attempt_at, r.id),
        )[:limit]
        for head in self._heads():  # a queue only from its head, in order (QUEUE_BATCH)
            budget = min(limit - len(due), QUEUE_BATCH)
            if budget <= 0:
                break
            first = self._rows[head]
            if first.next_attempt_at > now:
                continue
            taken = [first]
            behind = sorted(
                (
                    r
                    for r in self._rows.values()
                    if r.queue == first.queue and r.state == PENDING and r.id > head
                ),
                key=lambda r: r.id,
            )[: budget - 1]
            for r in behind:
                if r.next_attempt_at > now:
                    break
                taken.append(r)
            due += taken
        for r in due:
            self._rows[r.id] = replace(r, next_attempt_at=lease_until)
        return due  # as they were before the lease, as the SQL store returns them

    def release(self, ids: Sequence[int], lease_until: datetime, at: datetime) -> None:
        for id_ in ids:
            r = self._rows.get(id_)
            if r is not None and r.state == PENDING and r.next_attempt_at == lease_until:
                self._rows[id_] = replace(r, next_attempt_at=at)

    def collapse(self, queue: str, kinds: Sequence[str], when: datetime) -> int:
        if not kinds:
            return 0
        pending = [r for r in self._rows.values() if r.state == PENDING]
        done = [
            r
            for r in pending
            if r.queue == queue
            and r.next_attempt_at <= when
            and any(r.kind.startswith(k) for k in kinds)
            and any(
                o.queue == r.queue
                and o.kind == r.kind
                and o.ref == r.ref
                and o.destination == r.destination
                and o.id > r.id
                for o in pending
            )
        ]
        for r in done:
            self._rows[r.id] = replace(r, state=DELIVERED, answer=SUPERSEDED, finished_at=when)
        return len(done)

    def claim(
        self, delivery_id: str, now: datetime, lease_until: datetime
    ) -> DeliveryRecord | None:
        found = [
            r
            for r in self._rows.values()
            if r.delivery_id == delivery_id and r.state == PENDING and r.attempts == 0
        ]
        if not found:
            return None
        [r] = found
        hold = r.created_at + timedelta(seconds=HOLD_S)
        if r.next_attempt_at > now and r.next_attempt_at != hold:
            return None
        self._rows[r.id] = replace(r, next_attempt_at=lease_until)
        return r

    def next_due(self) -> datetime | None:
        heads = set(self._heads())  # a queued delivery is due only at its queue's head
        return min(
            (
                r.next_attempt_at
                for r in self._rows.values()
                if r.state == PENDING and (not r.queue or r.id in heads)
            ),
            default=None,
        )

    def delivered(self, id_: int, when: datetime, answer: str | None) -> None:
        r = self._rows[id_]
        self._rows[id_] = replace(
            r, state=DELIVERED, attempts=r.attempts + 1, answer=answer, finished_at=when
        )

    def attempt_failed(
        self, id_: int, when: datetime, error: str, retry_at: datetime | None
    ) -> None:
        r = replace(self._rows[id_], attempts=self._rows[id_].attempts + 1, last_error=error[:2000])
        if retry_at is None:
            r = replace(r, state=FAILED, finished_at=when)
        else:
            r = replace(r, next_attempt_at=retry_at)
        self._rows[id_] = r

    def newer_pending(self, record: DeliveryRecord) -> bool:
        return any(
            r.kind == record.kind
            and r.ref == record.ref
            and r.destination == record.destination
            and r.state == PENDING
            and r.id > record.id
            for r in self._rows.values()
        )

    def prune(self, before: datetime) -> int:
        gone = [
            r.id
            for r in self._rows.values()
            if r.state != PENDING and r.finished_at is not None and r.finished_at < before
        ]
        for id_ in gone:
            del self._rows[id_]
        return len(gone)

    def answered(self, kind: str, ref: str, when: datetime, answer: str) -> int:
        hit = [r for r in self._rows.values() if r.kind == kind and r.ref == ref]
        for r in hit:
            self._rows[r.id] = replace(
                r, state=ANSWERED, answer=answer, finished_at=when, last_error=None
            )
        return len(hit)

    def items(
        self, state: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        rows = sorted(self._rows.values(), key=lambda r: r.id, reverse=True)
        if state is not None:
            rows = [r for r in rows if r.state == state]
        if kind is not None:
            rows = [r for r in rows if r.kind.startswith(kind)]
        return rows[:limit]


class FakeLeases:
    """app.leases.Leases (adapters/storage/leases.py: SqlLeases). `down` makes every call
    fail, as a database that cannot be reached does."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, datetime]] = {}  # name: (holder, expires_at)
        self.down = False
        # Callers ask from worker threads (asyncio.to_thread): each call is one
        # transaction, as the SQL store's are.
        self._lock = threading.Lock()

    def _reach(self) -> None:
        if self.down:
            raise ConnectionError("the database is unreachable")

    def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        self._reach()
        with self._lock:
            found = self._held.get(name)
            # its own, expired or free: taken (or renewed); else another holds it
            if found is not None and found[0] != holder and found[1] > now:
                return False
            self._held[name] = (holder, until)
            return True

    def release(self, name: str, holder: str) -> None:
        self._reach()
        with self._lock:
            found = self._held.get(name)
            if found is not None and found[0] == holder:
                del self._held[name]

    def holder(self, name: str, now: datetime) -> str | None:
        self._reach()
        found = self._held.get(name)
        return found[0] if found is not None and found[1] > now else None


class FakeChannelStore:
    """app.channels.ChannelStore (adapters/storage/channels.py: SqlChannelStore). Orders
    reach it as the orders projection would put them, with `order`."""

    def __init__(self) -> None:
        self._channels: dict[str, ChannelRecord] = {}
        self._orders: dict[str, str] = {}  # order id: operator id

    def order(self, order_id: str, operator_id: str) -> None:
        self._orders[order_id] = operator_id

    def channel(self, operator_id: str) -> ChannelRecord | None:
        return self._channels.get(operator_id)

    def save(self, record: ChannelRecord) -> None:
        self._channels[record.operator_id] = record  # an upsert on operator_id

    def remove(self, operator_id: str) -> bool:
        return self._channels.pop(operator_id, None) is not None

    def order_operator(self, order_id: str) -> str | None:
        return self._orders.get(order_id)


class FakePartnerStore:
    """app.interconnect.PartnerStore (adapters/storage/tcec_config.py: SqlPartnerStore)."""

    def __init__(self) -> None:
        self._partners: dict[str, PartnerRecord] = {}

    def partners(self) -> list[PartnerRecord]:
        return [self._partners[p] for p in sorted(self._partners)]

    def partner(self, partner_id: str) -> PartnerRecord | None:
        return self._partners.get(partner_id)

    def save(self, record: PartnerRecord) -> None:
        self._partners[record.partner_id] = record  # the whole record replaced

    def remove(self, partner_id: str) -> bool:
        return self._partners.pop(partner_id, None) is not None

    def mark_pulled(self, partner_id: str, when: datetime) -> None:
        found = self._partners.get(partner_id)
        if found is not None:
            self._partners[partner_id] = replace(found, last_station_pull=when)


if TYPE_CHECKING:
    # Each fake is its port, checked by mypy: a method the port gains, loses or changes
    # breaks type-checking here, not only the tests that happen to call it.
    _users: UserStore = FakeUserStore()
    _deliveries: DeliveryStore = FakeDeliveryStore()
    _leases: Leases = FakeLeases()
    _channels: ChannelStore = FakeChannelStore()
    _partners: PartnerStore = FakePartnerStore()
