"""OCPI 2.2.1 ChargingProfiles with chargenet as the Sender (Smart Charging Service
Provider) and an operator's platform as the Receiver: orderly charging's limit for a
session at the operator's EVSE is PUT to the platform, the EVSE's ActiveChargingProfile is
asked for, and the limit is DELETEd when the session ends; each asynchronous result the
platform POSTs to our response_url is recorded with the order.

The platform is written here from mod_charging_profiles (extrawest-ocpi's receiver expects
one period object and a required `min_charge_rate`, not the spec's list and optional
field): it checks what it is sent, answers a ChargingProfileResponse at once and POSTs the
Charge Point's result a moment later, with its own token, as a real platform would."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chargenet.app.orders import Order
from chargenet.core.events import GridConnectionStated
from chargenet.core.ids import OrderId, StationId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import (
    CPO,
    Instance,
    LiveServer,
    auth,
    start_instance,
    wait_for,
)
from tests.builders import areas, meta, operator

CPO_OUT = "token-chargenet-uses-at-the-cpo"
ONE_DECIMAL = re.compile(r"^-?\d+(\.\d)?$")


class ProfilesReceiver:
    """A CPO platform's ChargingProfiles Receiver interface (§ 15.1)."""

    def __init__(self, token_to_us: str, response: str = "ACCEPTED") -> None:
        self.token_to_us = token_to_us
        self.response = response
        self.sessions = {"S9"}
        self.received: list[tuple[str, str, dict[str, Any]]] = []  # method, session, input
        self.posted: list[int] = []  # HTTP status of each result we POSTed
        self.server = LiveServer(
            Starlette(
                routes=[
                    Route(
                        "/ocpi/2.2.1/chargingprofiles/{session_id}",
                        self.handle,
                        methods=["GET", "PUT", "DELETE"],
                    )
                ]
            ),
        )

    @property
    def url(self) -> str:
        return f"{self.server.url}/ocpi/2.2.1/chargingprofiles/"

    @staticmethod
    def _refused(message: str) -> JSONResponse:
        return JSONResponse(
            {"status_code": 2001, "status_message": message, "timestamp": spec.ts()}, 400
        )

    async def handle(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != auth(CPO_OUT)["Authorization"]:
            return JSONResponse({"status_code": 2000, "status_message": "who?"}, 401)
        session = request.path_params["session_id"]
        query = dict(request.query_params)
        if request.method == "PUT":
            given = await request.json()
            problem = self._check_profile(given.get("charging_profile"))
            if problem:
                return self._refused(problem)
            result: dict[str, Any] = {"result": "ACCEPTED"}
        elif request.method == "GET":
            if not query.get("duration", "").isdigit():
                return self._refused("duration is required, in seconds")
            given = query
            profile = {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 11000.0}],
            }
            result = {
                "result": "ACCEPTED",
                "profile": {"start_date_time": spec.ts(), "charging_profile": profile},
            }
        else:
            given = query
            result = {"result": "ACCEPTED"}
        if not str(given.get("response_url", "")).startswith("http"):
            return self._refused("response_url is required")
        self.received.append((request.method, session, given))
        answer = self.response if session in self.sessions else "UNKNOWN_SESSION"
        if answer == "ACCEPTED":

            def later() -> None:  # the Charge Point's answer, through the CPO
                posted = httpx.post(
                    given["response_url"], json=result, headers=auth(self.token_to_us)
                )
                self.posted.append(posted.status_code)

            threading.Timer(0.2, later).start()
        return JSONResponse(
            {
                "status_code": 1000,
                "data": {"result": answer, "timeout": 10},
                "timestamp": spec.ts(),
            }
        )

    @staticmethod
    def _check_profile(profile: Any) -> str | None:
        """ChargingProfile § 16.3: a unit, and periods of start_period and a limit with
        at most one decimal."""
        if not isinstance(profile, dict):
            return "charging_profile is required"
        if profile.get("charging_rate_unit") not in ("W", "A"):
            return "charging_rate_unit is W or A"
        periods = profile.get("charging_profile_period")
        if not isinstance(periods, list) or not periods:
            return "charging_profile_period is a list of periods"
        for period in periods:
            if not isinstance(period.get("start_period"), int):
                return "start_period is an int"
            if not ONE_DECIMAL.match(json.dumps(period.get("limit"))):
                return "limit accepts at most one digit fraction"
        return None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Instance, ProfilesReceiver, str]]:
    inst = start_instance(tmp_path / "c.db", "CN*CGN", "chargenet")
    inst.ingest([*areas(), operator()])
    token = spec.registered_peer(inst.ocpi, "CN*XZP", CPO, "OP1")
    cpo = ProfilesReceiver(token)
    cpo.server.start()
    inst.ocpi.directory.update_peer(
        "CN*XZP",
        inst.platform.clock.now(),
        endpoints=[{"identifier": "chargingprofiles", "role": "RECEIVER", "url": cpo.url}],
        token_out=CPO_OUT,
    )
    base = f"{inst.base_url}/ocpi/2.2.1/receiver"
    for url, body in (
        (f"{base}/locations/CN/XZP/LOC1", spec.location(evses=[spec.evse("E1")])),
        (f"{base}/sessions/CN/XZP/S9", spec.session("S9")),
    ):
        put = httpx.put(url, json=body, headers=auth(token))
        assert put.status_code in (200, 201), put.text
    now = datetime.now(UTC)
    inst.ingest(
        [
            GridConnectionStated(
                **meta(now),
                station_id=StationId("CN*XZP*LOC1"),
                valid_from=now - timedelta(hours=1),
                capacity_w=20_000,
            )
        ]
    )
    try:
        yield inst, cpo, token
    finally:
        cpo.server.stop()
        inst.stop()


