"""What the NATS server spends per operation of the bus, and an intake per relay message.

    python -m benchmarks.cluster.nats_cost ops --messages 6000     # server CPU per operation
    python -m benchmarks.cluster.nats_cost ops --variant no-msg-id
    python -m benchmarks.cluster.nats_cost ops --variant memory-consumer
    python -m benchmarks.cluster.nats_cost hear --rounds 300       # an intake hearing the relay

`ops` starts a private `nats-server` (JetStream, its own store directory) and reads its
user + system CPU from /proc around each kind of operation, done the way the bus does it:
stream messages of 21 meter samples (≈ 8 KB, a `Chargenet-Batch` header and a
`Nats-Msg-Id`) published by 4 lanes each awaiting its PubAck; the same pulled by `no_wait`
requests of 23 and acknowledged in one buffer a round (`_ack_all`); a relay message of a
round (≈ 200 KB, 504 samples) to no core subscriber, to one and to two; a socket-map entry
put and deleted.
Variants: `no-msg-id` (no `Nats-Msg-Id` header: no duplicate-window entry), and
`memory-consumer` (the consumer's state in memory, not written to its file).

`hear` measures a process hearing `<cluster>.stored` as an intake does (`hear_stored`
with the gateway's kinds) while another relays rounds of 504 meter samples
(`relay_stored`; one round in ten with a registry change): the hearer's CPU per round.
Run it with the tree to measure on PYTHONPATH; it uses `--nats` (the machine's server).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from chargenet.kit.net import free_port

TICK = os.sysconf("SC_CLK_TCK")
_SAMPLE = msgspec.json.encode(
    {
        "event_id": "x" * 36,
        "charger_id": "CP0001",
        "connector_id": "CP0001-1-1",
        "at": "2026-12-06T12:00:00.123456Z",
        "values": [
            {"measurand": "Energy.Active.Import.Register", "value": 123456.0},
            {"measurand": "Power.Active.Import", "value": 7200.0},
            {"measurand": "SoC", "value": 55},
        ],
        "source": {"kind": "ocpp", "ref": "y" * 60},
    }
)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:13]) / TICK


def batch(events: int) -> bytes:
    return msgspec.json.encode([("connector.meter_sampled", 1, msgspec.Raw(_SAMPLE))] * events)


async def ops(n: int, variant: str) -> dict[str, float]:
    import nats
    from nats.js.api import (
        AckPolicy,
        ConsumerConfig,
        KeyValueConfig,
        RetentionPolicy,
        StorageType,
        StreamConfig,
    )

    binary = shutil.which("nats-server")
    if binary is None:
        raise SystemExit("no nats-server binary")
    store = tempfile.mkdtemp()
    port = free_port()
    server = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    found: dict[str, float] = {}
    try:
        await asyncio.sleep(0.5)
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name="S",
                subjects=["ev.>"],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=120,
            )
        )
        config = ConsumerConfig(
            durable_name="w",
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_ack_pending=128,
            filter_subject="ev.p4.0",
            mem_storage=variant == "memory-consumer" or None,
        )
        await js.add_consumer("S", config)
        payload = batch(21)

        async def lane(first: int) -> None:
            for i in range(first, n, 4):
                headers = {"Chargenet-Batch": "21"}
                if variant != "no-msg-id":
                    digest = hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest()
                    headers["Nats-Msg-Id"] = f"batch-{digest}"
                await nc.request("ev.p4.0", payload, timeout=10, headers=headers)

        before = cpu_s(server.pid)
        await asyncio.gather(*(lane(k) for k in range(4)))
        found["publish a stream message (PubAck awaited)"] = (cpu_s(server.pid) - before) / n

        inbox = nc.new_inbox()
        got: list[Any] = []
        answered = asyncio.Event()

        async def delivered(message: Any) -> None:
            if not (message.headers or {}).get("Status"):
                got.append(message)
                if len(got) < 23:
                    return
            answered.set()

        await nc.subscribe(inbox, cb=delivered)
        request = msgspec.json.encode({"batch": 23, "no_wait": True})
        before, done = cpu_s(server.pid), 0
        while done < n:
            got.clear()
            answered.clear()
            await nc.publish("$JS.API.CONSUMER.MSG.NEXT.S.w", request, reply=inbox)
            await answered.wait()
            if not got:
                break
            await nc._send_command(b"".join(b"PUB %s 0\r\n\r\n" % m.reply.encode() for m in got))
            await nc.flush()
            done += len(got)
        found["pull and acknowledge a stream message"] = (cpu_s(server.pid) - before) / max(done, 1)

        relay = batch(504)

        async def heard(_: Any) -> None:
            return None

        rounds = max(n // 10, 1)
        for listeners in (0, 1, 2):  # the relay with no listener, one, two
            if listeners:
                await nc.subscribe("stored", cb=heard)
            before = cpu_s(server.pid)
            for i in range(rounds):
                await nc.publish("stored", relay)
                if i % 10 == 9:
                    await nc.flush()
            await nc.flush()
            await asyncio.sleep(0.3)
            found[f"relay a round of 504 ({len(relay) // 1024} KB), {listeners} subscribers"] = (
                cpu_s(server.pid) - before
            ) / rounds

        kv = await js.create_key_value(
            KeyValueConfig(bucket="sockets", history=1, storage=StorageType.FILE)
        )

        async def chargers(first: int) -> None:
            for i in range(first, n, 50):
                revision = await kv.put(f"CP{i}", b"i0")
                await kv.delete(f"CP{i}", last=revision)

        before = cpu_s(server.pid)
        await asyncio.gather(*(chargers(k) for k in range(50)))
        found["socket map: put and delete a charger"] = (cpu_s(server.pid) - before) / n
        await nc.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(store, ignore_errors=True)
    return found


async def hear(url: str, rounds: int) -> None:
    """The hearer and the relay, each a process of its own."""
    subject = f"nats_cost.{os.getpid()}.stored"
    me = [sys.executable, "-m", "benchmarks.cluster.nats_cost"]
    hearer = await asyncio.create_subprocess_exec(
        *me, "_hearer", url, subject, str(rounds), stdout=asyncio.subprocess.PIPE
    )
    assert hearer.stdout is not None
    await hearer.stdout.readline()  # ready
    relay = await asyncio.create_subprocess_exec(*me, "_relay", url, subject, str(rounds))
    await relay.wait()
    print((await hearer.stdout.read()).decode().strip())
    await hearer.wait()


async def _hearer(url: str, subject: str, rounds: int) -> None:
    import nats

    from chargenet.adapters.bus.jetstream import hear_stored
    from chargenet.adapters.ocpp.gateway import OcppGateway

    nc = await nats.connect(url)
    messages, kept, done = [0], [0], asyncio.Event()

    def publish(events: Any) -> None:
        messages[0] += 1
        kept[0] += len(events)

    async def stop(_: Any) -> None:
        done.set()

    await hear_stored(nc, subject, publish, OcppGateway.HEARS)
    await nc.subscribe(f"{subject}.done", cb=stop)
    await nc.flush()
    print("ready", flush=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    await done.wait()
    after = resource.getrusage(resource.RUSAGE_SELF)
    spent = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        f"hearer: {messages[0]} relay messages for {rounds} rounds, {kept[0]} events kept, "
        f"{spent / rounds * 1e6:.0f} µs of CPU a round ({spent / rounds / 504 * 1e6:.2f} an event)"
    )
    await nc.close()


async def _relay(url: str, subject: str, rounds: int) -> None:
    import nats

    from chargenet.adapters.bus.jetstream import relay_stored
    from chargenet.core.events import Event
    from tests.adapters.test_codec import SAMPLES

    meter = next(e for e in SAMPLES if e.TYPE == "connector.meter_sampled")
    retired = next(e for e in SAMPLES if e.TYPE == "charger.retired")
    nc = await nats.connect(url)
    send = relay_stored(nc, subject)
    plain: list[Event] = [meter] * 504
    with_change: list[Event] = [*plain[:-1], retired]
    for i in range(rounds):
        await asyncio.to_thread(send, with_change if i % 10 == 0 else plain)
        await asyncio.sleep(0.005)
    await asyncio.sleep(1.0)
    await nc.flush()
    await nc.publish(f"{subject}.done", b"")
    await nc.flush()
    await nc.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("_hearer", "_relay"):
        role, url, subject, rounds = sys.argv[1:5]
        asyncio.run((_hearer if role == "_hearer" else _relay)(url, subject, int(rounds)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("ops", "hear"))
    parser.add_argument("--messages", type=int, default=6000, help="ops: stream messages")
    parser.add_argument(
        "--variant", choices=("as-built", "no-msg-id", "memory-consumer"), default="as-built"
    )
    parser.add_argument("--rounds", type=int, default=300, help="hear: writer rounds relayed")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="hear: the server")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.what == "hear":
        asyncio.run(hear(args.nats, args.rounds))
    else:
        found = asyncio.run(ops(args.messages, args.variant))
        print(f"nats-server CPU per operation ({args.variant}, {args.messages} messages)")
        for what, seconds in found.items():
            print(f"  {what:56}{seconds * 1e6:8.1f} µs")
    print(f"load average {os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
