"""Month-end balance checkpoints: a statement's opening balance is the newest checkpoint
plus the postings since, and agrees with the sum of every earlier posting whatever the
order in which entries land and statements are asked (late entries in closed months
included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.pool import StaticPool

from chargenet.adapters.storage.projections.settlement import _apply_posting
from chargenet.adapters.storage.queries_settlement import (
    SqlSettlementReads,
    balances_at,
    full_balances_at,
)
from chargenet.adapters.storage.schema import metadata
from chargenet.adapters.storage.tables_settlement import (
    SETTLEMENT_STATE_TABLES,
    ledger_checkpoints,
)
from chargenet.bootstrap import Platform
from chargenet.core.events import LedgerPosted
from chargenet.core.ledger import PLATFORM_FEES, Entry, EntryKind, Posting
from tests.builders import meta

OPERATORS = ["operator:A", "operator:B", "operator:C"]
EDGES = [datetime(2025, m, 1, tzinfo=UTC) for m in range(1, 8)]  # six months
LATE = EDGES[-1] + timedelta(days=30)  # every month closed by then


@contextmanager
def ledger() -> Iterator[tuple[Engine, SqlSettlementReads]]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine, tables=list(SETTLEMENT_STATE_TABLES))
    try:
        yield engine, SqlSettlementReads(engine, engine, "UTC")
    finally:
        engine.dispose()


def post(engine: Engine, n: int, account: str, cents: int, at: datetime) -> None:
    amount = Decimal(cents) / 100
    entry = Entry(
        entry_id=f"payout:{n}",
        kind=EntryKind.PAYOUT,
        currency="CNY",
        postings=(Posting(account, amount), Posting(PLATFORM_FEES, -amount)),
    )
    with engine.begin() as conn:
        _apply_posting(conn, LedgerPosted(**meta(at), entry=entry))


def statement(reads: SqlSettlementReads, month: int, now: datetime) -> dict[str, Decimal]:
    """Opening balances of the month (index into EDGES), the way the month-statement
    route asks (checkpoints written for closed months)."""
    opening, _ = reads.operator_totals(EDGES[month], EDGES[month + 1], None, now)
    return opening


_when = st.one_of(
    st.sampled_from(EDGES),  # exactly on a boundary: belongs to the month it opens
    st.integers(0, int((EDGES[-1] - EDGES[0]).total_seconds()) // 60).map(
        lambda m: EDGES[0] + timedelta(minutes=m)
    ),
)
_post = st.tuples(st.just("post"), st.sampled_from(OPERATORS), st.integers(-50_000, 50_000), _when)
_ask = st.tuples(st.just("ask"), st.integers(0, len(EDGES) - 2), st.sampled_from(OPERATORS), _when)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_post, _ask), min_size=1, max_size=40))
def test_checkpoint_path_equals_the_full_sum_on_random_ledgers(
    steps: list[tuple[str, str | int, str | int, datetime]],
) -> None:
    with ledger() as (engine, reads):
        model: list[tuple[str, int, datetime]] = []
        for n, (op, a, b, at) in enumerate(steps):
            if op == "post":
                assert isinstance(a, str) and isinstance(b, int)
                if b == 0:
                    continue
                post(engine, n, a, b, at)
                model.append((a, b, at))
            else:
                assert isinstance(a, int)
                # Asked at `at` (statement time): only months closed by then are checkpointed.
                statement(reads, a, at + timedelta(days=2))
            for month, edge in enumerate(EDGES[:-1]):
                with engine.connect() as conn:
                    fast = balances_at(conn, OPERATORS, edge)
                    full = full_balances_at(conn, OPERATORS, edge)
                expected = {
                    acc: Decimal(sum(c for x, c, when in model if x == acc and when < edge)) / 100
                    for acc in OPERATORS
                }
                assert fast == full == expected, (month, edge)
        # Every month asked once the ledger is closed: checkpoints written, same answers.
        for month in range(len(EDGES) - 1):
            opening = statement(reads, month, LATE)
            with engine.connect() as conn:
                full = full_balances_at(conn, list(opening), EDGES[month])
            assert opening == full
        with engine.connect() as conn:
            held = conn.execute(select(ledger_checkpoints.c.at).distinct()).scalars().all()
        if model:  # operators exist: each has a checkpoint at every edge
            assert len(held) == len(EDGES)


def test_an_opening_balance_is_read_from_the_checkpoint() -> None:
    """The statement reads the checkpoint, not every earlier posting: a checkpoint altered
    by hand shows in the opening balance (and nowhere else)."""
    with ledger() as (engine, reads):
        post(engine, 1, "operator:A", 1_000, EDGES[0] + timedelta(days=3))
        post(engine, 2, "operator:A", 500, EDGES[1] + timedelta(days=3))
        assert statement(reads, 2, LATE) == {"operator:A": Decimal("15.00")}
        with engine.begin() as conn:
            written = {(r.at, r.balance) for r in conn.execute(select(ledger_checkpoints))}
            assert written == {(EDGES[2], Decimal("15.00")), (EDGES[3], Decimal("15.00"))}
            conn.execute(
                update(ledger_checkpoints)
                .where(ledger_checkpoints.c.at == EDGES[2])
                .values(balance=Decimal("99.00"))
            )
        assert statement(reads, 2, LATE) == {"operator:A": Decimal("99.00")}


def test_an_open_month_is_not_checkpointed() -> None:
    """A month's edge is checkpointed only once it has been closed a day
    (core.ledger.CLOSES_AFTER): the current month's end is not."""
    with ledger() as (engine, reads):
        post(engine, 1, "operator:A", 1_000, EDGES[0] + timedelta(days=3))
        statement(reads, 0, EDGES[1] + timedelta(hours=12))  # January closed 12 h ago
        with engine.connect() as conn:
            assert conn.execute(select(ledger_checkpoints.c.at)).scalars().all() == [EDGES[0]]
        statement(reads, 0, EDGES[1] + timedelta(days=1))
        with engine.connect() as conn:
            held = set(conn.execute(select(ledger_checkpoints.c.at)).scalars())
        assert held == {EDGES[0], EDGES[1]}


