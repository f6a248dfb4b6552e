"""OCPP ingest: chargenet's gateway against a baseline central system, in one process.

    python -m benchmarks.ocpp_ingest                     # quick: 200 chargers
    python -m benchmarks.ocpp_ingest --chargers 1000 --messages 100 --idle 10000 --storm 10000

K chargers (a child process, over loopback) each send BootNotification, then M messages
one at a time (MeterValues with energy, power and SoC; every tenth a StatusNotification),
each awaiting its answer — which chargenet sends only once the events are durable.
Printed: messages/s end to end into the store, p50/p99 from send to stored (= to the
answer), memory per open idle connection (server RSS), and a reconnect storm (S chargers
connect, boot and report at once: time to absorb, p99 acknowledgement) — for chargenet and
for the baseline (`baseline.py`: the ocpp library's ChargePoint per connection, a commit
per message), with the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import resource
import sqlite3
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.ocpp_ingest.baseline import open_db, serve_baseline
from benchmarks.ocpp_ingest.loadgen import child
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.demo.ocpp_fleet import SimCharger
from chargenet.demo.ocpp_world import fleet_events
from chargenet.kit.secrets import hash_secret

PASSWORD = "benchmark-password-0000000001"


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def register(platform: Platform, count: int) -> list[str]:
    specs = [SimCharger(f"B{i:06d}", "ocpp1.6", (22_000,), PASSWORD) for i in range(count)]
    events = fleet_events(
        specs,
        station_id="BENCH-S1",
        operator_id="BENCH-OP",
        operator_name="bench",
        name="bench",
        lat=38.4,
        lon=112.7,
        area_code=None,
        now=platform.clock.now(),
        seed=1,
    )
    for start in range(0, len(events), 2000):
        platform.ingestor.ingest(events[start : start + 2000])
    assert platform.ocpp_queries is not None
    secret = hash_secret(PASSWORD)  # one hash for all: registering is not what we measure
    for spec in specs:
        platform.ocpp_queries.set_secret(spec.charger_id, secret, platform.clock.now())
    return [s.charger_id for s in specs]


class Child:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=child, args=(theirs,), daemon=True)
        self.process.start()

    async def ask(self, *request: Any) -> Any:
        self.conn.send(request)
        return await asyncio.to_thread(self.conn.recv)

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(10)


async def measure(
    kind: str, url: str, ids: list[str], args: argparse.Namespace, gen: Child, stored: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": kind}
    load_ids = ids[: args.chargers]
    before = stored()
    result = await gen.ask("load", url, load_ids, PASSWORD, args.messages)
    messages = len(result["latencies"])
    out["messages"] = messages
    out["stored"] = stored() - before
    out["msgs_per_s"] = messages / result["elapsed"]
    out["p50_ms"] = pct(result["latencies"], 0.50) * 1000
    out["p99_ms"] = pct(result["latencies"], 0.99) * 1000
    # memory per idle connection: the Python heap the server holds for it (tracemalloc
    # sees every object of both servers alike; RSS would not shrink between the two runs)
    idle_ids = ids[: args.idle]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    rss_before = rss_kb()
    gen.conn.send(("idle", url, idle_ids, PASSWORD, 0))
    opened = (await asyncio.to_thread(gen.conn.recv))["open"]
    await asyncio.sleep(1)
    gc.collect()
    out["kb_per_idle"] = (tracemalloc.get_traced_memory()[0] - base) / 1024 / max(opened, 1)
    out["rss_kb_per_idle"] = (rss_kb() - rss_before) / max(opened, 1)
    tracemalloc.stop()
    out["idle_open"] = opened
    gen.conn.send("release")
    await asyncio.to_thread(gen.conn.recv)
    await asyncio.sleep(1)
    # reconnect storm
    storm = await gen.ask("storm", url, ids[: args.storm], PASSWORD, args.storm_seconds)
    out["storm_n"] = len(storm["done"])
    out["storm_s"] = storm["elapsed"]
    out["storm_p99_ack_ms"] = pct(storm["acks"], 0.99) * 1000
    out["storm_failures"] = storm["failures"]
    return out


async def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    need = max(args.chargers, args.idle, args.storm)
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'chargenet.db'}",
        sqlite_synchronous=args.synchronous,
        ingest_writer=args.writer,
    )
    platform = bootstrap(settings)
    ids = register(platform, need)
    gen = Child()
    results = []
    try:
        await platform.start()
        assert platform.ocpp is not None
        platform.ocpp.config = type(platform.ocpp.config)(max_connections=need + 100)
        if args.gateway_only:
            # What the gateway alone can carry: events are built but not stored.
            async def discard(events: Any) -> None:
                return None

            platform.ocpp.submit = discard  # type: ignore[method-assign]
        async with platform.ocpp.running("127.0.0.1", 0) as gateway:
            url = f"ws://127.0.0.1:{gateway.port}/ocpp"
            results.append(
                await measure("chargenet", url, ids, args, gen, lambda: platform.pipeline.events)
            )
            results[-1]["refused_503"] = gateway.stats.refused_handshakes.get(503, 0)
        await platform.stop()
        platform.close()
        db = open_db(str(workdir / "baseline.db"), args.synchronous)

        def count() -> int:
            return int(
                sqlite3.connect(str(workdir / "baseline.db"))
                .execute(
                    "SELECT (SELECT count(*) FROM messages)"
                    " + (SELECT count(*) FROM connector_status)"
                )
                .fetchone()[0]
            )

        server = await serve_baseline(db)
        port = server.sockets[0].getsockname()[1]
        results.append(
            await measure("baseline", f"ws://127.0.0.1:{port}/ocpp", ids, args, gen, count)
        )
        server.close()
        await server.wait_closed()
    finally:
        gen.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=200, help="chargers sending messages")
    parser.add_argument(
        "--writer",
        choices=["thread", "process"],
        default="thread",
        help="where the store writes: a thread (default) or a process of its own",
    )
    parser.add_argument("--messages", type=int, default=50, help="messages per charger")
    parser.add_argument("--idle", type=int, default=2000, help="idle connections held")
    parser.add_argument("--storm", type=int, default=2000, help="chargers reconnecting at once")
    parser.add_argument(
        "--gateway-only",
        action="store_true",
        help="chargenet without the store (events built, not stored): the gateway's own cost",
    )
    parser.add_argument(
        "--storm-seconds",
        type=float,
        default=0.0,
        help="spread the storm's reconnects over this many seconds (0: all at once)",
    )
    parser.add_argument(
        "--synchronous", default="FULL", help="SQLite synchronous (both sides; FULL is the default)"
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ours, theirs = asyncio.run(run(args, Path(tmp)))
    rows = [
        ("messages answered", "messages", "{:,.0f}"),
        ("rows/events stored", "stored", "{:,.0f}"),
        ("messages/s end to end", "msgs_per_s", "{:,.0f}"),
        ("p50 send→stored (ms)", "p50_ms", "{:.1f}"),
        ("p99 send→stored (ms)", "p99_ms", "{:.1f}"),
        ("idle connection: Python heap (KB)", "kb_per_idle", "{:.1f}"),
        ("idle connection: RSS growth (KB)", "rss_kb_per_idle", "{:.1f}"),
        ("storm: chargers absorbed", "storm_n", "{:,.0f}"),
        ("storm: seconds to absorb", "storm_s", "{:.1f}"),
        ("storm: p99 acknowledgement (ms)", "storm_p99_ack_ms", "{:.0f}"),
        ("storm: failures", "storm_failures", "{:,.0f}"),
    ]
    print(
        f"OCPP ingest: {args.chargers} chargers × {args.messages} messages, {args.idle} idle, "
        f"storm of {args.storm} over {args.storm_seconds:g} s, "
        f"SQLite synchronous={args.synchronous}"
        + (" — chargenet WITHOUT its store (--gateway-only)" if args.gateway_only else "")
    )
    print(f"{'':34}{'chargenet':>14}{'baseline':>14}{'ratio':>10}")
    for label, key, fmt in rows:
        a, b = ours[key], theirs[key]
        ratio = ""
        if key == "msgs_per_s" and b:
            ratio = f"{a / b:.1f}×"
        elif key in ("p50_ms", "p99_ms", "kb_per_idle", "storm_s", "storm_p99_ack_ms") and a:
            ratio = f"{b / a:.1f}× less"
        print(f"{label:34}{fmt.format(a):>14}{fmt.format(b):>14}{ratio:>10}")
    print(
        f"chargenet refused {ours.get('refused_503', 0)} handshakes with 503 during the run "
        f"(admission control; the chargers retried)"
    )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
