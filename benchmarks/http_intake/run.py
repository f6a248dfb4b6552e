"""HTTP intake measured from separate processes: OCPI EVSE status PATCHes and T/CEC 102
status pushes (notification_stationStatus) against `chargenet serve` processes on
PostgreSQL, against a baseline in the same run.

The load comes from `--procs` processes of its own (multiprocessing, spawn), each with one
httpx.AsyncClient (keep-alive connections) and its share of `--clients` concurrent
requests; they start together and each request's latency is kept. The server is a real
`chargenet serve` process (`--role all`), and, with `--nodes 2`, two `--role api`
processes on the same database (HTTP intake on several nodes: the api role writes its
pushes to PostgreSQL itself; it needs NATS for the socket map), the clients split between
them as a balancer would. Shared state (T/CEC tokens, replay guard) is in the database
(`CHARGENET_SHARED_STATE=database`) in every run, so one node and two do the same work.

Baseline, same run, same clients, same database: a bare Starlette app that parses the
JSON body and commits one row per request (benchmarks/http_intake/baseline.py).

    python -m benchmarks.http_intake [--requests 3000] [--clients 50] [--procs 2]
                                     [--runs 3] [--nodes 1 2] [--only ocpi tcec]
                                     [--profile DIR]

`--profile DIR` runs the single node under cProfile (every thread) and writes
DIR/serve-KIND.prof (KIND: ocpi or tcec); the figures of that run are slower than unprofiled
ones.

Besides the rate, each run reports the CPU time the server processes (and any children
they spawned) spent over the load, read from /proc before and after, divided by the
requests: on a shared machine this moves far less than the rate does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from cryptography.fernet import Fernet

from benchmarks.ocpi.patches import PARTY, T0, world
from chargenet.adapters.ocpi.wire import new_token, token_digest, utc_text
from chargenet.adapters.tcec import wire
from chargenet.adapters.tcec.crypto import KeySet
from chargenet.app.ocpi import CredentialKind, PeerKind, PeerStatus
from chargenet.bootstrap import bootstrap, build_ocpi
from chargenet.config import Settings
from chargenet.core.events import OperatorRegistered, Source, event_meta
from chargenet.core.ids import OperatorId
from chargenet.core.registry.model import OperatorRecord
from chargenet.demo.tcec_operator import OperatorSimulator
from chargenet.kit.clock import SystemClock
from chargenet.kit.net import free_port

ADMIN = os.environ.get(
    "CHARGENET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NATS = os.environ.get("CHARGENET_NATS_URL", "nats://127.0.0.1:4222")
EVSES = 200
TCEC_STATIONS = 25
TCEC_OPERATOR = "OPT"
ZONE = "Asia/Shanghai"
TOKEN_SECRET = "bench-token-secret"


@contextmanager
def database() -> Iterator[str]:
    name = f"chargenet_httpbench_{uuid.uuid4().hex[:8]}"
    admin = ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Seeded:
    ocpi_token: str
    tcec_partner: str
    tcec_secret: str
    tcec_keys: tuple[str, str, str]


def seed(url: str, master_key: str) -> Seeded:
    """The schema, 200 OCPI EVSEs of one registered CPO, one T/CEC partner, the baseline's
    table."""
    settings = Settings(
        database_url=url,
        tcec_master_key=master_key,
        shared_state="database",
        token_secret=TOKEN_SECRET,
    )
    platform = bootstrap(settings)
    platform.ingestor.ingest(world(EVSES))
    source = Source(adapter="bench")
    platform.ingestor.ingest(
        [
            OperatorRegistered(
                **event_meta("opt", source, T0),
                operator=OperatorRecord(operator_id=OperatorId(TCEC_OPERATOR), name="模拟运营商"),
            )
        ]
    )
    ocpi = build_ocpi(platform)
    now = platform.clock.now()
    token = new_token()
    ocpi.directory.add_peer("CN*XZP", PeerKind.CPO, "bench", now)
    ocpi.directory.add_credential(token_digest(token), "CN*XZP", CredentialKind.C, now)
    ocpi.directory.update_peer("CN*XZP", now, status=PeerStatus.REGISTERED)
    ocpi.directory.set_party(PARTY, "OP1", "CN*XZP", now)
    ocpi.directory.dispose()
    sim = OperatorSimulator(clock=SystemClock(), stations=TCEC_STATIONS)
    creds = platform.tcec.admin.add(
        partner_id=sim.operator_id,
        operator_id=TCEC_OPERATOR,
        name="模拟运营商",
        base_url="http://127.0.0.1:9/unused",
        pull=False,
    )
    platform.tcec.admin.set_outbound(sim.operator_id, sim.issued.operator_secret, sim.issued.keys)
    with platform.store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, body text NOT NULL)"
        )
    platform.close()
    keys = creds.keys
    return Seeded(
        token, sim.operator_id, creds.operator_secret, (keys.data_key, keys.data_iv, keys.sig_key)
    )


def server_env(url: str, master_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "CHARGENET_DATABASE_URL": url,
        "CHARGENET_TCEC_MASTER_KEY": master_key,
        "CHARGENET_SHARED_STATE": "database",
        "CHARGENET_OCPI_PULL_INTERVAL_S": "0",
        "CHARGENET_TCEC_BACKFILL_GAP_S": "1e9",
        "CHARGENET_LOG_LEVEL": "WARNING",
        "CHARGENET_TOKEN_SECRET": TOKEN_SECRET,
    }


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of these processes and their descendants (every thread), from
    /proc: what the server spent, whichever thread or child process spent it."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


@dataclass
class Running:
    urls: list[str]
    pids: list[int]


@contextmanager
def servers(
    server: str, nodes: int, url: str, master_key: str, profile: Path | None, kind: str = ""
) -> Iterator[Running]:
    """`chargenet serve` on one node (role all) or `nodes` api nodes; or the baseline.
    `kind` (ocpi, tcec) names the profile's file."""
    env = server_env(url, master_key)
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for n in range(nodes):
            port = free_port()
            if server == "baseline":
                cmd = [
                    sys.executable, "-m", "uvicorn", "benchmarks.http_intake.baseline:app",
                    "--port", str(port), "--log-level", "warning",
                    "--loop", "asyncio",  # the loop chargenet's api nodes run on
                ]  # fmt: skip
                env["BENCH_BASELINE_DB"] = url
            else:
                role = ["--role", "all"] if nodes == 1 else ["--role", "api", "--nats", NATS]
                run = ["-m", "chargenet"]
                if profile is not None:
                    prof = str(profile / f"serve-{kind}.prof")
                    run = ["-m", "benchmarks.http_intake.profiled", prof]
                cmd = [
                    sys.executable, *run, "serve", "--port", str(port), "--ocpp-port", "0",
                    "--token", "bench", "--node", f"bench{n}", *role,
                ]  # fmt: skip
            # The servers' own output goes to a file (a pipe nobody reads would fill up and
            # stall them).
            log = (profile or Path(tempfile.gettempdir())) / f"http_intake_{server}_{n}.log"
            with log.open("ab") as out:
                procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=out))
            urls.append(f"http://127.0.0.1:{port}")
        for u, p in zip(urls, procs, strict=True):
            wait_up(u, p)
        yield Running(urls, [p.pid for p in procs])
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()


