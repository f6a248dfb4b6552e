"""The writer's per-event Python work apart from the database and NATS, for an instruction
count (deterministic on a busy machine): decode stream messages as an intake publishes them
(one event alone, or a batch of three), make the events storable, check them, build the
log's rows, list what the ownership check looks up, three `to_micros` and the relay's
payload, in rounds of 300 messages.

    valgrind --tool=callgrind python -m benchmarks.cluster.writer_python 200
    valgrind --tool=callgrind python -m benchmarks.cluster.writer_python 4200

The difference of the two counts over 4,000 is the instructions an event (the rest is
start-up). Run from a `git archive` of former code as well to compare (it uses
`decode_message` where `_decode_kept` is missing).
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext

import msgspec

from benchmarks.cluster.writer import mixed
from chargenet.adapters import codec
from chargenet.adapters.bus import jetstream as js
from chargenet.adapters.storage.store import _row
from chargenet.core.events import Event
from chargenet.core.ownership import references
from chargenet.core.text import storable
from chargenet.kit.timeutil import to_micros


def messages(events: list[Event]) -> list[tuple[dict[str, str], bytes]]:
    out: list[tuple[dict[str, str], bytes]] = []
    k = 0
    while k < len(events):
        if k % 5 == 0:
            e = events[k]
            headers = {"Chargenet-Type": e.TYPE, "Chargenet-Version": str(e.VERSION)}
            out.append((headers, codec.encode(e)))
            k += 1
        else:
            chunk = events[k : k + 3]
            items = [(e.TYPE, e.VERSION, msgspec.Raw(codec.encode(e))) for e in chunk]
            out.append(({js.BATCH: str(len(chunk))}, msgspec.json.encode(items)))
            k += 3
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4_200
    msgs = messages(mixed([f"W{i}" for i in range(100)], n))
    kept = getattr(js, "_decode_kept", None)
    for start in range(0, len(msgs), 300):
        part = msgs[start : start + 300]
        ctx: AbstractContextManager[None]
        if kept is not None:
            pairs = [p for h, d in part for p in kept(h, d)]
            got = [e for e, _ in pairs]
            ctx = codec.reusing((e, b) for e, b in pairs if b is not None)
        else:
            got = [e for h, d in part for e in js.decode_message(h, d)]
            ctx = nullcontext()
        with ctx:
            got = [storable(e) for e in got]
            assert not any(e.problems() for e in got)
            msgspec.json.encode([_row(e) for e in got]).decode()
            [list(references(e)) for e in got]
            [
                (to_micros(e.occurred_at), to_micros(e.received_at), to_micros(e.occurred_at))
                for e in got
            ]
            msgspec.json.encode([(e.TYPE, e.VERSION, msgspec.Raw(codec.encode(e))) for e in got])
    print(f"{len(msgs)} messages, {n} events")


if __name__ == "__main__":
    main()
