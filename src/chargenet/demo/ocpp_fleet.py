"""A fleet of simulated chargers that talk real OCPP over real WebSockets.

Built on the `ocpp` library (mobilityhouse) so that the charge-point side is an
implementation independent of the gateway. Each charger boots, reports its connectors,
heartbeats, and lives: drivers arrive and charge (Authorize → Start → MeterValues every
simulated minute → Stop), connectors fault and get repaired, the network drops and comes
back — and what happened while offline is queued and replayed on reconnect, as real
chargers do. Orders are obeyed: ChangeAvailability, Reset, remote start/stop, charging
limits, configuration.

Time: `speed` makes drivers arrive more often and leave sooner; energy is always power ×
real elapsed time, so every session stays physically plausible.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import websockets
from ocpp.routing import on as _on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call as c16
from ocpp.v16 import call_result as r16
from ocpp.v16.enums import Action as A16
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call as c201
from ocpp.v201 import call_result as r201
from ocpp.v201.enums import Action as A201

from chargenet.kit.aio import wait_at_most

log = logging.getLogger(__name__)
# The library logs every frame it sends and receives at INFO: a fleet would drown the log.
logging.getLogger("ocpp").setLevel(logging.WARNING)
_F = TypeVar("_F", bound=Callable[..., Any])


def on(action: Any) -> Callable[[_F], _F]:
    """The library's (untyped) handler decorator, typed."""
    decorator: Callable[[_F], _F] = _on(action)
    return decorator


DAY = 86_400.0
FAULTS = ("GroundFailure", "HighTemperature", "OverCurrentFailure", "PowerMeterFailure")


@dataclass(frozen=True)
class SimCharger:
    charger_id: str
    version: str  # "ocpp1.6" or "ocpp2.0.1"
    powers_w: tuple[int, ...]  # one per EVSE (connector 1 of each)
    password: str | None = None


@dataclass(frozen=True)
class FleetConfig:
    url: str  # ws://host:port/ocpp
    speed: float = 1.0
    meter_interval_s: float = 60.0  # simulated seconds between meter values
    sessions_per_day: float = 4.0  # per connector
    faults_per_day: float = 0.05  # per connector
    disconnects_per_day: float = 0.5  # per charger
    seed: int = 1
    tick_s: float = 1.0


