"""The WAL PostgreSQL writes per stored event, by relation: the writer's batched store call
(`benchmarks.cluster.writer --mixed`'s events, batch path only), read back from the WAL
with `pg_walinspect` (records, bytes and full-page images of the run's database).

    python -m benchmarks.cluster.wal                        # 20,000 events, a fresh log
    python -m benchmarks.cluster.wal --prefill 300000       # a log of 300,000 events before

The server's WAL is shared: only records naming the run's database's relations (and
those naming none, commits) are counted, and a temporary replication slot keeps the
run's WAL from being recycled by a checkpoint meanwhile. A checkpoint during the run
(another's, or a timed one) makes the next change to each page a full-page image: they
are printed apart. Needs a superuser (the extension, the slot) and PostgreSQL 15+.
"""

from __future__ import annotations

import argparse
import os

import psycopg

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.harness import register_fleet
from benchmarks.cluster.writer import mixed
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings

_BY_RELATION = """
WITH r AS (
  SELECT resource_manager AS rm, record_length AS len, fpi_length AS fpi,
         regexp_match(block_ref, 'rel \\d+/(\\d+)/(\\d+)') AS rel
  FROM pg_get_wal_records_info(%s, %s)
)
SELECT coalesce(c.relname, r.rm), count(*), sum(len), sum(fpi)
FROM r LEFT JOIN pg_class c ON c.relfilenode::text = r.rel[2]
WHERE r.rel IS NULL OR r.rel[1] = %s::text
GROUP BY 1 ORDER BY 3 DESC
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--prefill", type=int, default=0, help="log rows written before")
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    args = parser.parse_args()
    with database(args.postgres) as url:
        ids = register_fleet(url, args.chargers, "W")
        platform = bootstrap(Settings(database_url=url, allow_unsafe_durability=True))
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        try:
            events = mixed(ids, args.events)
            batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
            platform.ingestor.ingest(batches.pop(0))  # warm: the live rows, the partitions
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
                if args.prefill:
                    conn.execute(
                        "INSERT INTO events (event_id, type, version, adapter, occurred_at,"
                        " received_at, payload) SELECT md5(i::text), 'Prefill', 1, 'bench',"
                        " now(), now(), '{}' FROM generate_series(1, %s) AS i",
                        (args.prefill,),
                    )
                conn.execute(
                    "SELECT pg_create_physical_replication_slot(%s, true, true)",
                    (f"wal_bench_{os.getpid()}",),
                )
                row = conn.execute(
                    "SELECT oid, pg_current_wal_lsn() FROM pg_database"
                    " WHERE datname = current_database()"
                ).fetchone()
                assert row is not None
                oid, start = row
                stored = 0
                for batch in batches:
                    platform.ingestor.ingest(batch)
                    stored += len(batch)
                end = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
                assert end is not None
                rows = conn.execute(_BY_RELATION, (start, end[0], oid)).fetchall()
        finally:
            platform.close()
    total, fpi = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(
        f"WAL of {stored:,} stored events (meter values and status reports, batches of "
        f"{args.batch}, {args.prefill:,} log rows before): {total / stored:,.0f} B an event, "
        f"{(total - fpi) / stored:,.0f} without full-page images, "
        f"{sum(r[1] for r in rows) / stored:.2f} records an event"
    )
    for name, records, size, images in rows:
        if size / stored >= 1:
            print(
                f"  {name:40} {size / stored:7,.1f} B an event ({images / stored:,.1f} in "
                f"full-page images), {records / stored:.2f} records"
            )


if __name__ == "__main__":
    main()
