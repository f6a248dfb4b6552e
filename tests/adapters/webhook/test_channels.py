"""Orders and notices reach operators whose equipment's protocol cannot carry them (OCPI
2.2.1 has no command to take an EVSE out of service; OCPP none to tell an operator of a
zombie case): through the operator's own channel, a webhook signed HMAC-SHA256, served
here by a real HTTP peer on loopback that checks the signature as an operator would. The
answer is tracked — at once, or later through the signed answer endpoint."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.web import create_app, protocol_parts
from chargenet.kit.clock import SystemClock
from tests.adapters.tcec.harness import serving, settings_for
from tests.builders import areas, charger, operator, station

TOKEN = "admin-token"


@dataclass
class OperatorPlatform:
    """The operator's side: receives orders, checks their signature, answers as told."""

    secret: str = ""
    answer: dict[str, Any] | None = field(default_factory=lambda: {"result": "accepted"})
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    processed: list[str] = field(default_factory=list)  # delivery ids answered 2xx

    def seen(self, delivery_id: str) -> bool:
        return delivery_id in self.processed

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/orders")
        async def orders(request: Request) -> Any:
            body = await request.body()
            stamp = request.headers["X-Chargenet-Timestamp"]
            mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
            if request.headers["X-Chargenet-Signature"] != "sha256=" + mac.hexdigest():
                self.bad_signatures += 1
                return JSONResponse({"error": "bad signature"}, status_code=401)
            self.received.append(json.loads(body))
            if self.status >= 300:
                return JSONResponse({"error": "busy"}, status_code=self.status)
            self.processed.append(request.headers["X-Chargenet-Delivery"])
            return self.answer

        return app

    def signed(self, body: dict[str, Any], operator_id: str, *, secret: str | None = None) -> Any:
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        mac = hmac.new(
            (secret or self.secret).encode(), stamp.encode() + b"." + raw, hashlib.sha256
        )
        return raw, {
            "Content-Type": "application/json",
            "X-Chargenet-Operator": operator_id,
            "X-Chargenet-Timestamp": stamp,
            "X-Chargenet-Signature": "sha256=" + mac.hexdigest(),
        }


@dataclass
class World:
    platform: Platform
    peer: OperatorPlatform
    url: str
    http: httpx.AsyncClient
    peer_url: str  # where the operator's platform takes orders

    async def set_channel(self, operator_id: str, url: str) -> str:
        answer = await self.http.put(f"/api/v1/operators/{operator_id}/channel", json={"url": url})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["secret"])

    async def stop(self, station_id: str) -> dict[str, Any]:
        answer = await self.http.post(
            "/api/v1/supervision/stop-orders",
            json={
                "target_kind": "station",
                "target_id": station_id,
                "reason": "起火隐患，停业整改",
            },
        )
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def stop_order(self, stop_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"/api/v1/supervision/stop-orders/{stop_id}")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


def seeded(settings: Settings) -> Platform:
    platform = bootstrap(settings, clock=SystemClock())
    long_ago = datetime.now(UTC) - timedelta(days=60)
    platform.ingestor.ingest(
        [
            *areas(),
            operator("OPI", name="漫游运营商"),
            operator("OPX", name="另一运营商"),
            station("SI", "OPI"),
            station("SX", "OPX"),
            charger("CI1", "SI", protocol="ocpi"),
            charger("CI2", "SI", protocol="ocpi"),
            charger("CX", "SX", protocol="ocpp1.6", when=long_ago),
        ]
    )
    return platform


@asynccontextmanager
async def running(
    platform: Platform, peer: OperatorPlatform, peer_url: str
) -> AsyncIterator[World]:
    """The platform served with its protocol parts and background jobs (the outbox)."""
    app = create_app(platform, api_tokens=[TOKEN], **protocol_parts(platform))
    async with (
        serving(app) as url,
        httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as http,
    ):
        yield World(platform, peer, url, http, peer_url + "/orders")


@asynccontextmanager
async def world(tmp_path: Path) -> AsyncIterator[World]:
    platform = seeded(settings_for(tmp_path))
    peer = OperatorPlatform()
    async with serving(peer.app()) as peer_url, running(platform, peer, peer_url) as w:
        yield w
    platform.close()


def test_a_stop_order_on_an_ocpi_station_reaches_its_operator_signed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.peer.secret = await w.set_channel("OPI", w.peer_url)
            stop = await w.stop("SI")
            outcomes = {d["charger_id"]: d["outcome"] for d in stop["deliveries"]}
            assert outcomes == {"CI1": "accepted", "CI2": "accepted"}
            assert w.peer.bad_signatures == 0
            got = {m["charger_id"]: m for m in w.peer.received}
            assert set(got) == {"CI1", "CI2"}
            assert got["CI1"]["kind"] == "stop"
            assert got["CI1"]["reason"] == "起火隐患，停业整改"
            assert got["CI1"]["answer_url"].endswith(
                f"/api/v1/channel/orders/{got['CI1']['order_id']}/answer"
            )
            assert (await w.stop_order(stop["stop_id"]))["state"] == "in_force"

    asyncio.run(scenario())


