"""Shared state in the database, for several chargenet processes on one database: the
T/CEC tokens and replay guard, rate buckets, failed log-ins and the OCPI hub's tickets
and parties (tables_shared.py).

Each operation is one statement or one short transaction whose outcome the database
decides (a primary key, INSERT … ON CONFLICT), so two processes asking at the same
instant get one answer: one token per partner, one first sighting of a message, one
bucket. The rules stay where they are (tcec.security, app.login_throttle); only the
records move here. SQLite works too (one machine, several processes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from chargenet.adapters.storage.tables_shared import (
    hub_parties,
    hub_tickets,
    login_failures,
    login_known,
    login_streaks,
    rate_buckets,
    replay_seen,
    shared_tokens,
)
from chargenet.app.login_throttle import KNOWN_ADDRESSES, USER_FAILURES, WINDOW
from chargenet.kit.timeutil import from_micros, to_micros

_PRUNE_EVERY_S = 10.0

# Every T/CEC push runs these two: written once as text (the same on PostgreSQL and SQLite),
# compiled once, rather than built and looked up in the statement cache on each call.
_FIND_TOKEN = text(
    "SELECT partner_id, expires_us, sealed FROM shared_tokens WHERE digest = :digest"
)
_FIRST_SIGHTING = text(
    'INSERT INTO replay_seen (partner_id, "timestamp", seq, expires_us)'
    " VALUES (:p, :t, :s, :e) ON CONFLICT DO NOTHING RETURNING seq"
)
STREAK_MEMORY = timedelta(days=1)


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class SqlTokenRecords:
    """Live T/CEC access tokens (tcec.security.TokenRecords): one per partner."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def keep(self, partner_id: str, digest: str, sealed: str, expires_us: int, now_us: int) -> str:
        """Store this token unless the partner has a live one; the sealed live token."""
        t = shared_tokens
        with self._engine.begin() as conn:
            stmt = _insert(conn, t).values(
                partner_id=partner_id, digest=digest, sealed=sealed, expires_us=expires_us
            )
            # A live token stays: whoever asked first made it, everyone gets that one.
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.partner_id],
                set_={
                    "digest": stmt.excluded.digest,
                    "sealed": stmt.excluded.sealed,
                    "expires_us": stmt.excluded.expires_us,
                },
                where=t.c.expires_us <= now_us,
            )
            conn.execute(stmt)
            return str(
                conn.execute(select(t.c.sealed).where(t.c.partner_id == partner_id)).scalar_one()
            )

    def find(self, digest: str) -> tuple[str, int, str] | None:
        """(partner_id, expires_us, sealed) of the token with this digest."""
        with self._engine.connect() as conn:
            found = conn.execute(_FIND_TOKEN, {"digest": digest}).first()
        return None if found is None else (str(found[0]), int(found[1]), str(found[2]))

    def drop(self, partner_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(shared_tokens).where(shared_tokens.c.partner_id == partner_id))


class SqlSeen:
    """The T/CEC messages seen within the time window, by every process."""

    def __init__(self, engine: Engine, capacity: int = 1_000_000) -> None:
        self._engine = engine
        self._capacity = capacity
        self._pruned = 0.0

    def add(self, key: tuple[str, str, str], expires: datetime, now: datetime) -> str | None:
        r = replay_seen
        partner_id, timestamp, seq = key
        with self._engine.begin() as conn:
            if time.monotonic() - self._pruned > _PRUNE_EVERY_S:
                conn.execute(delete(r).where(r.c.expires_us <= to_micros(now)))
                self._pruned = time.monotonic()
                count = conn.execute(select(func.count()).select_from(r)).scalar_one()
                if count >= self._capacity:
                    return "full"
            given = {"p": partner_id, "t": timestamp, "s": seq, "e": to_micros(expires)}
            if conn.execute(_FIRST_SIGHTING, given).first() is not None:  # inserted: first
                return None
            # Already there: a replay, unless what is there has expired (not yet pruned).
            stored = conn.execute(
                select(r.c.expires_us).where(
                    r.c.partner_id == partner_id, r.c.timestamp == timestamp, r.c.seq == seq
                )
            ).scalar_one()
            if stored > to_micros(now):
                return "seen"
            conn.execute(
                update(r)
                .where(r.c.partner_id == partner_id, r.c.timestamp == timestamp, r.c.seq == seq)
                .values(expires_us=to_micros(expires))
            )
            return None


