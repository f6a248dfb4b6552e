"""CDRs into the settlement ledger: batched (the ingest path's batches, one transaction
each, every entry checked for balance and limits inside it) against a per-row baseline
(one transaction per CDR), in the same process on the same database kind; then the time
to produce a day's statement of one operator from the postings.

    PYTHONPATH=src .venv/bin/python -m benchmarks.settlement.run [--cdrs 4000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import DriverRegistered, Event, LedgerPosted, Source, event_meta
from chargenet.core.ledger import Ledger, charge, operator_account, topup
from chargenet.kit.ids import stable_id

T0 = datetime(2025, 5, 1, tzinfo=UTC)
SOURCE = Source(adapter="bench")
DRIVERS = 500
OPERATORS = 20
FEE = Decimal("0.01")


def _events(cdrs: int) -> tuple[list[Event], list[Event]]:
    """(setup: drivers and their top-ups, the CDRs' charge entries)."""
    mirror = Ledger()
    setup: list[Event] = []
    for d in range(DRIVERS):
        driver = f"d{d}"
        setup.append(DriverRegistered(**event_meta(f"reg-{d}", SOURCE, T0), driver_id=driver))
        entry = topup(f"t{d}", driver, Decimal("5000.00"), "bench", Decimal(0), "CNY")
        mirror.post(entry)
        setup.append(LedgerPosted(**event_meta(f"top-{d}", SOURCE, T0), entry=entry))
    charges: list[Event] = []
    for n in range(cdrs):
        driver = f"d{n % DRIVERS}"
        amount = Decimal(10 + n % 90) + Decimal(n % 100) / 100
        entry = charge(
            f"charge:S{n}",
            driver,
            f"OP{n % OPERATORS}",
            amount,
            FEE,
            mirror.available(driver),
            "CNY",
            reference=f"S{n}",
        )
        mirror.post(entry)
        at = T0 + timedelta(seconds=20 * n)
        charges.append(
            LedgerPosted(**event_meta(stable_id("ledger", entry.entry_id), SOURCE, at), entry=entry)
        )
    return setup, charges


def _run(path: Path, cdrs: int, batch: int) -> tuple[float, float]:
    """(CDRs per second, seconds for one operator's day statement)."""
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous="NORMAL"))
    try:
        setup, charges = _events(cdrs)
        platform.ingestor.ingest(setup)
        start = time.perf_counter()
        for i in range(0, len(charges), batch):
            outcomes = platform.ingestor.ingest(charges[i : i + batch])
            assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok][:3]
        rate = cdrs / (time.perf_counter() - start)
        reads = platform.settlement_reads
        assert reads is not None
        start = time.perf_counter()
        _, movements = reads.account_movements(operator_account("OP0"), T0, T0 + timedelta(days=1))
        statement_s = time.perf_counter() - start
        assert movements, "no movements in the statement"
        return rate, statement_s
    finally:
        platform.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cdrs", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    batched: list[float] = []
    per_row: list[float] = []
    statements: list[float] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            rate, statement_s = _run(Path(tmp) / "b.db", args.cdrs, 2000)
            batched.append(rate)
            statements.append(statement_s)
        with tempfile.TemporaryDirectory() as tmp:
            per_row.append(_run(Path(tmp) / "r.db", args.cdrs, 1)[0])
        print(
            f"run {run + 1}: batched {batched[-1]:,.0f} CDRs/s, per-row {per_row[-1]:,.0f} CDRs/s"
        )
    fast, slow = statistics.median(batched), statistics.median(per_row)
    print(f"median of {args.runs} runs, {args.cdrs:,} CDRs, SQLite (synchronous NORMAL):")
    print(f"  batched into the ledger: {fast:,.0f} CDRs/s")
    print(f"  per-row baseline:        {slow:,.0f} CDRs/s")
    print(f"  ratio:                   {fast / slow:.1f}×")
    print(f"  one operator's day statement: {statistics.median(statements) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
