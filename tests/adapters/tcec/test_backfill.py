"""Back-fill (补采): when the link to an operator's platform was down, chargenet asks it
for the status of its stations, and late pushes from the outage do not overwrite what
the back-fill found (the one recency rule, core/status.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from chargenet.adapters.tcec import wire
from tests.adapters.tcec.harness import Link, linked

PREFIX = "tcec:MA59J8YL8:"


async def finder_status(link: Link, station: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=link.url) as http:
        answer = await http.get(f"/api/v1/finder/stations/{PREFIX}{station}")
    if answer.status_code != 200:
        return {}
    return {
        c["connector_id"].removeprefix(PREFIX): c["status"] for c in answer.json()["connectors"]
    }


def api_status(link: Link, station: str) -> dict[str, str]:
    rows, _ = link.platform.read.connectors(PREFIX + station, None, None, None, None, False, 100)
    return {r["connector_id"].removeprefix(PREFIX): r["status"] for r in rows}


async def until(check: Any, seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


def test_after_a_silence_the_platform_back_fills_and_late_pushes_do_not_overwrite(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with linked(
            tmp_path,
            jobs=["tcec_backfill"],
            tcec_backfill_gap_s=0.5,
            tcec_backfill_retry_s=0.1,
        ) as link:
            sim = link.sim
            await sim.push_station("1001")
            for connector in ("1001E1C1", "1001E1C2", "1001E2C1", "1001E2C2"):
                await sim.push_status(connector, 1)
            assert set(api_status(link, "1001").values()) == {"available"}
            before = sim.received.count("query_station_status")

            # The link is down: the operator's statuses change, its pushes are lost.
            outage_start = sim.clock.now()
            sim.status["1001E1C1"] = 3
            sim.status["1001E2C1"] = 255
            sim.faults.endpoints = frozenset({"query_station_status"})
            sim.faults.fail_next = 1  # and its platform is not answering yet either
            # Silent for more than the 0.5 s gap, and long enough that the push stamped a
            # second into the outage (T/CEC times are whole seconds) is older than
            # anything the back-fill learns, whatever the sub-second phase.
            await asyncio.sleep(2.1)

            # The link is back: the operator is heard again after the silence.
            assert sim.platform is not None
            await sim.token(secret=sim.platform.operator_secret)

            async def filled() -> bool:
                return (
                    api_status(link, "1001")
                    == {
                        "1001E1C1": "charging",
                        "1001E1C2": "available",
                        "1001E2C1": "faulted",
                        "1001E2C2": "available",
                    }
                    and (await finder_status(link, "1001")).get("1001E1C1") == "charging"
                )

            await until(filled)
            # The first back-fill found the operator's platform down and was tried again
            # (on a loaded machine a pause of more than the 0.5 s gap is one more silence).
            assert sim.received.count("query_station_status") - before >= 2
            backfill = link.platform.tcec.backfill

            async def recorded() -> bool:
                return any("silence" in f.reason for f in backfill.done)

            await until(recorded)
            done = [f for f in backfill.done if "silence" in f.reason]
            # The two that changed, found once; the rest were known.
            assert sum(f.statuses for f in done) == 2

            # A push from during the outage arrives late: accepted, but older than what
            # the back-fill found, so the connector stays charging.
            stamp = wire.format_timestamp(outage_start + timedelta(seconds=1), sim.zone)
            late = sim.envelope(
                {"ConnectorStatusInfo": {"ConnectorID": "1001E1C1", "Status": 1}},
                timestamp=stamp,
            )
            answer = sim.open(await sim.send("notification_stationStatus", late, await sim.token()))
            assert answer == {"Status": 0}
            await asyncio.sleep(0.2)
            assert api_status(link, "1001")["1001E1C1"] == "charging"
            assert (await finder_status(link, "1001"))["1001E1C1"] == "charging"

    asyncio.run(scenario())


def test_a_platform_that_was_down_itself_back_fills_every_operator_at_start(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with linked(tmp_path) as link:  # no back-fill job: chargenet "down" after this
            await link.sim.push_station("1001")
            link.sim.status["1001E1C1"] = 3  # changed while chargenet was not listening
            backfill = link.platform.tcec.backfill
            job = asyncio.create_task(backfill.run())  # chargenet starts
            try:
                await until(lambda: _true(api_status(link, "1001")["1001E1C1"] == "charging"))
                await until(lambda: _true(bool(backfill.done)))
            finally:
                job.cancel()
            assert [f.reason for f in backfill.done] == ["chargenet started"]

    asyncio.run(scenario())


async def _true(value: bool) -> bool:
    return value
