"""Leases on background jobs: with several nodes on one database, one runs each singleton
job, and another takes it over when the holder dies (after the lease) or stops (at once)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from chargenet.adapters.storage.leases import SqlLeases
from chargenet.app.leases import singleton
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.web import _run
from tests.builders import T0


def test_a_lease_is_held_renewed_and_taken_over_once_expired(any_platform: Platform) -> None:
    leases = SqlLeases(any_platform.store.engine)
    minute = timedelta(minutes=1)
    assert leases.acquire("zombies", "A", T0, T0 + minute)
    assert not leases.acquire("zombies", "B", T0, T0 + minute)
    assert leases.acquire("zombies", "A", T0 + minute / 2, T0 + 2 * minute)  # renewed
    assert not leases.acquire("zombies", "B", T0 + minute * 1.5, T0 + minute * 2.5)
    assert leases.holder("zombies", T0 + minute * 1.5) == "A"
    # A stops renewing: once its lease has run out, B takes it, and A is refused.
    assert leases.acquire("zombies", "B", T0 + 2 * minute, T0 + 3 * minute)
    assert not leases.acquire("zombies", "A", T0 + 2 * minute, T0 + 3 * minute)
    assert leases.acquire("alarms", "A", T0, T0 + minute)  # another job, its own lease
    leases.release("zombies", "A")  # not A's any more: nothing changes
    assert leases.holder("zombies", T0 + 2 * minute) == "B"
    leases.release("zombies", "B")
    assert leases.holder("zombies", T0 + 2 * minute) is None
    assert leases.acquire("zombies", "A", T0 + 2 * minute, T0 + 3 * minute)


def test_two_api_apps_on_one_postgresql_run_a_singleton_job_once_and_hand_it_over(
    postgres_url: str,
) -> None:
    settings = Settings(database_url=postgres_url, job_lease_s=3.0)
    nodes = [bootstrap(settings), bootstrap(settings)]
    runs: list[str] = []
    leases = SqlLeases(nodes[0].store.engine)

    @singleton
    async def sweep(platform: Platform) -> None:
        while True:
            runs.append(str(id(platform)))
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        tasks = [
            asyncio.create_task(_run(sweep, node, SqlLeases(node.store.engine), f"node{n}"))
            for n, node in enumerate(nodes)
        ]
        while not runs:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # several renewals
        first = set(runs)
        assert len(first) == 1  # one node ran it all along
        holder = leases.holder("sweep", nodes[0].clock.now())
        index = int(str(holder).removeprefix("node"))
        assert str(id(nodes[index])) in first
        # The holder stops (a node shut down): it gives the lease back, the other takes over.
        tasks[index].cancel()
        runs.clear()
        deadline = time.monotonic() + 15
        while not runs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert set(runs) == {str(id(nodes[1 - index]))}
        assert leases.holder("sweep", nodes[0].clock.now()) == f"node{1 - index}"
        tasks[1 - index].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        for node in nodes:
            node.close()


_NODE = textwrap.dedent(
    """
    import asyncio, sys, time
    from chargenet.adapters.storage.engine import create_store_engine
    from chargenet.adapters.storage.leases import SqlLeases
    from chargenet.app.leases import run_leased
    from chargenet.kit.clock import SystemClock

    url, name, out = sys.argv[1:4]

    async def job():
        while True:
            with open(out, "a") as f:
                f.write(f"{time.time()}\\n")
            await asyncio.sleep(0.1)

    leases = SqlLeases(create_store_engine(url, writer=True))
    asyncio.run(run_leased(job, leases, "uptime_refresh", name, SystemClock(), 3.0))
    """
)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.serial  # the take-over is bounded in wall-clock seconds (below)
def test_a_killed_holder_is_replaced_by_another_node_within_the_lease_time(
    postgres_url: str, tmp_path: Path
) -> None:
    bootstrap(Settings(database_url=postgres_url)).close()  # the schema, once
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    outs = {name: tmp_path / f"{name}.txt" for name in ("A", "B")}
    procs = {
        name: subprocess.Popen([sys.executable, "-c", _NODE, postgres_url, name, str(out)], env=env)
        for name, out in outs.items()
    }
    try:
        deadline = time.monotonic() + 20
        while not any(_lines(o) for o in outs.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        running = [name for name, out in outs.items() if _lines(out)]
        assert len(running) == 1, running  # one node runs the job, the other waits
        holder, other = running[0], "B" if running[0] == "A" else "A"
        procs[holder].send_signal(signal.SIGKILL)  # dies without giving the lease back
        procs[holder].wait()
        killed_at = time.monotonic()
        deadline = killed_at + 10
        while not _lines(outs[other]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _lines(outs[other]), "nobody took the job over"
        # Once the dead holder's lease ran out (3 s from its last renewal): within the
        # lease time and a third, and a few seconds for a loaded machine to start the job.
        assert time.monotonic() - killed_at < 3.0 * 4 / 3 + 3.0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