def test_a_late_entry_in_a_closed_month_drops_the_checkpoints_after_it() -> None:
    with ledger() as (engine, reads):
        post(engine, 1, "operator:A", 1_000, EDGES[0] + timedelta(days=3))
        post(engine, 2, "operator:B", 700, EDGES[0] + timedelta(days=4))
        assert statement(reads, 3, LATE) == {
            "operator:A": Decimal("10.00"),
            "operator:B": Decimal("7.00"),
        }
        # A CDR of February charged only now: A's checkpoints of March and April go, B's stay.
        post(engine, 3, "operator:A", 250, EDGES[1] + timedelta(days=10))
        with engine.connect() as conn:
            left = {(r.account, r.at) for r in conn.execute(select(ledger_checkpoints))}
        assert left == {("operator:B", EDGES[3]), ("operator:B", EDGES[4])}
        assert statement(reads, 3, LATE) == {
            "operator:A": Decimal("12.50"),
            "operator:B": Decimal("7.00"),
        }
        # A posting exactly at a checkpoint's instant belongs to the month it opens: kept.
        post(engine, 4, "operator:B", 100, EDGES[3])
        with engine.connect() as conn:
            left = {(r.account, r.at) for r in conn.execute(select(ledger_checkpoints))}
        assert ("operator:B", EDGES[3]) in left and ("operator:B", EDGES[4]) not in left
        assert statement(reads, 4, LATE)["operator:B"] == Decimal("8.00")


def test_checkpoints_on_every_backend(any_platform: Platform) -> None:
    """Written under the write lock (PostgreSQL: SHARE on ledger_postings) and dropped by a
    late posting, through the platform's own store and reads."""
    p = any_platform
    reads = p.settlement_reads
    assert reads is not None

    def entry(n: int, account: str, cents: int, at: datetime) -> LedgerPosted:
        amount = Decimal(cents) / 100
        postings = (Posting(account, amount), Posting(PLATFORM_FEES, -amount))
        return LedgerPosted(
            **meta(at),
            entry=Entry(
                entry_id=f"payout:{n}", kind=EntryKind.PAYOUT, currency="CNY", postings=postings
            ),
        )

    p.ingestor.ingest([entry(1, "operator:A", 1_000, EDGES[0] + timedelta(days=3))])
    opening, _ = reads.operator_totals(EDGES[2], EDGES[3], None, LATE)
    assert opening == {"operator:A": Decimal("10.00")}
    with p.store.engine.connect() as conn:
        assert set(conn.execute(select(ledger_checkpoints.c.at)).scalars()) == {
            EDGES[2],
            EDGES[3],
        }
    p.ingestor.ingest([entry(2, "operator:A", 300, EDGES[1] + timedelta(days=3))])
    with p.store.engine.connect() as conn:
        assert list(conn.execute(select(ledger_checkpoints.c.at)).scalars()) == []
    opening, _ = reads.operator_totals(EDGES[3], EDGES[4], None, LATE)
    assert opening == {"operator:A": Decimal("13.00")}
