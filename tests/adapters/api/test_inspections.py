"""Random inspections through the API: a regulator draws, the draw is recorded with its seed
and redraws the same from it; results and rectification are recorded; the public list
shows them to anyone; a forged draw is refused by the log."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx

from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from chargenet.core.events import InspectionDrawn, Source, event_meta
from chargenet.core.supervision.inspections import draw
from chargenet.entrypoints.web import create_app
from tests.builders import T0, areas, operator, station

TOKEN = "admin-token"


def world(platform: Platform) -> None:
    platform.ingestor.ingest(
        [
            *areas(),
            operator("OP1"),
            *[station(f"S{n}", "OP1") for n in range(1, 9)],
        ]
    )


async def client(platform: Platform) -> httpx.AsyncClient:
    app = create_app(platform, api_tokens=[TOKEN])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://chargenet")


def test_a_draw_is_recorded_with_its_seed_and_redraws_the_same(platform: Platform) -> None:
    world(platform)

    async def scenario() -> dict[str, Any]:
        await platform.start()
        try:
            return await _scenario()
        finally:
            await platform.stop()

    async def _scenario() -> dict[str, Any]:
        async with await client(platform) as http:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            made = await http.post(
                "/api/v1/supervision/inspections/draws",
                json={
                    "title": "2025年第三季度充电设施双随机抽查",
                    "inspectors": ["张三", "李四", "王五", "赵六"],
                    "count": 3,
                    "team": 2,
                },
                headers=auth,
            )
            assert made.status_code == 201, made.text
            drawn = made.json()
            station_id = drawn["assignments"][0]["station_id"]
            recorded = await http.post(
                f"/api/v1/supervision/inspections/draws/{drawn['draw_id']}/results",
                json={
                    "station_id": station_id,
                    "result": "rectify",
                    "findings": "灭火器过期；地面标识缺失",
                    "rectify_by": "2025-10-01",
                },
                headers=auth,
            )
            assert recorded.status_code == 200, recorded.text
            fixed = await http.post(
                f"/api/v1/supervision/inspections/draws/{drawn['draw_id']}/rectified",
                json={"station_id": station_id, "note": "已更换灭火器"},
                headers=auth,
            )
            assert fixed.status_code == 200, fixed.text
            public = await http.get("/api/v1/public/inspections")  # no login
            assert public.status_code == 200
            return {"drawn": drawn, "public": public.json(), "station": station_id}

    result = asyncio.run(scenario())
    drawn = result["drawn"]
    assert drawn["reproduced"] is True
    assert drawn["targets"] == [f"S{n}" for n in range(1, 9)]  # the area's public stations
    # Anyone can redraw from what is published and get the same assignment.
    again = draw(drawn["seed"], drawn["inspectors"], drawn["targets"], 3, drawn["team"])
    assert [(a.target_id, list(a.inspectors)) for a in again] == [
        (a["station_id"], a["inspectors"]) for a in drawn["assignments"]
    ]
    rows = {r["station_id"]: r for r in result["public"]}
    assert set(rows) == {a["station_id"] for a in drawn["assignments"]}
    done = rows[result["station"]]
    assert (done["result"], done["rectification"]) == ("rectify", "已更换灭火器")
    assert done["seed"] == drawn["seed"]


def test_a_given_seed_gives_the_draw_it_always_gives(platform: Platform) -> None:
    world(platform)

    async def scenario() -> list[Any]:
        await platform.start()
        try:
            return await _scenario()
        finally:
            await platform.stop()

    async def _scenario() -> list[Any]:
        async with await client(platform) as http:
            body = {
                "title": "抽查",
                "inspectors": ["甲", "乙", "丙"],
                "targets": ["S1", "S2", "S3", "S4"],
                "count": 2,
                "seed": 42,
            }
            headers = {"Authorization": f"Bearer {TOKEN}"}
            first = await http.post(
                "/api/v1/supervision/inspections/draws", json=body, headers=headers
            )
            second = await http.post(
                "/api/v1/supervision/inspections/draws", json=body, headers=headers
            )
            return [first.json(), second.json()]

    first, second = asyncio.run(scenario())
    assert first["draw_id"] != second["draw_id"]
    pairs = [
        [(a["station_id"], a["inspectors"]) for a in d["assignments"]] for d in (first, second)
    ]
    assert pairs[0] == pairs[1] == [("S1", ["乙", "甲"]), ("S4", ["丙", "甲"])]


def test_a_draw_that_does_not_follow_from_its_seed_is_refused(platform: Platform) -> None:
    world(platform)
    honest = draw(7, ("甲", "乙", "丙"), ("S1", "S2", "S3"), 1, 2)
    chosen = honest[0].target_id
    other = next(s for s in ("S1", "S2", "S3") if s != chosen)
    forged = InspectionDrawn(
        **event_meta("forged-draw", Source(adapter="api"), T0),
        draw_id="D-FORGED",
        title="抽查",
        seed=7,
        team=2,
        inspectors=("甲", "乙", "丙"),
        targets=("S1", "S2", "S3"),
        assignments=(dataclasses.replace(honest[0], target_id=other),),
        drawn_by="someone",
    )
    [outcome] = platform.ingestor.ingest([forged])
    assert outcome.disposition is Disposition.REJECTED
    assert "do not follow from the seed" in outcome.reason
