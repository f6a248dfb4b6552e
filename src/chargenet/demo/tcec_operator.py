"""A charging operator's platform that speaks T/CEC 102: the peer of chargenet's adapter
in tests and, optionally, in the demo.

It answers the queries a platform sends an operator (query_token, query_stations_info,
query_station_status, query_station_stats, query_equip_auth, query_equip_business_policy,
query_start_charge, query_equip_charge_status, query_stop_charge, and chargenet's
notification_supervision_order) with its own token, signature and replay checks, and
pushes the operator's notifications to chargenet, resending a failed push (Part 4).
Faults can be ordered: `fail_next` answers the next requests with HTTP 503.

Stations are generated around a point in GCJ-02, as Chinese operators report them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
from fastapi import FastAPI, Request, Response

from chargenet.adapters.tcec import wire
from chargenet.adapters.tcec.crypto import KeySet, decrypt, new_secret
from chargenet.kit.clock import Clock
from chargenet.kit.geo import wgs84_to_gcj02

log = logging.getLogger(__name__)

_Q2 = Decimal("0.01")


class SimulatorError(Exception):
    def __init__(self, message: str, ret: int | None = None) -> None:
        super().__init__(message)
        self.ret = ret


@dataclass
class Credentials:
    """One direction's secret and keys, as partners hand them to each other."""

    operator_secret: str
    keys: KeySet


def sample_station(
    operator_id: str, number: int, *, lat: float = 38.41, lon: float = 112.73
) -> dict[str, Any]:
    """A StationInfo (wire form) with two DC piles of two guns each, near Xinzhou."""
    g_lat, g_lon = wgs84_to_gcj02(lat + number * 0.002, lon + number * 0.002)
    station_id = f"{1000 + number}"
    equipment = []
    for e in range(1, 3):
        equipment.append(
            {
                "EquipmentID": f"{station_id}E{e}",
                "ManufacturerName": "示例电气",
                "EquipmentModel": "DC120",
                "EquipmentType": 1,
                "Power": 120.0,
                "ConnectorInfos": [
                    {
                        "ConnectorID": f"{station_id}E{e}C{c}",
                        "ConnectorName": f"{e}号桩{c}号枪",
                        "ConnectorType": 4,
                        "VoltageUpperLimits": 750,
                        "VoltageLowerLimits": 200,
                        "Current": 250,
                        "Power": 60.0,
                        "NationalStandard": 2,
                    }
                    for c in range(1, 3)
                ],
            }
        )
    return {
        "StationID": station_id,
        "OperatorID": operator_id,
        "EquipmentOwnerID": operator_id,
        "StationName": f"示例充电站{number}号",
        "CountryCode": "CN",
        "AreaCode": "140902",
        "Address": f"忻府区示例路{number}号",
        "ServiceTel": "0350-0000000",
        "StationType": 1,
        "StationStatus": 50,
        "ParkNums": 4,
        "StationLng": round(g_lon, 6),
        "StationLat": round(g_lat, 6),
        "Construction": 10,
        "BusineHours": "00:00-24:00",
        "ElectricityFee": "峰 1.0 元/度；平 0.6 元/度；谷 0.3 元/度",
        "ServiceFee": "0.8 元/度",
        "ParkFee": "充电免费停车2小时",
        "EquipmentInfos": equipment,
    }


@dataclass
class Session:
    seq: str
    connector: str
    started: datetime
    stat: int = 2
    energy_kwh: Decimal = Decimal("0")
    ended: datetime | None = None


@dataclass
class Faults:
    fail_next: int = 0  # answer the next N requests with HTTP 503
    endpoints: frozenset[str] | None = None  # only these endpoints fail (None: all)


# Time-of-use tariff: (start HHmmss, electricity price, service price)
TARIFF = (
    ("000000", Decimal("0.30"), Decimal("0.80")),
    ("080000", Decimal("1.00"), Decimal("0.80")),
    ("220000", Decimal("0.30"), Decimal("0.80")),
)


