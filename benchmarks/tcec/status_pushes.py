"""How fast chargenet takes T/CEC 102 status pushes, against the same events submitted
straight into the pipeline (the baseline), in one process.

    .venv/bin/python -m benchmarks.tcec.status_pushes [--pushes 400]

Each push is a full exchange over loopback HTTP: the simulator encrypts and signs, chargenet
checks the signature, token, time and replay, decrypts, maps, ingests, and answers signed
and encrypted. Pushes are sent one after another (as one operator's platform sends them)
and, separately, 8 at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from chargenet.adapters.tcec.crypto import KeySet
from chargenet.adapters.tcec.wire import Request, build_request, open_data, request_signed
from chargenet.core.events import ConnectorStatusChanged, Source, event_meta
from chargenet.core.ids import ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.kit.ids import new_id
from tests.adapters.tcec.harness import linked

STATUSES = (1, 3)


async def measure(pushes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with linked(Path(tmp), stations=25) as link:
            sim = link.sim
            for station in list(sim.stations):
                await sim.push_station(station)
            connectors = sorted(sim.status)
            await sim.token()

            start = time.perf_counter()
            for n in range(pushes):
                await sim.push_status(
                    connectors[n % len(connectors)], STATUSES[n // len(connectors) % 2]
                )
            sequential = pushes / (time.perf_counter() - start)

            async def worker(offset: int) -> None:
                for n in range(offset, pushes, 8):
                    c = connectors[n % len(connectors)]
                    await sim.push_status(c, STATUSES[(n // len(connectors) + 1) % 2])

            start = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(8)))
            concurrent = pushes / (time.perf_counter() - start)

            # Transport floor: the same number of round trips to /healthz on one connection.
            async with httpx.AsyncClient() as http:
                start = time.perf_counter()
                for _ in range(pushes):
                    await http.get(link.url + "/healthz")
                floor = pushes / (time.perf_counter() - start)

            pipeline, source = link.platform.pipeline, Source(adapter="bench")
            start = time.perf_counter()
            for n in range(pushes):
                status = ConnectorStatus.CHARGING if n % 2 else ConnectorStatus.AVAILABLE
                event = ConnectorStatusChanged(
                    **event_meta(new_id(), source, link.platform.clock.now()),
                    connector_id=ConnectorId(
                        link.partner.connector_id(connectors[n % len(connectors)])
                    ),
                    status=status,
                )
                await pipeline.submit([event])
            baseline = pushes / (time.perf_counter() - start)

    keys = KeySet.generate()
    payload = {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 3}}
    rounds = 5000
    start = time.perf_counter()
    for n in range(rounds):
        request = build_request("MA59J8YL8", payload, keys, "20250601100000", f"{n % 9999 + 1:04d}")
        envelope = Request(**request)
        assert request_signed(envelope, keys)
        open_data(envelope.Data, keys)
    crypto_us = (time.perf_counter() - start) / rounds * 1e6

    print(f"status pushes over HTTP, one at a time : {sequential:8.0f} /s")
    print(f"status pushes over HTTP, 8 at a time   : {concurrent:8.0f} /s")
    print(f"GET /healthz round trips (floor)       : {floor:8.0f} /s (baseline 1)")
    print(f"same events straight into the pipeline : {baseline:8.0f} /s (baseline 2)")
    print(f"ratio push / healthz (one at a time)   : {sequential / floor:8.2f}")
    print(f"ratio push / pipeline (one at a time)  : {sequential / baseline:8.2f}")
    print(f"envelope build + verify + open         : {crypto_us:8.1f} µs per message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pushes", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(measure(args.pushes))


if __name__ == "__main__":
    main()
