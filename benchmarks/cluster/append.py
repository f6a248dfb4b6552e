"""The log's batch append on PostgreSQL, two ways, alternating batch by batch on one
table: store.py's `append_all` (an INSERT … SELECT of one JSON document of the rows, the
payloads apart), against the ids already logged looked up and the rest written with COPY
in its text format, built here (tried: the server's CPU an event fell by 1.2–1.5 µs, the
writer's rose by as much, docs/scale.md; not adopted).

    python -m benchmarks.cluster.append                    # 40 batches of 500 mixed events
    python -m benchmarks.cluster.append --batches 60 --rounds 3

The events are `benchmarks.cluster.writer --mixed`'s (meter values with the power offered,
status reports). Per batch: the backend's CPU (/proc/PID/schedstat, nanoseconds) and the
writer's (process time, the garbage collector held off), each batch committed, so the log
grows alike under both.
PostgreSQL from --postgres (a database is made and dropped).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Sequence

import msgspec

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.budget import schedstat_s
from benchmarks.cluster.harness import register_fleet
from benchmarks.cluster.writer import mixed
from chargenet.adapters import codec
from chargenet.adapters.storage.raw import Raw
from chargenet.adapters.storage.store import SqlEventStore
from chargenet.core.events import Event

_HELD = (
    "SELECT event_id FROM events"
    " WHERE event_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s ::jsonb)))"
)
_COPY = (
    "COPY events (event_id, type, adapter, operator_id, version, occurred_at, received_at,"
    " payload) FROM STDIN"
)
_NULL, _BS, _BS2 = "\\N", "\\", "\\\\"


def _copy_text(events: Sequence[Event]) -> str:
    """The rows as COPY text (`_COPY`'s columns; these events' ids, types and adapters
    hold nothing to escape). psycopg's `write_row`, which dumps each value on its own,
    cost the writer 5.1 µs an event."""
    times = (
        msgspec.json.encode([t for e in events for t in (e.occurred_at, e.received_at)])
        .decode()[2:-2]
        .split('","')
    )
    encode = codec.encode
    lines = [
        # A payload is JSON text, which holds no raw control character: only its
        # backslashes to escape.
        f"{e.event_id}\t{e.TYPE}\t{e.source.adapter}"
        f"\t{_NULL if e.source.operator_id is None else e.source.operator_id}"
        f"\t{e.VERSION}\t{occurred}\t{received}\t{encode(e).decode().replace(_BS, _BS2)}"
        for e, occurred, received in zip(events, times[0::2], times[1::2], strict=True)
    ]
    lines.append("")
    return "\n".join(lines)


def _copy(raw: Raw, batch: Sequence[Event]) -> None:
    cursor = raw._cursor
    ids = msgspec.json.encode([e.event_id for e in batch]).decode()
    cursor.execute(_HELD, {"ids": ids})
    held = {row[0] for row in cursor.fetchall()}
    new = [e for e in batch if e.event_id not in held]
    with cursor.copy(_COPY) as copy:
        copy.write(_copy_text(new))


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
        ways = ("INSERT … SELECT", "COPY")
        rounds: dict[str, list[tuple[float, float]]] = {w: [] for w in ways}
        try:
            for _ in range(args.rounds):
                n = 2 * args.batches * args.batch
                events = mixed(ids, n)
                batches = [events[i : i + args.batch] for i in range(0, n, args.batch)]
                spent = {w: [0.0, 0.0, 0] for w in ways}
                gc.collect()
                gc.disable()  # a collection landing in one way's batch is not its cost
                for k, batch in enumerate(batches):
                    way = ways[k % 2]
                    with store.unit_of_work() as uow:
                        raw = uow._ctx.raw
                        pid = raw.one("SELECT pg_backend_pid()")[0]
                        began, own = schedstat_s(pid), time.process_time()
                        if way == "COPY":
                            _copy(raw, batch)
                        else:
                            uow.append_all(batch)
                        spent[way][0] += schedstat_s(pid) - began
                        spent[way][1] += time.process_time() - own
                        spent[way][2] += len(batch)
                        uow.commit()
                gc.enable()
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
        servers = [r[0] for r in rounds[way]]
        writers = [r[1] for r in rounds[way]]
        print(
            f"  {way:16} server {statistics.median(servers):5.2f} µs an event "
            f"({', '.join(f'{x:.2f}' for x in servers)}); writer "
            f"{statistics.median(writers):5.2f} ({', '.join(f'{x:.2f}' for x in writers)})"
        )


if __name__ == "__main__":
    main()