class OperatorSimulator:
    def __init__(
        self,
        operator_id: str = "MA59J8YL8",
        *,
        clock: Clock,
        zone: str = "Asia/Shanghai",
        stations: int = 2,
        push_retries: int = 5,
        push_interval_s: float = 60.0,
        token_ttl_s: int = 7200,
    ) -> None:
        self.operator_id = operator_id
        self.clock = clock
        self.zone = ZoneInfo(zone)
        # What chargenet uses to call us (we issue it).
        self.issued = Credentials(new_secret(), KeySet.generate())
        # What we use to call chargenet (chargenet issues it): set by `connect`.
        self.platform: Credentials | None = None
        self.platform_url: str | None = None
        self.platform_operator_id = "CHARGENET"
        self.stations = {
            s["StationID"]: s
            for s in (sample_station(operator_id, n) for n in range(1, stations + 1))
        }
        self.status: dict[str, int] = {
            c["ConnectorID"]: 1
            for s in self.stations.values()
            for e in s["EquipmentInfos"]
            for c in e["ConnectorInfos"]
        }
        self.sessions: dict[str, Session] = {}
        self.faults = Faults()
        self.received: list[str] = []  # endpoints called, in order (failed ones too)
        self.orders: list[dict[str, Any]] = []  # supervision orders received
        self.pushed_status: list[dict[str, Any]] = []  # status pushed to us (as a province)
        self.pushed_stations: list[dict[str, Any]] = []  # stations pushed to us (likewise)
        self.order_answer: dict[str, Any] | None = None  # override the answer to orders
        self.push_retries = push_retries
        self.push_interval_s = push_interval_s
        self._token_ttl = token_ttl_s
        self._tokens: dict[str, datetime] = {}
        self._seen: set[tuple[str, str]] = set()
        self._seq = wire.SeqCounter()
        self._platform_token: tuple[str, datetime] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.http: httpx.AsyncClient | None = None

    def connect(
        self, url: str, operator_secret: str, keys: KeySet, platform_id: str = "CHARGENET"
    ) -> None:
        """Where chargenet's T/CEC endpoints are and the keys chargenet issued us."""
        self.platform_url = url.rstrip("/")
        self.platform = Credentials(operator_secret, keys)
        self.platform_operator_id = platform_id

    # --- our server ---------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI(title=f"T/CEC operator simulator {self.operator_id}")

        @app.post("/{endpoint}")
        async def receive(endpoint: str, request: Request) -> Response:
            self.received.append(endpoint)
            if self.faults.fail_next > 0 and (
                self.faults.endpoints is None or endpoint in self.faults.endpoints
            ):
                self.faults.fail_next -= 1
                return Response("service unavailable", status_code=503)
            reply = await self._answer(
                endpoint, await request.body(), request.headers.get("authorization", "")
            )
            return Response(msgspec.json.encode(reply), media_type="application/json")

        return app

    def _reply(self, ret: int, msg: str, payload: Any = None) -> dict[str, Any]:
        return wire.build_reply(ret, msg, payload, self.issued.keys)

    async def _answer(self, endpoint: str, body: bytes, authorization: str) -> dict[str, Any]:
        try:
            req = msgspec.json.decode(body, type=wire.Request)
        except msgspec.MsgspecError:
            return self._reply(4003, "bad envelope")
        if req.OperatorID != self.platform_operator_id:
            return self._reply(4003, "unknown OperatorID")
        if not wire.request_signed(req, self.issued.keys):
            return self._reply(4001, "signature")
        if endpoint != "query_token":
            token = authorization.removeprefix("Bearer ").strip()
            expires = self._tokens.get(token)
            if expires is None or expires <= self.clock.now():
                return self._reply(4002, "token")
        if (req.TimeStamp, req.Seq) in self._seen:
            return self._reply(4003, "replay")
        self._seen.add((req.TimeStamp, req.Seq))
        try:
            data = msgspec.json.decode(decrypt(req.Data, self.issued.keys))
        except Exception:
            return self._reply(4003, "data")
        handler = getattr(self, f"_on_{endpoint}", None)
        if handler is None:
            return self._reply(4003, f"unknown endpoint {endpoint}")
        try:
            return self._reply(0, "", handler(data))
        except (KeyError, TypeError, ValueError) as exc:
            return self._reply(4004, f"business data: {exc}")

    def _on_query_token(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("OperatorSecret") != self.issued.operator_secret:
            return {"OperatorID": self.platform_operator_id, "SuccStat": 1, "FailReason": 2}
        token = secrets.token_hex(16)
        self._tokens[token] = self.clock.now() + timedelta(seconds=self._token_ttl)
        return {
            "OperatorID": self.platform_operator_id,
            "SuccStat": 0,
            "AccessToken": token,
            "TokenAvailableTime": self._token_ttl,
            "FailReason": 0,
        }

    def _on_query_stations_info(self, data: dict[str, Any]) -> dict[str, Any]:
        page, size = int(data.get("PageNo", 1)), int(data.get("PageSize", 10))
        items = list(self.stations.values())
        count = max(1, -(-len(items) // size))
        return {
            "PageNo": page,
            "PageCount": count,
            "ItemSize": len(items),
            "StationInfos": items[(page - 1) * size : page * size],
        }

    def _connector_station(self, connector: str) -> dict[str, Any]:
        for station in self.stations.values():
            for e in station["EquipmentInfos"]:
                if any(c["ConnectorID"] == connector for c in e["ConnectorInfos"]):
                    return station
        raise KeyError(f"no connector {connector}")

    def _on_query_station_status(self, data: dict[str, Any]) -> dict[str, Any]:
        ids = data["StationIDs"]
        if len(ids) > 50:
            raise ValueError("at most 50 stations a query")
        infos = [
            {
                "StationID": sid,
                "ConnectorStatusInfos": [
                    {"ConnectorID": c["ConnectorID"], "Status": self.status[c["ConnectorID"]]}
                    for e in self.stations[sid]["EquipmentInfos"]
                    for c in e["ConnectorInfos"]
                ],
            }
            for sid in ids
            if sid in self.stations
        ]
        return {"Total": len(infos), "StationStatusInfos": infos}

    def _on_query_station_stats(self, data: dict[str, Any]) -> dict[str, Any]:
        station = self.stations[data["StationID"]]
        equipment = [
            {
                "EquipmentID": e["EquipmentID"],
                "EquipmentElectricity": 30.5 * len(e["ConnectorInfos"]),
                "ConnectorStatsInfos": [
                    {"ConnectorID": c["ConnectorID"], "ConnectorElectricity": 30.5}
                    for c in e["ConnectorInfos"]
                ],
            }
            for e in station["EquipmentInfos"]
        ]
        return {
            "StationStats": {
                "StationID": station["StationID"],
                "StartTime": data["StartTime"],
                "EndTime": data["EndTime"],
                "StationElectricity": sum(e["EquipmentElectricity"] for e in equipment),
                "EquipmentStatsInfos": equipment,
            }
        }

    def _on_query_equip_auth(self, data: dict[str, Any]) -> dict[str, Any]:
        known = data["ConnectorID"] in self.status
        return {
            "EquipAuthSeq": data["EquipAuthSeq"],
            "ConnectorID": data["ConnectorID"],
            "SuccStat": 0 if known else 1,
            "FailReason": 0 if known else 2,
        }

    def _on_query_equip_business_policy(self, data: dict[str, Any]) -> dict[str, Any]:
        self._connector_station(data["ConnectorID"])
        return {
            "EquipBizSeq": data["EquipBizSeq"],
            "ConnectorID": data["ConnectorID"],
            "SuccStat": 0,
            "FailReason": 0,
            # The standard's own spelling, as many operators still send it.
            "SumPeriod": len(TARIFF),
            "PolicyInfos": [
                {"StartTime": t, "ElecPrice": e, "SevicePrice": s} for t, e, s in TARIFF
            ],
        }

    def _on_query_start_charge(self, data: dict[str, Any]) -> dict[str, Any]:
        seq, connector = data["StartChargeSeq"], data["ConnectorID"]
        if connector not in self.status:
            return {
                "StartChargeSeq": seq,
                "StartChargeSeqStat": 5,
                "ConnectorID": connector,
                "SuccStat": 1,
                "FailReason": 1,
            }
        self.sessions[seq] = Session(seq, connector, self.clock.now())
        self.status[connector] = 3
        self._later(self._after_start(seq))
        return {
            "StartChargeSeq": seq,
            "StartChargeSeqStat": 1,
            "ConnectorID": connector,
            "SuccStat": 0,
            "FailReason": 0,
        }

    async def _after_start(self, seq: str) -> None:
        session = self.sessions[seq]
        await self.push(
            "notification_start_charge_result",
            {
                "StartChargeSeq": seq,
                "StartChargeSeqStat": 2,
                "ConnectorID": session.connector,
                "StartTime": self._time(session.started),
                "IdentCode": "123456",
            },
        )

    def snapshot(self, seq: str) -> dict[str, Any]:
        s = self.sessions[seq]
        if s.ended is None:
            s.energy_kwh += Decimal("1.25")
        elec = (s.energy_kwh * Decimal("0.30")).quantize(_Q2)
        service = (s.energy_kwh * Decimal("0.80")).quantize(_Q2)
        return {
            "StartChargeSeq": seq,
            "StartChargeSeqStat": s.stat,
            "ConnectorID": s.connector,
            "ConnectorStatus": self.status[s.connector],
            "CurrentA": 100.0,
            "VoltageA": 400.0,
            "Soc": 55.0,
            "StartTime": self._time(s.started),
            "EndTime": self._time(self.clock.now()),
            "TotalPower": s.energy_kwh,
            "ElecMoney": elec,
            "SeviceMoney": service,
            "TotalMoney": elec + service,
        }

    def _on_query_equip_charge_status(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.snapshot(data["StartChargeSeq"])

    def _on_query_stop_charge(self, data: dict[str, Any]) -> dict[str, Any]:
        seq = data["StartChargeSeq"]
        session = self.sessions.get(seq)
        if session is None or session.stat == 4:
            return {"StartChargeSeq": seq, "StartChargeSeqStat": 4, "SuccStat": 1, "FailReason": 3}
        session.stat = 3
        self._later(self._after_stop(seq))
        return {"StartChargeSeq": seq, "StartChargeSeqStat": 3, "SuccStat": 0, "FailReason": 0}

    async def _after_stop(self, seq: str) -> None:
        session = self.sessions[seq]
        session.stat, session.ended = 4, self.clock.now()
        self.status[session.connector] = 1
        await self.push(
            "notification_stop_charge_result",
            {
                "StartChargeSeq": seq,
                "StartChargeSeqStat": 4,
                "ConnectorID": session.connector,
                "SuccStat": 0,
                "FailReason": 0,
            },
        )
        await self.push("notification_charge_order_info", self.order(seq))

    def _on_notification_stationStatus(self, data: dict[str, Any]) -> dict[str, Any]:
        """As a provincial platform: a city platform pushing a connector's status."""
        info = data["ConnectorStatusInfo"]
        self.pushed_status.append(info)
        return {"Status": 0}

    def _on_notification_stationInfo(self, data: dict[str, Any]) -> dict[str, Any]:
        """As a provincial platform: a city platform pushing a station's information."""
        self.pushed_stations.append(data["StationInfo"])
        return {"Status": 0}

    def _on_notification_supervision_order(self, data: dict[str, Any]) -> dict[str, Any]:
        self.orders.append(data)
        if self.order_answer is not None:
            return {"OrderID": data["OrderID"], **self.order_answer}
        return {"OrderID": data["OrderID"], "SuccStat": 0, "FailReason": 0, "Remark": "已停机整改"}

    # --- orders and bills ---------------------------------------------------------------

    def order(self, seq: str, *, total_money: Decimal | None = None) -> dict[str, Any]:
        """A ChargeOrderInfo with two time-of-use periods, split at the session's middle."""
        s = self.sessions[seq]
        end = s.ended or self.clock.now()
        middle = s.started + (end - s.started) / 2
        halves = [(s.energy_kwh / 2).quantize(Decimal("0.0001"))]
        halves.append(s.energy_kwh - halves[0])
        details: list[dict[str, Any]] = []
        for (start, stop), kwh, (_, price, service) in zip(
            ((s.started, middle), (middle, end)), halves, TARIFF[:2], strict=True
        ):
            details.append(
                {
                    "DetailStartTime": self._time(start),
                    "DetailEndTime": self._time(stop),
                    "ElecPrice": price,
                    "SevicePrice": service,
                    "DetailPower": kwh,
                    "DetailElecMoney": (kwh * price).quantize(_Q2),
                    "DetailSeviceMoney": (kwh * service).quantize(_Q2),
                }
            )
        elec = sum((d["DetailElecMoney"] for d in details), Decimal(0))
        service_money = sum((d["DetailSeviceMoney"] for d in details), Decimal(0))
        return {
            "StartChargeSeq": seq,
            "ConnectorID": s.connector,
            "StartTime": self._time(s.started),
            "EndTime": self._time(end),
            "TotalPower": s.energy_kwh,
            "TotalElecMoney": elec,
            "TotalSeviceMoney": service_money,
            "TotalMoney": total_money if total_money is not None else elec + service_money,
            "StopReason": 0,
            "SumPeriod": len(details),
            "ChargeDetails": details,
        }

    def finished_session(
        self, seq: str, connector: str, started: datetime, minutes: int, kwh: str
    ) -> dict[str, Any]:
        """Record a session that already ended (for orders and reconciliation)."""
        self.sessions[seq] = Session(
            seq,
            connector,
            started,
            stat=4,
            energy_kwh=Decimal(kwh),
            ended=started + timedelta(minutes=minutes),
        )
        return self.order(seq)

    # --- pushing to chargenet -------------------------------------------------------------

    def _time(self, when: datetime) -> str:
        return when.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _later(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the pushes that answers to chargenet's queries set off."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def envelope(
        self, payload: Any, *, timestamp: str | None = None, seq: str | None = None
    ) -> dict[str, str]:
        """A signed request envelope to chargenet (tests take it apart to tamper with it)."""
        assert self.platform is not None, "connect() first"
        stamp = timestamp or wire.format_timestamp(self.clock.now(), self.zone)
        return wire.build_request(
            self.operator_id, payload, self.platform.keys, stamp, seq or self._seq.next(stamp)
        )

    async def send(
        self, endpoint: str, request: dict[str, str], token: str | None = None
    ) -> dict[str, Any]:
        """Post an envelope as it is; the raw answer envelope."""
        assert self.platform_url is not None
        if self.http is None:
            self.http = httpx.AsyncClient()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            f"{self.platform_url}/{endpoint}", json=request, headers=headers
        )
        answer: dict[str, Any] = response.json()
        return answer

    def open(self, answer: dict[str, Any]) -> Any:
        """Check an answer's signature and open its Data."""
        assert self.platform is not None
        reply = wire.Reply(**answer)
        if not wire.reply_signed(reply, self.platform.keys):
            raise SimulatorError("chargenet's answer is not signed right", reply.Ret)
        if reply.Ret != 0:
            raise SimulatorError(f"Ret {reply.Ret}: {reply.Msg}", reply.Ret)
        return msgspec.json.decode(decrypt(reply.Data, self.platform.keys))

    async def token(self, *, secret: str | None = None) -> str:
        now = self.clock.now()
        if secret is None and self._platform_token and self._platform_token[1] > now:
            return self._platform_token[0]
        assert self.platform is not None
        answer = self.open(
            await self.send(
                "query_token",
                self.envelope(
                    {
                        "OperatorID": self.operator_id,
                        "OperatorSecret": secret or self.platform.operator_secret,
                    }
                ),
            )
        )
        if answer["SuccStat"] != 0:
            raise SimulatorError(f"no token: FailReason {answer['FailReason']}")
        self._platform_token = (
            answer["AccessToken"],
            now + timedelta(seconds=answer["TokenAvailableTime"]),
        )
        return str(answer["AccessToken"])

    async def push(self, endpoint: str, payload: Any) -> Any:
        """A notification to chargenet, resent on failure (Part 4) and after a 4002."""
        last: Exception | None = None
        for attempt in range(self.push_retries + 1):
            if attempt:
                await asyncio.sleep(self.push_interval_s)
            try:
                token = await self.token()
                try:
                    return self.open(await self.send(endpoint, self.envelope(payload), token))
                except SimulatorError as exc:
                    if exc.ret != 4002:
                        raise
                    self._platform_token = None
                    return self.open(
                        await self.send(endpoint, self.envelope(payload), await self.token())
                    )
            except (httpx.HTTPError, ValueError) as exc:
                last = exc
                log.warning("push %s failed (attempt %d): %s", endpoint, attempt + 1, exc)
        raise SimulatorError(f"{endpoint} not delivered: {last}")

    async def push_station(self, station_id: str) -> Any:
        return await self.push(
            "notification_stationInfo", {"StationInfo": self.stations[station_id]}
        )

    async def push_status(
        self, connector: str, status: int, *, park: int | None = None, lock: int | None = None
    ) -> Any:
        """A status change; `park` (ParkStatus 0/10/50) and `lock` (LockStatus 0/10/50)
        when the bay has a sensor or a parking lock."""
        self.status[connector] = status
        info: dict[str, Any] = {"ConnectorID": connector, "Status": status}
        if park is not None:
            info["ParkStatus"] = park
        if lock is not None:
            info["LockStatus"] = lock
        return await self.push("notification_stationStatus", {"ConnectorStatusInfo": info})

    async def push_alarm(
        self,
        equipment: str | None,
        code: str,
        *,
        station: str | None = None,
        connector: str | None = None,
        level: int = 1,
        occurring: bool = True,
        note: str = "",
        at: datetime | None = None,
        bms: dict[str, Any] | None = None,
    ) -> Any:
        """notification_alarmInfo as municipal platforms take it (codes as strings)."""
        alarm: dict[str, Any] = {
            "StationID": station or (equipment or "")[:4],
            "OperatorID": self.operator_id,
            "AlarmCode": code,
            "AlarmType": "2",
            "AlarmLevel": str(level),
            "AlarmStatus": "1" if occurring else "0",
            "AlarmTime": self._time(at or self.clock.now()),
            "NoteString": note,
        }
        if equipment:
            alarm["EquipmentID"] = equipment
        if connector:
            alarm["ConnectorID"] = connector
        if bms is not None:
            alarm["BmsInfo"] = bms
        return await self.push("notification_alarmInfo", {"AlarmInfos": [alarm]})

    async def push_event(
        self, station: str, code: str, *, event_type: int = 3, note: str = ""
    ) -> Any:
        return await self.push(
            "notification_eventInfo",
            {
                "EventInfos": [
                    {
                        "StationID": station,
                        "OperatorID": self.operator_id,
                        "EventType": str(event_type),
                        "EventCode": code,
                        "EventTime": self._time(self.clock.now()),
                        "NoteString": note,
                    }
                ]
            },
        )

    async def push_bms(self, connector: str, bms: dict[str, Any], *, status: int = 3) -> Any:
        """notification_bmsInfo: the battery during a charge (the interface's spelling)."""
        return await self.push(
            "notification_bmsInfo", {"ConnectorID": connector, "Status": status, "BmsInfo": bms}
        )

    async def check_orders(
        self,
        check_seq: str,
        start: datetime,
        end: datetime,
        orders: list[tuple[str, Decimal, Decimal]],
    ) -> Any:
        """check_charge_orders with (StartChargeSeq, kWh, money) lines."""
        return await self.push(
            "check_charge_orders",
            {
                "CheckOrderSeq": check_seq,
                "StartTime": self._time(start),
                "EndTime": self._time(end),
                "OrderCount": len(orders),
                "TotalOrderPower": sum((o[1] for o in orders), Decimal(0)),
                "TotalOrderMoney": sum((o[2] for o in orders), Decimal(0)),
                "ChargeOrders": [
                    {"StartChargeSeq": s, "TotalPower": p, "TotalMoney": m} for s, p, m in orders
                ],
            },
        )

    async def close(self) -> None:
        await self.settle()
        if self.http is not None:
            await self.http.aclose()
            self.http = None
