"""The CPU each process of a cluster spends per stored OCPP message: where the 2 cores go.

    python -m benchmarks.cluster.budget                         # 1 intake + 1 writer
    python -m benchmarks.cluster.budget --intakes 2 --runs 3    # 2 intakes + 1 writer

Runs the chargers' load of `python -m benchmarks.cluster` (the hand-made client of
`benchmarks/ocpp_ingest`, each charger one CALL at a time) against real `chargenet serve
--role intake|writer` processes, and reads each process's user + system CPU time from
/proc/<pid>/stat before and after the load: the load generators, the intakes, the writer,
the NATS server, and PostgreSQL (the backends connected to the run's database; the
server's own background processes are counted apart, as they also serve others' work on
a shared machine). Prints µs of CPU per stored message for each (per OCPP message answered
and stored, not per row: a BootNotification is three events), the stored messages/s,
and what that CPU would allow on 2 cores if nothing else ran.

NATS is a private `nats-server` of the run's own (a port and store directory of its own,
its monitoring port read for the messages it took in and sent out), so that other
people's use of the machine's server is not counted; `--shared-nats` uses `--nats` and
counts every nats-server process instead. Also printed per stored message: NATS messages
(and bytes) in and out, and PostgreSQL commits in the run's database (`pg_stat_database`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.cluster.__main__ import ADMIN, LogSize, database, drive
from benchmarks.cluster.harness import cluster, register_fleet
from benchmarks.ocpp_ingest.__main__ import Child
from chargenet.kit.net import free_port

TICK = os.sysconf("SC_CLK_TCK")
# The writer's last line (entrypoints/cluster.py), where it has one.
WRITER_FIGURES = re.compile(
    r"stopped after (?P<rounds>\d+) rounds: (?P<messages>\d+) stream messages, "
    r"(?P<events>\d+) events, (?P<requests>\d+) pull requests"
)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # after the command: state is fields[0]; utime, stime, cutime, cstime are 14–17 of stat
    return sum(int(x) for x in fields[11:15]) / TICK


def schedstat_s(pid: int) -> float:
    """Seconds a process has run on a CPU (/proc/PID/schedstat, in nanoseconds: finer than
    `cpu_s`'s ticks, for one batch's statements); 0 once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@contextlib.contextmanager
def private_nats(workdir: Path) -> Iterator[tuple[str, int, str]]:
    """A nats-server with JetStream of this run's own: (its URL, its pid, its monitoring URL)."""
    binary = shutil.which("nats-server")
    if binary is None:
        raise SystemExit("no nats-server binary: pass --shared-nats")
    port, monitor = free_port(), free_port()
    store = workdir / f"nats-{port}"
    process = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    varz = f"http://127.0.0.1:{monitor}/varz"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(varz, timeout=1).read()
                break
            time.sleep(0.1)
        yield f"nats://127.0.0.1:{port}", process.pid, varz
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(store, ignore_errors=True)


def nats_counts(varz: str) -> dict[str, int]:
    """Messages the server took in and sent out so far, in all and per role: from each
    named connection (`chargenet <role> <node>`), what it sent the server ("in") and what
    the server sent it ("out")."""
    if not varz:
        return {}
    seen = json.loads(urllib.request.urlopen(varz, timeout=5).read())
    counts = {"in": int(seen["in_msgs"]), "out": int(seen["out_msgs"])}
    counts["in bytes"], counts["out bytes"] = int(seen["in_bytes"]), int(seen["out_bytes"])
    connz = varz.replace("/varz", "/connz?limit=4096")
    for conn in json.loads(urllib.request.urlopen(connz, timeout=5).read())["connections"]:
        parts = str(conn.get("name", "")).split()
        if len(parts) >= 2 and parts[0] == "chargenet":
            for way in ("in", "out"):
                key = f"{parts[1]} {way}"
                counts[key] = counts.get(key, 0) + int(conn[f"{way}_msgs"])
    return counts


def commits(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s",
            (url.rsplit("/", 1)[1],),
        ).fetchone()
    return int(row[0]) if row else 0


def backends(url: str) -> set[int]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        name = url.rsplit("/", 1)[1]
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return {int(r[0]) for r in rows}


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return 0


