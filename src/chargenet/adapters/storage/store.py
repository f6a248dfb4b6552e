"""The event store: the durable log plus current state, in one database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import DataError, DBAPIError, StatementError

from chargenet.adapters import codec
from chargenet.adapters.storage import migrate
from chargenet.adapters.storage.engine import check_postgres_durability, create_store_engine
from chargenet.adapters.storage.outbox import insert_deliveries
from chargenet.adapters.storage.projections import Ctx, apply_event, apply_events
from chargenet.adapters.storage.schema import STATE_TABLES, events, rejected_events
from chargenet.app.outbox import NewDelivery
from chargenet.app.ports import RebuildReport
from chargenet.core.errors import DomainError
from chargenet.core.events import Event
from chargenet.core.text import storable_text

log = logging.getLogger(__name__)

_REBUILD_CHUNK = 5_000
_APPEND = (
    "INSERT INTO events (event_id, type, version, adapter, operator_id, occurred_at,"
    " received_at, payload) VALUES (:event_id, :type, :version, :adapter, :operator_id,"
    " :occurred_at, :received_at, :payload) ON CONFLICT (event_id) DO NOTHING RETURNING seq"
)

# The whole batch's log rows in one statement (PostgreSQL): one round trip instead of one
# an event; rows are numbered (seq) in the batch's order, and RETURNING names those that
# were new. Read as jsonb: `->>` on a json row parses its text, payload included, again
# for each of the eight fields (the server's CPU a row of a meter value: 7.7 µs with json,
# 1.7 with jsonb).
#
# The payloads travel apart from the JSON document, as one text split at a separator no
# payload holds (`_SEP`, see `_payloads`), zipped with the rows by position (ROWS FROM):
# inside the document each payload is a JSON string the server parses character by
# character (PostgreSQL 15's json_lex) and unescapes, four fifths of the document's text,
# while a split only looks for the separator: the server's CPU of the statement 13.9 →
# 13.0 µs an event (batches of 500 alternating, docs/scale.md), the writer's 1.32 → 0.93.
#
# No ON CONFLICT: with it PostgreSQL inserts each row speculatively, a second WAL record
# (the insert's confirmation) for every row appended. The batch is first inserted as it is
# (`_APPEND_NEW`, `Raw.insert_new`), the event_id key checked only by the insert itself;
# where it says an id is logged already, that try is rolled back and the ids already
# logged are looked up (one index scan for the batch's ids: `= ANY` of an array, a plan
# that stays an index scan however the log grows), and only the others inserted
# (`_APPEND_ALL`). The look-up was a sixth of the append's server CPU, for ids nearly
# never logged (docs/scale.md). A copy later in the batch is dropped before
# (`append_all`). Another transaction logging one of these ids meanwhile makes the
# careful insert fail on the event_id key, never store it twice: the batch then goes one
# event at a time (`_APPEND`, ON CONFLICT DO NOTHING), as on any refusal.
_APPEND_ALL = (
    "WITH b AS MATERIALIZED (SELECT r, p, n FROM ROWS FROM (jsonb_array_elements(:rows ::jsonb),"
    " string_to_table(:payloads, chr(30))) WITH ORDINALITY AS b(r, p, n)),"
    " held AS (SELECT event_id FROM events WHERE event_id = ANY(ARRAY(SELECT r->>0 FROM b)))"
    " INSERT INTO events (event_id, type, version, adapter, operator_id, occurred_at,"
    " received_at, payload) SELECT r->>0, r->>1, (r->>2)::smallint, r->>3, r->>4,"
    " (r->>5)::timestamptz, (r->>6)::timestamptz, p"
    " FROM b WHERE r->>0 NOT IN (SELECT event_id FROM held) ORDER BY n RETURNING event_id"
)
# Read once, the rows need no CTE: the function scan keeps them (ROWS FROM's own store)
# and PostgreSQL knows its output is in ordinality's order (no sort for ORDER BY n).
_APPEND_NEW = (
    "INSERT INTO events (event_id, type, version, adapter, operator_id, occurred_at,"
    " received_at, payload) SELECT r->>0, r->>1, (r->>2)::smallint, r->>3, r->>4,"
    " (r->>5)::timestamptz, (r->>6)::timestamptz, p FROM ROWS FROM (jsonb_array_elements("
    ":rows ::jsonb), string_to_table(:payloads, chr(30))) WITH ORDINALITY AS b(r, p, n)"
    " ORDER BY n"
)
# The record separator: JSON text holds no raw control character, so it cannot occur in
# a payload, whether encoded here (msgspec writes one in a string as \u001e) or the bytes
# an intake encoded, reused by a writer (`codec.reusing`: msgspec's decoder, which read
# them, refuses a raw control character). `_payloads` checks it all the same.
_SEP = "\x1e"

FITS_NOT = (
    "a value in the event does not fit the store (a number too large, or text it cannot hold)"
)


class StorageRefused(DomainError):
    """The database refused what a projection wrote: a bug or corrupt data, never a crash."""


# SQLSTATE classes of a failure that says nothing of the event (PostgreSQL, Appendix A):
# 40 transaction rollback (deadlock, serialization), 08 connection, 53 insufficient
# resources, 57 operator intervention (shutdown, statement timeout), 58 system error; and
# 55P03, a lock not had within `lock_timeout`.
_TRANSIENT = frozenset({"40", "08", "53", "57", "58"})
_TRANSIENT_STATES = frozenset({"55P03"})


def transient(exc: BaseException) -> bool:
    """Whether a database error is the moment's, not the event's: the same event may well
    be stored on a second try. Such an error is never a refusal (recorded among the
    rejected events and acknowledged: lost); it goes up, and what the caller took is taken
    again (a cluster writer stores the round again, an intake's partner resends)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    return isinstance(state, str) and (state[:2] in _TRANSIENT or state in _TRANSIENT_STATES)


def _row(event: Event) -> tuple[object, ...]:
    # The times as msgspec writes them ("…Z", in C): `isoformat` was a fifth of the row's
    # cost. In UTC first (an identity test for nearly all): msgspec drops the seconds of an
    # offset, which `astimezone` keeps.
    occurred, received = event.occurred_at, event.received_at
    return (
        event.event_id,
        event.TYPE,
        event.VERSION,
        event.source.adapter,
        event.source.operator_id,
        occurred if occurred.tzinfo is UTC else occurred.astimezone(UTC),
        received if received.tzinfo is UTC else received.astimezone(UTC),
    )


def _payloads(events: Sequence[Event]) -> str:
    """The events' payloads as one text, `_SEP` between them, in order. A payload holding
    the separator (none that the codec writes) would split in two: refused, and the
    caller goes one event at a time."""
    joined = _SEP.join([codec.encode(e).decode() for e in events])
    if joined.count(_SEP) != len(events) - 1:
        raise StorageRefused("a payload holds the batch's separator")
    return joined


class SqlUnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._ctx = Ctx.on(conn)
        self._depth = 0

    def append(self, event: Event) -> bool:
        raw = self._ctx.raw
        with self._refusing(event):
            row = raw.one(
                _APPEND,
                {
                    "event_id": event.event_id,
                    "type": event.TYPE,
                    "version": event.VERSION,
                    "adapter": event.source.adapter,
                    "operator_id": event.source.operator_id,
                    "occurred_at": raw.t(event.occurred_at),
                    "received_at": raw.t(event.received_at),
                    "payload": codec.encode(event).decode(),
                },
            )
        return row is not None

    def append_all(self, events: Sequence[Event]) -> list[bool] | None:
        """The batch appended in one statement, in order: for each, whether it is new
        (as `append` would say, one at a time). None where the store appends one at a
        time (SQLite, where a statement costs no round trip)."""
        raw = self._ctx.raw
        if raw.sqlite or not events:
            return None
        unique: dict[str, Event] = {}  # each id's first copy, in the batch's order
        for e in events:
            unique.setdefault(e.event_id, e)
        try:
            careful = raw.insert_new(
                _APPEND_NEW,
                _APPEND_ALL,
                # One JSON text rather than seven arrays: psycopg quotes array items in
                # Python, a few times slower than msgspec encodes the lot.
                # A second copy of an id in the batch is not sent: a duplicate.
                {
                    "rows": msgspec.json.encode(list(map(_row, unique.values()))).decode(),
                    "payloads": _payloads(list(unique.values())),
                },
            )
            new = set(unique) if careful is None else {row[0] for row in careful}
        except (OverflowError, DBAPIError, StatementError, self._driver_error()) as exc:
            if transient(exc):
                raise
            # One event the log cannot hold: the caller appends one at a time, refusing it.
            raise StorageRefused(f"the batch could not be appended: {type(exc).__name__}") from exc
        fresh: list[bool] = []
        for e in events:
            fresh.append(e.event_id in new)
            new.discard(e.event_id)  # a second copy in the batch is a duplicate
        return fresh

    def apply(self, event: Event) -> None:
        with self._refusing(event):
            apply_event(self._ctx, event)

    def apply_all(self, events: Sequence[Event]) -> None:
        try:
            apply_events(self._ctx, events)
        except (OverflowError, DataError, self._driver_error("DataError")) as exc:
            raise StorageRefused(FITS_NOT) from exc  # the caller goes one event at a time
        except (DBAPIError, StatementError, self._driver_error()) as exc:
            if transient(exc):
                raise
            raise StorageRefused(f"the batch could not be applied: {type(exc).__name__}") from exc

    def enqueue(self, event: Event, deliveries: Sequence[NewDelivery]) -> None:
        with self._refusing(event):
            insert_deliveries(self._ctx.raw, event.event_id, event.received_at, deliveries)

    @contextmanager
    def _refusing(self, event: Event) -> Iterator[None]:
        """A database error on one event refuses that event, never the batch around it."""
        try:
            yield
        except (OverflowError, DataError, self._driver_error("DataError")) as exc:
            # A value a column cannot hold (a price of 1e300 in micro-units): SQLite's
            # driver says OverflowError before the statement runs, PostgreSQL DataError.
            log.warning("storage refused %s %s: %s", event.TYPE, event.event_id, exc)
            raise StorageRefused(FITS_NOT) from exc
        except (DBAPIError, StatementError, self._driver_error()) as exc:
            if transient(exc):
                raise
            log.exception("storage refused %s %s", event.TYPE, event.event_id)
            raise StorageRefused(f"storage refused the event: {type(exc).__name__}") from exc

    def _driver_error(self, name: str = "Error") -> type[Exception]:
        dbapi = self._conn.dialect.dbapi
        error: type[Exception] = getattr(dbapi, name, DBAPIError) if dbapi else DBAPIError
        return error

    def reject(self, event: Event, reason: str) -> None:
        try:
            payload = codec.encode(event).decode()
        except Exception as exc:  # an event too broken to encode is still recorded
            payload = repr(event)[:10_000] + f"  # not encodable: {exc}"
        received = event.received_at
        if not isinstance(received, datetime) or received.tzinfo is None:
            received = datetime.now(UTC)  # a naive time is itself among the reasons
        self._conn.execute(
            insert(rejected_events).values(
                event_id=str(event.event_id)[:200],
                type=event.TYPE,
                adapter=str(event.source.adapter)[:32],
                operator_id=event.source.operator_id,
                received_at=received,
                reason=storable_text(reason),
                payload=storable_text(payload),
            )
        )

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        # Raw SAVEPOINTs: per-event rollback at a few µs instead of SQLAlchemy's nested
        # transaction objects. Names are unique per depth so nesting stays correct.
        self._depth += 1
        name = f"ev{self._depth}"
        raw = self._ctx.raw
        raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
            raw.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            raw.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1

    def commit(self) -> None:
        self._conn.commit()


@dataclass
class SqlEventStore:
    """Writes go through one writer engine; readers use `read_engine`."""

    url: str
    synchronous: str = "FULL"
    allow_unsafe_durability: bool = False  # PostgreSQL without fsync: tests only

    def __post_init__(self) -> None:
        self.engine: Engine = create_store_engine(
            self.url, writer=True, synchronous=self.synchronous
        )
        self.read_engine: Engine = create_store_engine(self.url, writer=False)
        if self.engine.dialect.name == "postgresql":
            try:
                check_postgres_durability(self.engine, allow_unsafe=self.allow_unsafe_durability)
            except Exception:
                self.dispose()
                raise

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def is_current(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision(self.engine)

    def unit_of_work(self) -> AbstractContextManager[SqlUnitOfWork]:
        return self._uow()

    @contextmanager
    def _uow(self) -> Iterator[SqlUnitOfWork]:
        with self.engine.connect() as conn:
            conn.begin()
            try:
                yield SqlUnitOfWork(conn)
            finally:
                if conn.in_transaction():
                    conn.rollback()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
        applied = skipped = 0
        with self.engine.connect() as conn:
            conn.begin()
            uow = SqlUnitOfWork(conn)
            total = conn.execute(select(func.count()).select_from(events)).scalar_one()
            for table in STATE_TABLES:
                conn.execute(delete(table))
            last = 0
            while True:
                rows = conn.execute(
                    select(events.c.seq, events.c.type, events.c.version, events.c.payload)
                    .where(events.c.seq > last)
                    .order_by(events.c.seq)
                    .limit(_REBUILD_CHUNK)
                ).all()
                if not rows:
                    break
                for row in rows:
                    event = codec.decode(row.type, row.version, row.payload)
                    try:
                        with uow.savepoint():
                            uow.apply(event)
                        applied += 1
                    except DomainError as exc:
                        skipped += 1
                        log.warning("rebuild skipped event #%d %s: %s", row.seq, row.type, exc)
                last = rows[-1].seq
                if progress is not None:
                    progress(applied + skipped, total)
            conn.commit()
        return RebuildReport(applied=applied, skipped=skipped)

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
