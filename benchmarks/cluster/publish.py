"""An intake's publish path in a reconnect storm, alone: S chargers each submit their
frame's events at the same instant (presence, BootNotification, StatusNotification: three
events a charger, in three submissions as the gateway makes them), and each is answered
once JetStream has stored its events. The intake's way (`JetStreamIntake`: one message
in flight per bucket, what waits meanwhile goes together as the next) against the former
one (a message per event, at most 500 awaiting their acknowledgement), alternating in one
process on one NATS server, so that both see the same machine.

    python -m benchmarks.cluster.publish --storm 10000 --rounds 3

Prints, for each: messages sent, the time until every submission was answered, and the
p50/p99 of a submission's wait, with the ratio of the former's to ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chargenet.adapters.bus.jetstream import JetStreamIntake, ensure_stream, subject_for
from chargenet.adapters.codec import encode
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    Source,
    event_meta,
)
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus


class OneMessageAnEvent:
    """The former intake: each event its own message, at most `in_flight` awaited at once."""

    def __init__(self, js: Any, prefix: str, in_flight: int = 500) -> None:
        self._js = js
        self._prefix = prefix
        self._window = asyncio.Semaphore(in_flight)
        self.messages = 0

    async def _publish(self, event: Event) -> Any:
        async with self._window:
            self.messages += 1
            return await self._js.publish(
                subject_for(event, self._prefix),
                encode(event),
                timeout=30.0,
                headers={
                    "Nats-Msg-Id": event.event_id,
                    "Chargenet-Type": event.TYPE,
                    "Chargenet-Version": str(event.VERSION),
                },
            )

    async def publish(self, events: Sequence[Event]) -> list[bool]:
        acks = await asyncio.gather(*(self._publish(e) for e in events))
        return [bool(a.duplicate) for a in acks]


def storm(chargers: int) -> list[list[Event]]:
    """Each charger's submissions: its presence, then a status standing in for the boot's
    event, then its status (what matters here is count, size and subject)."""
    now = datetime.now(UTC)
    run = uuid.uuid4().hex[:6]
    out: list[list[Event]] = []
    for k in range(chargers):
        charger = f"S{run}{k:05d}"
        source = Source(adapter="ocpp")
        out.append(
            [
                ChargerPresenceChanged(
                    **event_meta(f"p-{charger}", source, now),
                    charger_id=ChargerId(charger),
                    online=True,
                    reason="connected",
                ),
                *(
                    ConnectorStatusChanged(
                        **event_meta(f"s{n}-{charger}", source, now + timedelta(seconds=n)),
                        connector_id=ConnectorId(f"{charger}-1-1"),
                        status=ConnectorStatus.AVAILABLE,
                    )
                    for n in range(2)
                ),
            ]
        )
    return out


async def one(intake: Any, submissions: list[list[Event]]) -> dict[str, float]:
    waits: list[float] = []

    async def charger(events: list[Event]) -> None:
        for event in events:  # one frame at a time, the next after the answer
            sent = time.perf_counter()
            await intake.publish([event])
            waits.append(time.perf_counter() - sent)

    start = time.perf_counter()
    await asyncio.gather(*(charger(s) for s in submissions))
    waits.sort()
    return {
        "elapsed_s": time.perf_counter() - start,
        "p50_ms": waits[len(waits) // 2] * 1000,
        "p99_ms": waits[int(len(waits) * 0.99)] * 1000,
        "messages": intake.messages,
    }


async def run(args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    import nats

    nc = await nats.connect(args.nats)
    js = nc.jetstream(timeout=30)
    name = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
    prefix = f"bench.{name.lower()}"
    await ensure_stream(js, name, prefix)
    found: dict[str, list[dict[str, float]]] = {"lanes": [], "former": []}
    try:
        for _ in range(args.rounds):
            for label in ("former", "lanes"):
                intake: Any = JetStreamIntake(js, prefix)
                if label == "former":
                    intake = OneMessageAnEvent(js, prefix)
                found[label].append(await one(intake, storm(args.storm)))
                await js.purge_stream(name)
    finally:
        await js.delete_stream(name)
        await nc.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--storm", type=int, default=10_000, help="chargers at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    found = asyncio.run(run(args))
    print(
        f"publish path: {args.storm} chargers × 3 events at once, {args.rounds} rounds "
        f"alternating; load average {load:.1f} → {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} cores)"
    )
    med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in found.items()}
    for label, title in (("former", "a message an event, 500 in flight"), ("lanes", "lanes")):
        m = med[label]
        runs = ", ".join(f"{r['p99_ms']:.0f}" for r in found[label])
        print(
            f"{title:36} messages {m['messages']:>7,.0f}  all answered in {m['elapsed_s']:6.1f} s"
            f"  p50 {m['p50_ms']:7.0f} ms  p99 {m['p99_ms']:7.0f} ms (runs: {runs})"
        )
    sooner = med["former"]["elapsed_s"] / med["lanes"]["elapsed_s"]
    lower = med["former"]["p99_ms"] / med["lanes"]["p99_ms"]
    print(f"lanes against the former (median): {sooner:.1f}× sooner, p99 {lower:.1f}× lower")


if __name__ == "__main__":
    main()