@dataclass
class Plug:
    evse: int
    max_power_w: int
    status: str = "Available"
    register_wh: int = 0
    power_w: int = 0
    limit_w: int | None = None
    session: str | None = None  # local id; the 1.6 transaction id comes from the CSMS
    ends_at: float = 0.0
    next_meter: float = 0.0
    repair_at: float = 0.0
    seq: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class ChargerSim:
    """One charger's life. Its OCPP objects are rebuilt on every connection."""

    def __init__(self, spec: SimCharger, config: FleetConfig, rng: random.Random) -> None:
        self.spec = spec
        self.config = config
        self.rng = rng
        self.plugs = [
            Plug(i + 1, p, register_wh=rng.randint(0, 5_000_000))
            for i, p in enumerate(spec.powers_w)
        ]
        self.queue: list[Any] = []  # messages kept while offline (starts, samples, stops)
        self.tx: dict[str, Any] = {}  # local session → transaction id (1.6: from the CSMS)
        self.cp: Any = None
        self.online = False
        self.inoperative = False
        self.stats = {"sent": 0, "connects": 0, "sessions": 0, "queued": 0}
        self._drop = asyncio.Event()

    def reboot(self) -> None:
        """After answering a Reset: drop the connection shortly, then boot again."""
        asyncio.get_running_loop().call_later(0.5, self._drop.set)

    # --- sending ---------------------------------------------------------------------------

    async def send(self, message: Any, queue: bool = False) -> Any:
        """Send now, or keep it for the reconnect when offline and it must not be lost."""
        if not self.online or self.cp is None:
            if queue:
                self.queue.append(message)
                self.stats["queued"] += 1
            return None
        try:
            answer = await self.cp.call(message)
        except Exception:
            if queue:
                self.queue.append(message)
            self._drop.set()
            return None
        self.stats["sent"] += 1
        if isinstance(message, c16.StartTransaction):
            local = self._local_of(message)
            if local is not None and answer is not None:
                self.tx[local] = answer.transaction_id
        return answer

    def _local_of(self, message: Any) -> str | None:
        for local, start in list(self.tx.items()):
            if start is message:
                return local
        return None

    def _tx16(self, local: str) -> Any:
        """The transaction id of a 1.6 session: the CSMS's, or a placeholder until known."""
        value = self.tx.get(local)
        return value if isinstance(value, int) else None

    # --- the charger's life ----------------------------------------------------------------

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                await self._connected_life()
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, dropped, or a bug: stay alive, retry later
                if not isinstance(exc, OSError | websockets.exceptions.WebSocketException):
                    log.exception("%s: simulator failure", self.spec.charger_id)
                log.debug("%s: %s", self.spec.charger_id, exc)
                # Offline time still passes: sessions go on and are queued.
                await self._offline(backoff * (0.5 + self.rng.random()))
                backoff = min(backoff * 2, 60.0)

    async def _connected_life(self) -> None:
        headers = {}
        if self.spec.password is not None:
            token = base64.b64encode(f"{self.spec.charger_id}:{self.spec.password}".encode())
            headers["Authorization"] = "Basic " + token.decode()
        async with websockets.connect(
            f"{self.config.url}/{self.spec.charger_id}",
            subprotocols=[self.spec.version],  # type: ignore[list-item]
            additional_headers=headers,
            compression=None,
            open_timeout=30,
        ) as ws:
            cls = Sim16 if self.spec.version == "ocpp1.6" else Sim201
            self.cp = cls(self.spec.charger_id, ws, self)
            reader = asyncio.create_task(self.cp.start())
            self._drop.clear()
            self.online = True
            self.stats["connects"] += 1
            try:
                await self._boot()
                until = self._next_disconnect()
                loop = asyncio.get_running_loop()
                last = loop.time()
                while not self._drop.is_set() and not reader.done():
                    with contextlib.suppress(TimeoutError):
                        await wait_at_most(self._drop.wait(), self.config.tick_s)
                    now = loop.time()
                    await self.step(now, now - last)
                    last = now
                    if now >= until:
                        break
            finally:
                self.online = False
                reader.cancel()
                with contextlib.suppress(BaseException):
                    await reader
        await self._offline(self.rng.uniform(5, 60) / max(self.config.speed / 10, 1))

    def _next_disconnect(self) -> float:
        rate = self.config.disconnects_per_day * self.config.speed / DAY
        gap = self.rng.expovariate(rate) if rate > 0 else float("inf")
        return asyncio.get_running_loop().time() + gap

    async def _offline(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        last = loop.time()
        while loop.time() < end:
            await asyncio.sleep(min(self.config.tick_s, max(end - loop.time(), 0)))
            now = loop.time()
            await self.step(now, now - last)
            last = now

    async def _boot(self) -> None:
        if self.spec.version == "ocpp1.6":
            await self.send(
                c16.BootNotification(
                    charge_point_model="SIM-16", charge_point_vendor="chargenet-sim"
                )
            )
        else:
            await self.send(
                c201.BootNotification(
                    charging_station={"model": "SIM-201", "vendor_name": "chargenet-sim"},
                    reason="PowerUp",
                )
            )
        for plug in self.plugs:
            await self.report(plug)
        queued, self.queue = self.queue, []
        for message in queued:  # the offline queue, in order
            message = self._resolve(message)
            if message is not None:
                await self.send(message, queue=True)

    def _resolve(self, message: Any) -> Any:
        """Fill in 1.6 transaction ids learnt since the message was queued."""
        if isinstance(message, _Pending16):
            tx = self._tx16(message.local)
            return message.build(tx if tx is not None else -1)
        return message

    async def report(self, plug: Plug) -> None:
        if self.spec.version == "ocpp1.6":
            await self.send(
                c16.StatusNotification(
                    connector_id=plug.evse,
                    error_code="NoError" if plug.status != "Faulted" else self.rng.choice(FAULTS),
                    status=plug.status,
                    timestamp=_now(),
                )
            )
        else:
            status = {"Charging": "Occupied", "Preparing": "Occupied", "Finishing": "Occupied"}.get(
                plug.status, plug.status
            )
            await self.send(
                c201.StatusNotification(
                    timestamp=_now(), connector_status=status, evse_id=plug.evse, connector_id=1
                )
            )

    async def step(self, t: float, dt: float) -> None:
        speed, rng = self.config.speed, self.rng
        for plug in self.plugs:
            if plug.session is not None:
                plug.register_wh += round(plug.power_w * dt / 3600)
                if t >= plug.ends_at:
                    await self.stop(plug, "EVDisconnected")
                elif t >= plug.next_meter:
                    plug.next_meter = t + self.config.meter_interval_s / speed
                    await self.meter(plug)
                continue
            if plug.status == "Faulted":
                if t >= plug.repair_at:
                    plug.status = "Available"
                    await self.report(plug)
                continue
            if plug.status != "Available" or self.inoperative:
                continue
            if rng.random() < dt * speed * self.config.faults_per_day / DAY:
                plug.status = "Faulted"
                plug.repair_at = t + rng.uniform(3600, DAY) / speed
                await self.report(plug)
            elif rng.random() < dt * speed * self.config.sessions_per_day / DAY:
                await self.start(plug, t)

    # --- sessions --------------------------------------------------------------------------

    async def start(self, plug: Plug, t: float, token: str | None = None) -> None:
        rng = self.rng
        local = uuid.uuid4().hex[:12]
        plug.session = local
        cap = plug.limit_w if plug.limit_w is not None else plug.max_power_w
        plug.power_w = int(max(cap, 1_000) * rng.uniform(0.5, 0.95))
        energy = rng.uniform(8_000, 40_000)
        plug.ends_at = t + energy / plug.power_w * 3600 / self.config.speed
        plug.next_meter = t + self.config.meter_interval_s / self.config.speed
        plug.status, plug.seq = "Charging", 0
        self.stats["sessions"] += 1
        tag = token or f"CARD{rng.randint(1, 9999):04d}"
        if self.spec.version == "ocpp1.6":
            await self.send(c16.Authorize(id_tag=tag))
            start = c16.StartTransaction(
                connector_id=plug.evse, id_tag=tag, meter_start=plug.register_wh, timestamp=_now()
            )
            self.tx[local] = start
            await self.send(start, queue=True)
            await self.report(plug)
        else:
            self.tx[local] = local
            await self.report(plug)  # plugged in (Occupied), then the transaction starts
            await self.send(c201.Authorize(id_token={"id_token": tag, "type": "ISO14443"}))
            await self.send(
                self._event201(
                    plug,
                    "Started",
                    "Authorized",
                    "Transaction.Begin",
                    "Charging",
                    id_token={"id_token": tag, "type": "ISO14443"},
                ),
                queue=True,
            )

    def _event201(
        self, plug: Plug, kind: str, trigger: str, context: str, state: str | None, **extra: Any
    ) -> Any:
        assert plug.session is not None
        info: dict[str, Any] = {"transaction_id": plug.session}
        if state is not None:
            info["charging_state"] = state
        if kind == "Ended":
            info["stopped_reason"] = extra.pop("reason", "EVDisconnected")
        seq = plug.seq
        plug.seq += 1
        return c201.TransactionEvent(
            event_type=kind,
            timestamp=_now(),
            trigger_reason=trigger,
            seq_no=seq,
            transaction_info=info,
            evse={"id": plug.evse, "connector_id": 1},
            offline=not self.online or None,
            meter_value=[{"timestamp": _now(), "sampled_value": self._sampled201(plug, context)}],
            **extra,
        )

    def _sampled201(self, plug: Plug, context: str) -> list[dict[str, Any]]:
        return [
            {
                "value": plug.register_wh,
                "measurand": "Energy.Active.Import.Register",
                "context": context,
            },
            {"value": plug.power_w, "measurand": "Power.Active.Import", "context": context},
            {"value": round(self.rng.uniform(20, 95), 1), "measurand": "SoC", "context": context},
        ]

    async def meter(self, plug: Plug) -> None:
        assert plug.session is not None
        if self.spec.version == "ocpp1.6":
            sampled = [
                {
                    "value": str(plug.register_wh),
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                },
                {"value": str(plug.power_w), "measurand": "Power.Active.Import", "unit": "W"},
                {"value": f"{self.rng.uniform(20, 95):.1f}", "measurand": "SoC", "unit": "Percent"},
                {
                    "value": f"{self.rng.uniform(25, 55):.1f}",
                    "measurand": "Temperature",
                    "unit": "Celsius",
                },
            ]
            pending = _Pending16(plug.session, "meter", plug.evse, _now(), sampled=sampled)
            await self.send(self._resolve(pending) if self.online else pending, queue=True)
        else:
            await self.send(
                self._event201(
                    plug, "Updated", "MeterValuePeriodic", "Sample.Periodic", "Charging"
                ),
                queue=True,
            )

    async def stop(self, plug: Plug, reason: str) -> None:
        local = plug.session
        assert local is not None
        if self.spec.version == "ocpp1.6":
            pending = _Pending16(
                local, "stop", plug.evse, _now(), register=plug.register_wh, reason=reason
            )
            await self.send(self._resolve(pending) if self.online else pending, queue=True)
        else:
            await self.send(
                self._event201(
                    plug, "Ended", "EVDeparted", "Transaction.End", "Idle", reason=reason
                ),
                queue=True,
            )
        plug.session, plug.power_w = None, 0
        plug.status = "Available" if not self.inoperative else "Unavailable"
        await self.report(plug)


@dataclass
class _Pending16:
    """A 1.6 message whose transaction id may not be known yet (started offline)."""

    local: str
    kind: str
    evse: int
    timestamp: str
    sampled: list[dict[str, Any]] = field(default_factory=list)
    register: int = 0
    reason: str = "Local"

    def build(self, tx: int) -> Any:
        if self.kind == "meter":
            return c16.MeterValues(
                connector_id=self.evse,
                transaction_id=tx if tx > 0 else None,
                meter_value=[{"timestamp": self.timestamp, "sampled_value": self.sampled}],
            )
        return c16.StopTransaction(
            transaction_id=tx,
            meter_stop=self.register,
            timestamp=self.timestamp,
            reason=self.reason,
        )


def _plug(sim: ChargerSim, evse: int | None) -> Plug | None:
    if evse:
        return next((p for p in sim.plugs if p.evse == evse), None)
    return next((p for p in sim.plugs if p.session is None and p.status == "Available"), None)


def _later(coro: Any) -> None:
    asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(coro))


