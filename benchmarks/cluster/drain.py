"""A writer draining a backlog: a stream filled beforehand with meter values (published as
an intake does, several events a stream message), then a `JetStreamWriter` a lane (each
its own round loop) storing it all into PostgreSQL, as `chargenet serve --role writer`
does (its relay of what it stored included). No intake or charger runs meanwhile, so the
figures are the writer's own: events/s from its first round to its last, the share of
that time spent outside the store call (taking, decoding, acknowledging: what a round
taken while another is stored hides; with lanes, their mean), and CPU an event of the
writer process (its store threads included) and of the PostgreSQL backends serving the
run's database.

    python -m benchmarks.cluster.drain                    # 30,000 meter values, 200 chargers
    python -m benchmarks.cluster.drain --lanes 1          # one round loop (2 by default)
    PYTHONPATH=<other tree>/src python -m benchmarks.cluster.drain   # another tree's writer

NATS from --nats, PostgreSQL from --postgres (a database and a stream are made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.budget import backends, cpu_s
from benchmarks.cluster.harness import register_fleet
from benchmarks.cluster.writer import meter_values
from chargenet.adapters.bus.jetstream import (
    BUCKETS,
    JetStreamIntake,
    JetStreamWriter,
    Layout,
    ensure_stream,
    relay_stored,
)
from chargenet.app.ingest import Outcome
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event
from chargenet.entrypoints.cluster import writer_lanes


async def drain(args: argparse.Namespace, url: str, ids: list[str]) -> dict[str, float]:
    import nats

    nc = await nats.connect(args.nats)
    js = nc.jetstream()
    name = f"DRAIN_{uuid.uuid4().hex[:8].upper()}"
    prefix = f"drain.{name.lower()}"
    await ensure_stream(js, name, prefix)
    platform = bootstrap(Settings(database_url=url, allow_unsafe_durability=True))
    try:
        events = meter_values(ids, args.events)
        intake = JetStreamIntake(js, prefix)
        # As chargers' messages reach an intake: a few at a time, each charger's in order.
        step = len(ids) // 2
        await asyncio.gather(
            *(intake.publish(events[i : i + step]) for i in range(0, len(events), step))
        )
        platform.bus.listen(relay_stored(nc, f"{prefix}.stored"))
        in_store = 0.0

        def store(batch: list[Event]) -> list[Outcome]:
            nonlocal in_store
            began = time.perf_counter()
            try:
                return platform.ingestor.ingest(batch)
            finally:
                in_store += time.perf_counter() - began

        layout = Layout()
        writers = [
            JetStreamWriter(js, store, "drain", prefix, 500, stream=name, buckets=lane)
            for lane in writer_lanes(layout, range(BUCKETS), args.lanes)
        ]
        await asyncio.gather(*(w.subscribe() for w in writers))
        served = backends(url)
        pg_before = sum(cpu_s(pid) for pid in served)
        started, used = time.perf_counter(), time.process_time()
        last = started
        done = asyncio.Event()

        async def lane(writer: JetStreamWriter) -> None:
            nonlocal last
            while not done.is_set():
                if await writer.run_once(timeout_s=1.0):
                    last = time.perf_counter()
                    if sum(w.events for w in writers) >= len(events):
                        done.set()

        # Each lane a round loop of its own, as in `chargenet serve --role writer`.
        tasks = [asyncio.ensure_future(lane(w)) for w in writers]
        await done.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu = time.process_time() - used
        pg = sum(cpu_s(pid) for pid in backends(url) | served) - pg_before
        for w in writers:
            await w.close()
        stored = sum(w.events for w in writers)
        return {
            "events": stored,
            "rounds": sum(w.rounds for w in writers),
            "per_s": stored / (last - started),
            "outside": 1 - in_store / len(writers) / (last - started),
            "writer_us": cpu / stored * 1e6,
            "pg_us": pg / stored * 1e6,
        }
    finally:
        platform.close()
        await js.delete_stream(name)
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument(
        "--lanes", type=int, default=Settings().writer_lanes, help="round loops (writer_lanes)"
    )
    args = parser.parse_args()
    loads = os.getloadavg()
    with database(args.postgres) as url:
        ids = register_fleet(url, args.chargers, "D")
        got = asyncio.run(drain(args, url, ids))
    print(
        f"writer drain: {got['events']:,.0f} meter values of {args.chargers} chargers in "
        f"{got['rounds']:,.0f} rounds of {args.lanes} lane(s): {got['per_s']:,.0f} events/s "
        f"({got['outside']:.0%} of the time outside the store call), "
        f"{got['writer_us']:.0f} µs of the writer's CPU an event, {got['pg_us']:.0f} µs of "
        f"PostgreSQL's; load average {loads[0]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
