"""A cluster end to end: OCPP messages/s into PostgreSQL through 1 and N intake processes
and a writer (NATS JetStream between them), a reconnect storm's p99 acknowledgement, and
the `ocpp` library's example central system (`benchmarks/ocpp_ingest/baseline.py`) in the
same run for the ratio (its load driven first, before any storm: see `Baseline`).

    python -m benchmarks.cluster                          # 100 chargers × 40, storm 2,000
    python -m benchmarks.cluster --writers 1,2,3          # 2 intakes and 1, 2, 3 writers
    python -m benchmarks.cluster --intakes 2 --chargers 200 --messages 50 --storm 10000
    python -m benchmarks.cluster --storm 10000 --writers 2 --no-baseline   # chargenet only
    python -m benchmarks.cluster --storm 10000 --writers 1 --intakes 1 --no-baseline \
        --chargers 20 --messages 5                        # the storm, little else

Every process is real: `chargenet serve --role intake` ×1 (with one writer) then ×N,
`--role writer` (×W for each W of --writers: they split the stream's partitions, each
a durable consumer of its own), and the chargers in
`--clients` processes of their own (`benchmarks/ocpp_ingest/loadgen.py`: each charger one
CALL at a time, the next after the answer). Charger k goes to intake k mod N, as a load
balancer would spread them. "Stored" is when the writer has the message in PostgreSQL's
log (polled), not when the charger was answered (once JetStream had it): messages/s end to
end is stored messages over the time from the first send to the last row stored.

The storm runs twice on fresh intake nodes, without admission control (its bounds 0)
and then with the bounds of ADMISSION_ON, the defaults (`--admission` chooses): a
charger refused with 503 comes back after the Retry-After it was given, plus up to a second
of its own. Printed for
each: time to connected (from a charger's first attempt to its open socket), the
acknowledgement of each CALL (from its send to its answer), and the refusals. `--runs 3`
makes three storms of each, alternating on the same cluster, and prints the medians.
PostgreSQL and NATS come from --postgres / --nats (a database is made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.cluster.harness import Cluster, cluster, register_fleet
from benchmarks.ocpp_ingest.__main__ import PASSWORD, Child, pct
from benchmarks.ocpp_ingest.baseline import open_db, serve_baseline
from chargenet.config import Settings

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"chargenet_bench_{uuid.uuid4().hex[:8]}"
    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class LogSize:
    """The log's rows, counted on one kept connection (polled every 20 ms once the chargers
    are done, a connection a poll would fork a PostgreSQL backend each time), and counted
    again only when the server's WAL moved: a commit, of any writer, writes it, and the
    position is read before the count, so a commit after it is seen at the next poll. A
    count of every row each 20 ms, for the 10 s the log must stay still after the chargers
    are done, cost more CPU than the writer (119 µs a stored message).

    A commit's WAL record is written before the commit is visible (the flush comes between):
    a count in that gap misses its rows while the position already includes them, and with
    nothing committed after, they were never counted (a run reported 12,541 of 12,600 rows).
    So the log is counted again at every poll for `SETTLE_S` after the position last moved.

    Only the rows logged since this counter was made are counted (`seq` above the log's
    last when it was made, while nothing was being written: a phase's nodes are started
    idle): the phases of one run share a database, and a count of every row the earlier
    phases left cost the third phase three times the first's."""

    SETTLE_S = 1.0

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        )
        self._lsn: str | None = None  # the WAL position when last counted
        self._moved_at = 0.0  # when that position was first seen
        self._rows = 0
        row = self.conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        self._floor = int(row[0]) if row else 0

    def __call__(self) -> int:
        row = self.conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        lsn, now = (row[0] if row else None), time.perf_counter()
        if lsn != self._lsn or lsn is None:
            self._lsn, self._moved_at = lsn, now
        if now - self._moved_at <= self.SETTLE_S or lsn is None:
            row = self.conn.execute(
                "SELECT count(*) FROM events WHERE seq > %s", (self._floor,)
            ).fetchone()
            self._rows = int(row[0]) if row else 0
        return self._rows

    def cpu_s(self) -> float:
        """The CPU its PostgreSQL backend has spent: what counting took from the 2 cores."""
        from benchmarks.cluster.budget import schedstat_s  # budget imports this module

        return schedstat_s(self.conn.info.backend_pid)

    def close(self) -> None:
        self.conn.close()


# The writer's first rows can come seconds after the chargers are done (its consumers,
# its database connections and its first batch on a loaded machine): counting stops only
# once the log has been still this long after the chargers are done, and never before
# the first row of the phase, unless nothing at all comes within FIRST_ROW_S.
IDLE_S = 10.0
FIRST_ROW_S = 120.0
# While chargers send, the log is polled every POLL_S until its first row, then every
# DRAIN_POLL_S once they are done: the last row's time is known to within a poll, and at
# 0.2 s that was a tenth of a 2-second run (always late, so always against the faster
# system), a sixtieth of the example CSMS's 13 s.
POLL_S = 0.2
DRAIN_POLL_S = 0.02