def pg_title(pid: int) -> str:
    """A PostgreSQL process's title: "postgres: walwriter", "postgres: autovacuum worker
    DB", "postgres: USER DB HOST(PORT) idle", or the postmaster's command line."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()
    except OSError:
        return ""


# PostgreSQL's CPU that is not the run's: printed apart, counted in no total.
APART = ("the benchmark's polling", "other databases' backends")


class PgWatch:
    """PostgreSQL's CPU during the run, by process. A process that exits (a backend that
    connected and left, an autovacuum worker) is seen only while it lives: every poll of
    the log's size notes each process's CPU so far, and what it spent after its last
    sighting is in its parent's, the postmaster's, reaped-children time, counted as
    "postmaster and unseen". The log is polled on a connection of its own, counted
    apart (a new connection each poll would cost more than the writer's statements)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.database = url.rsplit("/", 1)[1]

    def __enter__(self) -> PgWatch:
        self.log = LogSize(self.url)
        self.poller = self.log.conn.info.backend_pid
        self.postmaster = parent(self.poller)
        self.first = {p: cpu_s(p) for p in self.server()}
        self.last = dict(self.first)
        self.titles = {p: pg_title(p) for p in self.first}
        return self

    def __exit__(self, *exc: object) -> None:
        self.log.close()

    def server(self) -> list[int]:
        """The run's server's processes: its postmaster and the postmaster's children
        (another server on the machine, such as a private one, is not counted)."""
        return [
            p
            for p in pids_named("postgres")
            if p == self.postmaster or parent(p) == self.postmaster
        ]

    def sample(self) -> None:
        for p in self.server():
            if p not in self.titles:
                self.titles[p] = pg_title(p)
            if (t := cpu_s(p)) > 0:
                self.last[p] = t

    def stored(self) -> int:
        rows = self.log()
        self.sample()
        return rows

    def used(self) -> dict[str, float]:
        self.sample()
        alive = set(self.server())
        shares: dict[str, float] = {"backends": 0.0, **dict.fromkeys(APART, 0.0)}
        unseen = 0.0
        postmaster = None
        for p, last in self.last.items():
            spent = last - self.first.get(p, 0.0)
            title = self.titles.get(p, "")
            if p not in alive:
                unseen -= last  # in the postmaster's reaped time in full, counted here
            if p == self.postmaster:
                postmaster = p
                continue
            words = title.split(":")[-1].split()
            if p == self.poller:
                kind = APART[0]
            elif words[:2] == ["autovacuum", "worker"]:
                kind = "autovacuum workers"
            elif len(words) >= 3 and "(" in words[2]:  # USER DB HOST(PORT): a backend
                kind = "backends" if words[1] == self.database else APART[1]
            else:
                kind = " ".join(words[:2])
            shares[kind] = shares.get(kind, 0.0) + spent
        if postmaster is not None:
            unseen += self.last[postmaster] - self.first.get(postmaster, 0.0)
            shares["postmaster and unseen"] = unseen
        return shares


async def one_run(
    args: argparse.Namespace, url: str, ids: list[str], workdir: Path
) -> dict[str, Any]:
    clients = [Child() for _ in range(args.clients)]
    try:
        with contextlib.ExitStack() as stack:
            if args.shared_nats:
                nats_url, nats_pids, varz = args.nats, pids_named("nats-server"), ""
            else:
                nats_url, pid, varz = stack.enter_context(private_nats(workdir))
                nats_pids = [pid]
            return await measured(args, url, ids, workdir, clients, nats_url, nats_pids, varz)
    finally:
        for c in clients:
            c.close()


async def measured(
    args: argparse.Namespace,
    url: str,
    ids: list[str],
    workdir: Path,
    clients: list[Child],
    nats_url: str,
    nats_pids: list[int],
    varz: str,
) -> dict[str, Any]:
    with cluster(url, nats_url, workdir, ack_wait_s=30.0) as made:
        nodes = [made.intake(f"i{k}") for k in range(args.intakes)]
        made.writer("w0")
        urls = [f"ws://127.0.0.1:{n.port}/ocpp" for n in nodes]
        await asyncio.sleep(1.0)
        groups: dict[str, list[int]] = {
            "load generators": [c.process.pid for c in clients if c.process.pid],
            "intakes": [p for n in nodes for p in n.pids()],
            "writer": [p for n in made.nodes if n.role == "writer" for p in n.pids()],
            "NATS server": nats_pids,
        }
        nats_before, commits_before = nats_counts(varz), commits(url)
        before = {k: sum(cpu_s(p) for p in v) for k, v in groups.items()}
        start_load = os.getloadavg()[0]
        with PgWatch(url) as pg:
            out = await drive(
                clients, "load", urls, ids[: args.chargers], args.messages, pg.stored, pg.sample
            )
            used = {k: sum(cpu_s(p) for p in v) - before[k] for k, v in groups.items()}
            shares = pg.used()
        used["PostgreSQL (run's backends)"] = shares.pop("backends")
        out["pg_apart"] = {k: shares.pop(k) for k in APART}
        used["PostgreSQL (others: WAL, other work)"] = sum(shares.values())
        out["pg_others"] = shares
        out["cpu"] = used
        nats_after = nats_counts(varz)
        out["nats"] = {k: v - nats_before.get(k, 0) for k, v in nats_after.items()}
        out["commits"] = commits(url) - commits_before
        out["load"] = (start_load, os.getloadavg()[0])
        for node in made.nodes:
            node.stop()
            if node.role == "writer" and (
                seen := WRITER_FIGURES.search(" ".join(node.tail().split()))
            ):
                out["writer"] = {k: int(v) for k, v in seen.groupdict().items()}
        made.nodes.clear()
        return out


async def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    with database(args.postgres) as url:
        ids = register_fleet(url, args.chargers, "B")
        runs = []
        for _ in range(args.runs):
            # a fresh database each run would cost a migration; the log only grows
            runs.append(await one_run(args, url, ids, workdir))
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=60, help="messages per charger")
    parser.add_argument("--intakes", type=int, default=1)
    parser.add_argument("--clients", type=int, default=2, help="load-generating processes")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--postgres", default=ADMIN)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="with --shared-nats")
    parser.add_argument(
        "--shared-nats", action="store_true", help="use --nats, not a private nats-server"
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = asyncio.run(run(args, Path(tmp)))
    print(
        f"budget: {args.intakes} intake(s) + 1 writer, "
        f"{args.chargers} chargers × {args.messages} messages, {args.clients} client processes"
    )
    for i, r in enumerate(runs):
        print(
            f"run {i + 1}: {r['messages']:,} messages, {r['stored']:,} rows stored, "
            f"{r['stored_per_s']:,.0f} messages/s end to end, "
            f"{r['answered_per_s']:,.0f}/s answered, failures {r['failures']}, "
            f"load average {r['load'][0]:.1f} → {r['load'][1]:.1f}"
        )
    print(f"{'µs of CPU per stored message (median)':44}{'µs':>8}{'share':>8}")
    keys = list(runs[0]["cpu"])
    per = {
        k: statistics.median(r["cpu"][k] / max(r["messages"], 1) * 1e6 for r in runs) for k in keys
    }
    total = sum(per.values())
    for k in keys:
        print(f"{k:44}{per[k]:8.0f}{per[k] / total:8.0%}")
    print(f"{'total':44}{total:8.0f}")
    print("PostgreSQL's others by process, µs per stored message, median (runs)")
    for title in sorted({t for r in runs for t in [*r["pg_others"], *r["pg_apart"]]}):
        each = [
            {**r["pg_others"], **r["pg_apart"]}.get(title, 0.0) / max(r["messages"], 1) * 1e6
            for r in runs
        ]
        apart = "  (not counted above)" if title in APART else ""
        print(f"  {title:40}{statistics.median(each):8.1f}  ({_runs(each, 1)}){apart}")
    print(
        f"at that CPU, 2 cores would store at most {2e6 / total:,.0f} messages/s; "
        f"without the load generators {2e6 / (total - per['load generators']):,.0f}/s"
    )
    if not args.shared_nats:
        print(
            "NATS messages (and bytes) per stored message (in: to the server; out: from it), "
            "median (runs)"
        )
        for key in runs[0]["nats"]:
            each = [r["nats"].get(key, 0) / max(r["messages"], 1) for r in runs]
            print(f"  {key:24}{statistics.median(each):8.2f}  ({_runs(each)})")
    if all("writer" in r for r in runs):
        each = [r["writer"]["events"] / max(r["writer"]["rounds"], 1) for r in runs]
        print(f"writer: events per round {statistics.median(each):.1f} ({_runs(each, 1)})")
        each = [r["writer"]["events"] / max(r["writer"]["messages"], 1) for r in runs]
        print(f"writer: events per stream message {statistics.median(each):.2f} ({_runs(each)})")
        each = [r["writer"]["requests"] / max(r["writer"]["rounds"], 1) for r in runs]
        print(f"writer: pull requests per round {statistics.median(each):.2f} ({_runs(each)})")
    each = [r["commits"] / max(r["messages"], 1) for r in runs]
    print(f"PostgreSQL commits per stored message: {statistics.median(each):.3f} ({_runs(each)})")
    for label, key in (("stored", "stored_per_s"), ("answered", "answered_per_s")):
        each = [r[key] for r in runs]
        print(f"messages/s {label}: {statistics.median(each):,.0f} ({_runs(each, 0)})")
    print(f"total {time.perf_counter() - started:.0f} s")


def _runs(values: list[float], digits: int = 2) -> str:
    return ", ".join(f"{v:,.{digits}f}" for v in values)


if __name__ == "__main__":
    main()
