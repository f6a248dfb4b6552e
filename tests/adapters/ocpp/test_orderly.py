"""Orderly charging enforced on real `ocpp` library charge points (1.6 and 2.0.1): each
session gets a TxProfile, chargers that obey keep the site's metered load under its limit,
a charger that ignores its limit is flagged to its operator and its regulator, and
NotifyEVChargingNeeds reaches the plan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import websockets
from ocpp.v16 import call as c16
from ocpp.v16 import call_result as r16
from ocpp.v16.enums import Action as A16
from ocpp.v201 import call as c201
from ocpp.v201 import call_result as r201
from ocpp.v201.enums import Action as A201
from websockets.typing import Subprotocol

from chargenet.adapters.api.auth import StaticTokens
from chargenet.adapters.ocpp.gateway import OcppGateway
from chargenet.bootstrap import Platform
from chargenet.core.access import Principal, Role
from chargenet.demo.ocpp_fleet import on
from chargenet.entrypoints.web import orderly_charging
from tests.adapters.ocpp.peers import (
    PASSWORD,
    Peer16,
    Peer201,
    api,
    basic,
    boot16,
    boot201,
    eventually,
    running,
    stamp,
)
from tests.adapters.ocpp.test_gateway import live

SITE_LIMIT_W = 50_000
TOKENS = StaticTokens(
    {
        "op1-token": Principal("op1-staff", Role.OPERATOR, operator_id="OP1"),
        "op2-token": Principal("op2-staff", Role.OPERATOR, operator_id="OP2"),
        "regulator-token": Principal("xinfu", Role.REGULATOR, area_code="140902"),
    }
)


def _watts(schedule: dict[str, Any]) -> float:
    """What a charger obeying its profile draws now: the first period's limit, in W."""
    limit = float(schedule["charging_schedule_period"][0]["limit"])
    if schedule["charging_rate_unit"] == "W":
        return limit
    phases = int(schedule["charging_schedule_period"][0].get("number_phases", 3))
    return limit * 220 * phases


class Obeying16(Peer16):
    """Draws the limit of its TxProfile (at most its 60 kW), or everything when `ignores`."""

    def __init__(self, *args: Any, ignores: bool = False, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ignores = ignores
        self.limits: dict[int, float] = {}
        self.profiles: list[dict[str, Any]] = []

    # The library calls a handler with its frame's fields by name: this one names them.
    @on(A16.set_charging_profile)
    async def set_charging_profile(  # type: ignore[override]
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> Any:
        self.profiles.append(cs_charging_profiles)
        self.limits[connector_id] = _watts(cs_charging_profiles["charging_schedule"])
        return r16.SetChargingProfile(status="Accepted")

    def draws(self, connector: int) -> float:
        limit = self.limits.get(connector, 60_000.0)
        return 60_000.0 if self.ignores else min(60_000.0, limit)


class Obeying201(Peer201):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.limits: dict[int, float] = {}
        self.profiles: list[dict[str, Any]] = []

    # The library calls a handler with its frame's fields by name: this one names them.
    @on(A201.set_charging_profile)
    async def set_charging_profile(  # type: ignore[override]
        self, evse_id: int, charging_profile: dict[str, Any]
    ) -> Any:
        self.profiles.append(charging_profile)
        self.limits[evse_id] = _watts(charging_profile["charging_schedule"][0])
        return r201.SetChargingProfile(status="Accepted")

    @on(A201.get_composite_schedule)
    async def composite(self, evse_id: int, duration: int, **kw: Any) -> Any:
        limit = self.limits.get(evse_id, 60_000.0)
        return r201.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": stamp(),
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": limit}],
            },
        )

    def draws(self, evse: int) -> float:
        return min(60_000.0, self.limits.get(evse, 60_000.0))


