"""What reading the log for other processes' registry changes costs one process
(adapters/storage/log_tail.py, every CHARGENET_REGISTRY_POLL_S): CPU per round when
nothing was written, and when --written events of other kinds (meter values, statuses: a
busy city's 2 s) were stored since the last round, against the baseline of the credentials
watch's round (the fingerprint of 10,000 chargers' passwords, every
CHARGENET_OCPP_CREDENTIALS_POLL_S).

    python -m benchmarks.ocpp_ingest.registry_poll [--events 200000] [--url postgresql+psycopg://…]

The log (--events rows, none of a registry kind) and the credentials table are made in the
database given (a fresh SQLite file by default) and dropped at the end. Printed: process
CPU (user + system; with SQLite the queries run in this process) per round, the median of
--rounds.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from benchmarks.ocpp_ingest.credentials_poll import cpu_s, per_call_ms
from chargenet.adapters.storage.engine import create_store_engine
from chargenet.adapters.storage.log_tail import LogTail
from chargenet.adapters.storage.queries_ocpp import OcppQueries
from chargenet.adapters.storage.schema import events
from chargenet.adapters.storage.tables_ocpp import charger_credentials
from chargenet.core.registry.changes import CHARGER_RECORD_CHANGES


def rows(start: int, count: int, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"bench-{i}",
            "type": "connector.meter_sampled",
            "version": 1,
            "adapter": "bench",
            "occurred_at": now,
            "received_at": now,
            "payload": '{"x": ' + "1" * 300 + "}",
        }
        for i in range(start, start + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="rows in the log")
    parser.add_argument("--written", type=int, default=2_000, help="rows between two rounds")
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--url", default=None, help="a database (default: a new SQLite file)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/registry.db"
    engine = create_store_engine(url, writer=True)
    for table in (events, charger_credentials):
        table.drop(engine, checkfirst=True)
        table.create(engine)
    try:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for start in range(0, args.events, 50_000):
                conn.execute(insert(events), rows(start, min(50_000, args.events - start), now))
            conn.execute(
                insert(charger_credentials),
                [
                    {"charger_id": f"C{i:06d}", "secret_hash": "x" * 100, "updated_at": now}
                    for i in range(args.chargers)
                ],
            )
        tail = LogTail(engine, CHARGER_RECORD_CHANGES)
        tail.start()
        credentials = per_call_ms(OcppQueries(engine, engine).secrets_fingerprint, 200, args.rounds)
        quiet = per_call_ms(tail.read, 200, args.rounds)
        written = args.events

        def busy_round() -> None:
            nonlocal written
            with engine.begin() as conn:  # not measured: the writer's work
                conn.execute(insert(events), rows(written, args.written, now))
            written += args.written
            start = cpu_s()
            tail.read()
            spent.append(cpu_s() - start)

        medians = []
        for _ in range(args.rounds):
            spent: list[float] = []
            for _ in range(5):
                busy_round()
            medians.append(sum(spent) / len(spent) * 1e3)
        medians.sort()
        busy = medians[len(medians) // 2]
        print(f"{url.split(':')[0]}, a log of {args.events} events, CPU per round:")
        print(f"  baseline, the credentials watch's round ({args.chargers}): {credentials:.3f} ms")
        print(f"  registry round, nothing written: {quiet:.3f} ms = {quiet / credentials:.2f}x")
        print(
            f"  registry round, {args.written} other events written since: "
            f"{busy:.3f} ms = {busy / credentials:.2f}x"
        )
    finally:
        for table in (events, charger_credentials):
            table.drop(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
