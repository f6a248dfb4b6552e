"""One node at a time runs each periodic job (docs/scale.md, "Background jobs").

Several API nodes share a database; jobs that write events or talk to partners on their
own (alarm rules, zombie sweeps, pulls, the OCPI full copy, orderly charging, settlement)
must run on one of them only. A job marked `singleton` runs under a lease named after it,
held in the database (table `leases`: name, holder, expires_at): the node that takes the
lease runs the job and renews the lease every third of its time; the others ask again as
often. A holder that dies stops renewing, and another node takes the job over once the
lease has expired: within the lease time plus one asking interval. A holder that cannot
renew (the lease was taken, or the database is unreachable past the lease's expiry) stops
its job; one that stops gracefully gives the lease back at once.

Expiry is judged by each node's clock: nodes sharing a database keep their clocks in step
(NTP) to well within the lease time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)

LEASE_S = 30.0

J = TypeVar("J", bound=Callable[..., Awaitable[None]])


class Leases(Protocol):
    def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take the lease `name` for `holder` until `until`, or renew it: true when
        `holder` holds it now (it was free, expired, or already its own)."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Give the lease back, if `holder` holds it."""
        ...

    def holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease now (None: nobody, or expired)."""
        ...


def singleton(job: J) -> J:
    """Mark a background job as one that only one node of a deployment runs."""
    job.singleton = True  # type: ignore[attr-defined]
    return job


def is_singleton(job: object) -> bool:
    return bool(getattr(job, "singleton", False))


async def run_leased(
    work: Callable[[], Awaitable[None]],
    leases: Leases,
    name: str,
    holder: str,
    clock: Clock,
    lease_s: float = LEASE_S,
) -> None:
    """Run `work` while `holder` holds the lease `name`; wait for it otherwise, for ever.
    Returns when `work` returns (the lease given back)."""
    every = lease_s / 3
    length = timedelta(seconds=lease_s)
    while True:
        now = clock.now()
        try:
            held = await asyncio.to_thread(leases.acquire, name, holder, now, now + length)
        except Exception:
            log.exception("lease %s: could not ask for it", name)
            held = False
        if not held:
            await asyncio.sleep(every)
            continue
        held_until = now + length
        log.info("lease %s taken by %s: running the job", name, holder)
        task = asyncio.ensure_future(work())
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=every)
                if done:
                    await task  # its exception, if any, is the caller's
                    return
                now = clock.now()
                try:
                    held = await asyncio.to_thread(leases.acquire, name, holder, now, now + length)
                except Exception:
                    log.exception("lease %s: could not renew it", name)
                    held = now < held_until  # still ours until it expires
                else:
                    if held:
                        held_until = now + length
                if not held:
                    log.warning("lease %s lost by %s: stopping the job", name, holder)
                    break
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                # Shielded from the caller's cancellation: a node that stops gives the
                # job up at once rather than after the lease time.
                await asyncio.shield(asyncio.to_thread(leases.release, name, holder))
