"""Whether the services a cluster needs are here: NATS JetStream (and PostgreSQL, from
conftest). Tests that need them are skipped, saying which is missing."""

from __future__ import annotations

import asyncio
import os

NATS_URL = os.environ.get("CHARGENET_NATS_URL", "nats://127.0.0.1:4222")


def jetstream_missing() -> str | None:
    """None when JetStream answers at NATS_URL, else why not."""
    try:
        import nats
    except ImportError:
        return "nats-py is not installed (extra: cluster)"

    async def probe() -> None:
        nc = await nats.connect(NATS_URL, connect_timeout=1, max_reconnect_attempts=0)
        await nc.jetstream().account_info()
        await nc.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure to reach JetStream: skip, saying why
        return f"no NATS JetStream at {NATS_URL}: {exc!r}"
    return None