async def _set_availability(sim: ChargerSim, evse: int | None, operative: bool) -> None:
    plugs = [p for p in sim.plugs if not evse or p.evse == evse]
    if not evse:
        sim.inoperative = not operative
    for plug in plugs:
        if plug.session is not None and not operative:
            await sim.stop(plug, "Other")
        plug.status = "Available" if operative else "Unavailable"
        await sim.report(plug)


class Sim16(CP16):  # type: ignore[misc]
    def __init__(self, identity: str, ws: Any, sim: ChargerSim) -> None:
        super().__init__(identity, ws)
        self.sim = sim

    @on(A16.change_availability)
    async def change_availability(self, connector_id: int, type: str) -> Any:
        _later(_set_availability(self.sim, connector_id, type == "Operative"))
        return r16.ChangeAvailability(status="Accepted")

    @on(A16.reset)
    async def reset(self, type: str) -> Any:
        self.sim.reboot()
        return r16.Reset(status="Accepted")

    @on(A16.remote_start_transaction)
    async def remote_start(self, id_tag: str, connector_id: int | None = None, **kw: Any) -> Any:
        plug = _plug(self.sim, connector_id)
        if plug is None or self.sim.inoperative:
            return r16.RemoteStartTransaction(status="Rejected")
        _later(self.sim.start(plug, asyncio.get_running_loop().time(), id_tag))
        return r16.RemoteStartTransaction(status="Accepted")

    @on(A16.remote_stop_transaction)
    async def remote_stop(self, transaction_id: int) -> Any:
        for plug in self.sim.plugs:
            if plug.session is not None and self.sim.tx.get(plug.session) == transaction_id:
                _later(self.sim.stop(plug, "Remote"))
                return r16.RemoteStopTransaction(status="Accepted")
        return r16.RemoteStopTransaction(status="Rejected")

    @on(A16.set_charging_profile)
    async def set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        schedule = cs_charging_profiles["charging_schedule"]
        limit = schedule["charging_schedule_period"][0]["limit"]
        watts = limit if schedule["charging_rate_unit"] == "W" else limit * 230 * 3
        for plug in self.sim.plugs:
            if not connector_id or plug.evse == connector_id:
                plug.limit_w = int(watts)
                plug.power_w = min(plug.power_w, int(watts))
        return r16.SetChargingProfile(status="Accepted")

    @on(A16.clear_charging_profile)
    async def clear_profile(self, **kw: Any) -> Any:
        for plug in self.sim.plugs:
            plug.limit_w = None
        return r16.ClearChargingProfile(status="Accepted")

    @on(A16.get_configuration)
    async def get_configuration(self, key: list[str] | None = None) -> Any:
        known = {"HeartbeatInterval": "60", "MeterValueSampleInterval": "60"}
        keys = key or list(known)
        return r16.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": known[k]} for k in keys if k in known
            ],
            unknown_key=[k for k in keys if k not in known] or None,
        )

    @on(A16.change_configuration)
    async def change_configuration(self, key: str, value: str) -> Any:
        return r16.ChangeConfiguration(status="Accepted")


