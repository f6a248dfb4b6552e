"""The log's batch append on PostgreSQL, two ways, alternating batch by batch on one
table: the ids already logged looked up and the rest written with COPY (store.py's
`append_all`), against the INSERT … SELECT of one JSON document of the rows with the
payloads apart (what it was before).

    python -m benchmarks.cluster.append                    # 40 batches of 500 mixed events
    python -m benchmarks.cluster.append --batches 60 --rounds 3

The events are `benchmarks.cluster.writer --mixed`'s (meter values with the power offered,
status reports). Per batch: the backend's CPU (/proc/PID/schedstat, nanoseconds) and the
writer's (process time), each batch committed, so the log grows alike under both.
PostgreSQL from --postgres (a database is made and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import msgspec

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.harness import register_fleet
from benchmarks.cluster.writer import mixed
from chargenet.adapters import codec
from chargenet.adapters.storage.store import SqlEventStore, _row
from chargenet.core.events import Event

# The statement before (store.py, until COPY): the rows as one JSON document, the
# payloads as one text split at a record separator.
_INSERT = (
    "WITH b AS MATERIALIZED (SELECT r, p, n FROM ROWS FROM (jsonb_array_elements(:rows ::jsonb),"
    " string_to_table(:payloads, chr(30))) WITH ORDINALITY AS b(r, p, n)),"
    " held AS (SELECT event_id FROM events WHERE event_id = ANY(ARRAY(SELECT r->>0 FROM b)))"
    " INSERT INTO events (event_id, type, version, adapter, operator_id, occurred_at,"
    " received_at, payload) SELECT r->>0, r->>1, (r->>2)::smallint, r->>3, r->>4,"
    " (r->>5)::timestamptz, (r->>6)::timestamptz, p"
    " FROM b WHERE r->>0 NOT IN (SELECT event_id FROM held) ORDER BY n RETURNING event_id"
)


def _schedstat_s(pid: int) -> float:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=40, help="per way and round")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    with database(args.postgres) as url:
        ids = register_fleet(url, 100, "A")
        store = SqlEventStore(url, allow_unsafe_durability=True)
        ways = ("COPY", "INSERT … SELECT")
        rounds: dict[str, list[tuple[float, float]]] = {w: [] for w in ways}
        try:
            for _ in range(args.rounds):
                n = 2 * args.batches * args.batch
                events = mixed(ids, n)
                batches = [events[i : i + args.batch] for i in range(0, n, args.batch)]
                spent = {w: [0.0, 0.0, 0] for w in ways}
                for k, batch in enumerate(batches):
                    way = ways[k % 2]
                    with store.unit_of_work() as uow:
                        raw = uow._ctx.raw
                        pid = raw.one("SELECT pg_backend_pid()")[0]
                        server, own = _schedstat_s(pid), time.process_time()
                        if way == "COPY":
                            uow.append_all(batch)
                        else:
                            _insert(raw, batch)
                        spent[way][0] += _schedstat_s(pid) - server
                        spent[way][1] += time.process_time() - own
                        spent[way][2] += len(batch)
                        uow.commit()
                for way in ways:
                    s, w, count = spent[way]
                    rounds[way].append((s / count * 1e6, w / count * 1e6))
                loads.append(os.getloadavg()[0])
        finally:
            store.dispose()
    print(
        f"the log's batch append: {args.rounds} rounds of {args.batches} batches of "
        f"{args.batch} a way, alternating; load average {min(loads):.1f}–{max(loads):.1f}"
    )
    for way in ways:
        server = [r[0] for r in rounds[way]]
        writer = [r[1] for r in rounds[way]]
        print(
            f"  {way:16} server {statistics.median(server):5.2f} µs an event "
            f"({', '.join(f'{x:.2f}' for x in server)}); writer "
            f"{statistics.median(writer):5.2f} ({', '.join(f'{x:.2f}' for x in writer)})"
        )


def _insert(raw: object, batch: list[Event]) -> None:
    raw.all(  # type: ignore[attr-defined]
        _INSERT,
        {
            "rows": msgspec.json.encode(list(map(_row, batch))).decode(),
            "payloads": "\x1e".join(codec.encode(e).decode() for e in batch),
        },
    )


if __name__ == "__main__":
    main()
