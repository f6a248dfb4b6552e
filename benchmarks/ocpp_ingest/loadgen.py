"""The chargers' side of the benchmark, run in a child process (its own core and memory, so
that what the parent measures is the server alone).

Each charger behaves as OCPP asks: one CALL at a time, the next only after the answer.
Frames are built with f-strings (a fast client keeps the client from being the bottleneck).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import websockets
from websockets.exceptions import InvalidStatus


def _headers(identity: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _connect(url: str, identity: str, password: str, retry: bool = False) -> Any:
    """Connect; under `retry`, a 503 (admission control) is retried after a short pause, as
    a charger would (it would wait Retry-After; the benchmark shortens that to ~1 s)."""
    while True:
        try:
            return await websockets.connect(
                f"{url}/{identity}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers=_headers(identity, password),
                compression=None,
                open_timeout=120,
                ping_interval=None,
                max_queue=4,
            )
        except InvalidStatus as exc:
            if not retry or exc.response.status_code != 503:
                raise
            await asyncio.sleep(random.uniform(0.5, 1.5))


async def _call(ws: Any, frame: str) -> float:
    start = time.perf_counter()
    await ws.send(frame)
    answer = await ws.recv()
    if not answer.startswith("[3,"):
        raise RuntimeError(f"not a CallResult: {answer[:200]}")
    return time.perf_counter() - start


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


async def _one_charger(
    url: str, identity: str, password: str, messages: int, t0: datetime
) -> list[float]:
    ws = await _connect(url, identity, password, retry=True)
    latencies: list[float] = []
    try:
        await _call(ws, BOOT)
        register = random.randint(0, 1_000_000)
        for n in range(messages):
            if n % 10 == 0:
                frame = _status(n, "Charging" if n % 20 == 0 else "SuspendedEV")
            else:
                register += 100
                frame = _meter(n, register, t0 + timedelta(seconds=60 * n))
            latencies.append(await _call(ws, frame))
    finally:
        await ws.close()
    return latencies


async def _load(url: str, ids: list[str], password: str, messages: int) -> dict[str, Any]:
    t0 = datetime.now(UTC) - timedelta(days=3)
    start = time.perf_counter()
    results = await asyncio.gather(*(_one_charger(url, i, password, messages, t0) for i in ids))
    elapsed = time.perf_counter() - start
    latencies = sorted(x for r in results for x in r)
    return {"elapsed": elapsed, "latencies": latencies}


async def _idle(url: str, ids: list[str], password: str, conn: Connection) -> None:
    sockets = []
    for start in range(0, len(ids), 200):
        batch = ids[start : start + 200]
        sockets += await asyncio.gather(*(_connect(url, i, password, retry=True) for i in batch))
    for ws in sockets:
        await _call(ws, BOOT)
    conn.send({"open": len(sockets)})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # hold until told
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def _storm(url: str, ids: list[str], password: str) -> dict[str, Any]:
    """Every charger reconnects at once: connect, BootNotification, StatusNotification."""
    acks: list[float] = []
    done: list[float] = []
    failures = 0
    start = time.perf_counter()

    async def one(identity: str) -> None:
        nonlocal failures
        try:
            ws = await _connect(url, identity, password, retry=True)
        except Exception:
            failures += 1
            return
        try:
            acks.append(await _call(ws, BOOT))
            acks.append(await _call(ws, _status(0, "Available")))
            done.append(time.perf_counter() - start)
        except Exception:
            failures += 1
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    await asyncio.gather(*(one(i) for i in ids))
    return {
        "elapsed": time.perf_counter() - start,
        "acks": sorted(acks),
        "done": sorted(done),
        "failures": failures,
    }


def child(conn: Connection) -> None:
    """Serve the parent's requests: ("load"|"idle"|"storm", url, ids, password, messages)."""
    while True:
        request = conn.recv()
        if request is None:
            return
        kind, url, ids, password, messages = request
        if kind == "load":
            conn.send(asyncio.run(_load(url, ids, password, messages)))
        elif kind == "idle":
            asyncio.run(_idle(url, ids, password, conn))
            conn.send({"closed": True})
        elif kind == "storm":
            conn.send(asyncio.run(_storm(url, ids, password)))