class SqlRateLimiter:
    """A token bucket per client shared by every process: `per_minute` requests, refilled
    evenly (as api.opendata.RateLimiter, on the wall clock every process shares)."""

    def __init__(
        self, engine: Engine, name: str, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._name = name
        self.capacity = max(per_minute, 1)
        self._rate = self.capacity / 60.0
        self._clock = clock

    def take(self, client: str) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the next request is allowed)."""
        b = rate_buckets
        now = self._clock()
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One row lock orders the processes taking from one bucket.
                stmt = (
                    _insert(conn, b)
                    .values(name=self._name, client=client, tokens=float(self.capacity), stamp=now)
                    .on_conflict_do_nothing()
                )
                conn.execute(stmt)
                row = conn.execute(
                    select(b.c.tokens, b.c.stamp)
                    .where(b.c.name == self._name, b.c.client == client)
                    .with_for_update()
                ).one()
            else:  # SQLite: the INSERT first takes the database's write lock until commit
                conn.execute(
                    _insert(conn, b)
                    .values(name=self._name, client=client, tokens=float(self.capacity), stamp=now)
                    .on_conflict_do_nothing()
                )
                row = conn.execute(
                    select(b.c.tokens, b.c.stamp).where(
                        b.c.name == self._name, b.c.client == client
                    )
                ).one()
            tokens = min(self.capacity, row[0] + max(now - row[1], 0.0) * self._rate)
            allowed = tokens >= 1
            left = tokens - 1 if allowed else tokens
            conn.execute(
                update(b)
                .where(b.c.name == self._name, b.c.client == client)
                .values(tokens=left, stamp=now)
            )
        if not allowed:
            return False, 0, (1 - tokens) / self._rate
        return True, int(left), 0.0


class SqlThrottleRecords:
    """Failed log-ins (app.login_throttle.ThrottleRecords), counted by every process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pruned = 0.0

    def streak(self, username: str, address: str) -> tuple[int, datetime] | None:
        s = login_streaks
        with self._engine.connect() as conn:
            found = conn.execute(
                select(s.c.count, s.c.last_us).where(
                    s.c.username == username, s.c.address == address
                )
            ).first()
        return None if found is None else (int(found[0]), from_micros(found[1]))

    def failures(self, kind: str, key: str, since: datetime) -> list[datetime]:
        f = login_failures
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(f.c.at_us)
                .where(f.c.kind == kind, f.c.key == key, f.c.at_us >= to_micros(since))
                .order_by(f.c.at_us.desc(), f.c.id.desc())
                .limit(USER_FAILURES)
            ).scalars()
            return [from_micros(t) for t in reversed(list(rows))]

    def knows(self, username: str, address: str) -> bool:
        k = login_known
        with self._engine.connect() as conn:
            found = conn.execute(
                select(k.c.at_us).where(k.c.username == username, k.c.address == address)
            ).first()
        return found is not None

    def failed(self, username: str, address: str, now: datetime) -> None:
        s, f = login_streaks, login_failures
        at = to_micros(now)
        with self._engine.begin() as conn:
            stmt = _insert(conn, s).values(username=username, address=address, count=1, last_us=at)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[s.c.username, s.c.address],
                    set_={"count": s.c.count + 1, "last_us": at},
                )
            )
            conn.execute(
                insert(f),
                [
                    {"kind": "address", "key": address, "at_us": at},
                    {"kind": "user", "key": username, "at_us": at},
                ],
            )
            if time.monotonic() - self._pruned > _PRUNE_EVERY_S:
                # Failures count within the window; a streak counts on until a success
                # (as in memory), forgotten only after a day without a failure.
                conn.execute(delete(f).where(f.c.at_us < to_micros(now - WINDOW)))
                conn.execute(delete(s).where(s.c.last_us < to_micros(now - STREAK_MEMORY)))
                self._pruned = time.monotonic()

    def succeeded(self, username: str, address: str, now: datetime) -> None:
        s, k = login_streaks, login_known
        at = to_micros(now)
        with self._engine.begin() as conn:
            conn.execute(delete(s).where(s.c.username == username, s.c.address == address))
            stmt = _insert(conn, k).values(username=username, address=address, at_us=at)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[k.c.username, k.c.address], set_={"at_us": at}
                )
            )
            keep = (
                select(k.c.address)
                .where(k.c.username == username)
                .order_by(k.c.at_us.desc())
                .limit(KNOWN_ADDRESSES)
            )
            conn.execute(delete(k).where(and_(k.c.username == username, k.c.address.not_in(keep))))


