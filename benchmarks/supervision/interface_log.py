"""The cost of counting every message partners send (interface compliance, R38).

Each T/CEC request now calls `InterfaceRecorder.note` (a dict update under a lock), and a
background job writes the counts every 5 s in one transaction. This measures, in the same
process: the envelope work every push already does (build, verify and open one signed,
encrypted envelope — the baseline), `note` per message, and `flush` of a busy interval's
counts to SQLite; the ratio is what counting adds to a push's own protocol work.

    python -m benchmarks.supervision.interface_log [--messages 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from chargenet.adapters.storage.interface_log import SqlInterfaceLog
from chargenet.adapters.storage.schema import metadata
from chargenet.adapters.tcec import wire
from chargenet.adapters.tcec.crypto import KeySet
from chargenet.app.compliance import InterfaceRecorder

KEYS = KeySet(data_key="1234567890abcdef", data_iv="1234567890abcdef", sig_key="1234567890abcdef")
PAYLOAD = {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 3}}
ENDPOINTS = ("notification_stationStatus", "notification_alarmInfo", "notification_bmsInfo")


def envelope_round(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        seq = f"{i % 9999 + 1:04d}"
        request = wire.build_request("MA59J8YL8", PAYLOAD, KEYS, "20250601120000", seq)
        decoded = wire.decode_request(json.dumps(request).encode())
        assert wire.request_signed(decoded, KEYS)
        wire.open_data(decoded.Data, KEYS)
    return (time.perf_counter() - start) / n


def notes(recorder: InterfaceRecorder, n: int) -> float:
    now = datetime.now(UTC)
    start = time.perf_counter()
    for i in range(n):
        recorder.note(
            protocol="tcec",
            partner_id=f"P{i % 20}",
            operator_id=f"OP{i % 20}",
            at=now,
            endpoint=ENDPOINTS[i % 3],
            ret=0 if i % 50 else 4003,
            reason="" if i % 50 else "Status 9 of 1001E1C1 is not 0, 1, 2, 3, 4 or 255",
        )
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'log.db'}")
        metadata.create_all(engine)
        recorder = InterfaceRecorder(SqlInterfaceLog(engine))
        base, note, flush = [], [], []
        for _ in range(args.runs):
            base.append(envelope_round(max(args.messages // 50, 200)))
            note.append(notes(recorder, args.messages))
            start = time.perf_counter()
            recorder.flush()
            flush.append(time.perf_counter() - start)
        b, n, f = (statistics.median(x) for x in (base, note, flush))
        print(f"envelope build+verify+open, one message (baseline): {b * 1e6:8.1f} µs")
        print(f"note() per message:                                  {n * 1e6:8.2f} µs")
        print(f"  ratio to the baseline:                             {n / b:8.4f}")
        print(f"flush of {args.messages} messages (60 counts, 2 % refusals kept): {f * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
