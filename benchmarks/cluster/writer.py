"""A writer's store call on PostgreSQL: a batch in one go (its log rows in one statement,
its meter samples applied in one run: projections/live_batch.py) against the same batches
one event at a time, each in its savepoint (the path a batch with anything refused still
takes), in the same process on the same database, batches alternating.

    python -m benchmarks.cluster.writer                     # 100 chargers, 6,000 meter values
    python -m benchmarks.cluster.writer --events 20000 --batch 500
    python -m benchmarks.cluster.writer --mixed             # status reports and limits too

Meter values (energy and power) of registered chargers, as the cluster benchmark's
chargers send and as an intake makes them (the charger's own connection their source, so
the store checks the charger holds the connector); with --mixed, every meter value also
carries the power offered (a power limit history row) and half the events are status
reports (a status history row each, the live row's status columns). events/s is events
over the time of the `ingest` calls alone (no NATS), CPU the writer process's own and,
apart, that of the PostgreSQL backends serving the run's database (/proc, 10 ms ticks:
summed over a path's batches), both less swayed by the machine's load than the wall clock.
PostgreSQL from --postgres (a database is made and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.budget import backends, cpu_s
from benchmarks.cluster.harness import register_fleet
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import ConnectorStatusChanged, Event, MeterSampled, Source, event_meta
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus


def meter_values(ids: list[str], count: int) -> list[Event]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        MeterSampled(
            **event_meta(
                uuid.uuid4().hex,
                Source(adapter="ocpp", charger_id=ChargerId(c)),  # as the intake says it
                t0 + timedelta(minutes=n),
            ),
            connector_id=ConnectorId(f"{c}-1-1"),
            energy_register_wh=1_000 + 100 * n,
            power_w=7_000 + n % 50,
        )
        for n in range(count // len(ids))
        for c in ids
    ]


def mixed(ids: list[str], count: int) -> list[Event]:
    """Per charger a meter value with the power offered, then a status report half a minute
    later, alternately charging and occupied (each one a change)."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    out: list[Event] = []
    for n in range(count // len(ids) // 2):
        for c in ids:
            source = Source(adapter="ocpp", charger_id=ChargerId(c))
            at = t0 + timedelta(minutes=n)
            out.append(
                MeterSampled(
                    **event_meta(uuid.uuid4().hex, source, at),
                    connector_id=ConnectorId(f"{c}-1-1"),
                    energy_register_wh=1_000 + 100 * n,
                    power_w=7_000 + n % 50,
                    power_offered_w=11_000 + n % 2 * 1_000,
                )
            )
            out.append(
                ConnectorStatusChanged(
                    **event_meta(uuid.uuid4().hex, source, at + timedelta(seconds=30)),
                    connector_id=ConnectorId(f"{c}-1-1"),
                    status=ConnectorStatus.OCCUPIED if n % 2 else ConnectorStatus.CHARGING,
                    error_code="NoError",
                    info="SuspendedEV" if n % 2 else None,
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--events", type=int, default=6_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    parser.add_argument(
        "--mixed", action="store_true", help="status reports and power limits as well"
    )
    args = parser.parse_args()
    loads = os.getloadavg()
    timed: dict[str, list[float]] = {"batch": [], "one at a time": []}
    cpu: dict[str, list[float]] = {"batch": [], "one at a time": []}
    pg_cpu: dict[str, float] = {"batch": 0.0, "one at a time": 0.0}
    counted: dict[str, int] = {"batch": 0, "one at a time": 0}
    with database(args.postgres) as url:
        ids = register_fleet(url, args.chargers, "W")
        platform = bootstrap(Settings(database_url=url, allow_unsafe_durability=True))
        try:
            events = (mixed if args.mixed else meter_values)(ids, args.events)
            batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
            platform.ingestor.ingest(batches.pop(0))  # warm: connections, statements
            served = backends(url)
            for k, batch in enumerate(batches):
                pg_before = sum(cpu_s(pid) for pid in served)
                started, used = time.perf_counter(), time.process_time()
                if k % 2:  # a progress callback keeps the ingestor one event at a time
                    platform.ingestor.ingest(batch, progress=lambda _: None)
                    path = "one at a time"
                else:
                    platform.ingestor.ingest(batch)
                    path = "batch"
                timed[path].append(len(batch) / (time.perf_counter() - started))
                cpu[path].append((time.process_time() - used) / len(batch) * 1e6)
                pg_cpu[path] += sum(cpu_s(pid) for pid in served) - pg_before
                counted[path] += len(batch)
        finally:
            platform.close()
    print(
        f"writer store call: {len(events):,} "
        f"{'meter values and status reports' if args.mixed else 'meter values'} of "
        f"{args.chargers} chargers in "
        f"batches of {args.batch}, alternating; PostgreSQL, load average {loads[0]:.1f} at "
        f"the start, {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)"
    )
    for name, rates in timed.items():
        print(
            f"  {name:14} median {statistics.median(rates):,.0f} events/s, "
            f"{statistics.median(cpu[name]):,.0f} µs of the writer's CPU an event, "
            f"{pg_cpu[name] / max(counted[name], 1) * 1e6:,.0f} µs of PostgreSQL's "
            f"({len(rates)} batches)"
        )
    ratio = statistics.median(timed["batch"]) / statistics.median(timed["one at a time"])
    print(f"  batch: {ratio:.2f}× one at a time")


if __name__ == "__main__":
    main()
