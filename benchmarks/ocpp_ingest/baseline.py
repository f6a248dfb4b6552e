"""The baseline: a central system built the way the `ocpp` library's own central-system
example is (`examples/v16/central_system.py`): one ChargePoint handler object per
connection, jsonschema validation in the library, and — as such systems are usually
finished — one database write and commit per message, inside the handler."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from websockets.typing import Subprotocol

from chargenet.demo.ocpp_fleet import on


def open_db(path: str, synchronous: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute(
        "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, charger TEXT,"
        " action TEXT, at TEXT, payload TEXT)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS connector_status (charger TEXT, connector INTEGER,"
        " status TEXT, PRIMARY KEY (charger, connector))"
    )
    return db


def _now() -> str:
    return datetime.now(UTC).isoformat()


class BaselineChargePoint(ChargePoint):  # type: ignore[misc]
    db: sqlite3.Connection

    def _commit(self, action: str, payload: Any) -> None:
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT INTO messages (charger, action, at, payload) VALUES (?, ?, ?, ?)",
            (self.id, action, _now(), repr(payload)),
        )
        self.db.execute("COMMIT")

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **kw: Any) -> Any:
        self._commit("BootNotification", kw)
        return call_result.BootNotification(
            current_time=_now(), interval=60, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status(self, connector_id: int, error_code: str, status: str, **kw: Any) -> Any:
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT INTO connector_status VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET status = ?",
            (self.id, connector_id, status, status),
        )
        self.db.execute("COMMIT")
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list[Any], **kw: Any) -> Any:
        self._commit("MeterValues", meter_value)
        return call_result.MeterValues()


async def serve_baseline(db: sqlite3.Connection, host: str = "127.0.0.1") -> Any:
    async def on_connect(ws: Any) -> None:
        identity = ws.request.path.rsplit("/", 1)[-1]
        cp = BaselineChargePoint(identity, ws)
        cp.db = db
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            await cp.start()

    return await websockets.serve(
        on_connect,
        host,
        0,
        subprotocols=[Subprotocol("ocpp1.6")],
        compression=None,
    )
