"""One intake's CPU per OCPP message, in a process of its own: the gateway and the
JetStream intake of `--role intake`, without the rest of the platform, so that a count of
instructions (valgrind) or a CPU time sees only what an intake does per message.

    python -m benchmarks.cluster.intake                           # CPU µs a message
    valgrind --tool=callgrind --callgrind-out-file=/tmp/a.out \\
        python -m benchmarks.cluster.intake --chargers 50 --messages 10 --callgrind
    # /tmp/a.out.1: the instructions of the load alone (`callgrind_annotate`'s total),
    # counted from zero when the chargers start and dumped when the last answer is stored

The chargers are the hand-made client of `benchmarks/ocpp_ingest` in a child process
(spawned: valgrind does not follow it), each sending MeterValues one at a time and every
tenth a StatusNotification; each answer goes out once JetStream has stored its event, on
a stream of the run's own (deleted after). The directory of chargers is in memory (the
role reads it from PostgreSQL once at start), nothing is written to the log (the writer's
part), and the heap is settled as the role settles it (`settle_heap`). Prints µs of this
process's CPU per message answered, and the JetStream messages per event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import time
import uuid
from collections.abc import Hashable, Sequence
from typing import Any

from benchmarks.cluster.__main__ import drive
from benchmarks.ocpp_ingest.__main__ import Child
from chargenet.adapters.bus.jetstream import (
    ClusterNames,
    JetStreamIntake,
    JetStreamPipeline,
    ensure_stream,
)
from chargenet.adapters.ocpp.gateway import GatewayConfig, OcppGateway
from chargenet.app.endpoints import ChargerEndpoint, ConnectorRef, OpenSession
from chargenet.entrypoints.cluster import EVENT_LOOPS, loop_factory, settle_heap
from chargenet.kit.clock import SystemClock


class Directory:
    """The chargers an intake knows (OCPP 1.6, one connector of 22 kW each); none at all
    for a door that refuses before asking (`benchmarks.ocpp_ingest.refusal`)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self._known = {
            i: ChargerEndpoint(i, "ocpp1.6", False, {(1, 1): ConnectorRef(f"{i}-1-1", 22_000)})
            for i in ids
        }

    def endpoint(self, charger_id: str) -> ChargerEndpoint | None:
        return self._known.get(charger_id)

    def endpoints(self, protocols: Sequence[str]) -> list[ChargerEndpoint]:
        return list(self._known.values())

    def online_chargers(self, protocols: Sequence[str]) -> list[str]:
        return []

    def secrets_fingerprint(self) -> Hashable:
        return 0

    def secret_hashes(self) -> dict[str, str]:
        return {}

    def open_sessions(self, charger_id: str) -> list[OpenSession]:
        return []

    def open_alarm(self, target_id: str, code: str) -> str | None:
        return None


def callgrind(command: str) -> None:
    """Zero or dump the counts of the valgrind this process runs under."""
    subprocess.run(["callgrind_control", command, str(os.getpid())], check=True)


def cpu_s() -> tuple[float, float]:
    """This process's CPU seconds so far: in user space, in the kernel."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import nats

    names = ClusterNames(f"intake{uuid.uuid4().hex[:8]}")
    nc = await nats.connect(args.nats)
    js = nc.jetstream()
    await ensure_stream(js, names.stream, names.prefix)
    client = Child()
    try:
        ids = [f"I{k:05d}" for k in range(args.chargers)]
        intake = JetStreamIntake(js, names.prefix)
        pipeline = JetStreamPipeline(intake)
        config = GatewayConfig(security_profile=0)
        gateway = OcppGateway(pipeline, Directory(ids), SystemClock(), config)
        async with gateway.running("127.0.0.1", 0):
            settle_heap()
            url = f"ws://127.0.0.1:{gateway.port}/ocpp"
            if args.callgrind:
                callgrind("--zero")
            before, started = cpu_s(), time.perf_counter()
            out = await drive([client], "load", [url], ids, args.messages, lambda: pipeline.events)
            after = cpu_s()
            if args.callgrind:
                callgrind("--dump")
            answered = max(out["messages"], 1)
            out["user_us"] = (after[0] - before[0]) / answered * 1e6
            out["sys_us"] = (after[1] - before[1]) / answered * 1e6
            out["cpu_us"] = out["user_us"] + out["sys_us"]
            out["wall_s"] = time.perf_counter() - started
            out["jetstream_messages"] = intake.messages
        return out
    finally:
        client.close()
        await js.delete_stream(names.stream)
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--messages", type=int, default=100, help="messages per charger")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument(
        "--callgrind", action="store_true", help="under valgrind: count the load apart"
    )
    parser.add_argument("--loop", choices=EVENT_LOOPS, default="auto", help="as the role's")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        out = runner.run(run(args))
    print(
        f"intake alone: {args.chargers} chargers × {args.messages} messages: "
        f"{out['messages']:,} answered, {out['stored']:,} events published in "
        f"{out['jetstream_messages']:,} JetStream messages, {out['answered_per_s']:,.0f}/s"
    )
    print(
        f"CPU of this process per message answered: {out['cpu_us']:.1f} µs "
        f"(user {out['user_us']:.1f}, kernel {out['sys_us']:.1f}; "
        "the load generator's is its own process's)"
    )


if __name__ == "__main__":
    main()
