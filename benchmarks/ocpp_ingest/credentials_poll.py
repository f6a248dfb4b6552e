"""What the OCPP gateway's watch on passwords costs: CPU per poll round (the fingerprint of
`charger_credentials`, read every CHARGENET_OCPP_CREDENTIALS_POLL_S) and per read of every
hash (only after a change), against the baseline the watch avoids: one look-up of a
charger's hash per login (what checking the database at each login would cost).

    python -m benchmarks.ocpp_ingest.credentials_poll --chargers 10000 [--url postgresql+psycopg://…]

The table is made in the database given (a fresh SQLite file by default), filled with the
chargers' hashes and dropped at the end. Printed: the process CPU (user + system; with
SQLite the queries run in this process) per call, the median of --rounds, and the ratio of
a poll round to a per-login look-up.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from chargenet.adapters.storage.engine import create_store_engine
from chargenet.adapters.storage.queries_ocpp import OcppQueries
from chargenet.adapters.storage.tables_ocpp import charger_credentials


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_call_ms(call: Callable[[], Any], calls: int, rounds: int) -> float:
    measured = []
    for _ in range(rounds):
        start = cpu_s()
        for _ in range(calls):
            call()
        measured.append((cpu_s() - start) / calls * 1e3)
    return statistics.median(measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--url", default=None, help="a database (default: a new SQLite file)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/credentials.db"
    engine = create_store_engine(url, writer=True)
    charger_credentials.drop(engine, checkfirst=True)
    charger_credentials.create(engine)
    try:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(charger_credentials),
                [
                    {"charger_id": f"C{i:06d}", "secret_hash": "x" * 100, "updated_at": now}
                    for i in range(args.chargers)
                ],
            )
        queries = OcppQueries(engine, engine)
        table = charger_credentials

        def lookup() -> None:
            with engine.connect() as conn:
                conn.execute(select(table.c.secret_hash).where(table.c.charger_id == "C000042"))

        login = per_call_ms(lookup, 500, args.rounds)
        poll = per_call_ms(queries.secrets_fingerprint, 200, args.rounds)
        read = per_call_ms(queries.secret_hashes, 10, args.rounds)
        print(f"{url.split(':')[0]}, {args.chargers} chargers' passwords, CPU per call:")
        print(f"  baseline, one charger's hash looked up (per login): {login:.3f} ms")
        print(f"  poll round (fingerprint): {poll:.3f} ms = {poll / login:.1f}x a login look-up")
        print(f"  every hash read (after a change): {read:.3f} ms = {read / login:.0f}x")
    finally:
        charger_credentials.drop(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
