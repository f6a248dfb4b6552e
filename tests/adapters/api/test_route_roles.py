"""Every route, called as every role, keeps to the audience it declares.

The table of routes × audiences is generated from the application itself (each route's
OpenAPI `x-access`): a route that declares nothing fails here, so a new route cannot ship
unscoped, and docs/access.md must be regenerated when the table changes.

A secret world (a dedicated station of another operator, in Yuanping, outside the test
regulator's district) carries every kind of thing the API can show: charger, connector,
session, bill, alarm, zombie case, stop order, outage exclusion, reconciliation, prices.
Every route is called with that world's ids as every persona; nothing of it may reach a
persona outside its scope, and no persona may change it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chargenet.adapters import codec
from chargenet.adapters.api.auth import StaticTokens
from chargenet.core.access import Audience, Principal, Role
from chargenet.core.areas import AreaLevel
from chargenet.core.events import AreaRegistered, Event, StationRegistered, StationUpdated
from chargenet.core.ids import AreaCode, EventId
from chargenet.core.ownership import references
from chargenet.core.registry.model import Access
from chargenet.entrypoints.access_table import access_table
from chargenet.entrypoints.web import create_app, protocol_parts
from tests.adapters.test_codec import SAMPLES
from tests.builders import charger, meta, operator, small_world, station

ROOT = Path(__file__).resolve().parents[3]
MARK = "SECRET"
# The samples' ids, renamed into the secret world.
_RENAME = {
    "OP1": "OP2",
    "S1": "SECRETST",
    "C1": "SECRETCH",
    "T1": "SECRETTX",
    "A1": "SECRETAL",
    "Z1": "SECRETZC",
    "P1": "SECRETSO",
    "X1": "SECRETEX",
    "R1": "SECRETRC",
    "O1": "SECRETOR",
}
_IDS = re.compile(r'"(' + "|".join(_RENAME) + r')(["-])')

PERSONAS = {
    "anonymous": None,
    "operator": Principal(name="op1", role=Role.OPERATOR, operator_id="OP1"),
    "regulator": Principal(name="xinfu", role=Role.REGULATOR, area_code="140902"),
    "admin": Principal(name="admin", role=Role.ADMIN),
    "driver": Principal(name="driver1", role=Role.DRIVER),
}

# Values for path and query parameters, by name: the secret world's ids (outside the
# operator's and the regulator's scope), and those in scope for the positive checks.
FOREIGN = {
    "station_id": "SECRETST",
    "charger_id": "SECRETCH",
    "connector_id": "SECRETCH-1-1",
    "session_id": "SECRETTX",
    "alarm_id": "SECRETAL",
    "case_id": "SECRETZC",
    "stop_id": "SECRETSO",
    "exclusion_id": "SECRETEX",
    "reconciliation_id": "SECRETRC",
    "incident_id": "I1",
    "penalty_id": "SECRETSO",
    "swap_station_id": "W1",
    "operator_id": "OP2",
    "operator": "OP2",
    "station": "SECRETST",
    "connector": "SECRETCH-1-1",
    "code": "140981",
    "area": "140981",
    "parent": "140981",
}
OWN = {
    "station_id": "S1",
    "charger_id": "C1",
    "connector_id": "C1-1-1",
    "operator_id": "OP1",
    "station": "S1",
    "code": "140902",
    "area": "140902",
}
GENERIC = {
    "year": 2025,
    "pack_id": "xinzhou",
    "target_id": "140902|new_public_piles|2025",
    "endpoint": "query_stations_info",
    "cc": "CN",
    "pid": "SEC",
    "location_id": "SECRETST",
    "evse_uid": "SECRETCH-1",
    "tariff_id": "SECRETTF",
    "cdr_id": "SECRETCDR",
    "day": "2025-05-01",
    "token_digest": "0" * 40,
    "driver_id": "nobody",
}
BODIES = {
    "/api/v1/chargers/{charger_id}/commands": {"command": "reset", "timeout_s": 0.1},
    "/ocpi/2.2.1/chargingprofiles/{kind}/{uid}": {"result": "ACCEPTED"},
    "/ocpi/2.2.1/hub/results/{ticket}": {"result": "ACCEPTED"},
    "/ocpi/2.2.1/receiver/commands/{command}": {
        "response_url": "http://127.0.0.1:9/r",
        "location_id": "SECRETST",
    },
    "/ocpi/2.2.1/receiver/tokens/{cc}/{pid}/{token_uid}": {"uid": "T1", "type": "RFID"},
    "/ocpi/2.2.1/receiver/chargingprofiles/{session_id}": {"response_url": "http://127.0.0.1:9/r"},
    "/ocpi/2.2.1/chargingprofiles/{session_id}": {
        "start_date_time": "2025-05-01T00:00:00Z",
        "charging_profile": {
            "charging_rate_unit": "W",
            "charging_profile_period": [{"start_period": 0, "limit": 7000}],
        },
    },
    "/api/v1/supervision/exclusions": {
        "target_kind": "charger",
        "target_id": "SECRETCH",
        "start": "2025-05-01T00:00:00Z",
        "end": "2025-05-01T03:00:00Z",
        "reason": "utility_outage",
    },
    "/api/v1/supervision/stations/{station_id}/public-hours": {"hours": "18:00-08:00"},
    "/api/v1/supervision/zombies/{case_id}/close": {"outcome": "dismissed"},
    "/api/v1/supervision/zombies/{case_id}/rectification": {"note": "module replaced"},
    "/api/v1/supervision/stop-orders/{stop_id}/rectification": {"note": "cable replaced"},
    "/api/v1/supervision/alarms/{alarm_id}/clear": {"reason": "fixed"},
    "/api/v1/supervision/stop-orders": {
        "target_kind": "charger",
        "target_id": "SECRETCH",
        "reason": "fire risk",
        "timeout_s": 0.1,
    },
    "/api/v1/supervision/stop-orders/{stop_id}/lift": {"reason": "rectified"},
    "/api/v1/auth/login": {"username": "nobody", "password": "wrong"},
    "/api/v1/orderly/grid-connections": {"station_id": "SECRETST", "capacity_w": 100_000},
    "/api/v1/orderly/feeders": {"feeder_id": "FX", "name": "x", "capacity_w": 100_000},
    "/api/v1/orderly/sessions/{session_id}/needs": {"energy_wh": 10_000},
    "/api/v1/orderly/dr-events": {
        "scope": "station",
        "scope_id": "SECRETST",
        "end": "2025-05-01T03:00:00Z",
        "share": 0.5,
        "reason": "peak",
    },
    "/api/v1/planning/scenarios": {"name": "roles", "area": "450200", "year": 2025},
    "/api/v1/operators/{operator_id}/channel": {"url": "https://ops.example/hook"},
    "/api/v1/channel/orders/{order_id}/answer": {"result": "accepted"},
    "/api/v1/supervision/incidents": {
        "kind": "fire",
        "station_id": "SECRETST",
        "occurred_at": "2025-05-01T00:00:00Z",
    },
    "/api/v1/supervision/incidents/{incident_id}/close": {
        "responsible": "operator",
        "finding": "sensor failed",
    },
    "/api/v1/supervision/inspections/draws": {
        "title": "draw",
        "inspectors": ["a", "b"],
        "count": 1,
        "targets": ["SECRETST"],
    },
    "/api/v1/supervision/inspections/draws/{draw_id}/results": {
        "station_id": "SECRETST",
        "result": "passed",
    },
    "/api/v1/supervision/inspections/draws/{draw_id}/rectified": {
        "station_id": "SECRETST",
        "note": "done",
    },
    "/api/v1/supervision/credit/penalties": {
        "operator_id": "OP2",
        "points": 1,
        "reason": "late",
        "basis": "decision 1",
        "decided_on": "2025-05-01",
    },
    "/api/v1/supervision/credit/penalties/{penalty_id}/appeal": {"grounds": "fixed"},
    "/api/v1/supervision/credit/penalties/{penalty_id}/decision": {"upheld": True},
    "/api/v1/supervision/demonstrations": {
        "kind": "village",
        "name": "east",
        "area_code": "140981",
        "year": 2025,
    },
    "/api/v1/swap-stations/{swap_station_id}/status": {"status": "available"},
    "/api/v1/swap-stations/{swap_station_id}/swaps": {"swap_id": "SW1"},
    "/api/v1/swap-stations/{swap_station_id}/batteries": {"packs": []},
    "/api/v1/driver/login": {"driver_id": "no-driver", "password": "wrong"},
    "/api/v1/driver/tokens": {"kind": "app"},
    "/api/v1/driver/tokens/{token_digest}/block": {"blocked": True},
    "/api/v1/driver/charges": {"connector_id": "SECRETCH-1-1", "timeout_s": 0.1},
    "/api/v1/driver/sessions/{session_id}/stop": {"timeout_s": 0.1},
    "/api/v1/drivers": {"driver_id": "sweeper", "password": "a-long-password"},
    "/api/v1/drivers/{driver_id}/tokens": {"kind": "rfid", "token": "04SWEEP1"},
    "/api/v1/drivers/{driver_id}/topups": {"amount": "1.00", "key": "sweep"},
    "/api/v1/settlement/sessions/{session_id}/refund": {"key": "sweep"},
    "/api/v1/settlement/sessions/{session_id}/dispute": {"amount": "1.00", "key": "sweep"},
}


def _secret(event: Event) -> Event:
    text = _IDS.sub(lambda m: f'"{_RENAME[m.group(1)]}{m.group(2)}', codec.encode(event).decode())
    renamed = codec.decode(event.TYPE, event.VERSION, text)
    return dataclasses.replace(renamed, event_id=EventId(f"secret-{event.event_id}"))


def secret_world() -> list[Event]:
    yuanping = AreaRegistered(
        **meta(),
        code=AreaCode("140981"),
        level=AreaLevel.COUNTY,
        name_zh="原平市",
        parent_code=AreaCode("140900"),
    )
    st = station(
        "SECRETST", "OP2", lat=38.73, lon=112.71, area_code="140981", access=Access.DEDICATED
    )
    assert isinstance(st, StationRegistered)
    owned = [_secret(e) for e in SAMPLES if any(references(e))]
    # the station above stays as it is: dedicated, in Yuanping
    owned = [e for e in owned if not isinstance(e, StationRegistered | StationUpdated)]
    return [yuanping, operator("OP2", name="Fleet Two"), st, *owned]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings

    db = tmp_path_factory.mktemp("roles") / "chargenet.db"
    platform = bootstrap(Settings(database_url=f"sqlite:///{db}", sqlite_synchronous="OFF"))
    platform.ingestor.ingest([*small_world(), charger("C2", "S1")])
    outcomes = platform.ingestor.ingest(secret_world())
    assert sum(o.ok for o in outcomes) > 30
    tokens = StaticTokens({f"{n}-token": p for n, p in PERSONAS.items() if p is not None})
    app = create_app(platform, authenticators=[tokens], **protocol_parts(platform))
    with TestClient(app) as test_client:
        yield test_client
    platform.close()


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def _value(param: dict[str, Any], values: dict[str, Any]) -> Any:
    name = param["name"]
    if name in values:
        return values[name]
    if name in GENERIC:
        return GENERIC[name]
    schema = param.get("schema", {})
    kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    if name == "month":
        return 5 if "integer" in kinds else "2025-05"
    if not param.get("required"):
        return None
    return 1 if "integer" in kinds else "x"


def _call(
    client: TestClient,
    persona: str,
    method: str,
    path: str,
    op: dict[str, Any],
    values: dict[str, Any],
) -> Any:
    url, query = path, {}
    for param in op.get("parameters", []):
        value = _value(param, values)
        if value is None:
            continue
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", str(value))
        elif param["in"] == "query":
            query[param["name"]] = value
    headers = {"X-CSRF-Token": "x"}
    if PERSONAS[persona] is not None:
        headers["Authorization"] = f"Bearer {persona}-token"
    body = BODIES.get(path) if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, params=query, json=body, headers=headers)


def test_every_route_declares_its_audience_and_docs_list_them(client: TestClient) -> None:
    undeclared = [f"{m} {p}" for m, p, op in _operations(client) if "x-access" not in op]
    assert undeclared == []
    table = (ROOT / "docs" / "access.md").read_text()
    assert access_table(client.app.openapi()) in table, (  # type: ignore[attr-defined]
        "docs/access.md is out of date: "
        "python -m chargenet.entrypoints.access_table > docs/access.md"
    )


def _expectations(audience: str, persona: str, method: str) -> set[int] | str:
    """The statuses allowed, or "any" (not refused), "scoped" (403, 404, or an answer
    that shows nothing of the secret world), "refused" (403 or 404)."""
    if audience == Audience.PARTNER:
        return "partner"
    if audience == Audience.PUBLIC:
        # public, but nothing of the secret world (a dedicated site) but to the admin;
        # a 401 is the answer to the sweep's wrong password at /auth/login
        return {200, 201, 204, 401, 404, 422} if persona == "admin" else "scoped"
    if persona == "anonymous":
        return {401}
    if audience == Audience.DRIVER:
        # a driver's own account only: nothing of the secret world, no one else's
        return ("refused" if method != "GET" else "scoped") if persona == "driver" else {403}
    if persona == "driver":
        return {403}  # a driver is no member of the supervising side
    if persona == "admin":
        return "any"
    if audience in (Audience.PLATFORM, Audience.ADMIN):
        return {403}
    if audience == Audience.OPERATOR and persona == "regulator":
        return {403}
    if audience == Audience.OWN and persona == "regulator":
        return {403}  # a regulator with a jurisdiction: the log is not divided by area
    if audience == Audience.REGULATOR and persona == "operator":
        return {403}
    return "refused" if method != "GET" else "scoped"


def test_every_route_keeps_the_secret_world_from_every_persona_outside_its_scope(
    client: TestClient,
) -> None:
    broken: list[str] = []
    for method, path, op in _operations(client):
        audience = op.get("x-access", "undeclared")
        for persona in PERSONAS:
            answer = _call(client, persona, method, path, op, FOREIGN)
            allowed = _expectations(audience, persona, method)
            code, body = answer.status_code, answer.text
            what = f"{persona} {method} {answer.request.url} ({audience}) → {code}"
            if code >= 500:
                broken.append(f"{what}: server error")
            elif allowed == "partner":
                # OCPI answers 401 without its token (2.2.1 §4.1.2), and so do operators'
                # channels without their signature; payment providers' notifications need
                # the provider's signature; T/CEC 102 answers with a Ret other than 0. API
                # logins, even an admin's, are no partner credentials.
                if path.startswith(("/ocpi", "/api/v1/channel")):
                    refused = code == 401
                elif path.startswith("/payments"):
                    refused = code in (401, 404)  # a provider's signature, or no such provider
                else:
                    refused = answer.json()["Ret"] != 0
                if not refused:
                    broken.append(f"{what}: served without the protocol's credentials")
            elif allowed == "any":
                if code in (401, 403):
                    broken.append(f"{what}: refused")
            elif allowed == "refused":
                if code not in (403, 404):
                    broken.append(f"{what}: a write outside the caller's scope")
            elif allowed == "scoped":
                if code == 401 and audience != Audience.PUBLIC:
                    broken.append(f"{what}: a member was not recognised")
                if code < 300 and MARK in body:
                    broken.append(f"{what}: shows {_leak(body)}")
            elif code not in allowed:
                broken.append(f"{what}: expected {sorted(allowed)}")
    assert broken == [], "\n".join(broken)


def _leak(body: str) -> str:
    found = sorted(set(re.findall(MARK + r"[A-Z0-9-]*", body)))
    return ", ".join(found[:5])


def test_members_reach_what_is_theirs(client: TestClient) -> None:
    """The sweep's other half: in their own scope the regulator and the operator are let in."""
    refused: list[str] = []
    members: dict[str | None, list[str]] = {
        Audience.MEMBER: ["regulator", "operator"],
        Audience.REGULATOR: ["regulator"],
        Audience.OWN: ["operator"],
        Audience.OPERATOR: ["operator"],
        Audience.DRIVER: ["driver"],
    }
    for method, path, op in _operations(client):
        personas = members.get(op.get("x-access"), [])
        if method != "GET":
            continue
        for persona in personas:
            answer = _call(client, persona, method, path, op, OWN)
            if answer.status_code in (401, 403):
                refused.append(f"{persona} GET {answer.request.url} → {answer.status_code}")
    assert refused == [], "\n".join(refused)


def test_the_sweep_sees_a_leak_when_there_is_one(client: TestClient) -> None:
    """The secret world is visible where it should be: to the admin, by its ids."""
    admin = {"Authorization": "Bearer admin-token"}
    assert MARK in client.get("/api/v1/stations/SECRETST", headers=admin).text
    assert MARK in client.get("/api/v1/sessions", headers=admin).text
    assert MARK in client.get("/api/v1/supervision/stop-orders/SECRETSO", headers=admin).text
