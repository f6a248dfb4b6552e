"""A cluster role says it is ready only when it is: the writer's "ready" line (what the
cluster harness and deployment scripts wait for) comes once every partition's consumer
exists on the stream, so what an intake stores from then on has a writer taking it.
Skipped, saying which, without PostgreSQL or NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import pytest

from chargenet.adapters.bus.jetstream import BUCKETS, ClusterNames, Layout
from chargenet.config import Settings
from chargenet.entrypoints import cluster
from chargenet.kit.aio import wait_at_most
from tests.cluster_services import NATS_URL, jetstream_missing

pytestmark = pytest.mark.postgres


class Ready(logging.Handler):
    """Notes the writer's ready line, on the loop that logs it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("writer: buckets"):
            self.said.set()


def test_the_writer_says_ready_once_every_partition_has_its_consumer(postgres_url: str) -> None:
    why = jetstream_missing()  # (postgres_url skips, saying so, without PostgreSQL)
    if why:
        pytest.skip(why)
    import nats

    name = f"ready{uuid.uuid4().hex[:8]}"
    names = ClusterNames(name)
    settings = Settings(
        database_url=postgres_url,
        nats_url=NATS_URL,
        cluster_name=name,
        allow_unsafe_durability=True,
    )

    async def scenario() -> set[str]:
        # Connected first: what the stream holds is asked the moment "ready" is said.
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        ready = Ready()
        logger = logging.getLogger(cluster.__name__)
        logger.addHandler(ready)
        writer = asyncio.create_task(cluster.run_writer(settings, list(range(BUCKETS))))
        try:
            await wait_at_most(ready.said.wait(), 120)
            consumers = {c.name for c in await js.consumers_info(names.stream)}
        finally:
            logger.removeHandler(ready)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            with contextlib.suppress(Exception):
                await js.delete_stream(names.stream)
            await nc.close()
        return consumers

    consumers = asyncio.run(scenario())
    partitions = Layout(settings.stream_partitions)
    assert consumers == {partitions.consumer("writer", k) for k in range(partitions.partitions)}
