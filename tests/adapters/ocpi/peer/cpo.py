"""An operator's back-end built with extrawest-ocpi (py_ocpi), an independent OCPI 2.2.1
implementation, run in its own virtual environment (.venv-ocpi-peer) and process: it pins
FastAPI 0.101 and pydantic 1, which cannot live beside chargenet's.

Environment: PORT, STATE (a JSON file where it records what it was told, for the test to
read). Settings py_ocpi reads at import: PROTOCOL, OCPI_HOST, COUNTRY_CODE, PARTY_ID.
"""

import json
import os
from datetime import UTC, datetime

import uvicorn
from fastapi import Request
from py_ocpi import get_application
from py_ocpi.core.adapter import BaseAdapter
from py_ocpi.core.authentication.authenticator import Authenticator
from py_ocpi.core.crud import Crud
from py_ocpi.core.endpoints import ENDPOINTS
from py_ocpi.core.endpoints.v_2_2_1.utils import cpo_generator
from py_ocpi.core.enums import Action, ModuleID, RoleEnum
from py_ocpi.modules.versions.enums import VersionNumber
from py_ocpi.modules.versions.v_2_2_1.schemas import InterfaceRole

PORT = int(os.environ["PORT"])
STATE = os.environ["STATE"]
TOKEN_A = "peer-token-a"
TOKEN_C = "peer-token-c"
BASE = f"http://127.0.0.1:{PORT}"


def connector(cid, updated):
    return {
        "id": cid,
        "standard": "GBT_DC",
        "format": "CABLE",
        "power_type": "DC",
        "max_voltage": 750,
        "max_amperage": 200,
        "max_electric_power": 150000,
        "last_updated": updated,
    }


def location(lid, status, updated):
    return {
        "country_code": "CN",
        "party_id": "XZP",
        "id": lid,
        "publish": True,
        "name": f"原平服务区 {lid}",
        "address": "二广高速原平服务区",
        "city": "原平市",
        "country": "CHN",
        "coordinates": {"latitude": "38.730000", "longitude": "112.710000"},
        "time_zone": "Asia/Shanghai",
        "parking_type": "ALONG_MOTORWAY",
        "evses": [
            {
                "uid": f"{lid}-E1",
                "evse_id": f"CN*XZP*E{lid}1",
                "status": status,
                "connectors": [connector("1", updated)],
                "last_updated": updated,
            }
        ],
        "last_updated": updated,
    }


DATA = {
    ModuleID.locations: {
        "LOC1": location("LOC1", "AVAILABLE", "2025-05-01T08:00:00Z"),
        "LOC2": location("LOC2", "CHARGING", "2025-05-01T08:05:00Z"),
    }
}


def record(key, value):
    state = {}
    if os.path.exists(STATE):
        with open(STATE) as f:
            state = json.load(f)
    state[key] = value
    with open(STATE, "w") as f:
        json.dump(state, f)


def parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def state():
    if not os.path.exists(STATE):
        return {}
    with open(STATE) as f:
        return json.load(f)


class MemoryCrud(Crud):
    @classmethod
    async def get(cls, module, role, id, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            return None  # nobody is registered by token: POSTs are registrations
        if module == ModuleID.commands:
            # The charge point's answer to the command just sent (py_ocpi polls for it,
            # then POSTs it as the CommandResult to the response_url).
            return {"result": "ACCEPTED"}
        # Ids are CiString: case-insensitive (OCPI 2.2.1 types.asciidoc).
        found = {str(k).upper(): v for k, v in DATA.get(module, {}).items()}
        return found.get(str(id).upper())

    @classmethod
    async def list(cls, module, role, filters, *args, **kwargs):
        record(f"list_{module.value}", {k: str(v) if v else None for k, v in filters.items()})
        items = list(DATA.get(module, {}).values())
        if filters.get("date_from"):
            since = filters["date_from"].astimezone(UTC)
            items = [i for i in items if parse(i["last_updated"]) >= since]
        return items, len(items), True

    @classmethod
    async def create(cls, module, role, data, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            record("their_credentials", data["credentials"])
            record("their_endpoints", data["endpoints"])
            return {
                "token": TOKEN_C,
                "url": f"{BASE}/ocpi/versions",
                "roles": [
                    {
                        "role": "CPO",
                        "business_details": {"name": "晋北充电"},
                        "party_id": "XZP",
                        "country_code": "CN",
                    }
                ],
            }
        DATA.setdefault(module, {})[data["id"]] = data
        return data

    @classmethod
    async def update(cls, module, role, data, id, *args, **kwargs):
        return await cls.create(module, role, data)

    @classmethod
    async def delete(cls, module, role, id, *args, **kwargs):
        DATA.get(module, {}).pop(id, None)

    @classmethod
    async def do(cls, module, role, action, *args, data=None, **kwargs):
        if module == ModuleID.commands and action == Action.get_client_token:
            # The token to call the eMSP back with: the one it gave at registration.
            return state()["their_credentials"]["token"]
        if module == ModuleID.commands and action == Action.send_command:
            body = args[0] if args else data
            commands = state().get("commands", [])
            commands.append({"command": str(kwargs["command"].value), "body": body})
            record("commands", commands)
            return {"result": "ACCEPTED", "timeout": 30}
        return None


class Tokens(Authenticator):
    @classmethod
    async def get_valid_token_c(cls):
        return [TOKEN_C]

    @classmethod
    async def get_valid_token_a(cls):
        return [TOKEN_A]


# py_ocpi mounts its CPO Commands receiver (/ocpi/cpo/2.2.1/commands/{command}) but does not
# list it in its version details (its 2.2.1 CPO endpoint list has no commands): listed
# here, an eMSP finds it at registration as it would at any CPO.
ENDPOINTS[VersionNumber.v_2_2_1][RoleEnum.cpo][ModuleID.commands] = cpo_generator.generate_endpoint(
    ModuleID.commands, InterfaceRole.receiver
)

app = get_application(
    version_numbers=[VersionNumber.v_2_2_1],
    roles=[RoleEnum.cpo],
    modules=[
        ModuleID.credentials_and_registration,
        ModuleID.locations,
        ModuleID.commands,
    ],
    authenticator=Tokens,
    crud=MemoryCrud,
    adapter=BaseAdapter,
    http_push=True,
)


@app.middleware("http")
async def note_message_ids(request: Request, call_next):
    """Record the OCPI message ids (4.2) of every call made to this party (but the test's
    own probes)."""
    if request.url.path.startswith("/ocpi/") and "x-test-probe" not in request.headers:
        calls = []
        if os.path.exists(STATE):
            with open(STATE) as f:
                calls = json.load(f).get("calls", [])
        calls.append(
            {
                "method": request.method,
                "path": request.url.path,
                "request_id": request.headers.get("x-request-id"),
                "correlation_id": request.headers.get("x-correlation-id"),
            }
        )
        record("calls", calls)
    return await call_next(request)


@app.post("/test/session/{sid}")
async def put_session(sid: str, request: Request):
    """The test's lever: the charge point started a session (with the token it was given)."""
    DATA.setdefault(ModuleID.sessions, {})[sid] = await request.json()
    return {"ok": True}


@app.post("/test/update/{lid}")
async def update(lid: str, request: Request):
    """The test's lever: the operator's own system changes a location."""
    body = await request.json()
    DATA[ModuleID.locations][lid] = location(lid, body["status"], body["last_updated"])
    return {"ok": True}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
