"""How a node runs a singleton job under its lease (app/leases.py: run_leased), on the
in-memory leases (tests/adapters/storage/test_fakes_agree.py holds them to the SQL ones;
tests/app/test_leases.py runs real nodes on PostgreSQL). The clock is fixed: a lease
expires only when a test moves the clock, so who runs the job is never a race."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from chargenet.app.leases import run_leased
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import FixedClock
from tests.fakes import FakeLeases

pytestmark = pytest.mark.unit

LEASE_S = 0.15  # a node asks (or renews) every 0.05 s
LEASE = timedelta(seconds=LEASE_S)
START = datetime(2026, 3, 1, 8, tzinfo=UTC)


async def _until(check: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await wait_at_most(poll(), 10.0)


class Job:
    """A job that runs until stopped or cancelled, counting its starts and cancellations."""

    def __init__(self) -> None:
        self.starts = 0
        self.cancelled = 0
        self.stop = asyncio.Event()

    @property
    def running(self) -> bool:
        return self.starts > self.cancelled and not self.stop.is_set()

    async def __call__(self) -> None:
        self.starts += 1
        try:
            await self.stop.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


def test_one_node_runs_the_job_and_another_takes_it_the_moment_it_ends() -> None:
    leases, clock = FakeLeases(), FixedClock(START)

    async def scenario() -> None:
        a, b = Job(), Job()
        first = asyncio.create_task(run_leased(a, leases, "sweep", "A", clock, LEASE_S))
        await _until(lambda: a.running)
        second = asyncio.create_task(run_leased(b, leases, "sweep", "B", clock, LEASE_S))
        await asyncio.sleep(2 * LEASE_S)  # B asks several times, A renews
        assert b.starts == 0 and leases.holder("sweep", clock.now()) == "A"
        a.stop.set()  # A's job returns: A gives the lease back, long before it expires
        await wait_at_most(first, 10.0)
        await _until(lambda: b.running)
        assert leases.holder("sweep", clock.now()) == "B"
        assert (a.starts, a.cancelled) == (1, 0)
        b.stop.set()
        await wait_at_most(second, 10.0)

    asyncio.run(scenario())


def test_a_node_whose_lease_was_taken_stops_its_job_and_waits_to_run_it_again() -> None:
    leases, clock = FakeLeases(), FixedClock(START)

    async def scenario() -> None:
        a = Job()
        node = asyncio.create_task(run_leased(a, leases, "sweep", "A", clock, LEASE_S))
        await _until(lambda: a.running)
        # A stalled past its lease and another node took the job: A must stop running it.
        clock.advance(2 * LEASE)
        assert leases.acquire("sweep", "C", clock.now(), clock.now() + 100 * LEASE)
        await _until(lambda: a.cancelled == 1)
        assert not node.done()  # A waits for the lease again
        assert leases.holder("sweep", clock.now()) == "C"
        leases.release("sweep", "C")
        await _until(lambda: a.starts == 2 and a.running)
        node.cancel()
        await asyncio.gather(node, return_exceptions=True)

    asyncio.run(scenario())


def test_a_holder_cut_off_from_the_database_runs_on_until_its_lease_expires() -> None:
    leases, clock = FakeLeases(), FixedClock(START)

    async def scenario() -> None:
        a = Job()
        node = asyncio.create_task(run_leased(a, leases, "sweep", "A", clock, LEASE_S))
        await _until(lambda: a.running)
        leases.down = True
        await asyncio.sleep(2 * LEASE_S)  # renewals fail, but the lease still holds
        assert a.running and a.cancelled == 0
        clock.advance(LEASE)  # now it has expired: another node may have the job
        await _until(lambda: a.cancelled == 1)
        assert not node.done()  # it keeps asking
        leases.down = False
        await _until(lambda: a.starts == 2 and a.running)
        node.cancel()
        await asyncio.gather(node, return_exceptions=True)

    asyncio.run(scenario())


def test_a_node_that_stops_cancels_its_job_and_gives_the_lease_back_at_once() -> None:
    leases, clock = FakeLeases(), FixedClock(START)

    async def scenario() -> None:
        a = Job()
        node = asyncio.create_task(run_leased(a, leases, "sweep", "A", clock, LEASE_S))
        await _until(lambda: a.running)
        node.cancel()
        await asyncio.gather(node, return_exceptions=True)
        assert a.cancelled == 1
        # not expired (the clock has not moved): given back
        assert leases.holder("sweep", clock.now()) is None
        assert leases.acquire("sweep", "B", clock.now(), clock.now() + LEASE)

    asyncio.run(scenario())


def test_a_job_that_fails_fails_its_caller_and_gives_the_lease_back() -> None:
    leases, clock = FakeLeases(), FixedClock(START)

    async def broken() -> None:
        raise RuntimeError("the job broke")

    async def scenario() -> None:
        with pytest.raises(RuntimeError, match="the job broke"):
            await wait_at_most(run_leased(broken, leases, "sweep", "A", clock, LEASE_S), 10.0)
        assert leases.holder("sweep", clock.now()) is None

    asyncio.run(scenario())


def test_jobs_of_different_names_run_side_by_side_on_one_node() -> None:
    leases, clock = FakeLeases(), FixedClock(START)

    async def scenario() -> None:
        jobs = {name: Job() for name in ("alarms", "zombies")}
        nodes = [
            asyncio.create_task(run_leased(job, leases, name, "A", clock, LEASE_S))
            for name, job in jobs.items()
        ]
        await _until(lambda: all(job.running for job in jobs.values()))
        assert {n: leases.holder(n, clock.now()) for n in jobs} == {"alarms": "A", "zombies": "A"}
        for job in jobs.values():
            job.stop.set()
        await wait_at_most(asyncio.gather(*nodes), 10.0)

    asyncio.run(scenario())
