"""The writer's rounds on PostgreSQL without NATS: stream messages as an intake publishes the
cluster benchmark's chargers' events (meter values with energy, power and SoC, every tenth
a status report; a batch of `--per-message` events a message) decoded, stored through the
ingestor (`codec.reusing` the intake's bytes, as `JetStreamWriter.run_once` does) and
relayed (`relay_stored`, to a stand-in for the NATS client that takes the payloads), in
rounds of `--round` events, after a first round to warm up.

    python -m benchmarks.cluster.writer_round                 # CPU µs an event, 20 rounds
    python -m benchmarks.cluster.writer_round --profile       # and cProfile's top entries
    python -m benchmarks.cluster.writer_round --callgrind     # instructions an event

With --callgrind, the database and its chargers are made here, then this script runs
under `valgrind --tool=callgrind` (the writer's process only: PostgreSQL's backends are
other processes), counting only the rounds after the first (each runs in
`sys.call_tracing`, which callgrind is told to count in): the writer's instructions an
event, its Python, SQLAlchemy's and psycopg's, nearly deterministic on a busy machine
(give or take the polls while a statement is on its way). The relay's publishes run
between rounds, uncounted (they are the NATS client's). Run from a `git archive` of former
code as well to compare (it needs nothing newer than `relay_stored` and `codec.reusing`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from benchmarks.cluster.__main__ import ADMIN, database
from benchmarks.cluster.harness import register_fleet
from chargenet.adapters import codec
from chargenet.adapters.bus import jetstream as js
from chargenet.core.events import ConnectorStatusChanged, Event, MeterSampled, Source, event_meta
from chargenet.core.ids import ChargerId, ConnectorId
from chargenet.core.status import ConnectorStatus
from chargenet.entrypoints.cluster import settle_heap


def budget_like(ids: list[str], count: int, start: datetime) -> list[Event]:
    """Per charger a meter value a minute (energy, power, SoC), every tenth a status report
    instead, alternately charging and occupied, as the cluster benchmark's chargers send."""
    out: list[Event] = []
    for n in range(count // len(ids)):
        for c in ids:
            source = Source(adapter="ocpp", charger_id=ChargerId(c))
            at = start + timedelta(minutes=n)
            meta = event_meta(uuid.uuid4().hex, source, at)
            if n % 10 == 9:
                out.append(
                    ConnectorStatusChanged(
                        **meta,
                        connector_id=ConnectorId(f"{c}-1-1"),
                        status=ConnectorStatus.OCCUPIED
                        if n % 20 == 9
                        else ConnectorStatus.CHARGING,
                        error_code="NoError",
                    )
                )
            else:
                out.append(
                    MeterSampled(
                        **meta,
                        connector_id=ConnectorId(f"{c}-1-1"),
                        energy_register_wh=1_000 + 100 * n,
                        power_w=7_000,
                        soc_percent=55.5,
                    )
                )
    return out


def messages(events: list[Event], per_message: int) -> list[tuple[dict[str, str], bytes]]:
    """Stream messages as an intake's lanes make them: `per_message` events a batch."""
    out = []
    for k in range(0, len(events), per_message):
        chunk = events[k : k + per_message]
        items = [(e.TYPE, e.VERSION, msgspec.Raw(codec.encode(e))) for e in chunk]
        out.append(({js.BATCH: str(len(chunk))}, msgspec.json.encode(items)))
    return out


class _Nats:
    """Takes the relay's publishes (nats-py's `publish` signature), sending nothing."""

    def __init__(self) -> None:
        self.sent = 0

    async def publish(self, subject: str, payload: bytes, headers: Any = None) -> None:
        self.sent += len(payload)


async def rounds(url: str, ids: list[str], args: argparse.Namespace) -> None:
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings

    platform = bootstrap(Settings(database_url=url, allow_unsafe_durability=True))
    try:
        platform.bus.listen(js.relay_stored(_Nats(), "stored"))
        # Times after any earlier run's on this database: every event is new and in order.
        start = datetime.now(UTC) + timedelta(days=1)
        count = args.round * args.rounds
        per_round = len(messages(budget_like(ids, args.round, start), args.per_message))
        # The first round warms up with every kind of event the rounds hold (a status
        # report is every tenth minute's): each class's decoder, checks and references are
        # made on its first event, once a process, not counted. Its times before the rest.
        earlier = budget_like(ids, 10 * len(ids), start - timedelta(days=1))[-args.round :]
        msgs = messages(earlier, args.per_message)[:per_round]
        msgs += messages(budget_like(ids, count, start), args.per_message)
        settle_heap()  # as the writer's process does once started (its collector's bounds)
        profile = cProfile.Profile() if args.profile else None
        used = 0.0
        stored = 0

        def store(part: list[tuple[dict[str, str], bytes]]) -> int:
            decoded = [pair for h, d in part for pair in js._decode_kept(h, d)]
            events = [e for e, _ in decoded]
            with codec.reusing((e, b) for e, b in decoded if b is not None):
                outcomes = platform.ingestor.ingest(events)
            assert all(o.ok for o in outcomes), outcomes[:3]
            return len(events)

        for k in range(0, len(msgs), per_round):
            part = msgs[k : k + per_round]
            if not k:  # the first round warms up
                store(part)
                continue
            began = time.process_time()
            if profile is not None:
                profile.enable()
            # In `sys.call_tracing`: what callgrind counts (--toggle-collect).
            stored += sys.call_tracing(store, (part,))
            if profile is not None:
                profile.disable()
            used += time.process_time() - began
            await asyncio.sleep(0)  # the relay's publishes
        print(
            f"writer rounds: {stored:,} events in rounds of {args.round} "
            f"({args.per_message} a stream message), "
            f"{used / max(stored, 1) * 1e6:.1f} µs of CPU an event; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        if profile is not None:
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    finally:
        platform.close()


def callgrind(url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=sys_call_tracing",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.cluster.writer_round",
            "--url",
            url,
            "--rounds",
            str(args.rounds),
            "--round",
            str(args.round),
            "--per-message",
            str(args.per_message),
            "--chargers",
            str(args.chargers),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        found = re.search(r"Collected : (\d+)", result.stderr)
        assert found, result.stderr[-2000:]
    events = args.rounds * args.round
    print(
        f"writer rounds under callgrind: {int(found.group(1)):,} instructions over "
        f"{events:,} events: {int(found.group(1)) / events:,.0f} an event"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--round", type=int, default=600, help="events a round")
    parser.add_argument("--rounds", type=int, default=20, help="rounds after the first")
    parser.add_argument("--per-message", type=int, default=20)
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    parser.add_argument("--url", help="a database with the chargers registered already")
    parser.add_argument("--profile", type=int, nargs="?", const=40, default=0)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--keep", help="with --callgrind: a directory to keep its output in")
    args = parser.parse_args()
    ids = [f"W{i:05d}" for i in range(args.chargers)]  # register_fleet's names
    if args.url:
        asyncio.run(rounds(args.url, ids, args))
        return
    with database(args.postgres) as url:
        assert register_fleet(url, args.chargers, "W") == ids
        if args.callgrind:
            callgrind(url, args)
        else:
            asyncio.run(rounds(url, ids, args))


if __name__ == "__main__":
    main()
