"""A job that loops "until cancelled" must end when cancelled, whatever it awaits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from chargenet.kit.aio import wait_at_most


async def _cancel_as_it_completes(
    wait: Callable[[Awaitable[Any], float], Coroutine[Any, Any, Any]],
) -> bool:
    """Cancel the waiting task in the same loop turn as what it waits for completes (a bus
    event arriving as the platform stops); whether the task ended cancelled."""
    loop = asyncio.get_running_loop()
    item: asyncio.Future[int] = loop.create_future()
    task = asyncio.create_task(wait(item, 10.0))
    await asyncio.sleep(0)  # the task now waits for the item
    item.set_result(1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


def test_a_cancellation_arriving_with_the_result_is_never_lost() -> None:
    assert asyncio.run(_cancel_as_it_completes(wait_at_most)) is True


def test_it_still_times_out() -> None:
    async def scenario() -> None:
        never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError):
            await wait_at_most(never, 0.01)
        assert await wait_at_most(asyncio.sleep(0, result=7), None) == 7

    asyncio.run(scenario())


def test_no_module_waits_with_asyncio_wait_for() -> None:
    """On Python 3.11 `asyncio.wait_for` can lose a cancellation (above): a platform job
    then never stops and a shutdown hangs. Every wait with a limit goes through
    `wait_at_most`."""
    from pathlib import Path

    import chargenet

    root = Path(chargenet.__file__).parent
    users = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "asyncio.wait_for(" in path.read_text(encoding="utf-8")
    )
    assert users == []
