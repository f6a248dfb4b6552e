"""Charge points of the `ocpp` library (an independent implementation) as test peers,
and a gateway running on a free loopback port."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call as c16
from ocpp.v16.enums import Action as A16
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call as c201
from ocpp.v201.enums import Action as A201
from websockets.typing import Subprotocol

from chargenet.adapters.ocpp.gateway import GatewayConfig, OcppGateway
from chargenet.bootstrap import Platform
from chargenet.demo.ocpp_fleet import on
from chargenet.entrypoints.web import create_app
from chargenet.kit.secrets import hash_secret
from tests.builders import T0, charger, small_world

PASSWORD = "correct-horse-battery-staple-0001"


def world() -> list[Any]:
    """C1: OCPP 1.6, two DC guns (C1-1-1, C1-2-1); C2: OCPP 2.0.1, two guns (C2-1-1, C2-2-1)."""
    return [*small_world(), charger("C2", protocol="ocpp2.0.1")]


def stamp(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


class Peer16(CP16):  # type: ignore[misc]
    """A 1.6 charge point that obeys availability changes and reports them."""

    def __init__(self, *args: Any, answer: str = "Accepted", **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.answer = answer
        self.received: list[tuple[str, dict[str, Any]]] = []

    @on(A16.change_availability)
    async def change_availability(self, connector_id: int, type: str) -> Any:
        self.received.append(("ChangeAvailability", {"connector_id": connector_id, "type": type}))
        from ocpp.v16 import call_result

        if self.answer == "Accepted":
            status = "Unavailable" if type == "Inoperative" else "Available"
            connectors = [1, 2] if connector_id == 0 else [connector_id]
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(self._report(connectors, status))
            )
        return call_result.ChangeAvailability(status=self.answer)

    async def _report(self, connectors: list[int], status: str) -> None:
        for n in connectors:
            await self.call(
                c16.StatusNotification(connector_id=n, error_code="NoError", status=status)
            )

    @on(A16.reset)
    async def reset(self, type: str) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("Reset", {"type": type}))
        return call_result.Reset(status="Accepted")

    @on(A16.set_charging_profile)
    async def set_charging_profile(self, **kw: Any) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("SetChargingProfile", kw))
        return call_result.SetChargingProfile(status="Accepted")

    @on(A16.clear_charging_profile)
    async def clear_charging_profile(self, **kw: Any) -> Any:
        from ocpp.v16 import call_result

        return call_result.ClearChargingProfile(status="Accepted")

    @on(A16.remote_start_transaction)
    async def remote_start(self, **kw: Any) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("RemoteStartTransaction", kw))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(A16.remote_stop_transaction)
    async def remote_stop(self, **kw: Any) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("RemoteStopTransaction", kw))
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(A16.send_local_list)
    async def send_local_list(self, **kw: Any) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("SendLocalList", kw))
        return call_result.SendLocalList(status="Accepted")

    @on(A16.get_configuration)
    async def get_configuration(self, key: list[str] | None = None) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("GetConfiguration", {"key": key}))
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": False, "value": "60"} for k in key or []]
        )

    @on(A16.change_configuration)
    async def change_configuration(self, key: str, value: str) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("ChangeConfiguration", {"key": key, "value": value}))
        return call_result.ChangeConfiguration(status="Accepted")

    @on(A16.unlock_connector)
    async def unlock_connector(self, connector_id: int) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("UnlockConnector", {"connector_id": connector_id}))
        return call_result.UnlockConnector(status="Unlocked")

    @on(A16.trigger_message)
    async def trigger_message(self, requested_message: str, connector_id: int = 0) -> Any:
        from ocpp.v16 import call_result

        self.received.append(("TriggerMessage", {"requested_message": requested_message}))
        if requested_message == "StatusNotification" and connector_id:
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(self._report([connector_id], "Available"))
            )
        return call_result.TriggerMessage(status="Accepted")


class Peer201(CP201):  # type: ignore[misc]
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.received: list[tuple[str, dict[str, Any]]] = []

    @on(A201.reset)
    async def reset(self, type: str, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("Reset", {"type": type}))
        return call_result.Reset(status="Accepted")

    @on(A201.set_charging_profile)
    async def set_charging_profile(self, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("SetChargingProfile", kw))
        return call_result.SetChargingProfile(status="Accepted")

    @on(A201.clear_charging_profile)
    async def clear_charging_profile(self, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        return call_result.ClearChargingProfile(status="Accepted")

    @on(A201.request_start_transaction)
    async def request_start(self, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("RequestStartTransaction", kw))
        return call_result.RequestStartTransaction(status="Accepted")

    @on(A201.request_stop_transaction)
    async def request_stop(self, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        return call_result.RequestStopTransaction(status="Accepted")

    @on(A201.send_local_list)
    async def send_local_list(self, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("SendLocalList", kw))
        return call_result.SendLocalList(status="Accepted")

    @on(A201.get_variables)
    async def get_variables(self, get_variable_data: list[dict[str, Any]]) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("GetVariables", {"get_variable_data": get_variable_data}))
        return call_result.GetVariables(
            get_variable_result=[
                {"attribute_status": "Accepted", "attribute_value": "60", **item}
                for item in get_variable_data
            ]
        )

    @on(A201.set_variables)
    async def set_variables(self, set_variable_data: list[dict[str, Any]]) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("SetVariables", {"set_variable_data": set_variable_data}))
        return call_result.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": i["component"],
                    "variable": i["variable"],
                }
                for i in set_variable_data
            ]
        )

    @on(A201.unlock_connector)
    async def unlock_connector(self, evse_id: int, connector_id: int) -> Any:
        from ocpp.v201 import call_result

        self.received.append(
            ("UnlockConnector", {"evse_id": evse_id, "connector_id": connector_id})
        )
        return call_result.UnlockConnector(status="Unlocked")

    @on(A201.trigger_message)
    async def trigger_message(self, requested_message: str, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        self.received.append(("TriggerMessage", {"requested_message": requested_message, **kw}))
        return call_result.TriggerMessage(status="Accepted")

    @on(A201.change_availability)
    async def change_availability(self, operational_status: str, **kw: Any) -> Any:
        from ocpp.v201 import call_result

        self.received.append(
            ("ChangeAvailability", {"operational_status": operational_status, **kw})
        )
        status = "Unavailable" if operational_status == "Inoperative" else "Available"

        async def report() -> None:
            for evse in (1, 2):
                await self.call(
                    c201.StatusNotification(
                        timestamp=stamp(), connector_status=status, evse_id=evse, connector_id=1
                    )
                )

        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(report()))
        return call_result.ChangeAvailability(status="Accepted")


ADMIN_TOKEN = "admin-token-for-the-tests"


@contextlib.asynccontextmanager
async def api(
    platform: Platform, token: str = ADMIN_TOKEN, authenticators: Sequence[Any] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API of the same process, on the running loop (as `chargenet serve` has it:
    the gateway is a background job of the web app)."""
    app = create_app(platform, api_tokens=[ADMIN_TOKEN], authenticators=authenticators)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://chargenet",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    ) as client:
        yield client


