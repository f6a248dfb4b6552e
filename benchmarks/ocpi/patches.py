"""Location (EVSE status) PATCHes per second, applied end to end.

Each PATCH goes over HTTP on loopback to `/ocpi/2.2.1/receiver/locations/…/{evse_uid}`,
is authenticated (Token), checked (party, EVSE, last_updated), mapped to
ConnectorStatusChanged events, appended to the log and applied to state; the reply (1000)
is sent only once the change is durable. Clients run concurrently, as an operator platform
pushing many EVSEs does.

The clients run in a separate process (sharing one interpreter with the server, the
harness would set the pace). Baseline, same server process, same HTTP app and same
checks: each request commits its own events in its own transaction (the naive
per-request commit path, `ingestor.ingest` per request) instead of going through the
batching ingest pipeline.

    python -m benchmarks.ocpi.patches [--patches 3000] [--evses 200] [--clients 50]
                                      [--db URL] [--hub]

With `--hub` the comparison is another: the pipeline path with the party acting as a hub
(adapters/ocpi/hub.py: each push is checked for routing headers and, accepted, for
parties to broadcast it to — none here) against the same path without the hub.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from chargenet.adapters.ocpi.hub import Hub
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.adapters.ocpi.wire import new_token, token_digest, utc_text
from chargenet.app.ingest import Outcome
from chargenet.app.ocpi import CredentialKind, Party, PeerKind, PeerStatus
from chargenet.bootstrap import Platform, bootstrap, build_ocpi
from chargenet.config import Settings
from chargenet.core.events import (
    ChargerRegistered,
    Event,
    OperatorRegistered,
    Source,
    StationRegistered,
    event_meta,
)
from chargenet.core.ids import ChargerId, ConnectorId, OperatorId, StationId
from chargenet.core.registry.model import (
    ChargerRecord,
    ConnectorRecord,
    ConnectorStandard,
    EvseRecord,
    OperatorRecord,
    PowerType,
    StationRecord,
)
from chargenet.entrypoints.web import create_app
from chargenet.kit.net import free_port

T0 = datetime(2025, 5, 1, tzinfo=UTC)
PARTY = Party("CN", "XZP")


def world(evses: int) -> list[Event]:
    source = Source(adapter="ocpi", operator_id=OperatorId("OP1"))
    out: list[Event] = [
        OperatorRegistered(
            **event_meta("op", source, T0),
            operator=OperatorRecord(operator_id=OperatorId("OP1"), name="晋北充电"),
        ),
        StationRegistered(
            **event_meta("st", source, T0),
            station=StationRecord(
                station_id=StationId("CN*XZP*LOC1"),
                operator_id=OperatorId("OP1"),
                name="站",
                lat=38.4,
                lon=112.7,
            ),
        ),
    ]
    for n in range(evses):
        cid = f"CN*XZP*E{n}"
        connector = ConnectorRecord(
            connector_no=1,
            connector_id=ConnectorId(f"{cid}*1"),
            standard=ConnectorStandard.GBT_DC,
            power_type=PowerType.DC,
            max_power_w=120_000,
        )
        record = ChargerRecord(
            charger_id=ChargerId(cid),
            station_id=StationId("CN*XZP*LOC1"),
            protocol="ocpi",
            evses=(EvseRecord(evse_no=1, evse_uid=f"E{n}", connectors=(connector,)),),
        )
        out.append(ChargerRegistered(**event_meta(f"ch{n}", source, T0), charger=record))
    return out


class Server:
    def __init__(self, app: Callable[..., Any], port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", loop="asyncio")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join()


def prepare(
    db: str, evses: int, per_request: bool, hub: bool = False
) -> tuple[Platform, OcpiParty, str]:
    settings = Settings(
        database_url=db, sqlite_synchronous="NORMAL", port=free_port(), ocpi_pull_interval_s=0
    )
    platform = bootstrap(settings)
    platform.ingestor.ingest(world(evses))
    ocpi = build_ocpi(platform)
    if per_request:

        async def submit(events: Sequence[Event]) -> list[Outcome]:
            return await asyncio.to_thread(platform.ingestor.ingest, list(events))

        ocpi.submit = submit
        ocpi.__post_init__()  # rebuild the receiver on the per-request path
    if hub:
        ocpi.hub = Hub(ocpi, platform.pipeline.submit, still_alive_s=0)
    now = platform.clock.now()
    token = new_token()
    ocpi.directory.add_peer("CN*XZP", PeerKind.CPO, "bench", now)
    ocpi.directory.add_credential(token_digest(token), "CN*XZP", CredentialKind.C, now)
    ocpi.directory.update_peer("CN*XZP", now, status=PeerStatus.REGISTERED)
    ocpi.directory.set_party(PARTY, "OP1", "CN*XZP", now)
    return platform, ocpi, token


async def _patch(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: str, path: str, body: bytes
) -> bytes:
    writer.write(
        f"PATCH {path} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    )
    header = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in header.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return header.split(b" ", 2)[1] + b" " + await reader.readexactly(length)


async def drive(port: int, token: str, patches: int, evses: int, clients: int) -> float:
    """Concurrent keep-alive connections speaking plain HTTP/1.1 (httpx's async client costs
    more CPU per request than the server does, and would be what is measured)."""
    head = (
        f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Token {base64.b64encode(token.encode()).decode()}\r\n"
    )
    queue = list(range(patches - 1, -1, -1))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            n = queue.pop()
            evse, round_ = n % evses, n // evses
            body = json.dumps(
                {
                    "status": "CHARGING" if round_ % 2 == 0 else "AVAILABLE",
                    "last_updated": utc_text(T0 + timedelta(seconds=round_ + 1)),
                }
            ).encode()
            path = f"/ocpi/2.2.1/receiver/locations/CN/XZP/LOC1/E{evse}"
            reply = await _patch(reader, writer, head, path, body)
            if not reply.startswith(b"200 ") or b'"status_code":1000' not in reply:
                failures += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{failures} PATCHes failed")
    return patches / elapsed


def client_process(port: int, token: str, patches: int, evses: int, clients: int, out: Any) -> None:
    out.put(asyncio.run(drive(port, token, patches, evses, clients)))


def run(
    db: str, patches: int, evses: int, clients: int, per_request: bool, hub: bool = False
) -> tuple[float, int]:
    platform, ocpi, token = prepare(db, evses, per_request, hub)
    app = create_app(platform, routers=[ocpi_router(ocpi)])
    port = platform.settings.port
    before = platform.read.counts()["events"]
    # The clients run in a process of their own, so that they do not share the server's
    # interpreter lock (in one process the harness, not the server, sets the pace).
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    with Server(app, port):
        client = context.Process(
            target=client_process,
            args=(port, token, patches, evses, clients, results),
        )
        client.start()
        rate = float(results.get())
        client.join()
    applied = platform.read.counts()["events"] - before
    ocpi.directory.dispose()
    platform.close()
    return rate, applied


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patches", type=int, default=3000)
    parser.add_argument("--evses", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file per run)")
    parser.add_argument("--hub", action="store_true", help="as a hub against without one")
    args = parser.parse_args()
    runs = (
        (("pipeline, as a hub", False, True), ("baseline: pipeline, no hub", False, False))
        if args.hub
        else (
            ("pipeline (batched commits)", False, False),
            ("baseline: commit per request", True, False),
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, per_request, hub in runs:
            db = args.db or f"sqlite:///{Path(tmp) / (str(per_request) + str(hub) + '.db')}"
            rate, applied = run(db, args.patches, args.evses, args.clients, per_request, hub)
            results[name] = rate
            print(f"{name:32s} {rate:8.0f} PATCH/s   ({applied} status events applied)")
        measured, baseline = results.values()
        print(f"ratio {runs[0][0]} / baseline: {measured / baseline:.2f}×")
        print(
            f"({args.patches} PATCHes over {args.evses} EVSEs,"
            f" {args.clients} concurrent clients, loopback HTTP)"
        )


if __name__ == "__main__":
    main()
