"""Safety incidents (R33): a fire at a station with a real `ocpp` charge point whose fault
raised an alarm and drew a stop order; the incident's timeline, assembled from the log,
names each event it is built from; the file for the investigating authority exports as
JSON and XLSX; closing it records who was responsible."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16 import call as c16
from openpyxl import load_workbook

from chargenet.bootstrap import Platform
from tests.adapters.ocpp.peers import api, boot16, connect, eventually, running, stamp


def test_an_incident_timeline_names_the_events_it_is_built_from(platform: Platform) -> None:
    async def scenario() -> dict[str, Any]:
        async with running(platform) as gateway, api(platform) as http:
            rules = asyncio.create_task(platform.supervision.run_alarms(platform.bus.subscribe()))
            try:
                async with connect(gateway, "C1") as cp:
                    await cp.call(boot16())
                    before = datetime.now(UTC) - timedelta(minutes=5)
                    await cp.call(
                        c16.StatusNotification(
                            connector_id=1,
                            error_code="NoError",
                            status="Charging",
                            timestamp=stamp(before),
                        )
                    )
                    await cp.call(
                        c16.StatusNotification(
                            connector_id=1,
                            error_code="HighTemperature",
                            status="Faulted",
                            timestamp=stamp(before + timedelta(minutes=1)),
                        )
                    )
                    await eventually(
                        lambda: any(
                            e["code"] == "over_temperature"
                            for e in platform.read.events(event_type="alarm.raised")
                        )
                    )
                    stop = await http.post(
                        "/api/v1/supervision/stop-orders",
                        json={
                            "target_kind": "charger",
                            "target_id": "C1",
                            "reason": "过温，停用整改",
                        },
                    )
                    assert stop.status_code == 201, stop.text
                    reported = await http.post(
                        "/api/v1/supervision/incidents",
                        json={
                            "kind": "fire",
                            "station_id": "S1",
                            "charger_id": "C1",
                            "connector_id": "C1-1-1",
                            "occurred_at": datetime.now(UTC).isoformat(),
                            "injuries": 1,
                            "description": "充电中枪头起火，现场扑灭",
                        },
                    )
                    assert reported.status_code == 201, reported.text
                    incident = reported.json()
                    assert (incident["operator_id"], incident["state"]) == ("OP1", "open")
                    timeline = (
                        await http.get(
                            f"/api/v1/supervision/incidents/{incident['incident_id']}/timeline"
                        )
                    ).json()
                    export = await http.get(
                        f"/api/v1/supervision/incidents/{incident['incident_id']}/export",
                        params={"format": "xlsx"},
                    )
                    assert export.status_code == 200
                    document = await http.get(
                        f"/api/v1/supervision/incidents/{incident['incident_id']}/export"
                    )
                    closed = await http.post(
                        f"/api/v1/supervision/incidents/{incident['incident_id']}/close",
                        json={"responsible": "operator", "finding": "枪头温度传感器失效未维修"},
                    )
                    assert closed.status_code == 200, closed.text
                    return {
                        "timeline": timeline,
                        "xlsx": export.content,
                        "json": json.loads(document.content),
                        "closed": closed.json(),
                    }
            finally:
                rules.cancel()
                await asyncio.gather(rules, return_exceptions=True)

    result = asyncio.run(scenario())
    timeline = result["timeline"]
    types = [e["type"] for e in timeline["entries"]]
    for needed in (
        "connector.status_changed",
        "alarm.raised",
        "stop_order.issued",
        "order.issued",
        "order.acknowledged",
    ):
        assert needed in types, (needed, types)
    # Oldest first, each entry one event of the log, and the list of them given.
    ats = [e["at"] for e in timeline["entries"]]
    assert ats == sorted(ats)
    logged = {e["event_id"] for e in platform.read.events(limit=10_000)}
    assert timeline["built_from"] == [e["event_id"] for e in timeline["entries"]]
    assert set(timeline["built_from"]) <= logged
    faulted = next(e for e in timeline["entries"] if "HighTemperature" in e["summary"])
    assert faulted["focus"] is True  # the connector the incident names
    # The authority's file: the incident and the same timeline, JSON and XLSX.
    assert result["json"]["incident"]["description"] == "充电中枪头起火，现场扑灭"
    assert result["json"]["timeline"]["built_from"] == timeline["built_from"]
    book = load_workbook(io.BytesIO(result["xlsx"]))
    assert book.sheetnames == ["incident", "timeline"]
    rows = list(book["timeline"].iter_rows(values_only=True))
    assert rows[0][-1] == "event_id" and len(rows) == len(timeline["entries"]) + 1
    closed = result["closed"]
    assert (closed["state"], closed["responsible"]) == ("closed", "operator")


def test_an_incident_must_name_equipment_of_its_station(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform), api(platform) as http:
            answer = await http.post(
                "/api/v1/supervision/incidents",
                json={
                    "kind": "electric_shock",
                    "station_id": "S1",
                    "charger_id": "NOPE",
                    "occurred_at": datetime.now(UTC).isoformat(),
                },
            )
            assert answer.status_code == 422
            assert "NOPE" in answer.text

    asyncio.run(scenario())
