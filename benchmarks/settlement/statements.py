"""A month's statements for every operator of a province: the database's sums (the path
`GET /api/v1/settlement/statements` takes) against a straightforward per-row baseline
(each operator's postings of the month read one by one and summed in Python, as the day
statement reads them), in the same process on the same SQLite file.

The ledger is filled as the projection leaves it (an entry and its three postings for
each session: the driver's wallet, the operator, the platform's fee, each with its kind,
amounts in millionths as `MicroAmount` stores the Decimal), generated set-based inside
SQLite (INSERT … SELECT over a recursive series, a million sessions a transaction, the
indexes maintained as rows arrive, as in production) so that a province's month fills in
minutes; a quarter as many sessions in the month before give the opening balances. Before
anything is timed the fill is checked: every entry balances with its three postings and a
sample of sessions is exactly what `_session` computes in Python with Decimal.

The summed path is timed twice: with no checkpoint (the opening balance sums every posting
before the month), then with the month-end checkpoints that the first statement of the
month before writes (timed too: what the first ask of a closed month costs), the opening
then being the checkpoint plus nothing.

    PYTHONPATH=src .venv/bin/python -m benchmarks.settlement.statements \
        [--sessions 1000000] [--operators 200] [--runs 3] [--history 0.25]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
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
from chargenet.core.ledger import PLATFORM_FEES, EntryKind, operator_account, wallet

PREVIOUS = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 1 April 00:00 in Shanghai
MONTH = datetime(2025, 4, 30, 16, tzinfo=UTC)  # 1 May 00:00 in Shanghai
NEXT = datetime(2025, 5, 31, 16, tzinfo=UTC)
LATER = NEXT + timedelta(days=30)  # when the statements are asked: both months closed
DRIVERS = 100_000
CHUNK = 1_000_000  # sessions a transaction


def _stamp_us(n: int, before: int, sessions: int, history: float) -> int:
    """Session `n`'s time in microseconds since the epoch: the month's sessions evenly over
    the month, the `before` ones over the span before it (integer arithmetic, as the
    database computes it in `_fill`)."""
    month_us, span_us = _spans(history)
    base = _epoch_us(MONTH)
    if n < before:
        return base - span_us * (before - n) // before
    return base + month_us * (n - before) // sessions


def _spans(history: float) -> tuple[int, int]:
    month_us = (NEXT - MONTH) // timedelta(microseconds=1)
    return month_us, int(month_us * max(1.0, history))


def _epoch_us(at: datetime) -> int:
    return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _session(
    n: int, before: int, sessions: int, operators: int, history: float
) -> tuple[tuple[str, str, str, str, str, str], set[tuple[str, str, int, str, str]]]:
    """The entry and postings the projection writes for session `n`'s charge, computed in
    Python with Decimal: what the set-based fill must have written (checked on a sample)."""
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=_stamp_us(n, before, sessions, history)
    )
    stamp = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    total = Decimal(10 + n % 90) + Decimal(n % 100) / 100
    fee = (total / 100).quantize(Decimal("0.01"))
    key = f"charge:S{n}"
    kind = EntryKind.CHARGE.value
    operator = operator_account(f"OP{n % operators}")
    return (key, kind, "CNY", f"S{n}", "", stamp), {
        (key, wallet(f"d{n % DRIVERS}"), -to_micro_units(total), stamp, kind),
        (key, operator, to_micro_units(total - fee), stamp, kind),
        (key, PLATFORM_FEES, to_micro_units(fee), stamp, kind),
    }


# Session n's time (as `_stamp_us`) and its bill in cents (as `_session`), in SQL over a
# generated series: no row crosses into Python. Month times are base + n * month / sessions
# split as q * n + r * n / sessions so that no product overflows 64 bits.
_SERIES = """
WITH RECURSIVE s(m) AS (SELECT :lo UNION ALL SELECT m + 1 FROM s WHERE m + 1 < :hi),
v AS (SELECT m / :per AS n, m % :per AS leg FROM s),
t AS (
    SELECT n, leg, CASE WHEN n < :before
        THEN :base - (:hq * (:before - n) + (:hr * (:before - n)) / :before)
        ELSE :base + :mq * (n - :before) + (:mr * (n - :before)) / :sessions END AS us,
        (10 + n % 90) * 100 + n % 100 AS cents
    FROM v
),
c AS (
    SELECT n, leg, cents,
        datetime(us / 1000000, 'unixepoch') || '.' || printf('%06d', us % 1000000) AS stamp,
        cents / 100 + (cents % 100 > 50) + (cents % 100 = 50 AND (cents / 100) % 2 = 1) AS fee
    FROM t
)
"""
_ENTRIES = (
    _SERIES
    + """INSERT INTO ledger_entries (entry_id, kind, currency, reference, memo, posted_at)
SELECT 'charge:S' || n, :kind, 'CNY', 'S' || n, '', stamp FROM c"""
)
# The three postings of a session: the driver's wallet pays the bill, the operator gets it
# less the platform's fee (cents half-even, as Decimal.quantize), in millionths.
_POSTINGS = (
    _SERIES
    + """INSERT INTO ledger_postings (entry_id, account, amount, posted_at, kind)
SELECT 'charge:S' || n,
    CASE leg WHEN 0 THEN :wallet || (n % :drivers) WHEN 1 THEN :operator || (n % :operators)
        ELSE :fees END,
    CASE leg WHEN 0 THEN -cents WHEN 1 THEN cents - fee ELSE fee END * 10000,
    stamp, :kind
