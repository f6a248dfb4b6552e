"""A month's statements for every operator of a province: the database's sums (the path
`GET /api/v1/settlement/statements` takes) against a straightforward per-row baseline
(each operator's postings of the month read one by one and summed in Python, as the day
statement reads them), in the same process on the same SQLite file.

The ledger is filled as the projection leaves it (an entry and its three postings for
each session: the driver's wallet, the operator, the platform's fee, each with its kind),
written straight into the tables so that the fill takes minutes, not the hours the checked
ingest path would; a quarter as many sessions in the month before give the opening balances.

The summed path is timed twice: with no checkpoint (the opening balance sums every posting
before the month), then with the month-end checkpoints that the first statement of the
month before writes (timed too: what the first ask of a closed month costs), the opening
then being the checkpoint plus nothing.

    PYTHONPATH=src .venv/bin/python -m benchmarks.settlement.statements \
        [--sessions 1000000] [--operators 200] [--runs 3] [--history 0.25]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from chargenet.adapters.storage.types import to_micro_units
from chargenet.app.settlement import OperatorStatement, SettlementReads, statements
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.ledger import PLATFORM_FEES, operator_account, wallet

PREVIOUS = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 1 April 00:00 in Shanghai
MONTH = datetime(2025, 4, 30, 16, tzinfo=UTC)  # 1 May 00:00 in Shanghai
NEXT = datetime(2025, 5, 31, 16, tzinfo=UTC)
LATER = NEXT + timedelta(days=30)  # when the statements are asked: both months closed
DRIVERS = 100_000
CHUNK = 100_000


def _fill(path: Path, sessions: int, operators: int, history: float = 0.25) -> None:
    """`sessions` charges spread over the month, `history` times as many before it (over
    the month before, or as many months as `history` when above 1: an older ledger)."""
    platform = bootstrap(Settings(database_url=f"sqlite:///{path}", sqlite_synchronous="OFF"))
    try:
        raw = platform.store.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA cache_size = -4000000")  # 4 GB: the indexes stay in memory
            accounts = [(operator_account(f"OP{o}"), "CNY", 0) for o in range(operators)]
            accounts += [(wallet(f"d{d}"), "CNY", 0) for d in range(DRIVERS)]
            accounts.append((PLATFORM_FEES, "CNY", 0))
            cur.executemany(
                "INSERT INTO ledger_accounts (account, currency, floor) VALUES (?, ?, ?)",
                accounts,
            )
            before = int(sessions * history)
            month_s = (NEXT - MONTH).total_seconds()
            span_s = month_s * max(1.0, history)
            for first in range(0, before + sessions, CHUNK):
                entries, postings = [], []
                for n in range(first, min(first + CHUNK, before + sessions)):
                    if n < before:
                        at = MONTH - timedelta(seconds=span_s * (before - n) / before)
                    else:
                        at = MONTH + timedelta(seconds=month_s * (n - before) / sessions)
                    stamp = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
                    total = Decimal(10 + n % 90) + Decimal(n % 100) / 100
                    fee = (total / 100).quantize(Decimal("0.01"))
                    key = f"charge:S{n}"
                    entries.append((key, "charge", "CNY", f"S{n}", "", stamp))
                    operator = operator_account(f"OP{n % operators}")
                    postings += [
                        (key, wallet(f"d{n % DRIVERS}"), -to_micro_units(total), stamp, "charge"),
                        (key, operator, to_micro_units(total - fee), stamp, "charge"),
                        (key, PLATFORM_FEES, to_micro_units(fee), stamp, "charge"),
                    ]
                cur.executemany(
                    "INSERT INTO ledger_entries (entry_id, kind, currency, reference, memo,"
                    " posted_at) VALUES (?, ?, ?, ?, ?, ?)",
                    entries,
                )
                cur.executemany(
                    "INSERT INTO ledger_postings (entry_id, account, amount, posted_at, kind)"
                    " VALUES (?, ?, ?, ?, ?)",
                    postings,
                )
                raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
    finally:
        platform.close()


def _per_row(reads: SettlementReads, operators: int) -> list[OperatorStatement]:
    """The baseline: each operator's balance before the month, then every posting of the
    month read as a row and added up by kind in Python."""
    out = []
    for o in range(operators):
        opening, rows = reads.account_movements(operator_account(f"OP{o}"), MONTH, NEXT)
        by_kind: dict[str, list[Decimal]] = defaultdict(list)
        for row in rows:
            by_kind[row["kind"]].append(row["amount"])
        moves = {k: (len(v), sum(v, Decimal(0))) for k, v in by_kind.items()}
        closing = opening + sum((a for _, a in moves.values()), Decimal(0))
        out.append(OperatorStatement(f"OP{o}", opening, moves, closing))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--operators", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--history", type=float, default=0.25, help="sessions before the month, per session in it"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "month.db"
        start = time.perf_counter()
        _fill(path, args.sessions, args.operators, args.history)
        print(f"filled {args.sessions:,} sessions in {time.perf_counter() - start:,.0f} s")
        platform = bootstrap(Settings(database_url=f"sqlite:///{path}"))
        reads = platform.settlement_reads
        assert reads is not None
        try:
            full: list[float] = []
            for run in range(args.runs):
                start = time.perf_counter()
                plain = statements(*reads.operator_totals(MONTH, NEXT))
                full.append(time.perf_counter() - start)
                print(f"run {run + 1}: summed, no checkpoint {full[-1]:.2f} s")
            start = time.perf_counter()
            reads.operator_totals(PREVIOUS, MONTH, None, LATER)  # writes the checkpoints
            first_ask = time.perf_counter() - start
            print(f"first statement of the month before (writes checkpoints): {first_ask:.2f} s")
            summed: list[float] = []
            rowwise: list[float] = []
            for run in range(args.runs):
                start = time.perf_counter()
                fast = statements(*reads.operator_totals(MONTH, NEXT))
                summed.append(time.perf_counter() - start)
                start = time.perf_counter()
                slow = _per_row(reads, args.operators)
                rowwise.append(time.perf_counter() - start)
                key = {s.operator_id: (s.opening, s.closing) for s in slow}
                assert {s.operator_id: (s.opening, s.closing) for s in fast} == key
                assert {s.operator_id: (s.opening, s.closing) for s in plain} == key
                assert sum(n for s in fast for n, _ in s.movements.values()) == args.sessions
                print(
                    f"run {run + 1}: summed from checkpoints {summed[-1]:.2f} s,"
                    f" per row {rowwise[-1]:.2f} s"
                )
        finally:
            platform.close()
    a, b, c = statistics.median(summed), statistics.median(rowwise), statistics.median(full)
    print(
        f"median of {args.runs} runs, {args.sessions:,} sessions in the month "
        f"(+{int(args.sessions * args.history):,} before), {args.operators} operators, SQLite:"
    )
    print(f"  summed by the database, no checkpoint:    {c:.2f} s")
    print(f"  summed by the database, from checkpoints: {a:.2f} s")
    print(f"  per-row baseline:                         {b:.2f} s")
    print(f"  ratio (baseline / from checkpoints):      {b / a:.1f}×")
    print(f"  ratio (no checkpoint / from checkpoints): {c / a:.1f}×")


if __name__ == "__main__":
    main()