@contextlib.asynccontextmanager
async def attach(gateway: OcppGateway, identity: str, cls: type, **kw: Any) -> AsyncIterator[Any]:
    version = "ocpp1.6" if issubclass(cls, Peer16) else "ocpp2.0.1"
    ws = await websockets.connect(
        f"ws://127.0.0.1:{gateway.port}/ocpp/{identity}",
        subprotocols=[Subprotocol(version)],
        additional_headers=basic(identity, PASSWORD),
    )
    cp = cls(identity, ws, **kw)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        await ws.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def meter16(cp: Obeying16, connector: int, tx: int) -> None:
    await cp.call(
        c16.MeterValues(
            connector_id=connector,
            transaction_id=tx,
            meter_value=[
                {
                    "timestamp": stamp(),
                    "sampled_value": [
                        {
                            "value": str(int(cp.draws(connector))),
                            "measurand": "Power.Active.Import",
                            "unit": "W",
                        }
                    ],
                }
            ],
        )
    )


async def meter201(cp: Obeying201, evse: int) -> None:
    await cp.call(
        c201.MeterValues(
            evse_id=evse,
            meter_value=[
                {
                    "timestamp": stamp(),
                    "sampled_value": [
                        {
                            "value": cp.draws(evse),
                            "measurand": "Power.Active.Import",
                            "unit_of_measure": {"unit": "W"},
                        }
                    ],
                }
            ],
        )
    )


async def start201(cp: Obeying201, evse: int, needs: bool = False) -> None:
    await cp.call(
        c201.TransactionEvent(
            event_type="Started",
            timestamp=stamp(),
            trigger_reason="Authorized",
            seq_no=0,
            evse={"id": evse, "connector_id": 1},
            id_token={"id_token": f"CARD-{evse}", "type": "ISO14443"},
            transaction_info={"transaction_id": f"TX-{evse}", "charging_state": "Charging"},
        )
    )
    if needs:
        departure = datetime.now(UTC) + timedelta(hours=6)
        answer = await cp.call(
            c201.NotifyEVChargingNeeds(
                evse_id=evse,
                charging_needs={
                    "requested_energy_transfer": "DC",
                    "departure_time": stamp(departure),
                    "dc_charging_parameters": {
                        "ev_max_current": 150,
                        "ev_max_voltage": 400,
                        "energy_amount": 12_000,
                        "ev_max_power": 50_000,
                    },
                },
            )
        )
        assert answer.status == "Accepted"


def site_load(platform: Platform) -> int:
    return sum(
        live(platform, c).get("power_w") or 0 for c in ("C1-1-1", "C1-2-1", "C2-1-1", "C2-2-1")
    )


