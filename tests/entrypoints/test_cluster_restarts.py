"""A cluster whose services restart under load: NATS JetStream and PostgreSQL each stopped
and started again while `ocpp`-library chargers keep sending to two intake nodes. The
cluster rides it out: every meter value a charger was answered is in the log exactly once
and in the order sent; what a node could not store it answered with a CallError, and the
charger sent again. Each service is a private one (its own port and directory), so the
machine's own servers and the other tests are untouched; skipped, saying why, where
nats-server or PostgreSQL's binaries are missing."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from benchmarks.cluster.harness import (
    Cluster,
    Sent,
    cluster,
    register_fleet,
    run_charger,
)
from chargenet.kit.net import free_port
from tests.cluster_services import NATS_URL, jetstream_missing
from tests.entrypoints.test_cluster_faults import (
    BOUND_S,
    CHARGERS,
    MESSAGES,
    every_ack_stored_once,
    load,
    urls,
)

pytestmark = pytest.mark.postgres


def _listening(port: int, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {within_s:g} s")


@dataclass
class PrivateNats:
    """nats-server with JetStream on file storage in a directory of its own."""

    store: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("nats-server")
        assert binary is not None
        command = [binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _listening(self.port, 15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # lame-duck: JetStream flushes its store
            self.process.wait(30)

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of its own, run by the `postgres` user (the server refuses
    root) from a directory made for it."""

    bin: Path
    data: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def init(self) -> None:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    def pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", *extra, action
        )

    def restart(self, down_s: float = 1.0) -> None:
        self.pg_ctl("stop", "-m", "fast")  # connections are cut, as in a failover
        time.sleep(down_s)
        self.pg_ctl("start", "-l", str(self.data / "log"))


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[PrivateNats]:
    if shutil.which("nats-server") is None:
        pytest.skip("no nats-server binary to run a private JetStream")
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_server() -> Iterator[PrivatePostgres]:
    pg = _pg_bin()
    if pg is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("no PostgreSQL server binaries to run a private PostgreSQL")
    data = Path(tempfile.mkdtemp(prefix="chargenet-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    server = PrivatePostgres(pg, data / "data")
    try:
        if os.geteuid() == 0:
            mkdir = ["runuser", "-u", "postgres", "--", "mkdir", str(server.data)]
            subprocess.run(mkdir, check=True)
        server.init()
        server.pg_ctl("start", "-l", str(data / "log"))
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def _running(
    database_url: str, nats_url: str, workdir: Path
) -> Iterator[tuple[Cluster, list[str]]]:
    ids = register_fleet(database_url, CHARGERS, "K")  # migrates the database first
    with cluster(database_url, nats_url, workdir) as made:
        yield made, ids


@pytest.fixture
def nats_url() -> str:
    """The machine's NATS JetStream (skipped, saying why, without it)."""
    why = jetstream_missing()
    if why:
        pytest.skip(why)
    return NATS_URL


THIRD = CHARGERS * MESSAGES // 3  # the fault comes once a third is acknowledged


def test_nats_restarted_under_load_loses_nothing_acknowledged(
    postgres_url: str, nats_server: PrivateNats, tmp_path: Path
) -> None:
    with _running(postgres_url, nats_server.url, tmp_path) as (made, ids):
        a, b = made.intake("a"), made.intake("b")
        made.writer()
        loaded = asyncio.run(load(ids, urls(a, b), nats_server.restart, THIRD, pause_s=0.02))
        sent, over = loaded.sent, loaded.over
        assert over < CHARGERS * MESSAGES  # the outage fell while chargers were sending
        every_ack_stored_once(made, sent)


def test_postgres_restarted_under_load_loses_nothing_acknowledged(
    postgres_server: PrivatePostgres, nats_url: str, tmp_path: Path
) -> None:
    with _running(postgres_server.url, nats_url, tmp_path) as (made, ids):
        a, b = made.intake("a"), made.intake("b")
        made.writer()
        restart = postgres_server.restart
        loaded = asyncio.run(load(ids, urls(a, b), restart, THIRD, pause_s=0.02))
        sent, began, over = loaded.sent, loaded.began, loaded.over
        # Intake nodes answer from the stream: chargers were answered while the database
        # was away, and the writer stored it all once the database was back.
        assert began < over
        every_ack_stored_once(made, sent)


def test_an_api_node_killed_leaves_another_whose_order_reaches_the_charger(
    postgres_url: str, nats_url: str, tmp_path: Path
) -> None:
    with _running(postgres_url, nats_url, tmp_path) as (made, ids):
        intake = made.intake("a")
        made.writer()
        first, second = made.api("api1"), made.api("api2")
        target = ids[0]

        async def scenario() -> tuple[Sent, httpx.Response, httpx.Response]:
            sent, hold = Sent(), asyncio.Event()
            charger = asyncio.create_task(run_charger(target, urls(intake), 3, sent, hold=hold))
            async with asyncio.timeout(BOUND_S):
                while len(sent.acked) < 3:
                    await asyncio.sleep(0.05)
                await asyncio.to_thread(first.kill9)
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{second.port}",
                    headers={"Authorization": f"Bearer {made.token}"},
                    timeout=30,
                ) as http:
                    order = {
                        "target_kind": "charger",
                        "target_id": target,
                        "reason": "api node killed",
                        "timeout_s": 10,
                    }
                    ordered = await http.post("/api/v1/supervision/stop-orders", json=order)
                    listed = await http.get("/api/v1/supervision/stop-orders")
                hold.set()
                await charger
            return sent, ordered, listed

        sent, ordered, listed = asyncio.run(scenario())
        assert ordered.status_code == 201, ordered.text
        assert sent.orders == [{"action": "ChangeAvailability", "type": "Inoperative"}]
        [delivery] = ordered.json()["deliveries"]
        assert (delivery["charger_id"], delivery["outcome"]) == (target, "accepted")
        assert listed.status_code == 200, listed.text
        assert target in listed.text  # the order is in the shared store, not the dead node