def basic(identity: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@contextlib.asynccontextmanager
async def running(
    platform: Platform, config: GatewayConfig | None = None, passwords: bool = True
) -> AsyncIterator[OcppGateway]:
    """The platform with the world, C1/C2 passwords set, its gateway on a free port."""
    platform.ingestor.ingest(world())
    assert platform.ocpp_queries is not None and platform.ocpp is not None
    if passwords:
        for cid in ("C1", "C2"):
            platform.ocpp_queries.set_secret(cid, hash_secret(PASSWORD), T0)
    gateway = platform.ocpp
    if config is not None:
        gateway.config = config
    await platform.start()
    try:
        async with gateway.running("127.0.0.1", 0):
            yield gateway
    finally:
        await platform.stop()


@contextlib.asynccontextmanager
async def connect(
    gateway: OcppGateway,
    identity: str,
    version: str = "ocpp1.6",
    password: str | None = PASSWORD,
    **kw: Any,
) -> AsyncIterator[Any]:
    """A library charge point connected and routing calls (started), closed at the end."""
    headers = basic(identity, password) if password is not None else {}
    ws = await websockets.connect(
        f"ws://127.0.0.1:{gateway.port}/ocpp/{identity}",
        subprotocols=[Subprotocol(version)],
        additional_headers=headers,
    )
    cls = Peer16 if version == "ocpp1.6" else Peer201
    cp = cls(identity, ws, **kw)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        await ws.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0) -> None:
    """Wait for state to become so (ingest is asynchronous), failing after `timeout`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def boot16() -> Any:
    return c16.BootNotification(charge_point_model="M1", charge_point_vendor="Peer")


def boot201() -> Any:
    return c201.BootNotification(
        charging_station={"model": "M2", "vendor_name": "Peer"}, reason="PowerUp"
    )
