"""Memory kept after a mass disconnect: chargenet's gateway against the baseline central
system, in one process.

    python -m benchmarks.ocpp_ingest.retention                      # 2,000 connections
    python -m benchmarks.ocpp_ingest.retention --connections 10000
    python -m benchmarks.ocpp_ingest.retention --only chargenet     # one server per process

For each server: a warm-up (50 chargers connect and go, so that what is made once per
process — schema decoders, worker threads, database connections — is made), then N
chargers (a child process, over loopback) connect and send BootNotification, all stay
connected, then all disconnect at once. Printed: the server process's RSS before, at the
peak and after the disconnect (once the server holds no connection and every task has
finished), what is kept per closed connection, the CPython small-object arenas kept, and
the Python objects still alive (`sys.getallocatedblocks`).

What is kept after the disconnect is mostly memory no longer used but not given back: a few
long-lived objects made while thousands of connections come and go pin the allocator's
arenas around them (one live object keeps its whole 1 MiB arena). The next connections
reuse it; `--rounds 2` shows the second round does not grow.

Both servers run in this process, chargenet first: the baseline then starts on memory
chargenet left, which flatters the baseline's figures (a conservative comparison);
`--only` gives each a process of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.ocpp_ingest.__main__ import PASSWORD, Child, register, rss_kb
from benchmarks.ocpp_ingest.baseline import open_db, serve_baseline
from chargenet.bootstrap import bootstrap
from chargenet.config import Settings

WARM_UP = 50


def arenas() -> int:
    """CPython's small-object arenas in use now (`sys._debugmallocstats`, on stderr)."""
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        for line in out.read().decode().splitlines():
            if line.startswith("# arenas allocated current"):
                return int(line.split("=")[1].replace(",", ""))
    return 0


async def settled(busy: Callable[[], bool], tasks: int) -> None:
    """Until the server holds no connection and no task beyond its own is left."""
    for _ in range(1200):
        if not busy() and len(asyncio.all_tasks()) <= tasks:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    gc.collect()


async def come_and_go(
    gen: Child, url: str, ids: list[str], busy: Callable[[], bool], tasks: int
) -> tuple[int, int]:
    """All `ids` connect and boot, stay, then leave at once: (connections, RSS at the peak)."""
    gen.conn.send(("idle", url, ids, PASSWORD, 0))
    opened: int = (await asyncio.to_thread(gen.conn.recv))["open"]
    await asyncio.sleep(1)
    peak = rss_kb()
    gen.conn.send("release")
    await asyncio.to_thread(gen.conn.recv)
    await settled(busy, tasks)
    return opened, peak


async def measure(
    name: str, url: str, ids: list[str], gen: Child, busy: Callable[[], bool], rounds: int
) -> dict[str, Any]:
    tasks = len(asyncio.all_tasks())
    await come_and_go(gen, url, ids[:WARM_UP], busy, tasks)
    out: dict[str, Any] = {
        "name": name,
        "rss_before": rss_kb(),
        "arenas_before": arenas(),
        "blocks_before": sys.getallocatedblocks(),
        "peaks": [],
        "afters": [],
    }
    for _ in range(rounds):
        out["opened"], peak = await come_and_go(gen, url, ids, busy, tasks)
        out["peaks"].append(peak)
        out["afters"].append(rss_kb())
    out["rss_peak"], out["rss_after"] = out["peaks"][0], out["afters"][0]
    out["arenas_after"] = arenas()
    out["blocks_after"] = sys.getallocatedblocks()
    grown = max(out["rss_peak"] - out["rss_before"], 1)
    out["kept_mb"] = (out["rss_after"] - out["rss_before"]) / 1024
    out["kept_kb_per_conn"] = (out["rss_after"] - out["rss_before"]) / max(out["opened"], 1)
    out["kept_share"] = 100 * (out["rss_after"] - out["rss_before"]) / grown
    out["arenas_kept"] = out["arenas_after"] - out["arenas_before"]
    out["blocks_kept"] = out["blocks_after"] - out["blocks_before"]
    return out