class SqlHubState:
    """The OCPI hub's state (ocpi.hub.HubState) for every node: the response_url tickets,
    when each party was last heard from, and which are OFFLINE."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pruned = 0.0

    def keep_ticket(self, key: str, body: str, expires_us: int, now_us: int) -> None:
        t = hub_tickets
        with self._engine.begin() as conn:
            if time.monotonic() - self._pruned > _PRUNE_EVERY_S:
                conn.execute(delete(t).where(t.c.expires_us <= now_us))
                self._pruned = time.monotonic()
            conn.execute(insert(t).values(ticket=key, body=body, expires_us=expires_us))

    def ticket(self, key: str, now_us: int) -> str | None:
        """The ticket's body, unless it is unknown or expired."""
        t = hub_tickets
        with self._engine.connect() as conn:
            found = conn.execute(
                select(t.c.body).where(t.c.ticket == key, t.c.expires_us > now_us)
            ).scalar()
        return None if found is None else str(found)

    def heard(self, peer_id: str, at_us: int) -> bool:
        """Note the party heard from at `at_us`; whether it was OFFLINE until now (to one
        caller only: the conditional UPDATE decides between nodes hearing it at once)."""
        p = hub_parties
        with self._engine.begin() as conn:
            back = conn.execute(
                update(p)
                .where(p.c.peer_id == peer_id, p.c.offline.is_(True))
                .values(offline=False, heard_us=at_us)
            ).rowcount
            stmt = _insert(conn, p).values(peer_id=peer_id, heard_us=at_us, offline=False)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[p.c.peer_id],
                    set_={"heard_us": func.greatest(p.c.heard_us, at_us)}
                    if conn.dialect.name == "postgresql"
                    else {"heard_us": func.max(func.coalesce(p.c.heard_us, at_us), at_us)},
                )
            )
        return bool(back)

    def heard_at(self, peer_id: str) -> int | None:
        p = hub_parties
        with self._engine.connect() as conn:
            found = conn.execute(select(p.c.heard_us).where(p.c.peer_id == peer_id)).scalar()
        return None if found is None else int(found)

    def offline(self) -> frozenset[str]:
        p = hub_parties
        with self._engine.connect() as conn:
            rows = conn.execute(select(p.c.peer_id).where(p.c.offline.is_(True))).scalars()
            return frozenset(str(r) for r in rows)

    def set_offline(self, peer_id: str, offline: bool) -> None:
        p = hub_parties
        with self._engine.begin() as conn:
            stmt = _insert(conn, p).values(peer_id=peer_id, heard_us=None, offline=offline)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[p.c.peer_id], set_={"offline": stmt.excluded.offline}
                )
            )