def test_an_operator_answers_later_and_the_stop_order_comes_into_force(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.peer.secret = await w.set_channel("OPI", w.peer_url)
            w.peer.status = 503  # the operator's platform is down: delivery times out
            answer = await w.http.post(
                "/api/v1/supervision/stop-orders",
                json={
                    "target_kind": "charger",
                    "target_id": "CI1",
                    "reason": "绝缘故障",
                    "timeout_s": 0.5,
                },
            )
            assert answer.status_code in (200, 201), answer.text
            stop = answer.json()
            [delivery] = stop["deliveries"]
            assert delivery["outcome"] == "timeout"
            assert (await w.stop_order(stop["stop_id"]))["state"] == "partial"
            [queued] = w.platform.outbox.store.items(kind="webhook.")
            assert (queued.state, queued.ref) == ("pending", delivery["order_id"])

            path = f"/api/v1/channel/orders/{delivery['order_id']}/answer"
            raw, headers = w.peer.signed({"result": "accepted", "message": "已停用"}, "OPI")
            async with httpx.AsyncClient(base_url=w.url) as anonymous:
                # Another operator cannot answer for it; a forged signature is refused.
                other = await anonymous.post(
                    path, content=raw, headers={**headers, "X-Chargenet-Operator": "OPX"}
                )
                assert other.status_code == 401  # OPX has no channel
                forged, fh = w.peer.signed({"result": "accepted"}, "OPI", secret="not-the-secret")
                assert (await anonymous.post(path, content=forged, headers=fh)).status_code == 401
                ok = await anonymous.post(path, content=raw, headers=headers)
                assert ok.status_code == 200, ok.text
                assert ok.json()["outcome"] == "accepted"
            order = await w.stop_order(stop["stop_id"])
            assert order["state"] == "in_force"
            assert order["deliveries"][0]["detail"].endswith("已停用")
            # Answered: the outbox stops resending it.
            [answered] = w.platform.outbox.store.items(kind="webhook.")
            assert answered.state == "answered"
            assert (
                w.platform.outbox.store.claim_due(
                    datetime.now(UTC) + timedelta(days=1), datetime.now(UTC), 10
                )
                == []
            )

    asyncio.run(scenario())


def test_without_a_channel_the_failure_says_so(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            stop = await w.stop("SI")
            details = {d["detail"] for d in stop["deliveries"]}
            # OCPI Commands carry starts, stops and unlocks of a driver's session, never a
            # supervisor's stop order: without a webhook nothing can carry it, and it says so
            assert details == {
                "OCPI Commands cannot carry a stop order, and no channel to its operator"
            }

    asyncio.run(scenario())


def test_a_zombie_notice_reaches_the_operator_and_its_answer_is_kept(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.peer.secret = await w.set_channel("OPX", w.peer_url)
            w.peer.answer = {"result": "received", "message": "已安排检修"}
            for _ in range(2):  # detected, then notified
                await w.platform.supervision.sweep_zombies()
            [notice] = [m for m in w.peer.received if m["kind"] == "notice"]
            assert notice["charger_id"] == "CX"
            assert notice["parameters"]["zombie_case"]
            assert "rectify" in notice["reason"]
            orders = w.platform.read.events(event_type="order.acknowledged", limit=100)
            assert [(o["outcome"], o["detail"]) for o in orders] == [("notified", "已安排检修")]

    asyncio.run(scenario())


async def until(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


def test_a_pending_order_survives_a_restart_and_arrives_once(tmp_path: Path) -> None:
    """The delivery is stored with the order; the platform stops while the operator's
    platform is down; after a restart the outbox delivers it, once, under the same
    delivery id, and the operator's answer brings the stop order into force."""
    settings = settings_for(tmp_path, outbox_retry_base_s=0.2, outbox_retry_max_s=0.5)

    async def scenario() -> None:
        peer = OperatorPlatform(status=503)  # down
        async with serving(peer.app()) as peer_url:
            first = seeded(settings)
            async with running(first, peer, peer_url) as w:
                peer.secret = await w.set_channel("OPI", w.peer_url)
                answer = await w.http.post(
                    "/api/v1/supervision/stop-orders",
                    json={
                        "target_kind": "charger",
                        "target_id": "CI1",
                        "reason": "绝缘故障",
                        "timeout_s": 0.5,
                    },
                )
                stop = answer.json()
                assert [d["outcome"] for d in stop["deliveries"]] == ["timeout"]
            first.close()  # stopped with the delivery pending
            [pending] = [
                d for d in first.outbox.store.items(kind="webhook.") if d.state == "pending"
            ]
            tries = len(peer.received)
            assert tries >= 1 and peer.processed == []

            peer.status = 200  # the operator's platform is back
            second = bootstrap(settings, clock=SystemClock())
            async with running(second, peer, peer_url) as w:
                await until(lambda: peer.processed)
                for _ in range(100):  # the answer is recorded just after it arrives
                    order = await w.stop_order(stop["stop_id"])
                    if order["state"] == "in_force":
                        break
                    await asyncio.sleep(0.05)
                assert order["state"] == "in_force"
                assert "after resending" in order["deliveries"][0]["detail"]
                await asyncio.sleep(1.0)  # rounds of the outbox go by: nothing more is sent
            second.close()
            assert peer.processed == [pending.delivery_id]
            assert [m["delivery_id"] for m in peer.received[tries:]] == [pending.delivery_id]
            [done] = second.outbox.store.items(kind="webhook.")
            assert (done.state, done.attempts) == ("delivered", pending.attempts + 1)

    asyncio.run(scenario())
