"""The chargers' side of the benchmark, run in a child process (its own core and memory, so
that what the parent measures is the server alone).

Each charger behaves as OCPP asks: one CALL at a time, the next only after the answer.
The client is `fastclient.py` (hand-made frames, one Protocol per charger): a full client
library would make the client, not the server, the bottleneck.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

from benchmarks.ocpp_ingest.fastclient import Refused, run_charger

BOOT = '[2,"b","BootNotification",{"chargePointVendor":"bench","chargePointModel":"B1"}]'


def _meter(n: int, register: int, at: datetime) -> str:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'[2,"m{n}","MeterValues",{{"connectorId":1,"meterValue":[{{"timestamp":"{stamp}",'
        f'"sampledValue":[{{"value":"{register}","measurand":"Energy.Active.Import.Register",'
        f'"unit":"Wh"}},{{"value":"7000","measurand":"Power.Active.Import","unit":"W"}},'
        f'{{"value":"55.5","measurand":"SoC","unit":"Percent"}}]}}]}}]'
    )


def _status(n: int, status: str) -> str:
    return (
        f'[2,"s{n}","StatusNotification",'
        f'{{"connectorId":1,"errorCode":"NoError","status":"{status}"}}]'
    )


def _target(url: str) -> tuple[str, int, str]:
    parsed = urlsplit(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80, parsed.path.rstrip("/")


@dataclass
class Tries:
    """What a storm's chargers went through to connect."""

    refused: int = 0  # 503s (admission control)
    dropped: int = 0  # connections reset or lost (before or after the upgrade), tried again
    # seconds from each charger's first attempt to its open socket (the upgrade answered)
    connected: list[float] = field(default_factory=list)


async def _with_retry(
    url: str,
    identity: str,
    password: str,
    frames: list[str],
    latencies: list[float],
    keep_open: bool = False,
    tries: Tries | None = None,
) -> Any:
    """A charger's connection attempts, as a real charger makes them: refused with 503
    (admission control), it comes back after the Retry-After the server gave (plus up to
    a second of its own jitter); dropped while the server is swamped, after 0.5–1.5 s
    (a charger's reconnect back-off, e.g. OCPP 2.0.1's RetryBackOffWaitMinimum with
    RetryBackOffRandomRange, shortened)."""
    host, port, path = _target(url)
    first = time.perf_counter()
    opened: list[float] = []
    for _ in range(1000):
        try:
            transport = await run_charger(
                host,
                port,
                f"{path}/{identity}",
                identity,
                password,
                frames,
                latencies,
                keep_open,
                opened,
            )
        except (Refused, OSError, ConnectionError) as exc:
            if isinstance(exc, Refused) and exc.status != 503:
                raise
            if isinstance(exc, Refused):
                if tries is not None:
                    tries.refused += 1
                wait = (exc.retry_after or 1.0) + random.uniform(0, 1)
            else:
                if tries is not None:
                    tries.dropped += 1
                wait = random.uniform(0.5, 1.5)
            await asyncio.sleep(wait)
            continue
        if tries is not None and opened:
            tries.connected.append(opened[0] - first)
        return transport
    raise ConnectionError(f"{identity}: gave up")


def _session_frames(messages: int, t0: datetime) -> list[str]:
    frames = [BOOT]
    register = random.randint(0, 1_000_000)
    for n in range(messages):
        if n % 10 == 0:
            frames.append(_status(n, "Charging" if n % 20 == 0 else "SuspendedEV"))
        else:
            register += 100
            frames.append(_meter(n, register, t0 + timedelta(seconds=60 * n)))
    return frames


async def _load(url: str, ids: list[str], password: str, messages: int) -> dict[str, Any]:
    t0 = datetime.now(UTC) - timedelta(days=3)
    # Connect and boot everyone first, then measure the steady flow of messages.
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(_with_retry(url, i, password, _session_frames(messages, t0), latencies) for i in ids)
    )
    elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "latencies": sorted(latencies)}


async def _idle(url: str, ids: list[str], password: str, conn: Connection) -> None:
    transports = []
    ignored: list[float] = []
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        transports += await asyncio.gather(
            *(_with_retry(url, i, password, [BOOT], ignored, keep_open=True) for i in batch)
        )
    conn.send({"open": len(transports)})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # hold until told
    for transport in transports:
        transport.close()
    await asyncio.sleep(1)


async def _storm(url: str, ids: list[str], password: str, spread_s: float) -> dict[str, Any]:
    """Every charger reconnects (at once, or at random within `spread_s`): connect,
    BootNotification, StatusNotification."""
    acks: list[float] = []
    done: list[float] = []
    tries = Tries()
    failures = 0
    start = time.perf_counter()

    async def one(identity: str) -> None:
        nonlocal failures
        if spread_s:
            await asyncio.sleep(random.uniform(0, spread_s))
        try:
            await _with_retry(
                url, identity, password, [BOOT, _status(0, "Available")], acks, tries=tries
            )
            done.append(time.perf_counter() - start)
        except Exception:
            failures += 1

    await asyncio.gather(*(one(i) for i in ids))
    return {
        "elapsed": time.perf_counter() - start,
        "acks": sorted(acks),
        "done": sorted(done),
        "connected": sorted(tries.connected),
        "refused": tries.refused,
        "dropped": tries.dropped,
        "failures": failures,
    }


def _runner() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """uvloop's loop when installed: the chargers stand for devices elsewhere, so what the
    benchmark measures is the server; on asyncio's own loop the load generators took a
    ninth of the 2-core machine's CPU per stored message (docs/scale.md)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        return asyncio.run
    return uvloop.run


def child(conn: Connection) -> None:
    """Serve the parent's requests: ("load"|"idle"|"storm", url, ids, password, n), where n
    is messages per charger (load) or the seconds a storm is spread over."""
    run = _runner()
    while True:
        request = conn.recv()
        if request is None:
            return
        kind, url, ids, password, messages = request
        if kind == "load":
            conn.send(run(_load(url, ids, password, messages)))
        elif kind == "idle":
            run(_idle(url, ids, password, conn))
            conn.send({"closed": True})
        elif kind == "storm":
            conn.send(run(_storm(url, ids, password, messages)))
