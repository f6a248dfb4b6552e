"""The baseline of `benchmarks.http_intake`: the least an HTTP intake can do per request. A
bare Starlette app that parses the JSON body and commits one row per request, in its own
transaction, to the same PostgreSQL database (SQLAlchemy's pool, the commit in a worker
thread as chargenet's store does it).

    BENCH_BASELINE_DB=postgresql+psycopg://… uvicorn benchmarks.http_intake.baseline:app
"""

from __future__ import annotations

import json
import os

from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TABLE = "bench_baseline"
engine = create_engine(os.environ.get("BENCH_BASELINE_DB", "sqlite://"), pool_size=10)


def _commit(body: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {TABLE} (body) VALUES (:b)"), {"b": body})


async def intake(request: Request) -> JSONResponse:
    body = await request.body()
    json.loads(body)  # what any intake does first
    await run_in_threadpool(_commit, body.decode())
    return JSONResponse({"status_code": 1000, "Ret": 0})


app = Starlette(
    routes=[
        Route("/healthz", lambda _: JSONResponse({"ok": True})),
        Route("/{path:path}", intake, methods=["PATCH", "POST"]),
    ]
)