FROM c"""
)


def _fill(path: Path, sessions: int, operators: int, history: float = 0.25) -> None:
    """`sessions` charges spread over the month, `history` times as many before it (over
    the month before, or as many months as `history` when above 1: an older ledger).

    Set-based: each chunk of entries and of postings is one INSERT … SELECT over a series
    generated inside SQLite, in session order, as the projection appends them; the indexes
    stay in place and are maintained row by row, as in production (none is dropped and
    rebuilt, which would leave them packed tighter than a ledger written over months)."""
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
            raw.commit()
            before = int(sessions * history)
            month_us, span_us = _spans(history)
            params: dict[str, int | str] = {
                "before": before,
                "sessions": sessions,
                "base": _epoch_us(MONTH),
                "mq": month_us // sessions,
                "mr": month_us % sessions,
                "hq": span_us // max(before, 1),
                "hr": span_us % max(before, 1),
                "kind": EntryKind.CHARGE.value,
                "wallet": wallet("d"),
                "operator": operator_account("OP"),
                "fees": PLATFORM_FEES,
                "drivers": DRIVERS,
                "operators": operators,
            }
            for first in range(0, before + sessions, CHUNK):
                last = min(first + CHUNK, before + sessions)
                cur.execute(_ENTRIES, {**params, "lo": first, "hi": last, "per": 1})
                cur.execute(_POSTINGS, {**params, "lo": first * 3, "hi": last * 3, "per": 3})
                raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
    finally:
        platform.close()


def _check_ledger(path: Path, sessions: int, operators: int, history: float) -> None:
    """The filled ledger is what settlement would have written: every entry balanced with
    its three postings, and a sample of sessions exactly as `_session` computes them."""
    before = int(sessions * history)
    with sqlite3.connect(path) as db:
        (entries,) = db.execute("SELECT count(*) FROM ledger_entries").fetchone()
        postings, total = db.execute("SELECT count(*), sum(amount) FROM ledger_postings").fetchone()
        (unbalanced,) = db.execute(
            "SELECT count(*) FROM (SELECT entry_id FROM ledger_postings GROUP BY entry_id"
            " HAVING sum(amount) != 0 OR count(*) != 3)"
        ).fetchone()
        assert entries == before + sessions, entries
        assert postings == 3 * entries, postings
        assert total == 0 and unbalanced == 0, (total, unbalanced)
        picks = random.Random(7).sample(range(before + sessions), min(2000, before + sessions))
        edges = [0, max(before - 1, 0), before, before + sessions - 1]
        for n in [*edges, *picks]:
            entry, legs = _session(n, before, sessions, operators, history)
            assert db.execute(
                "SELECT entry_id, kind, currency, reference, memo, posted_at"
                " FROM ledger_entries WHERE entry_id = ?",
                (entry[0],),
            ).fetchall() == [entry], n
            written = db.execute(
                "SELECT entry_id, account, amount, posted_at, kind"
                " FROM ledger_postings WHERE entry_id = ?",
                (entry[0],),
            ).fetchall()
            assert set(written) == legs and len(written) == 3, n


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


def _cents(
    statements: list[OperatorStatement],
) -> dict[str, tuple[Decimal, Decimal, dict[str, tuple[int, Decimal]]]]:
    """Each operator's opening, closing and movements by kind, to the cent."""
    cent = Decimal("0.01")
    return {
        s.operator_id: (
            s.opening.quantize(cent),
            s.closing.quantize(cent),
            {k: (n, a.quantize(cent)) for k, (n, a) in s.movements.items()},
        )
        for s in statements
    }


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


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
        fill_s = time.perf_counter() - start
        print(f"filled {args.sessions:,} sessions in {fill_s:,.0f} s (load {_load()})")
        start = time.perf_counter()
        _check_ledger(path, args.sessions, args.operators, args.history)
        check_s = time.perf_counter() - start
        print(f"ledger balanced, sample as computed: checked in {check_s:.0f} s")
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
            cpu: list[tuple[float, float]] = []  # this process's CPU: the machine is shared
            for run in range(args.runs):
                start, started = time.perf_counter(), time.process_time()
                fast = statements(*reads.operator_totals(MONTH, NEXT))
                summed.append(time.perf_counter() - start)
                fast_cpu = time.process_time() - started
                start, started = time.perf_counter(), time.process_time()
                slow = _per_row(reads, args.operators)
                rowwise.append(time.perf_counter() - start)
                cpu.append((fast_cpu, time.process_time() - started))
                key = _cents(slow)
                assert len(key) == args.operators
                assert _cents(fast) == key and _cents(plain) == key
                assert sum(n for s in fast for n, _ in s.movements.values()) == args.sessions
                print(
                    f"run {run + 1}: summed from checkpoints {summed[-1]:.2f} s,"
                    f" per row {rowwise[-1]:.2f} s (CPU {cpu[-1][0]:.2f} s, {cpu[-1][1]:.2f} s)"
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
    a_cpu = statistics.median(x for x, _ in cpu)
    b_cpu = statistics.median(y for _, y in cpu)
    print(f"  CPU of this process, from checkpoints:    {a_cpu:.2f} s")
    print(f"  CPU of this process, per-row baseline:    {b_cpu:.2f} s ({b_cpu / a_cpu:.1f}×)")
    print(f"  ratio (no checkpoint / from checkpoints): {c / a:.1f}×")
    print(f"  first ask (writes the checkpoints):       {first_ask:.2f} s")
    print(f"  fill:                                     {fill_s:,.0f} s")
    print(f"  load average at the end:                  {_load()}")


if __name__ == "__main__":
    main()