def _setup(platform: Platform, ignores: bool) -> Any:
    async def scenario() -> dict[str, Any]:
        async with (
            running(platform) as gateway,
            attach(gateway, "C1", Obeying16, ignores=ignores) as cp16,
            attach(gateway, "C2", Obeying201) as cp201,
            api(platform) as admin,
            api(platform, token="op1-token", authenticators=[TOKENS]) as op1,
            api(platform, token="op2-token", authenticators=[TOKENS]) as op2,
            api(platform, token="regulator-token", authenticators=[TOKENS]) as regulator,
        ):
            platform.orderly.config.grace_s = 0.0  # the test's chargers follow at once
            job = asyncio.create_task(orderly_charging(platform))
            await cp16.call(boot16())
            await cp201.call(boot201())
            stated = await op1.post(
                "/api/v1/orderly/grid-connections",
                json={"station_id": "S1", "capacity_w": SITE_LIMIT_W, "phases": 3},
            )
            assert stated.status_code == 201, stated.text
            foreign = await op2.post(
                "/api/v1/orderly/grid-connections",
                json={"station_id": "S1", "capacity_w": 10**6},
            )
            txs = []
            for connector in (1, 2):
                answer = await cp16.call(
                    c16.StartTransaction(
                        connector_id=connector, id_tag="CARD", meter_start=0, timestamp=stamp()
                    )
                )
                txs.append(answer.transaction_id)
            await start201(cp201, 1, needs=True)
            await start201(cp201, 2)
            # Every session receives its schedule once the planner has seen them all.
            await eventually(lambda: len(cp16.limits) == 2 and len(cp201.limits) == 2, timeout=20)
            # The chargers sample their meters every moment until what they drew is seen
            # (and, for the one that ignores its limit, flagged).
            # bounded in time, not in rounds: a loaded machine samples fewer rounds
            deadline = asyncio.get_running_loop().time() + 60
            while asyncio.get_running_loop().time() < deadline:
                for connector, tx in zip((1, 2), txs, strict=True):
                    await meter16(cp16, connector, tx)
                for evse in (1, 2):
                    await meter201(cp201, evse)
                await asyncio.sleep(0.1)
                if site_load(platform) > 0 and (platform.orderly.flagged or not ignores):
                    break
            composite = await admin.post(
                "/api/v1/chargers/C2/commands",
                json={"command": "get_composite_schedule", "evse_no": 1, "duration_s": 3600},
            )
            await eventually(
                lambda: (
                    not ignores
                    or any(
                        e["code"] == "ChargingLimitExceeded"
                        for e in platform.read.events(event_type="alarm.raised")
                    )
                ),
                timeout=30,
            )
            views = {
                name: await client.get("/api/v1/orderly/sites/S1")
                for name, client in (("op1", op1), ("op2", op2), ("regulator", regulator))
            }
            alarms = {
                name: await client.get("/api/v1/supervision/alarms")
                for name, client in (("op1", op1), ("regulator", regulator))
            }
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
            return {
                "foreign": foreign,
                "profiles16": cp16.profiles,
                "profiles201": cp201.profiles,
                "load": site_load(platform),
                "composite": composite,
                "views": views,
                "alarms": alarms,
                "limits": {
                    **{f"C1-{k}": v for k, v in cp16.limits.items()},
                    **{f"C2-{k}": v for k, v in cp201.limits.items()},
                },
            }

    return asyncio.run(scenario())


def test_obeying_chargers_keep_the_sites_metered_load_under_its_limit(platform: Platform) -> None:
    out = _setup(platform, ignores=False)
    assert out["foreign"].status_code == 403  # another operator cannot state S1's limit
    assert 0 < out["load"] <= SITE_LIMIT_W
    assert sum(out["limits"].values()) <= SITE_LIMIT_W + 1
    tx16 = out["profiles16"][-1]
    assert tx16["charging_profile_purpose"] == "TxProfile" and tx16["transaction_id"] > 0
    tx201 = out["profiles201"][-1]
    assert tx201["charging_profile_purpose"] == "TxProfile"
    assert tx201["transaction_id"].startswith("TX-")
    composite = out["composite"].json()
    assert composite["outcome"] == "accepted", composite
    assert composite["answer"]["schedule"]["chargingSchedulePeriod"][0]["limit"] >= 0
    site = out["views"]["op1"].json()
    assert site["capacity_w"] == SITE_LIMIT_W and site["load_w"] == out["load"]
    assert not any(s["exceeding"] for s in site["sessions"])
    assert out["views"]["regulator"].status_code == 200
    assert out["views"]["op2"].status_code == 403


def test_a_charger_that_ignores_its_limit_is_flagged_to_operator_and_regulator(
    platform: Platform,
) -> None:
    out = _setup(platform, ignores=True)
    site = out["views"]["op1"].json()
    flagged = {s["connector_id"] for s in site["sessions"] if s["exceeding"]}
    assert flagged and flagged <= {"C1-1-1", "C1-2-1"}
    for who in ("op1", "regulator"):
        codes = {(a["target_id"], a["code"]) for a in out["alarms"][who].json()}
        assert any(code == "ChargingLimitExceeded" and t in flagged for t, code in codes), who