async def drive(
    clients: list[Child],
    kind: str,
    urls: list[str],
    ids: list[str],
    n: float,
    stored: Any,
    watch: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Spread the chargers over the clients and the clients over the URLs, and run
    `kind` ("load" or "storm"); polls `stored()` until it stops growing. `watch()`, if
    given, is called every POLL_S while the chargers send (budget.py's CPU sampling)."""
    # Client c carries every len(clients)-th charger to intake c mod N (a load balancer's
    # spread); one request at a time per client process (its pipe is not shared).
    groups = [(urls[c % len(urls)], ids[c :: len(clients)]) for c in range(len(clients))]
    counting_cpu = getattr(stored, "cpu_s", None)
    before = last = stored()
    counted_before = counting_cpu() if counting_cpu else 0.0
    grew_at = first_at = None
    start = time.perf_counter()
    jobs = [
        asyncio.ensure_future(client.ask(kind, u, part, PASSWORD, n))
        for client, (u, part) in zip(clients, groups, strict=True)
    ]
    # While the chargers send, the log is counted only until its first row: the time that
    # matters is the last row's, and a count of the whole growing log every POLL_S took
    # CPU from the system measured on the same 2 cores (docs/scale.md, "The benchmark's
    # own polling"). The chargers' end is seen at once, not at the next POLL_S: the last
    # row's time was read up to a poll late (always against the faster system).
    running = set(jobs)
    while running:
        _, running = await asyncio.wait(running, timeout=POLL_S)
        if watch is not None:
            watch()
        if first_at is None:
            now, at = stored(), time.perf_counter()
            if now != last:
                last, grew_at, first_at = now, at, at
    done_at = time.perf_counter()
    counted_cpu = (counting_cpu() - counted_before) if counting_cpu else None
    while True:
        await asyncio.sleep(DRAIN_POLL_S)
        now, at = stored(), time.perf_counter()
        if now != last:
            last, grew_at = now, at
            first_at = first_at or at
        if grew_at is None and at - done_at >= FIRST_ROW_S:
            break  # nothing stored at all: reported as 0
        if grew_at is not None and at - max(grew_at, done_at) >= IDLE_S:
            break
    results = [j.result() for j in jobs]
    acks = sorted(x for r in results for x in r.get("latencies", r.get("acks", [])))
    connected = sorted(x for r in results for x in r.get("connected", []))
    answered = max(r["elapsed"] for r in results)
    count = last - before
    polling = {} if counted_cpu is None else {"polling_ms": counted_cpu * 1000}
    return polling | {
        "messages": len(acks),
        "stored": count,
        "answered_per_s": len(acks) / answered,
        # Messages, until the last row stored: rows are not messages (chargenet logs three
        # events for a BootNotification; the example upserts a StatusNotification in place,
        # so 60,200 messages it committed one by one left 54,400 rows: rows/s understated
        # its rate by a tenth). Each message is answered once its system has it durably.
        "stored_per_s": len(acks) / max((grew_at or start) - start, 1e-9) if count else 0.0,
        "first_row_s": (first_at or start) - start,
        "last_row_after_s": max((grew_at or start) - (done_at or start), 0.0),
        "p50_ms": pct(acks, 0.5) * 1000,
        "p99_ms": pct(acks, 0.99) * 1000,
        "connected_p50_s": pct(connected, 0.5),
        "connected_p99_s": pct(connected, 0.99),
        "refused": sum(r.get("refused", 0) for r in results),
        "dropped": sum(r.get("dropped", 0) for r in results),
        "elapsed_s": answered,
        "failures": sum(r.get("failures", 0) for r in results),
    }


# No bound on the arriving connections or on the backlog: every charger is let in at once.
ADMISSION_OFF = {"CHARGENET_OCPP_MAX_ARRIVING": "0", "CHARGENET_OCPP_MAX_BACKLOG": "0"}
# The platform's default bounds (docs/ocpp.md "Admission control"), spelled out: a node
# that must keep answering its connected chargers within a second in a storm.
ADMISSION_ON = {"CHARGENET_OCPP_MAX_ARRIVING": "500", "CHARGENET_OCPP_MAX_BACKLOG": "2000"}
MODES = {"off": "no admission", "on": "admission"}


async def chargenet(
    made: Cluster,
    intakes: int,
    writers: int,
    ids: list[str],
    args: argparse.Namespace,
    clients: list[Child],
) -> dict[str, Any]:
    modes = ["off", "on"] if args.admission == "both" else [args.admission]

    def start(mode: str) -> list[Any]:
        env = ADMISSION_OFF if mode == "off" else ADMISSION_ON
        return [made.intake(f"i{k}", env=env) for k in range(intakes)]

    nodes = start(modes[0])
    # Writers split whole partitions (CHARGENET_STREAM_PARTITIONS, as the nodes read it).
    partitions = Settings.from_env().stream_partitions
    cuts = [w * partitions // writers * (64 // partitions) for w in range(writers)] + [64]
    for w in range(writers):
        made.writer(f"w{w}", buckets=f"{cuts[w]}-{cuts[w + 1] - 1}" if writers > 1 else "")
    stored = LogSize(made.database_url)  # WITH (FORCE) drops the database if left open
    urls = [f"ws://127.0.0.1:{n.port}/ocpp" for n in nodes]
    out = await drive(clients, "load", urls, ids[: args.chargers], args.messages, stored)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for r in range(args.runs):  # the modes alternate, so that both see the same machine
        for m, mode in enumerate(modes):
            if r or m:  # fresh intake nodes, with this mode's settings
                for node in nodes:
                    node.stop()
                    made.nodes.remove(node)
                nodes = start(mode)
                urls = [f"ws://127.0.0.1:{n.port}/ocpp" for n in nodes]
            storm = await drive(clients, "storm", urls, ids[: args.storm], 0, stored)
            runs[mode].append(storm)
            print(  # as it goes: a long run cut short still says something
                f"storm {r + 1}, {MODES[mode]}: absorbed in {storm['elapsed_s']:.0f} s, "
                f"connected p50/p99 {storm['connected_p50_s']:.1f}/"
                f"{storm['connected_p99_s']:.1f} s, ack p50/p99 {storm['p50_ms']:.0f}/"
                f"{storm['p99_ms']:.0f} ms, {storm['refused']:,} refusals, "
                f"{storm['failures']} failures; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for mode, each in runs.items():
        out.update({f"{mode}_storm_{k}": statistics.median(x[k] for x in each) for k in each[0]})
        out[f"{mode}_storm_runs"] = each
    stored.close()
    for node in made.nodes:
        node.stop()
    made.nodes.clear()
    return out


class Baseline:
    """The example CSMS on a database of its own: its load is driven first, before any
    storm of this run (chargenet's or its own), and its storm last. Driven after chargenet's
    storms of 10,000 chargers it measured a third of its rate (573 against 1,548 stored/s at
    200 chargers × 60, load average 2), which made chargenet's ratio look three times
    better than it is."""

    def __init__(self, workdir: Path) -> None:
        self.path = str(workdir / "baseline.db")
        self.db = open_db(self.path, "FULL")
        self._reader: sqlite3.Connection | None = None

    def count(self) -> int:
        if self._reader is None:  # one kept connection, as for chargenet's log
            self._reader = sqlite3.connect(self.path)
        return int(
            self._reader.execute(
                "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM connector_status)"
            ).fetchone()[0]
        )

    async def drive(
        self, clients: list[Child], what: str, ids: list[str], messages: int
    ) -> dict[str, Any]:
        server = await serve_baseline(self.db)
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        try:
            return await drive(clients, what, [url], ids, messages, self.count)
        finally:
            server.close()
            await server.wait_closed()


async def run(args: argparse.Namespace, workdir: Path) -> list[tuple[str, dict[str, Any]]]:
    results: list[tuple[str, dict[str, Any]]] = []
    with database(args.postgres) as url:
        ids = register_fleet(url, max(args.chargers, args.storm), "B")
        clients = [Child() for _ in range(max(args.clients, args.intakes))]
        try:
            if not args.no_baseline:
                base = Baseline(workdir)
                measured = await base.drive(clients, "load", ids[: args.chargers], args.messages)
            writers = [int(w) for w in args.writers.split(",")]
            shapes = [(1, 1)] if args.intakes > 1 else []
            for intakes, count in [*shapes, *((args.intakes, w) for w in writers)]:
                with cluster(url, args.nats, workdir, ack_wait_s=30.0) as made:
                    label = f"{intakes} intake + {count} writer"
                    results.append(
                        (label, await chargenet(made, intakes, count, ids, args, clients))
                    )
            if not args.no_baseline:
                storm = await base.drive(clients, "storm", ids[: args.storm], 0)
                measured.update({f"off_storm_{k}": v for k, v in storm.items()})
                results.append(("ocpp example CSMS", measured))
        finally:
            for c in clients:
                c.close()
    return results


ROWS = [
    ("messages answered", "messages", "{:,.0f}"),
    ("messages/s answered", "answered_per_s", "{:,.0f}"),
    ("messages/s stored end to end", "stored_per_s", "{:,.0f}"),
    ("rows stored (log growth)", "stored", "{:,.0f}"),
    ("s to the first row stored", "first_row_s", "{:.1f}"),
    ("s from the last answer to last row", "last_row_after_s", "{:.1f}"),
    ("p99 send→answer (ms)", "p99_ms", "{:.1f}"),
    ("ms of PostgreSQL CPU the polling took", "polling_ms", "{:.0f}"),
]
STORM_ROWS = [
    ("chargers answered (×2 frames)", "messages", "{:,.0f}"),
    ("seconds to absorb", "elapsed_s", "{:.1f}"),
    ("connected p50 (s)", "connected_p50_s", "{:.2f}"),
    ("connected p99 (s)", "connected_p99_s", "{:.2f}"),
    ("ack p50 (ms)", "p50_ms", "{:.0f}"),
    ("ack p99 (ms)", "p99_ms", "{:.0f}"),
    ("503 refusals", "refused", "{:,.0f}"),
    ("connections lost, retried", "dropped", "{:,.0f}"),
    ("failures", "failures", "{:,.0f}"),
]


def rows(admission: str) -> list[tuple[str, str, str]]:
    modes = ["off", "on"] if admission == "both" else [admission]
    return ROWS + [
        (f"storm, {MODES[mode]}: {label}", f"{mode}_storm_{key}", fmt)
        for mode in modes
        for label, key, fmt in STORM_ROWS
    ]


def cell(r: dict[str, Any], key: str, fmt: str) -> str:
    return fmt.format(r[key]) if key in r else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chargers", type=int, default=100, help="chargers sending messages")
    parser.add_argument("--messages", type=int, default=40, help="messages per charger")
    parser.add_argument("--intakes", type=int, default=2, help="N: intake processes (also 1)")
    parser.add_argument("--writers", default="1", help="writer processes, or several counts: 1,2,3")
    parser.add_argument("--clients", type=int, default=2, help="load-generating processes")
    parser.add_argument("--storm", type=int, default=2000, help="chargers reconnecting at once")
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS server")
    parser.add_argument("--logs", help="keep the processes' logs in this directory")
    parser.add_argument(
        "--runs", type=int, default=1, help="storms of each mode, alternating; medians printed"
    )
    parser.add_argument(
        "--admission",
        choices=["both", "off", "on"],
        default="both",
        help="storm without admission control (off), with ADMISSION_ON's bounds (on), or both",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="leave out the example CSMS (its storm of 10,000 alone takes minutes)",
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started, loads = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.logs or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(run(args, workdir))
    print(
        f"cluster: {args.chargers} chargers × {args.messages} messages, storm of {args.storm} "
        f"at once, {args.clients} client processes; chargenet into PostgreSQL through NATS "
        f"JetStream, the example CSMS into SQLite (a commit per message)"
    )
    print(f"{'':46}" + "".join(f"{name:>24}" for name, _ in results))
    for label, key, fmt in rows(args.admission):
        print(f"{label:46}" + "".join(f"{cell(r, key, fmt):>24}" for _, r in results))
    if args.runs > 1:
        print(f"storm figures are medians of {args.runs} runs; each run:")
        for name, r in results:
            for mode in ("off", "on"):
                each = r.get(f"{mode}_storm_runs")
                if not each or len(each) < 2:
                    continue
                print(
                    f"  {name}, {MODES[mode]}: ack p99 ms "
                    + ", ".join(f"{x['p99_ms']:.0f}" for x in each)
                    + "; connected p99 s "
                    + ", ".join(f"{x['connected_p99_s']:.1f}" for x in each)
                    + "; absorbed in s "
                    + ", ".join(f"{x['elapsed_s']:.0f}" for x in each)
                    + "; refusals "
                    + ", ".join(f"{x['refused']:,}" for x in each)
                )
    if args.admission == "both":
        for name, r in results[: len(results) - (0 if args.no_baseline else 1)]:
            print(
                f"{name}: with admission control the storm's ack p99 "
                f"{r['on_storm_p99_ms']:.0f} ms against {r['off_storm_p99_ms']:.0f} ms "
                f"({r['off_storm_p99_ms'] / r['on_storm_p99_ms']:.1f}× lower), connected p99 "
                f"{r['on_storm_connected_p99_s']:.1f} s against "
                f"{r['off_storm_connected_p99_s']:.1f} s, {r['on_storm_refused']:,} refusals"
            )
    base = results[-1][1]
    for name, r in [] if args.no_baseline or args.admission == "on" else results[:-1]:
        print(
            f"{name}: {r['stored_per_s'] / base['stored_per_s']:.2f}× the example CSMS's "
            f"messages/s stored; storm p99 acknowledgement {r['off_storm_p99_ms']:.0f} ms "
            f"(no admission control) against {base['off_storm_p99_ms']:.0f} ms"
        )
    print(
        f"total {time.perf_counter() - started:.0f} s; load average at the start "
        f"{loads[0]:.1f}, at the end {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
