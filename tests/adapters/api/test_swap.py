"""Battery-swap stations beyond the registry (R40): status, swap orders and battery packs
reported through the API; swaps per day, uptime and the packs' health as figures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chargenet.bootstrap import Platform
from chargenet.core.events import SwapStationRegistered
from chargenet.core.ids import AreaCode, OperatorId, SwapStationId
from chargenet.core.registry.model import SwapStationRecord, SwapVehicleType
from chargenet.entrypoints.web import create_app
from tests.builders import areas, meta, operator

TOKEN = "admin-token"


def test_swaps_uptime_and_pack_health_of_a_swap_station(platform: Platform) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12)
    platform.ingestor.ingest(
        [
            *areas(),
            operator("OPW"),
            SwapStationRegistered(
                **meta(start - timedelta(days=1)),
                swap_station=SwapStationRecord(
                    swap_station_id=SwapStationId("W1"),
                    operator_id=OperatorId("OPW"),
                    name="矿区重卡换电站",
                    lat=38.41,
                    lon=112.73,
                    vehicle_types=(SwapVehicleType.HEAVY_TRUCK, SwapVehicleType.MINING),
                    area_code=AreaCode("140902"),
                ),
            ),
        ]
    )
    app = create_app(platform, api_tokens=[TOKEN])

    async def scenario() -> dict[str, Any]:
        await platform.start()
        try:
            return await _scenario()
        finally:
            await platform.stop()

    async def _scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://chargenet",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as http:

            async def post(path: str, body: dict[str, Any]) -> Any:
                answer = await http.post(f"/api/v1/swap-stations/W1/{path}", json=body)
                assert answer.status_code == 200, answer.text
                return answer.json()

            for hours, status in ((0, "available"), (6, "faulted"), (9, "available")):
                at = (start + timedelta(hours=hours)).isoformat()
                await post("status", {"status": status, "at": at})
            for n in range(3):
                at = (start + timedelta(hours=1 + n)).isoformat()
                await post("swaps", {"swap_id": f"SW{n}", "vehicle_type": "heavy_truck", "at": at})
            again = await post(
                "swaps", {"swap_id": "SW0", "at": (start + timedelta(hours=1)).isoformat()}
            )
            await post(
                "batteries",
                {
                    "packs": [
                        {"pack_id": "P1", "state": "ready", "soh_percent": 95.0, "cycles": 300},
                        {"pack_id": "P2", "state": "charging", "soh_percent": 85.0},
                        {"pack_id": "P3", "state": "faulty", "soh_percent": 72.0},
                    ]
                },
            )
            packs = (await http.get("/api/v1/swap-stations/W1/batteries")).json()
            figures = (
                await http.get(
                    "/api/v1/supervision/swap-stations/figures",
                    params={
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=12)).isoformat(),
                    },
                )
            ).json()
            return {"again": again, "packs": packs, "figures": figures}

    result = asyncio.run(scenario())
    assert result["again"]["duplicate"] is True  # the same swap order resent
    assert [p["pack_id"] for p in result["packs"]] == ["P1", "P2", "P3"]
    [w1] = result["figures"]
    assert w1["swap_station_id"] == "W1"
    assert w1["swaps"] == 3 and w1["swaps_per_day"] == 6.0  # 3 in half a day
    assert w1["uptime_percent"] == 75.0  # faulted 3 of 12 hours
    assert (w1["packs"], w1["packs_ready"], w1["packs_faulty"]) == (3, 1, 1)
    assert (w1["mean_soh_percent"], w1["packs_worn"]) == (84.0, 1)
