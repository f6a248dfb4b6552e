"""asyncio helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_at_most(awaitable: Awaitable[T], seconds: float | None) -> T:
    """What `awaitable` gives, or TimeoutError after `seconds` (None: no limit).

    Like `asyncio.wait_for`, except that it never loses a cancellation. On Python 3.11,
    when the awaited thing completes just as the waiting task is cancelled, `wait_for`
    returns its result and the cancellation is gone (python/cpython#86296, fixed in 3.12):
    a job that loops "until cancelled" then loops on, and whoever awaits its end at
    shutdown waits for ever. `asyncio.timeout` tells its own cancellation from anyone
    else's."""
    async with asyncio.timeout(seconds):
        return await awaitable