async def run_chargenet(ids_n: int, gen: Child, workdir: Path, rounds: int) -> dict[str, Any]:
    platform = bootstrap(
        Settings(database_url=f"sqlite:///{workdir / 'chargenet.db'}", sqlite_synchronous="OFF")
    )
    ids = register(platform, ids_n)
    await platform.start()
    assert platform.ocpp is not None
    platform.ocpp.config = type(platform.ocpp.config)(max_connections=ids_n + 100)
    try:
        async with platform.ocpp.running("127.0.0.1", 0) as gateway:
            url = f"ws://127.0.0.1:{gateway.port}/ocpp"
            return await measure("chargenet", url, ids, gen, lambda: bool(gateway.links), rounds)
    finally:
        await platform.stop()
        platform.close()


async def run_baseline(ids_n: int, gen: Child, workdir: Path, rounds: int) -> dict[str, Any]:
    db = open_db(str(workdir / "baseline.db"), "OFF")
    server = await serve_baseline(db)
    port = server.sockets[0].getsockname()[1]
    ids = [f"B{i:06d}" for i in range(ids_n)]

    def busy() -> bool:
        return bool(getattr(server, "connections", ()))

    try:
        return await measure("baseline", f"ws://127.0.0.1:{port}/ocpp", ids, gen, busy, rounds)
    finally:
        server.close()
        await server.wait_closed()
        db.close()


async def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    gen = Child()
    results = []
    try:
        if args.only in (None, "chargenet"):
            results.append(await run_chargenet(args.connections, gen, workdir, args.rounds))
        if args.only in (None, "baseline"):
            results.append(await run_baseline(args.connections, gen, workdir, args.rounds))
    finally:
        gen.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=2000, help="chargers that come and go")
    parser.add_argument("--rounds", type=int, default=1, help="times they come and go")
    parser.add_argument("--only", choices=["chargenet", "baseline"], help="one server only")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    rows: list[tuple[str, Callable[[dict[str, Any]], float], str]] = [
        ("RSS before (MB)", lambda r: r["rss_before"] / 1024, "{:.1f}"),
        ("RSS with all connected (MB)", lambda r: r["rss_peak"] / 1024, "{:.1f}"),
        ("RSS after all left (MB)", lambda r: r["rss_after"] / 1024, "{:.1f}"),
        ("kept after the disconnect (MB)", lambda r: r["kept_mb"], "{:.1f}"),
        ("kept per closed connection (KB)", lambda r: r["kept_kb_per_conn"], "{:.1f}"),
        ("kept, share of the growth (%)", lambda r: r["kept_share"], "{:.0f}"),
        ("small-object arenas kept (1 MiB)", lambda r: r["arenas_kept"], "{:,.0f}"),
        ("Python objects kept", lambda r: r["blocks_kept"], "{:,.0f}"),
    ]
    print(
        f"OCPP memory after a mass disconnect: {args.connections:,} connections,"
        f" {args.rounds} round(s), warm-up {WARM_UP}"
    )
    header = "".join(f"{r['name']:>14}" for r in results)
    print(f"{'':34}{header}" + (f"{'chargenet/baseline':>20}" if len(results) == 2 else ""))
    for label, get, fmt in rows:
        values = [get(r) for r in results]
        ratio = ""
        if len(values) == 2 and label.startswith("kept") and values[1]:
            ratio = f"{values[0] / values[1]:.2f}"
        print(f"{label:34}" + "".join(f"{fmt.format(v):>14}" for v in values) + f"{ratio:>20}")
    if args.rounds > 1:
        for r in results:
            afters = ", ".join(f"{a / 1024:.1f}" for a in r["afters"])
            print(f"{r['name']}: RSS after each round (MB): {afters}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
