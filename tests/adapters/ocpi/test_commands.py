"""OCPI 2.2.1 Commands with chargenet as eMSP: a driver starts and stops a charge at an OCPI
operator's EVSE through the driver API. The operator (a CPO written here from the spec:
CommandResponse now, CommandResult later at the response_url) gets START_SESSION with the
Location, EVSE and the token to charge with; the driver gets the CPO's asynchronous result;
the operator's Session, which carries that token, is the driver's; its CDR is charged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import (
    CPO,
    Instance,
    LiveServer,
    auth,
    start_instance,
    wait_for,
)
from tests.builders import areas, operator

CPO_OUT = "token-chargenet-uses-at-the-cpo"


class FakeCpo:
    """A CPO's Commands receiver from the spec: answers ACCEPTED (timeout 10 s) and a moment
    later POSTs the CommandResult to the response_url with its own token."""

    def __init__(self, token_to_us: str, result: str = "ACCEPTED") -> None:
        self.token_to_us = token_to_us
        self.result = result
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.results: list[int] = []
        self.server = LiveServer(
            Starlette(
                routes=[Route("/ocpi/2.2.1/commands/{kind}", self.command, methods=["POST"])]
            ),
        )

    @property
    def url(self) -> str:
        return f"{self.server.url}/ocpi/2.2.1/commands"

    async def command(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != auth(CPO_OUT)["Authorization"]:
            return JSONResponse({"status_code": 2000, "status_message": "who?"}, 401)
        body = await request.json()
        self.received.append((request.path_params["kind"], body))

        def later() -> None:
            answer = httpx.post(
                body["response_url"], json={"result": self.result}, headers=auth(self.token_to_us)
            )
            self.results.append(answer.status_code)

        threading.Timer(0.2, later).start()
        return JSONResponse(
            {
                "status_code": 1000,
                "data": {"result": "ACCEPTED", "timeout": 10},
                "timestamp": spec.ts(),
            }
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Instance, FakeCpo, str]]:
    inst = start_instance(tmp_path / "c.db", "CN*CGN", "chargenet")
    inst.ingest([*areas(), operator()])
    token = spec.registered_peer(inst.ocpi, "CN*XZP", CPO, "OP1")
    cpo = FakeCpo(token)
    cpo.server.start()
    inst.ocpi.directory.update_peer(
        "CN*XZP",
        inst.platform.clock.now(),
        endpoints=[{"identifier": "commands", "role": "RECEIVER", "url": cpo.url}],
        token_out=CPO_OUT,
    )
    base = f"{inst.base_url}/ocpi/2.2.1/receiver"
    put = httpx.put(
        f"{base}/locations/CN/XZP/LOC1",
        json=spec.location(evses=[spec.evse("E1")]),
        headers=auth(token),
    )
    assert put.status_code in (200, 201), put.text
    try:
        yield inst, cpo, token
    finally:
        cpo.server.stop()
        inst.stop()


def test_a_driver_starts_and_stops_at_an_ocpi_operators_evse(
    world: tuple[Instance, FakeCpo, str],
) -> None:
    inst, cpo, token = world
    p = inst.platform

    async def setup() -> str:
        await p.drivers.register("lina", "a-long-password")
        await p.settlement.top_up("lina", Decimal("100.00"), "manual", "k1")
        return p.accounts.login("lina", "a-long-password")[1]

    bearer = {"Authorization": f"Bearer {inst.run(setup())}"}
    api = f"{inst.base_url}/api/v1/driver"
    started = httpx.post(
        f"{api}/charges", json={"connector_id": "CN*XZP*E1*1"}, headers=bearer, timeout=20
    )
    assert started.status_code == 200, started.text
    assert started.json()["outcome"] == "accepted"
    assert started.json()["answer"] == {"result": "ACCEPTED"}  # the CPO's CommandResult
    kind, command = cpo.received[0]
    assert kind == "START_SESSION"
    assert (command["location_id"], command["evse_uid"], command["connector_id"]) == (
        "LOC1",
        "E1",
        "1",
    )
    assert command["token"]["type"] == "APP_USER" and command["token"]["party_id"] == "CGN"
    # The CPO's Session carries the token it was given: it is the driver's.
    uid = command["token"]["uid"]
    cdr_token = {"uid": uid, "type": "APP_USER", "contract_id": command["token"]["contract_id"]}
    session = spec.session("S9", cdr_token=cdr_token, location_id="LOC1", evse_uid="E1")
    r = httpx.put(
        f"{inst.base_url}/ocpi/2.2.1/receiver/sessions/CN/XZP/S9", json=session, headers=auth(token)
    )
    assert r.status_code in (200, 201), r.text
    mine = httpx.get(f"{api}/sessions", headers=bearer).json()
    assert [s["session_id"] for s in mine] == ["CN*XZP*S9"]
    stopped = httpx.post(f"{api}/sessions/CN*XZP*S9/stop", json={}, headers=bearer, timeout=20)
    assert stopped.status_code == 200, stopped.text
    assert cpo.received[1] == ("STOP_SESSION", {**cpo.received[1][1], "session_id": "S9"})
    # The CPO notes our answer after we got its result (and the order ended): wait for it.
    wait_for(lambda: cpo.results == [200, 200], what="the CPO's second answer")
    assert uid not in str(p.read.events(limit=10_000))


def test_a_result_nobody_waits_for_is_refused(world: tuple[Instance, FakeCpo, str]) -> None:
    inst, _, token = world
    r = httpx.post(
        f"{inst.base_url}/ocpi/2.2.1/commands/START_SESSION/nobody",
        json={"result": "ACCEPTED"},
        headers=auth(token),
    )
    assert r.status_code == 404 and r.json()["status_code"] == 2001
