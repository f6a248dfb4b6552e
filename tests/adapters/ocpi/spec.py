"""An OCPI 2.2.1 client side written from the specification (objects, headers), and a way
to run chargenet instances on loopback ports for tests that need real HTTP both ways."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.wire import new_token, token_digest
from chargenet.app.ocpi import CredentialKind, Party, PeerKind, PeerStatus
from chargenet.bootstrap import Platform, bootstrap, build_ocpi
from chargenet.config import Settings
from chargenet.core.events import Event
from chargenet.entrypoints.web import create_app, ocpi_parts, outbox
from chargenet.kit.net import free_port
from tests import migrated
from tests.builders import T0

CPO = Party("CN", "XZP")
T = TypeVar("T")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def ts(minutes: float = 0) -> str:
    """An OCPI time stamp, minutes after the tests' T0."""
    when = T0.timestamp() + minutes * 60
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def connector(cid: str = "1", *, minutes: float = 0, **kw: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "GBT_DC",
        "format": "CABLE",
        "power_type": "DC",
        "max_voltage": 750,
        "max_amperage": 160,
        "max_electric_power": 120_000,
        "last_updated": ts(minutes),
        **kw,
    }


def evse(
    uid: str = "E1",
    status: str = "AVAILABLE",
    *,
    minutes: float = 0,
    connectors: int = 1,
    **kw: Any,
) -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"CN*XZP*E{uid}",
        "status": status,
        "connectors": [connector(str(n), minutes=minutes) for n in range(1, connectors + 1)],
        "last_updated": ts(minutes),
        **kw,
    }


def location(
    lid: str = "LOC1",
    *,
    owner: Party = CPO,
    minutes: float = 0,
    evses: Sequence[dict[str, Any]] = (),
    **kw: Any,
) -> dict[str, Any]:
    return {
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "id": lid,
        "publish": True,
        "name": "忻州东站充电站",
        "address": "和平街1号",
        "city": "忻州市",
        "country": "CHN",
        "coordinates": {"latitude": "38.417000", "longitude": "112.734000"},
        "time_zone": "Asia/Shanghai",
        "parking_type": "PARKING_LOT",
        "evses": list(evses),
        "last_updated": ts(minutes),
        **kw,
    }


def session(
    sid: str = "S1", status: str = "ACTIVE", *, kwh: float = 0, minutes: float = 1, **kw: Any
) -> dict[str, Any]:
    return {
        "country_code": CPO.country_code,
        "party_id": CPO.party_id,
        "id": sid,
        "start_date_time": ts(1),
        "kwh": kwh,
        "cdr_token": {"uid": "RFID-0001", "type": "RFID", "contract_id": "CN-XZP-C00001"},
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "CNY",
        "status": status,
        "last_updated": ts(minutes),
        **kw,
    }


def cdr(cid: str = "CDR1", **kw: Any) -> dict[str, Any]:
    return {
        "country_code": CPO.country_code,
        "party_id": CPO.party_id,
        "id": cid,
        "start_date_time": ts(1),
        "end_date_time": ts(61),
        "session_id": "S1",
        "cdr_token": {"uid": "RFID-0001", "type": "RFID", "contract_id": "CN-XZP-C00001"},
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC1",
            "address": "和平街1号",
            "city": "忻州市",
            "country": "CHN",
            "coordinates": {"latitude": "38.417000", "longitude": "112.734000"},
            "evse_uid": "E1",
            "evse_id": "CN*XZP*EE1",
            "connector_id": "1",
            "connector_standard": "GBT_DC",
            "connector_format": "CABLE",
            "connector_power_type": "DC",
        },
        "currency": "CNY",
        "tariffs": [{"id": "T1"}],
        "charging_periods": [
            {"start_date_time": ts(1), "dimensions": [{"type": "ENERGY", "volume": 30.5}]}
        ],
        "total_cost": {"excl_vat": 36.60, "incl_vat": 41.36},
        "total_energy": 30.5,
        "total_time": 1.0,
        "last_updated": ts(62),
        **kw,
    }


def tariff(tid: str = "T1", *, price: float = 1.2, minutes: float = 0) -> dict[str, Any]:
    return {
        "country_code": CPO.country_code,
        "party_id": CPO.party_id,
        "id": tid,
        "currency": "CNY",
        "type": "AD_HOC_PAYMENT",
        "tariff_alt_text": [{"language": "zh", "text": "1.20元/度，含服务费"}],
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": price, "vat": 13.0, "step_size": 1}]}
        ],
        "last_updated": ts(minutes),
    }


def registered_peer(
    party_: OcpiParty,
    peer_id: str,
    owner: Party | None,
    operator_id: str | None,
    kind: PeerKind = PeerKind.CPO,
) -> str:
    """A peer as it stands after registration (the handshake itself is tested apart);
    returns the token C it calls us with."""
    now = party_.clock.now()
    directory = party_.directory
    directory.add_peer(peer_id, kind, peer_id, now)
    token = new_token()
    directory.add_credential(token_digest(token), peer_id, CredentialKind.C, now)
    directory.update_peer(peer_id, now, status=PeerStatus.REGISTERED)
    if owner is not None and operator_id is not None:
        directory.set_party(owner, operator_id, peer_id, now)
    return token


class Switch:
    """An ASGI wrapper that can take a service down (HTTP 503) and bring it back."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.down = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.down and scope["type"] == "http":
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"down for maintenance"})
            return
        await self.app(scope, receive, send)


class LiveServer:
    """An ASGI app served by uvicorn on a loopback port, in a thread. Port 0 (the default):
    the port the server binds, known once `start` returns, with no other program able to
    take it in between."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", loop="asyncio"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)


@dataclass
class Instance:
    """A whole chargenet (platform, OCPI party, web app) serving on a loopback port."""

    platform: Platform
    ocpi: OcpiParty
    server: LiveServer
    switch: Switch
    base_url: str

    loop: asyncio.AbstractEventLoop | None = None

    def ingest(self, events: Sequence[Event]) -> None:
        self.platform.ingestor.ingest(list(events))

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's own event loop (where its pipeline lives)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.stop()
        self.ocpi.directory.dispose()
        self.platform.close()


def start_instance(
    path: Path,
    party_code: str,
    name: str,
    *,
    port: int | None = None,
    database_url: str | None = None,
    outbox_worker: bool = True,
    **settings: Any,
) -> Instance:
    """A chargenet serving on a loopback port, on an SQLite database at `path` of its own,
    or on `database_url` (migrated) when given: several instances may share one. Without
    `outbox_worker`, nothing delivers the outbox but the test's own `run_once` rounds."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = Settings(
        database_url=database_url or migrated.sqlite_url(path),
        sqlite_synchronous="OFF",
        host="127.0.0.1",
        port=port,
        public_url=base_url,
        ocpi_party=party_code,
        ocpi_name=name,
        ocpi_pull_interval_s=0,
        **settings,
    )
    platform = bootstrap(config)
    ocpi = build_ocpi(platform)
    ocpi.settings.forward_retry_max_s = 1.0
    routers, jobs = ocpi_parts(platform, ocpi)
    loops: list[asyncio.AbstractEventLoop] = []

    async def capture_loop(_: Platform) -> None:
        loops.append(asyncio.get_running_loop())

    background = [*jobs, *([outbox] if outbox_worker else []), capture_loop]
    switch = Switch(create_app(platform, routers=routers, background=background))
    server = LiveServer(switch, port)
    server.start()
    wait_for(lambda: loops, what="the server's loop")
    return Instance(platform, ocpi, server, switch, base_url, loops[0])


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