def _acknowledged(inst: Instance) -> list[tuple[str, Any]]:
    """(outcome, answer) of every order's acknowledgement in the log."""
    events = inst.platform.read.events(event_type="order.acknowledged", limit=100)
    return [(e["outcome"], e["answer"] and json.loads(e["answer"])) for e in events]


def test_a_sessions_limit_is_put_to_its_operators_platform_and_cleared_when_it_ends(
    world: tuple[Instance, ProfilesReceiver, str],
) -> None:
    inst, cpo, token = world
    p = inst.platform
    snap, plan, sent = inst.run(p.orderly.run_once())
    assert [s.session_id for s in snap.sessions] == ["CN*XZP*S9"]
    [result] = sent
    # The outcome is the Charge Point's ChargingProfileResult, not the CPO's direct answer.
    assert (result.outcome, result.answer) == (OrderOutcome.ACCEPTED, {"result": "ACCEPTED"})
    method, session, body = cpo.received[0]
    assert (method, session) == ("PUT", "S9")
    assert body["response_url"].startswith(
        f"{inst.base_url}/ocpi/2.2.1/chargingprofiles/chargingprofile/"
    )
    profile = body["charging_profile"]
    assert profile["charging_rate_unit"] == "W"  # a DC EVSE: watts
    first = profile["charging_profile_period"][0]
    assert first["start_period"] == 0
    assert first["limit"] == pytest.approx(plan.now()["CN*XZP*S9"], abs=0.05)
    assert 0 < first["limit"] <= 20_000
    assert _acknowledged(inst) == [("accepted", {"result": "ACCEPTED"})]

    # What the EVSE has planned: the ActiveChargingProfile, through the platform.
    order = Order(
        order_id=OrderId("ask-active-profile"),
        kind=OrderKind.GET_COMPOSITE_SCHEDULE,
        charger_id=snap.sessions[0].charger_id,
        protocol="ocpi",
        target_kind=TargetKind.CHARGER,
        target_id=snap.sessions[0].charger_id,
        parameters={"session_id": "CN*XZP*S9", "duration_s": "900"},
    )
    active = inst.run(p.orders.issue(order))
    assert active.outcome is OrderOutcome.ACCEPTED
    assert active.answer is not None
    assert active.answer["profile"]["charging_profile"]["charging_profile_period"][0] == {
        "start_period": 0,
        "limit": 11000.0,
    }
    assert cpo.received[1][:2] == ("GET", "S9") and cpo.received[1][2]["duration"] == "900"

    # The session ends at the operator: its limit is deleted there, and the
    # ClearProfileResult recorded.
    ended = spec.session("S9", "COMPLETED", kwh=3.0, minutes=2, end_date_time=spec.ts(2))
    put = httpx.put(
        f"{inst.base_url}/ocpi/2.2.1/receiver/sessions/CN/XZP/S9", json=ended, headers=auth(token)
    )
    assert put.status_code in (200, 201), put.text
    inst.run(p.orderly.run_once())
    method, session, query = cpo.received[2]
    assert (method, session) == ("DELETE", "S9")
    assert "/chargingprofiles/clearprofile/" in query["response_url"]
    assert len(_acknowledged(inst)) == 3
    assert all(outcome == "accepted" for outcome, _ in _acknowledged(inst))
    issued = p.read.events(event_type="order.issued", limit=100)
    assert sorted(e["kind"] for e in issued) == [
        "clear_charging_limit",
        "get_composite_schedule",
        "set_session_profile",
    ]
    # The CPO notes our answer after we got its result (and the order ended): wait for it.
    wait_for(lambda: cpo.posted == [200, 200, 200], what="the CPO's third answer")


def test_a_session_the_platform_does_not_know_is_rejected_at_once(
    world: tuple[Instance, ProfilesReceiver, str],
) -> None:
    inst, cpo, _ = world
    cpo.sessions = set()
    _, _, [result] = inst.run(inst.platform.orderly.run_once())
    assert result.outcome is OrderOutcome.REJECTED
    assert "UNKNOWN_SESSION" in result.detail
    assert cpo.posted == []


def test_the_module_is_advertised_and_a_result_nobody_awaits_is_refused(
    world: tuple[Instance, ProfilesReceiver, str],
) -> None:
    inst, _, token = world
    details = httpx.get(f"{inst.base_url}/ocpi/2.2.1", headers=auth(token)).json()["data"]
    assert {
        "identifier": "chargingprofiles",
        "role": "SENDER",
        "url": f"{inst.base_url}/ocpi/2.2.1/chargingprofiles",
    } in details["endpoints"]
    late = httpx.post(
        f"{inst.base_url}/ocpi/2.2.1/chargingprofiles/chargingprofile/nobody",
        json={"result": "ACCEPTED"},
        headers=auth(token),
    )
    assert late.status_code == 404 and late.json()["status_code"] == 2001
    # The Receiver's update of an ActiveChargingProfile (§ 15.2.2) is taken.
    update = httpx.put(
        f"{inst.base_url}/ocpi/2.2.1/chargingprofiles/S9",
        json={
            "start_date_time": spec.ts(),
            "charging_profile": {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 5000.0}],
            },
        },
        headers=auth(token),
    )
    assert update.status_code == 200 and update.json()["status_code"] == 1000
