"""Per-process figures the scale model (docs/scale.md) is built from, measured here.

- PostgreSQL writer: status/presence events per second through the real ingestor (one
  process, batches of 2,000, one transaction each), and the bytes each event leaves on
  disk — in the log (`events` and its indexes), in `status_history` (its monthly
  partition and key) and in the current-state tables — from `pg_total_relation_size`.
- JetStream: messages per second one process publishes with every acknowledgement
  awaited (the durability point of a clustered intake), pipelined in windows, file
  storage, and the bytes a message takes in the stream. Skipped when NATS or nats-py is
  absent.

Baselines in the same run: a commit per event through the same ingestor (PostgreSQL),
and one publish awaited at a time (JetStream).

With `--meter` the events are meter samples instead (every connector charging, a sample a
minute with its register, power, current, voltage and state of charge, as a DC charger
sends them) and the bytes are those of the log, of `meter_history` (a row a sample) and,
after rolling the samples up, of `meter_hourly` (a row a connector and hour).

    python -m benchmarks.scale.footprint                       # 20,000 events
    python -m benchmarks.scale.footprint --events 100000 --runs 3
    python -m benchmarks.scale.footprint --meter --events 100000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import text

from benchmarks.supervision.ingest_history import stream, world
from chargenet.adapters.storage import history
from chargenet.adapters.storage.rollup import roll_up_meter
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.core.events import Event, MeterSampled
from chargenet.core.ids import ConnectorId, SessionId
from tests.builders import T0, meta

PG_ADMIN = os.environ.get(
    "CHARGENET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NATS_URL = os.environ.get("CHARGENET_NATS_URL", "nats://127.0.0.1:4222")


@contextmanager
def fresh_database() -> Iterator[str]:
    import psycopg

    name = f"chargenet_bench_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sizes(platform: object) -> dict[str, int]:
    engine = platform.store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.relname, COALESCE(sum(pg_total_relation_size(c.oid)), 0) "
                "FROM pg_class p LEFT JOIN pg_inherits i ON i.inhparent = p.oid "
                "LEFT JOIN pg_class c ON c.oid = COALESCE(i.inhrelid, p.oid) "
                "WHERE p.relname IN ('events', 'status_history', 'presence_history', "
                "'connector_live', 'chargers', 'meter_history', 'meter_hourly') "
                "GROUP BY p.relname"
            )
        ).all()
    return {name: int(size) for name, size in rows}


def meter_stream(chargers: int, n: int, seed: int) -> list[Event]:
    """Every connector charging, a sample a minute each: register, power, current, voltage,
    state of charge, the session."""
    rng = random.Random(seed)
    connectors = [f"S{i // 10}C{i % 10}-{g}-1" for i in range(chargers) for g in (1, 2)]
    register = {c: rng.randrange(0, 10**7) for c in connectors}
    out: list[Event] = []
    minute = 0
    while len(out) < n:
        for c in connectors[: n - len(out)]:
            power = rng.randrange(20_000, 120_000)
            register[c] += power // 60
            out.append(
                MeterSampled(
                    **meta(T0 + timedelta(minutes=minute, seconds=rng.uniform(0, 59))),
                    connector_id=ConnectorId(c),
                    session_id=SessionId(f"T-{c}-{minute // 60}"),
                    energy_register_wh=register[c],
                    power_w=power,
                    current_a=round(power / 400, 1),
                    voltage_v=round(rng.uniform(380, 420), 1),
                    soc_percent=float(min(100, 20 + minute // 2)),
                )
            )
        minute += 1
    return out


def postgres(events: list[Event], chargers: int, per_event_commit: int) -> dict[str, float]:
    with fresh_database() as url:
        platform = bootstrap(Settings(database_url=url))
        try:
            platform.ingestor.ingest(world(chargers))
            first, last = events[0].occurred_at, events[-1].occurred_at
            with platform.store.engine.begin() as conn:  # the months written into
                history.ensure_months(conn, first, last)
            before = _sizes(platform)
            started = time.perf_counter()
            for i in range(0, len(events), 2000):
                platform.ingestor.ingest(events[i : i + 2000])
            batched = len(events) / (time.perf_counter() - started)
            hours = roll_up_meter(platform.store.engine, first, last + timedelta(hours=1))
            after = _sizes(platform)
            one = events[:per_event_commit]
            started = time.perf_counter()
            for e in one:
                platform.ingestor.ingest([e])
            single = len(one) / (time.perf_counter() - started)
        finally:
            platform.close()
    n = len(events)
    return {
        "events_per_s": batched,
        "commit_per_event_per_s": single,
        "log_bytes": (after.get("events", 0) - before.get("events", 0)) / n,
        "history_bytes": (
            after.get("status_history", 0)
            + after.get("presence_history", 0)
            - before.get("status_history", 0)
            - before.get("presence_history", 0)
        )
        / n,
        "meter_bytes": (after.get("meter_history", 0) - before.get("meter_history", 0)) / n,
        "hourly_bytes": (after.get("meter_hourly", 0) - before.get("meter_hourly", 0))
        / max(hours, 1),
    }


async def jetstream(n: int, size: int, window: int) -> dict[str, float] | None:
    try:
        import nats
    except ImportError:
        print("JetStream: skipped (nats-py is not installed)")
        return None
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:  # any failure to reach NATS means: skip
        print(f"JetStream: skipped (no NATS at {NATS_URL}: {exc})")
        return None
    js = nc.jetstream()
    stream_name = f"BENCH_{uuid.uuid4().hex[:8]}"
    subject = f"bench.{stream_name}"
    await js.add_stream(name=stream_name, subjects=[subject])
    payload = b"x" * size
    try:
        started = time.perf_counter()
        for i in range(0, n, window):
            acks = [
                js.publish(subject, payload, headers={"Nats-Msg-Id": f"{i + j}"})
                for j in range(min(window, n - i))
            ]
            await asyncio.gather(*acks)
        pipelined = n / (time.perf_counter() - started)
        one = min(n, 2000)
        started = time.perf_counter()
        for i in range(one):
            await js.publish(subject, payload, headers={"Nats-Msg-Id": f"s{i}"})
        serial = one / (time.perf_counter() - started)
        info = await js.stream_info(stream_name)
        per_message = info.state.bytes / max(info.state.messages, 1)
    finally:
        await js.delete_stream(stream_name)
        await nc.close()
    return {"per_s": pipelined, "serial_per_s": serial, "bytes": per_message}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--chargers", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=1, help="report the median of this many")
    parser.add_argument("--message-bytes", type=int, default=300, help="a status event, JSON")
    parser.add_argument("--window", type=int, default=500, help="publishes awaited together")
    parser.add_argument("--meter", action="store_true", help="meter samples, not statuses")
    args = parser.parse_args()
    if args.meter:
        events = meter_stream(args.chargers, args.events, seed=1)
    else:
        events = stream(args.chargers, args.events, seed=1)
    pg = [postgres(events, args.chargers, 500) for _ in range(args.runs)]

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    pg_runs = ", ".join(f"{r['events_per_s']:,.0f}" for r in pg)
    kind = "meter samples" if args.meter else "status/presence events"
    print(
        f"PostgreSQL, {args.events:,} {kind}, {args.chargers:,} chargers, load average "
        f"{os.getloadavg()[0]:.1f}:"
    )
    print(
        f"  writer: {med(pg, 'events_per_s'):,.0f} events/s in batches of 2,000 "
        f"(runs: {pg_runs}); commit per event "
        f"{med(pg, 'commit_per_event_per_s'):,.0f}/s; ratio "
        f"{med(pg, 'events_per_s') / med(pg, 'commit_per_event_per_s'):.1f}×"
    )
    if args.meter:
        print(
            f"  on disk per sample: log {med(pg, 'log_bytes'):,.0f} B, meter history "
            f"{med(pg, 'meter_bytes'):,.0f} B; per connector-hour rolled up "
            f"{med(pg, 'hourly_bytes'):,.0f} B"
        )
    else:
        print(
            f"  on disk per event: log {med(pg, 'log_bytes'):,.0f} B, status/presence history "
            f"{med(pg, 'history_bytes'):,.0f} B"
        )
    js = [asyncio.run(jetstream(args.events, args.message_bytes, args.window))]
    for _ in range(args.runs - 1):
        js.append(asyncio.run(jetstream(args.events, args.message_bytes, args.window)))
    got = [r for r in js if r is not None]
    if got:
        js_runs = ", ".join(f"{r['per_s']:,.0f}" for r in got)
        print(
            f"JetStream, {args.events:,} messages of {args.message_bytes} B, file storage, "
            f"every ack awaited: {med(got, 'per_s'):,.0f} msg/s in windows of {args.window} "
            f"(runs: {js_runs}); one at a time "
            f"{med(got, 'serial_per_s'):,.0f}/s; ratio "
            f"{med(got, 'per_s') / med(got, 'serial_per_s'):.1f}×; "
            f"{med(got, 'bytes'):,.0f} B per message stored"
        )


if __name__ == "__main__":
    main()
