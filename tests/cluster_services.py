"""Whether the services a cluster needs are here: NATS JetStream (and PostgreSQL, from
conftest). Tests that need them are skipped, saying which is missing."""

from __future__ import annotations

import asyncio
import functools
import os

NATS_URL = os.environ.get("CHARGENET_NATS_URL", "nats://127.0.0.1:4222")


@functools.cache
def jetstream_missing() -> str | None:
    """None when JetStream answers at NATS_URL, else why not."""
    try:
        import nats
    except ImportError:
        return "nats-py is not installed (extra: cluster)"

    async def probe() -> None:
        # Without allow_reconnect=False nats-py tries a refused server again for ever.
        nc = await nats.connect(NATS_URL, connect_timeout=1, allow_reconnect=False)
        await nc.jetstream().account_info()
        await nc.close()

    try:
        asyncio.run(asyncio.wait_for(probe(), 5))
    except TimeoutError:
        return f"no NATS JetStream at {NATS_URL}: no answer within 5 s"
    except Exception as exc:  # any failure to reach JetStream: skip, saying why
        return f"no NATS JetStream at {NATS_URL}: {exc!r}"
    return None