class Sim201(CP201):  # type: ignore[misc]
    def __init__(self, identity: str, ws: Any, sim: ChargerSim) -> None:
        super().__init__(identity, ws)
        self.sim = sim

    @on(A201.change_availability)
    async def change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        _later(
            _set_availability(self.sim, (evse or {}).get("id"), operational_status == "Operative")
        )
        return r201.ChangeAvailability(status="Accepted")

    @on(A201.reset)
    async def reset(self, type: str, **kw: Any) -> Any:
        self.sim.reboot()
        return r201.Reset(status="Accepted")

    @on(A201.request_start_transaction)
    async def request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **kw: Any
    ) -> Any:
        plug = _plug(self.sim, evse_id)
        if plug is None or self.sim.inoperative:
            return r201.RequestStartTransaction(status="Rejected")
        _later(self.sim.start(plug, asyncio.get_running_loop().time(), id_token["id_token"]))
        return r201.RequestStartTransaction(status="Accepted")

    @on(A201.request_stop_transaction)
    async def request_stop(self, transaction_id: str, **kw: Any) -> Any:
        for plug in self.sim.plugs:
            if plug.session == transaction_id:
                _later(self.sim.stop(plug, "Remote"))
                return r201.RequestStopTransaction(status="Accepted")
        return r201.RequestStopTransaction(status="Rejected")

    @on(A201.set_charging_profile)
    async def set_profile(self, evse_id: int, charging_profile: dict[str, Any], **kw: Any) -> Any:
        schedule = charging_profile["charging_schedule"][0]
        limit = schedule["charging_schedule_period"][0]["limit"]
        watts = limit if schedule["charging_rate_unit"] == "W" else limit * 230 * 3
        for plug in self.sim.plugs:
            if not evse_id or plug.evse == evse_id:
                plug.limit_w = int(watts)
                plug.power_w = min(plug.power_w, int(watts))
        return r201.SetChargingProfile(status="Accepted")

    @on(A201.clear_charging_profile)
    async def clear_profile(self, **kw: Any) -> Any:
        for plug in self.sim.plugs:
            plug.limit_w = None
        return r201.ClearChargingProfile(status="Accepted")

    @on(A201.get_variables)
    async def get_variables(self, get_variable_data: list[dict[str, Any]], **kw: Any) -> Any:
        return r201.GetVariables(
            get_variable_result=[
                {"attribute_status": "Accepted", "attribute_value": "60", **item}
                for item in get_variable_data
            ]
        )

    @on(A201.set_variables)
    async def set_variables(self, set_variable_data: list[dict[str, Any]], **kw: Any) -> Any:
        return r201.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": i["component"],
                    "variable": i["variable"],
                }
                for i in set_variable_data
            ]
        )


class Fleet:
    def __init__(self, chargers: Sequence[SimCharger], config: FleetConfig) -> None:
        rng = random.Random(config.seed)
        self.sims = [ChargerSim(c, config, random.Random(rng.random())) for c in chargers]

    async def run(self) -> None:
        """Run every charger until cancelled; start-up is spread over a few seconds."""
        tasks = []
        try:
            for i, sim in enumerate(self.sims):
                tasks.append(asyncio.create_task(sim.run(), name=f"sim-{sim.spec.charger_id}"))
                if i % 20 == 19:
                    await asyncio.sleep(0.2)
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for sim in self.sims:
            for key, value in sim.stats.items():
                out[key] = out.get(key, 0) + value
        out["online"] = sum(sim.online for sim in self.sims)
        return out
