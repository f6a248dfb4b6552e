"""The fleet simulator drives real OCPP over WebSockets into the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from chargenet.bootstrap import Platform
from chargenet.demo.ocpp_fleet import Fleet, FleetConfig
from chargenet.demo.ocpp_world import fleet_chargers, fleet_events
from chargenet.kit.secrets import hash_secret
from tests.adapters.ocpp.peers import eventually
from tests.builders import T0


def test_a_simulated_fleet_of_both_versions_charges_through_the_gateway(platform: Platform) -> None:
    specs = fleet_chargers("SIM", 4, "secret", seed=3)
    events = fleet_events(
        specs,
        station_id="SIM-S1",
        operator_id="SIM-OP",
        operator_name="Sim",
        name="Sim",
        lat=38.41,
        lon=112.73,
        area_code=None,
        now=T0,
        seed=3,
    )
    assert all(o.ok for o in platform.ingestor.ingest(events))
    assert platform.ocpp_queries is not None and platform.ocpp is not None
    for spec in specs:
        assert spec.password is not None
        platform.ocpp_queries.set_secret(spec.charger_id, hash_secret(spec.password), T0)

    def states() -> set[str]:
        return {s["state"] for s in platform.read.sessions(limit=1000)[0]}

    def online(charger_id: str) -> bool:
        row = platform.read.charger(charger_id)
        return row is not None and row["online"] is True

    async def scenario() -> Fleet:
        assert platform.ocpp is not None
        await platform.start()
        try:
            async with platform.ocpp.running("127.0.0.1", 0) as gateway:
                config = FleetConfig(
                    url=f"ws://127.0.0.1:{gateway.port}/ocpp",
                    speed=20_000,
                    sessions_per_day=20,
                    disconnects_per_day=0,
                    tick_s=0.05,
                )
                fleet = Fleet(specs, config)
                task = asyncio.create_task(fleet.run())
                try:
                    await eventually(lambda: "completed" in states(), timeout=30)
                    for spec in specs:
                        await eventually(partial(online, spec.charger_id))
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                return fleet
        finally:
            await platform.stop()

    fleet = asyncio.run(scenario())
    versions = {
        spec.version
        for spec in specs
        for s in platform.read.sessions(limit=1000)[0]
        if s["charger_id"] == spec.charger_id
    }
    assert fleet.totals()["sessions"] > 0 and versions
    assert platform.read.rejected()[1] == 0  # everything the fleet sent was accepted
