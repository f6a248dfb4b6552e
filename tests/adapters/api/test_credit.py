"""Credit records (信用惩戒) and demonstrations through the API (R38): a penalty with its
reason, date and source lowers the operator's scorecard; an appeal that overturns it
takes it off; demonstrations are public."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform
from chargenet.entrypoints.web import create_app
from tests.builders import areas, operator

TOKEN = "admin-token"


def test_a_penalty_counts_against_the_operator_until_overturned(platform: Platform) -> None:
    platform.ingestor.ingest([*areas(), operator("OP1"), operator("OP2")])
    app = create_app(platform, api_tokens=[TOKEN])
    today = datetime.now(UTC).date()

    def points() -> dict[str, Any]:
        now = datetime.now(UTC)
        activity = platform.supervision.queries.operator_activity(
            Scope(), now - timedelta(days=30), now + timedelta(days=1), 100
        )
        return {op: row.get("credit_points", 0) for op, row in activity.items()}

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
            made = await http.post(
                "/api/v1/supervision/credit/penalties",
                json={
                    "operator_id": "OP1",
                    "points": 8,
                    "reason": "抽查不合格且逾期未整改",
                    "basis": "忻发改〔2025〕12号",
                    "decided_on": today.isoformat(),
                },
            )
            assert made.status_code == 201, made.text
            penalty = made.json()
            before = points()
            appealed = await http.post(
                f"/api/v1/supervision/credit/penalties/{penalty['penalty_id']}/appeal",
                json={"grounds": "整改已于期限前完成，附验收单"},
            )
            assert appealed.json()["appeal_state"] == "pending"
            pending = points()
            decided = await http.post(
                f"/api/v1/supervision/credit/penalties/{penalty['penalty_id']}/decision",
                json={"upheld": False, "note": "整改属实"},
            )
            assert decided.json()["appeal_state"] == "overturned"
            record = (await http.get("/api/v1/supervision/credit/penalties")).json()
            demo = await http.post(
                "/api/v1/supervision/demonstrations",
                json={"kind": "village", "name": "东村", "area_code": "140902", "year": 2025},
            )
            assert demo.status_code == 201, demo.text
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://chargenet"
            ) as anonymous:
                public = await anonymous.get("/api/v1/public/demonstrations")
            return {
                "penalty": penalty,
                "before": before,
                "pending": pending,
                "after": points(),
                "record": record,
                "public": public.json(),
            }

    result = asyncio.run(scenario())
    penalty = result["penalty"]
    assert (penalty["reason"], penalty["basis"], penalty["decided_on"]) == (
        "抽查不合格且逾期未整改",
        "忻发改〔2025〕12号",
        today.isoformat(),
    )
    assert result["before"].get("OP1") == 8 and result["before"].get("OP2", 0) == 0
    assert result["pending"].get("OP1") == 8  # an appeal alone does not lift it
    assert result["after"].get("OP1", 0) == 0
    assert [r["appeal_note"] for r in result["record"]] == ["整改属实"]
    assert [(d["kind"], d["name"]) for d in result["public"]] == [("village", "东村")]
