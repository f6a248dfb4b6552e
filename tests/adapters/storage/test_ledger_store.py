"""The ledger's rules held by the store itself, on SQLite and PostgreSQL: an entry that
would take a wallet below its limit is refused whole even when it was built from a stale
balance (two charges racing for the same money); a key posts once; the books balance."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from chargenet.adapters.storage.tables_settlement import ledger_postings
from chargenet.bootstrap import Platform
from chargenet.core.events import DriverRegistered, LedgerPosted
from chargenet.core.ledger import charge, topup, wallet
from tests.builders import meta


def test_the_store_refuses_a_charge_built_on_a_stale_balance_and_posts_each_key_once(
    any_platform: Platform,
) -> None:
    p = any_platform
    fee = Decimal("0.01")
    first = charge("charge:A", "lina", "OP1", Decimal("8.00"), fee, Decimal("10.00"), "CNY")
    # built from the same balance before the first was posted: it would overdraw
    second = charge("charge:B", "lina", "OP1", Decimal("8.00"), fee, Decimal("10.00"), "CNY")
    other_content = charge("charge:A", "lina", "OP1", Decimal("1.00"), fee, Decimal(2), "CNY")
    outcomes = p.ingestor.ingest(
        [
            DriverRegistered(**meta(), driver_id="lina"),
            LedgerPosted(
                **meta(), entry=topup("t1", "lina", Decimal("10.00"), "x", Decimal(0), "CNY")
            ),
            LedgerPosted(**meta(), entry=first),
            LedgerPosted(**meta(), entry=second),
            LedgerPosted(**meta(), entry=first),
            LedgerPosted(**meta(), entry=other_content),
        ]
    )
    assert [o.disposition.value for o in outcomes] == [
        "accepted",
        "accepted",
        "accepted",
        "rejected",
        "accepted",  # the same entry again: nothing moves
        "rejected",
    ]
    assert "below its limit" in outcomes[3].reason
    assert "other content" in outcomes[5].reason
    reads = p.settlement_reads
    assert reads is not None
    assert reads.balances([wallet("lina")])[wallet("lina")] == Decimal("2.00")
    with p.store.read_engine.connect() as conn:
        assert conn.execute(select(func.sum(ledger_postings.c.amount))).scalar() == 0
