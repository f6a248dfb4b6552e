"""chargenet and the operator simulator talking over HTTP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI

from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.demo.tcec_operator import OperatorSimulator
from chargenet.entrypoints.web import create_app, outbox
from chargenet.kit.clock import Clock, SystemClock
from tests import migrated
from tests.builders import areas, operator

OPERATOR = "OPT"  # chargenet's id of the simulated operator
TOKEN = "admin-token"


def settings_for(path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": migrated.sqlite_url(path / "chargenet.db"),
        "sqlite_synchronous": "OFF",
        "tcec_master_key": Fernet.generate_key().decode(),
        "tcec_retry_interval_s": 0.05,
    }
    return Settings(**{**values, **overrides})


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port for the life of the block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", loop="asyncio"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class Link:
    platform: Platform
    sim: OperatorSimulator
    url: str  # chargenet's base URL

    @property
    def partner(self) -> Any:
        found = self.platform.tcec.directory.get(self.sim.operator_id)
        assert found is not None
        return found

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return self.platform.read.events(event_type=event_type, adapter="tcec", limit=10_000)


@contextlib.asynccontextmanager
async def linked(
    path: Path,
    *,
    clock: Clock | None = None,
    stations: int = 2,
    pull: bool = False,
    jobs: Sequence[str] = (),
    **settings: Any,
) -> AsyncIterator[Link]:
    """A fresh chargenet and a simulated operator, each knowing the other's keys.
    `jobs` names chargenet's background jobs to run (outbox, tcec_pull, tcec_backfill)."""
    clock = clock or SystemClock()
    platform = bootstrap(settings_for(path, **settings), clock=clock)
    platform.ingestor.ingest([*areas(), operator(OPERATOR, name="模拟运营商")])
    sim = OperatorSimulator(clock=clock, stations=stations, push_interval_s=0.05)
    sim_task_server = serving(sim.app())
    sim_url = await sim_task_server.__aenter__()
    try:
        creds = platform.tcec.admin.add(
            partner_id=sim.operator_id,
            operator_id=OPERATOR,
            name="模拟运营商",
            base_url=sim_url,
            pull=pull,
        )
        platform.tcec.admin.set_outbound(
            sim.operator_id, sim.issued.operator_secret, sim.issued.keys
        )
        background = [job for job in [*platform.tcec.jobs(), outbox] if job.__name__ in jobs]
        app = create_app(
            platform,
            api_tokens=[TOKEN],
            routers=[platform.tcec.router()],
            background=background,
        )
        async with serving(app) as url:
            sim.connect(
                url + platform.tcec.options.prefix,
                creds.operator_secret,
                creds.keys,
                platform.settings.tcec_operator_id,
            )
            try:
                yield Link(platform, sim, url)
            finally:
                await sim.close()
                await platform.tcec.clients.close()
    finally:
        await sim_task_server.__aexit__(None, None, None)
        platform.close()