# --- the load: processes of their own ---------------------------------------------------


@dataclass(frozen=True)
class Job:
    kind: str  # ocpi | tcec
    url: str
    index: int  # this process's number
    procs: int
    requests: int  # in all, over every process
    clients: int  # concurrent requests of this process
    round_base: int  # OCPI: last_updated grows from run to run
    ocpi_token: str = ""
    tcec_partner: str = ""
    tcec_token: str = ""
    tcec_keys: tuple[str, str, str] = ("", "", "")
    connectors: tuple[str, ...] = ()


async def _drive(job: Job, go: Any) -> tuple[float, float, list[float], int]:
    mine = list(range(job.index, job.requests, job.procs))
    mine.reverse()
    latencies: list[float] = []
    failures = 0
    keys = KeySet(*job.tcec_keys) if job.kind == "tcec" else None
    zone = ZoneInfo(ZONE)
    seq = 0
    headers = {"Content-Type": "application/json"}
    if job.kind == "ocpi":
        import base64

        headers["Authorization"] = f"Token {base64.b64encode(job.ocpi_token.encode()).decode()}"
    elif job.kind == "tcec":
        headers["Authorization"] = f"Bearer {job.tcec_token}"

    def request(n: int) -> tuple[str, str, bytes]:
        nonlocal seq
        if job.kind == "ocpi":
            evse, round_ = n % EVSES, n // EVSES
            body = {
                "status": "CHARGING" if round_ % 2 == 0 else "AVAILABLE",
                "last_updated": utc_text(T0 + timedelta(seconds=job.round_base + round_ + 1)),
            }
            return "PATCH", f"/ocpi/2.2.1/receiver/locations/CN/XZP/LOC1/E{evse}", _dumps(body)
        if job.kind == "tcec":
            assert keys is not None
            seq += 1
            # A (TimeStamp, Seq) pair is used once (replay guard): each process takes its
            # own block of the 9,999 Seq values of a second.
            stamp = wire.format_timestamp(datetime.now(UTC), zone)
            number = job.index * (9000 // job.procs) + seq % (9000 // job.procs) + 1
            status = 3 if (n // len(job.connectors)) % 2 == 0 else 1
            connector = job.connectors[n % len(job.connectors)]
            payload = {"ConnectorStatusInfo": {"ConnectorID": connector, "Status": status}}
            sealed = wire.build_request(job.tcec_partner, payload, keys, stamp, f"{number:04d}")
            return "POST", "/tcec/v1/notification_stationStatus", _dumps(sealed)
        return "PATCH", f"/bench/{n}", _dumps({"status": "CHARGING", "n": n})

    limits = httpx.Limits(max_connections=job.clients, max_keepalive_connections=job.clients)
    async with httpx.AsyncClient(base_url=job.url, limits=limits, timeout=60) as http:
        await http.get("/healthz")  # connections warm before the clock starts
        await asyncio.to_thread(go.wait)
        started = time.time()

        async def worker() -> None:
            nonlocal failures
            while mine:
                method, path, body = request(mine.pop())
                t = time.perf_counter()
                try:
                    try:
                        reply = await http.request(method, path, content=body, headers=headers)
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # A keep-alive connection the server closed as idle (uvicorn: after
                        # 5 s; clients on a loaded machine can be that slow to start): sent
                        # again once on a new one, as browsers and HTTP libraries do.
                        t = time.perf_counter()
                        reply = await http.request(method, path, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    failures += 1
                    print(f"  failed: {exc!r}", file=sys.stderr)
                    continue
                latencies.append(time.perf_counter() - t)
                text = reply.text
                if reply.status_code != 200 or not (
                    '"status_code":1000' in text or '"Ret":0' in text
                ):
                    failures += 1
                    if failures <= 3:
                        print(f"  failed: {reply.status_code} {text[:200]}", file=sys.stderr)

        await asyncio.gather(*(worker() for _ in range(job.clients)))
        ended = time.time()
    return started, ended, latencies, failures


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _client(job: Job, go: Any, out: Any) -> None:
    out.put(asyncio.run(_drive(job, go)))


@dataclass(frozen=True)
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float = 0.0  # the servers' CPU time per request


def load(jobs: Sequence[Job], pids: Sequence[int] = ()) -> Figures:
    context = multiprocessing.get_context("spawn")
    go, out = context.Event(), context.Queue()
    procs = [context.Process(target=_client, args=(job, go, out)) for job in jobs]
    for p in procs:
        p.start()
    time.sleep(1.0)  # every client process imported and connected
    cpu_before = cpu_seconds(pids)
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    cpu = cpu_seconds(pids) - cpu_before
    for p in procs:
        p.join()
    failures = sum(r[3] for r in results)
    if failures:
        raise SystemExit(f"{failures} requests failed")
    latencies = sorted(x for r in results for x in r[2])
    elapsed = max(r[1] for r in results) - min(r[0] for r in results)
    return Figures(
        len(latencies) / elapsed,
        1000 * latencies[len(latencies) // 2],
        1000 * latencies[int(len(latencies) * 0.99)],
        1000 * cpu / len(latencies),
    )


def tcec_token(url: str, seeded: Seeded) -> tuple[str, tuple[str, ...]]:
    """Register the partner's stations through pushes, then take a token: what the load
    processes use."""

    async def go() -> tuple[str, tuple[str, ...]]:
        sim = OperatorSimulator(clock=SystemClock(), stations=TCEC_STATIONS, push_interval_s=0.1)
        sim.connect(url + "/tcec/v1", seeded.tcec_secret, KeySet(*seeded.tcec_keys), "CHARGENET")
        for station in list(sim.stations):
            await sim.push_station(station)
        token = await sim.token()
        await sim.close()
        return token, tuple(sorted(sim.status))

    return asyncio.run(go())


def jobs_for(
    kind: str, urls: Sequence[str], args: argparse.Namespace, seeded: Seeded, run: int
) -> list[Job]:
    token, connectors = "", tuple[str, ...]()
    if kind == "tcec":
        token, connectors = tcec_token(urls[0], seeded)
    per = max(1, args.clients // args.procs)
    return [
        Job(
            kind=kind,
            url=urls[k % len(urls)],
            index=k,
            procs=args.procs,
            requests=args.requests,
            clients=per,
            round_base=run * 100_000,
            ocpi_token=seeded.ocpi_token,
            tcec_partner=seeded.tcec_partner,
            tcec_token=token,
            tcec_keys=seeded.tcec_keys,
            connectors=connectors,
        )
        for k in range(args.procs)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="+", default=["ocpi", "tcec"])
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    print(
        f"{args.requests} requests a run, {args.clients} concurrent from {args.procs} "
        f"processes, {args.runs} runs; load average before: {os.getloadavg()[0]:.1f}"
    )
    master_key = Fernet.generate_key().decode()
    rows: list[tuple[str, list[Figures]]] = []
    with database() as url:
        seeded = seed(url, master_key)
        for kind in args.only:
            for nodes in args.nodes:
                label = f"{kind}, {nodes} node{'s' if nodes > 1 else ''}"
                runs = []
                for run in range(args.runs):
                    profile = args.profile if (args.profile and nodes == 1) else None
                    with servers("chargenet", nodes, url, master_key, profile, kind) as up:
                        runs.append(load(jobs_for(kind, up.urls, args, seeded, run), up.pids))
                    print(
                        f"  {label}, run {run + 1}: {runs[-1].rate:.0f}/s, "
                        f"{runs[-1].cpu_ms:.2f} ms CPU/request",
                        flush=True,
                    )
                rows.append((label, runs))
            baseline = []
            for run in range(args.runs):
                with servers("baseline", 1, url, master_key, None) as up:
                    jobs = jobs_for("baseline", up.urls, args, seeded, run)
                    baseline.append(load(jobs, up.pids))
                print(
                    f"  baseline, run {run + 1}: {baseline[-1].rate:.0f}/s, "
                    f"{baseline[-1].cpu_ms:.2f} ms CPU/request",
                    flush=True,
                )
            rows.append((f"baseline ({kind} clients)", baseline))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"{'':28} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'× baseline':>11} "
        f"{'CPU ms/req':>11} {'× baseline':>11}  (medians; each run's req/s)"
    )
    base, base_cpu = 1.0, 1.0
    for label, runs in reversed(rows):
        rate = statistics.median(r.rate for r in runs)
        cpu = statistics.median(r.cpu_ms for r in runs)
        if label.startswith("baseline"):
            base, base_cpu = rate, cpu
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        each = ", ".join(f"{r.rate:.0f}" for r in runs)
        print(
            f"{label:28} {rate:7.0f} {p50:8.1f} {p99:8.1f} {rate / base:11.2f} "
            f"{cpu:11.2f} {cpu / base_cpu:11.2f}  ({each})"
        )


if __name__ == "__main__":
    main()
