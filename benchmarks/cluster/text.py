"""What making an event's text storable and checking its lengths costs (`storable` and
`long_texts`, core/text.py, which the writer and the one-process ingest path run on every
event), against the walk they replaced (kept in tests/core/test_text.py as the reference
the fast paths must agree with), in the same process on the same events, alternating.

    python -m benchmarks.cluster.text                  # 6,000 meter values, 3 rounds
    python -m benchmarks.cluster.text --rounds 5

Two sets: the writer benchmark's meter values (benchmarks/cluster/writer.py), and one of
every event type (the codec test's samples) repeated to the same count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.cluster.writer import meter_values
from chargenet.core.events import Event
from chargenet.core.text import long_texts, storable
from tests.adapters.test_codec import SAMPLES
from tests.core.test_text import ref_long_texts, ref_storable


def _now(event: Event) -> Any:
    return storable(event), list(long_texts(event))


def _before(event: Event) -> Any:
    return ref_storable(event), list(ref_long_texts(event))


def _per_event(walk: Callable[[Event], Any], events: list[Event]) -> float:
    started = time.perf_counter()
    for event in events:
        walk(event)
    return (time.perf_counter() - started) / len(events) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=6_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loads = os.getloadavg()
    sets = {
        "meter values": meter_values([f"W{n}" for n in range(100)], args.events),
        "one of every type": (SAMPLES * (args.events // len(SAMPLES) + 1))[: args.events],
    }
    print(
        f"storable + long_texts, {args.events:,} events a set, {args.rounds} rounds alternating; "
        f"load average {loads[0]:.1f} ({os.cpu_count()} cores)"
    )
    for label, events in sets.items():
        before: list[float] = []
        now: list[float] = []
        for _ in range(args.rounds):
            before.append(_per_event(_before, events))
            now.append(_per_event(_now, events))
        b, n = statistics.median(before), statistics.median(now)
        print(f"  {label:18} before {b:5.1f} µs an event, now {n:5.1f} µs: {b / n:.1f}× faster")


if __name__ == "__main__":
    main()
