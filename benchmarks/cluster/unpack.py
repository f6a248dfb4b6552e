"""PostgreSQL's CPU to unpack a batch's rows from one JSON text, per row, in the shapes of
projections/live_batch.py's statements and of the log's batch append (store.py): `->>` on
`json_array_elements` (json), on `jsonb_array_elements` (jsonb), and `json_to_recordset` /
`jsonb_to_recordset` with a column definition list (these need each row as an object, its
keys in every row).

    python -m benchmarks.cluster.unpack                 # 500 rows a document, 600 statements
    python -m benchmarks.cluster.unpack --reps 1000

Each statement counts the rows it builds (`count(x.*)`: every field is read); CPU is the one
backend's (/proc, 10 ms ticks) over the statements of a variant, the variants alternating
in rounds; the median of the rounds, and the ratio to json. PostgreSQL from --postgres.
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

import msgspec
import psycopg

from benchmarks.cluster.__main__ import ADMIN
from benchmarks.cluster.budget import cpu_s

AT_US = 1_767_225_600_000_000

# name: the column types a row holds, and a row of them (n numbering the rows)
SHAPES: dict[str, tuple[list[str], Any]] = {
    "status history": (
        ["text", "bigint", "text", "text", "text", "text"],
        lambda n: [f"W{n:04d}-1-1", AT_US + n, "charging", "NoError", None, "SuspendedEV"],
    ),
    "power limit history": (
        ["text", "bigint", "integer"],
        lambda n: [f"W{n:04d}-1-1", AT_US + n, 11_000],
    ),
    "meter history": (
        ["text", "bigint", "text", "bigint", "integer", *["float8"] * 4],
        lambda n: [f"W{n:04d}-1-1", AT_US + n, "x", 1_000 + n, 7_000, 16.5, 230.1, None, 21.5],
    ),
    "load quarters": (
        ["text", "bigint", "text", "bigint", "integer", "bigint"],
        lambda n: [f"W{n:04d}", AT_US, f"W{n:04d}-1-1", 7_000, 1, AT_US + n],
    ),
    # store.py's batch append: a meter value's log row, its payload JSON text as a string
    "log": (
        ["text", "text", "smallint", "text", "text", "timestamptz", "timestamptz", "text"],
        lambda n: [
            f"{n:032x}",
            "meter.sampled",
            1,
            "ocpp",
            None,
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T00:00:01+00:00",
            msgspec.json.encode(
                {
                    "connector_id": f"W{n:04d}-1-1",
                    "energy_register_wh": 1_000 + n,
                    "power_w": 7_000,
                    "session_id": None,
                    "source": {"adapter": "ocpp", "charger_id": f"W{n:04d}"},
                    "current_a": 16.5,
                    "voltage_v": 230.1,
                }
            ).decode(),
        ],
    ),
    "sessions": (
        ["text", "timestamptz", "integer", "integer"],
        lambda n: [f"s{n}", "2026-01-01T00:00:00+00:00", 1_000 + n, 7_000],
    ),
}


def statements(types: list[str]) -> dict[str, tuple[str, bool]]:
    """Each variant's statement, and whether it takes rows as objects."""
    fields = ", ".join(f"(r->>{i})::{t} AS c{i}" for i, t in enumerate(types))
    columns = ", ".join(f"c{i} {t}" for i, t in enumerate(types))
    return {
        "json ->>": (
            f"SELECT count(x.*) FROM (SELECT {fields} FROM json_array_elements(%s::json) r) x",
            False,
        ),
        "jsonb ->>": (
            f"SELECT count(x.*) FROM (SELECT {fields} FROM jsonb_array_elements(%s::jsonb) r) x",
            False,
        ),
        "json_to_recordset": (
            f"SELECT count(x.*) FROM json_to_recordset(%s::json) AS x({columns})",
            True,
        ),
        "jsonb_to_recordset": (
            f"SELECT count(x.*) FROM jsonb_to_recordset(%s::jsonb) AS x({columns})",
            True,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--reps", type=int, default=600, help="statements a variant a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=ADMIN, help="PostgreSQL admin URL")
    args = parser.parse_args()
    loads = os.getloadavg()
    print(
        f"unpacking {args.rows} rows a JSON text, {args.reps} statements a variant, "
        f"median of {args.rounds} rounds; load average {loads[0]:.1f}"
    )
    url = args.postgres.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        for shape, (types, row) in SHAPES.items():
            rows = [row(n) for n in range(args.rows)]
            texts = {
                False: msgspec.json.encode(rows).decode(),
                True: msgspec.json.encode(
                    [{f"c{i}": v for i, v in enumerate(r)} for r in rows]
                ).decode(),
            }
            variants = statements(types)
            per_row: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, (sql, objects) in variants.items():
                    params = (texts[objects],)
                    assert conn.execute(sql, params).fetchone() == (args.rows,)
                    before = cpu_s(pid)
                    for _ in range(args.reps):
                        conn.execute(sql, params).fetchone()
                    per_row[name].append((cpu_s(pid) - before) / (args.reps * args.rows) * 1e6)
            base = statistics.median(per_row["json ->>"])
            print(f"  {shape} ({len(types)} fields):")
            for name, figures in per_row.items():
                median = statistics.median(figures)
                runs = ", ".join(f"{f:.2f}" for f in figures)
                ratio = f"{median / base:.2f}× json ->>" if base else "too few ticks"
                print(f"    {name:19} {median:5.2f} µs a row ({runs}), {ratio}")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
