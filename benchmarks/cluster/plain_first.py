"""The writer's batch path with its inserts plain first (`Raw.insert_new`, as built) against
the careful statements alone (the look-up of logged ids, ON CONFLICT: the previous
code's statements), alternating batch by batch in one process and one database.

    python -m benchmarks.cluster.plain_first                # the budget's OCPP mix
    python -m benchmarks.cluster.plain_first --mixed        # writer --mixed's events

Per way: the server's CPU an event (the platform's backends, /proc/PID/schedstat) and the
writer's (process time, the garbage collector held off). Which way goes first in a pair
alternates by round: the first batch of a pair was seen to pay more.
PostgreSQL from --postgres (a database is made and dropped).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.budget import backends, schedstat_s
from benchmarks.cluster.harness import register_fleet
from benchmarks.cluster.writer import mixed
from benchmarks.cluster.writer_round import budget_like
from chargenet.adapters.storage.raw import Raw
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings

Insert = Callable[[Raw, str, str, dict[str, Any]], list[Any] | None]


def _careful_only(raw: Raw, plain: str, careful: str, params: dict[str, Any]) -> list[Any]:
    return raw._careful(careful, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=30, help="per way and round")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--mixed", action="store_true", help="writer --mixed's events")
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    args = parser.parse_args()
    built: Insert = Raw.insert_new
    ways: dict[str, Insert] = {"careful only (before)": _careful_only, "plain first": built}
    server: dict[str, list[float]] = {w: [] for w in ways}
    writer: dict[str, list[float]] = {w: [] for w in ways}
    loads = [os.getloadavg()[0]]
    with database(args.postgres) as url:
        ids = register_fleet(url, args.chargers, "P")
        platform = bootstrap(Settings(database_url=url, allow_unsafe_durability=True))
        try:
            count = args.batch * (1 + 2 * args.batches * args.rounds)
            if args.mixed:
                events = mixed(ids, count)
            else:  # whole rounds of the chargers, enough for every batch
                rounds = -(-count // len(ids))
                events = budget_like(ids, rounds * len(ids), datetime(2026, 1, 1, tzinfo=UTC))
            batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
            platform.ingestor.ingest(batches.pop(0))  # warm: connections, statements
            served = backends(url)
            for r in range(args.rounds):
                order = list(ways) if r % 2 == 0 else list(reversed(ways))
                spent = {w: [0.0, 0.0, 0] for w in ways}
                gc.collect()
                gc.disable()
                for k in range(2 * args.batches):
                    way = order[k % 2]
                    Raw.insert_new = ways[way]  # type: ignore[method-assign,assignment]
                    batch = batches.pop(0)
                    began, own = sum(map(schedstat_s, served)), time.process_time()
                    platform.ingestor.ingest(batch)
                    spent[way][0] += sum(map(schedstat_s, served)) - began
                    spent[way][1] += time.process_time() - own
                    spent[way][2] += len(batch)
                gc.enable()
                for way, (s, w, n) in spent.items():
                    server[way].append(s / n * 1e6)
                    writer[way].append(w / n * 1e6)
                loads.append(os.getloadavg()[0])
        finally:
            Raw.insert_new = built  # type: ignore[method-assign,assignment]
            platform.close()
    print(
        f"the writer's batch path: {args.rounds} rounds of {args.batches} batches of "
        f"{args.batch} a way, alternating, "
        f"{'writer --mixed events' if args.mixed else 'meter values, every tenth a status'}; "
        f"load average {min(loads):.1f}–{max(loads):.1f}"
    )
    for way in ways:
        print(
            f"  {way:22} server {statistics.median(server[way]):5.2f} µs an event "
            f"({', '.join(f'{x:.2f}' for x in server[way])}); writer "
            f"{statistics.median(writer[way]):5.2f} ({', '.join(f'{x:.2f}' for x in writer[way])})"
        )


if __name__ == "__main__":
    main()
