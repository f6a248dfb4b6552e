"""Maintenance commands through the HTTP API to real `ocpp` library charge points: reset,
unlock, trigger message, 1.6 Get/ChangeConfiguration, 2.0.1 Get/SetVariables. The answer
is the charger's; every command and answer is in the log; who may is checked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chargenet.adapters.api.auth import StaticTokens
from chargenet.bootstrap import Platform
from chargenet.core.access import Principal, Role
from tests.adapters.ocpp.peers import api, boot16, boot201, connect, eventually, running
from tests.adapters.ocpp.test_gateway import live, raw_client

TOKENS = StaticTokens(
    {
        "op1-token": Principal("op1-staff", Role.OPERATOR, operator_id="OP1"),
        "op2-token": Principal("op2-staff", Role.OPERATOR, operator_id="OP2"),
        "regulator-token": Principal("xinfu", Role.REGULATOR, area_code="140902"),
    }
)


def test_commands_reach_the_charger_and_return_its_answer(platform: Platform) -> None:
    commands_16: list[dict[str, Any]] = [
        {"command": "reset", "hard": True},
        {"command": "unlock_connector", "evse_no": 2},
        {"command": "trigger_message", "message": "StatusNotification", "evse_no": 1},
        {"command": "get_configuration", "keys": ["HeartbeatInterval"]},
        {"command": "change_configuration", "key": "HeartbeatInterval", "value": "120"},
    ]
    commands_201: list[dict[str, Any]] = [
        {"command": "reset", "evse_no": 2},
        {"command": "unlock_connector", "evse_no": 1, "connector_no": 1},
        {"command": "trigger_message", "message": "LogStatusNotification"},
        {
            "command": "get_variables",
            "variables": [
                {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
                {
                    "component": "EVSE",
                    "evse_no": 1,
                    "variable": "Power",
                    "attribute_type": "MaxSet",
                },
            ],
        },
        {
            "command": "set_variables",
            "variables": [
                {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "120"}
            ],
        },
    ]

    async def scenario() -> tuple[list[Any], list[Any], Any, Any]:
        async with (
            running(platform) as gateway,
            connect(gateway, "C1") as cp16,
            connect(gateway, "C2", "ocpp2.0.1") as cp201,
            api(platform, token="op1-token", authenticators=[TOKENS]) as client,
        ):
            await cp16.call(boot16())
            await cp201.call(boot201())
            answers_16 = [
                (await client.post("/api/v1/chargers/C1/commands", json=c)) for c in commands_16
            ]
            answers_201 = [
                (await client.post("/api/v1/chargers/C2/commands", json=c)) for c in commands_201
            ]
            await eventually(lambda: live(platform, "C1-1-1")["status"] == "available")
            return answers_16, answers_201, cp16.received, cp201.received

    answers_16, answers_201, got_16, got_201 = asyncio.run(scenario())
    for response in [*answers_16, *answers_201]:
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "accepted", response.json()
    reset, unlock, trigger, config, changed = (r.json() for r in answers_16)
    assert reset["answer"] == {"status": "Accepted"} and unlock["answer"] == {"status": "Unlocked"}
    assert trigger["answer"] == changed["answer"] == {"status": "Accepted"}
    assert config["answer"]["configurationKey"] == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "60"}
    ]
    assert got_16 == [
        ("Reset", {"type": "Hard"}),
        ("UnlockConnector", {"connector_id": 2}),
        ("TriggerMessage", {"requested_message": "StatusNotification"}),
        ("GetConfiguration", {"key": ["HeartbeatInterval"]}),
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}),
    ]
    variables = answers_201[3].json()["answer"]["getVariableResult"]
    assert [(v["component"]["name"], v["attributeValue"]) for v in variables] == [
        ("OCPPCommCtrlr", "60"),
        ("EVSE", "60"),
    ]
    assert got_201[:3] == [
        ("Reset", {"type": "OnIdle"}),  # the library peer drops evse_id from its record
        ("UnlockConnector", {"evse_id": 1, "connector_id": 1}),
        ("TriggerMessage", {"requested_message": "LogStatusNotification"}),
    ]
    assert got_201[3][1]["get_variable_data"][1] == {
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
        "attribute_type": "MaxSet",
    }
    # Each command given and each answer is an event in the log.
    issued = platform.read.events(event_type="order.issued")
    assert [e["kind"] for e in issued] == [c["command"] for c in commands_16 + commands_201]
    assert all(e["issued_by"] == "op1-staff" for e in issued)
    acks = {e["order_id"]: e for e in platform.read.events(event_type="order.acknowledged")}
    assert json.loads(acks[config["order_id"]]["answer"]) == config["answer"]


def test_who_may_command_and_what_failures_say(platform: Platform) -> None:
    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with running(platform) as gateway:
            async with api(platform, token="", authenticators=[TOKENS]) as anonymous:
                out["anonymous"] = await anonymous.post(
                    "/api/v1/chargers/C1/commands", json={"command": "reset"}
                )
            for who in ("regulator-token", "op2-token", "op1-token"):
                async with api(platform, token=who, authenticators=[TOKENS]) as client:
                    out[who] = await client.post(
                        "/api/v1/chargers/C1/commands", json={"command": "reset"}
                    )
            async with api(platform) as admin:
                # a 2.0.1 command to a 1.6 charger: nothing sent, nothing recorded
                out["wrong version"] = await admin.post(
                    "/api/v1/chargers/C1/commands",
                    json={
                        "command": "get_variables",
                        "variables": [{"component": "A", "variable": "B"}],
                    },
                )
                out["bad message"] = await admin.post(
                    "/api/v1/chargers/C1/commands",
                    json={"command": "trigger_message", "message": "LogStatusNotification"},
                )
                silent = await raw_client(gateway)  # connected, answers nothing
                await eventually(lambda: "C1" in gateway.links)
                out["timeout"] = await admin.post(
                    "/api/v1/chargers/C1/commands", json={"command": "reset", "timeout_s": 0.3}
                )
                await silent.close()
        return out

    out = asyncio.run(scenario())
    assert out["anonymous"].status_code == 401
    assert out["regulator-token"].status_code == 403  # regulators act through stop orders
    assert out["op2-token"].status_code == 404  # another operator's charger is not seen
    not_connected = out["op1-token"]
    assert not_connected.status_code == 409
    assert (not_connected.json()["outcome"], not_connected.json()["detail"]) == (
        "failed",
        "charger is not connected",
    )
    assert out["wrong version"].status_code == 422
    assert "get_configuration" in out["wrong version"].json()["detail"]
    assert out["bad message"].status_code == 422  # not a 1.6 TriggerMessage
    assert out["timeout"].status_code == 504 and out["timeout"].json()["outcome"] == "timeout"
    outcomes = [e["outcome"] for e in platform.read.events(event_type="order.acknowledged")]
    assert outcomes == ["failed", "timeout"]  # the two commands given; the refused ones not
