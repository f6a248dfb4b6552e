"""chargenet as the platform partners call: the envelope checks, then one handler per
endpoint. Independent of the web framework (routes.py mounts it).

Order of checks (each failure answered with its Ret, logged, nothing stored):
envelope shape → known partner → Sig (4001) → bearer token (4002; not for query_token)
→ TimeStamp window and replay (4003) → Data decrypts (4003) → payload shape and codes
(4003) → the one way in; refusals there are 4004 → unexpected errors 500.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chargenet.adapters.tcec import codes, inbound, model, outbound, supervision_data, wire
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.crypto import CryptoError
from chargenet.adapters.tcec.inbound import BadParameters, Sent
from chargenet.adapters.tcec.intake import Intake, IntakeResult
from chargenet.adapters.tcec.partners import Partner, PartnerDirectory
from chargenet.adapters.tcec.security import ReplayGuard, Tokens
from chargenet.app.compliance import InterfaceRecorder
from chargenet.app.interconnect import SettlementQueries
from chargenet.app.queries import StateQueries, StationDetailRow
from chargenet.core.billing import (
    DifferenceKind,
    OrderTotals,
    Tolerance,
    bill_flags,
    kwh_to_wh,
    reconcile,
    statement_problems,
)
from chargenet.core.events import ChargeOrdersReconciled, Source, event_meta
from chargenet.core.ids import OperatorId
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_id
from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE, runs_ahead

log = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
_DECODE_IN_THREAD = 64 * 1024  # larger envelopes are decoded off the event loop
_KWH = Decimal(1000)


class Refused(Exception):
    """The payload is well-formed but cannot be accepted (Ret 4004)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What goes back: the envelope fields before encryption and signing."""

    ret: int
    msg: str
    payload: Any = None


Handler = Callable[[Partner, str, Sent], Awaitable[Any]]
ChargeListener = Callable[[Partner, str, Any], None]


class InboundService:
    def __init__(
        self,
        *,
        directory: PartnerDirectory,
        tokens: Tokens,
        replay: ReplayGuard,
        intake: Intake,
        settlement: SettlementQueries,
        clock: Clock,
        zone: ZoneInfo,
        recorder: InterfaceRecorder | None = None,
        queries: StateQueries | None = None,
        upstream: frozenset[str] = frozenset(),
        tolerance: Tolerance | None = None,
        checks_block: bool = False,
    ) -> None:
        self._checks_block = checks_block
        self._tolerance = tolerance or Tolerance()
        self._directory = directory
        self._recorder = recorder
        self._queries = queries
        self._upstream = upstream
        self._tokens = tokens
        self._replay = replay
        self._intake = intake
        self._settlement = settlement
        self._clock = clock
        self._zone = zone
        self.charge_listeners: list[ChargeListener] = []
        # Told of every message a known partner sent, with our answer's Ret (backfill.py).
        self.message_listeners: list[Callable[[Partner, int], None]] = []
        self.handlers: dict[str, Handler] = {
            "query_token": self._query_token,
            "notification_stationInfo": self._station_info,
            "notification_stationStatus": self._station_status,
            "notification_start_charge_result": self._start_result,
            "notification_equip_charge_status": self._charge_status,
            "notification_stop_charge_result": self._stop_result,
            "notification_charge_order_info": self._order_info,
            "check_charge_orders": self._check_orders,
            "notification_alarmInfo": self._alarm_info,
            "notification_eventInfo": self._event_info,
            "notification_bmsInfo": self._bms_info,
        }
        if queries is not None:  # chargenet answering queries (R37, outbound.py)
            self.handlers.update(
                {
                    "query_stations_info": self._query_stations,
                    "query_station_status": self._query_status,
                    "query_station_stats": self._query_stats,
                }
            )

    # --- the envelope -------------------------------------------------------------------

    async def handle(self, endpoint: str, body: bytes, authorization: str | None) -> dict[str, Any]:
        """The answer envelope (JSON-ready) to a request envelope."""
        if len(body) > MAX_BODY:
            return wire.build_reply(Ret.PARAMETERS, "request too large", None, None)
        try:
            if len(body) > _DECODE_IN_THREAD:
                request = await asyncio.to_thread(wire.decode_request, body)
            else:
                request = wire.decode_request(body)
        except wire.EnvelopeError as exc:
            log.warning("tcec %s: malformed envelope: %s", endpoint, exc)
            return wire.build_reply(Ret.PARAMETERS, f"malformed envelope: {exc}", None, None)
        partner = self._directory.cached(request.OperatorID) or await asyncio.to_thread(
            self._directory.get, request.OperatorID
        )
        if partner is None:
            log.warning("tcec %s: unknown OperatorID %r", endpoint, request.OperatorID)
            return wire.build_reply(Ret.PARAMETERS, "unknown OperatorID", None, None)
        answer = await self._checked(partner, endpoint, request, authorization)
        if answer.ret != Ret.OK:
            log.warning(
                "tcec %s from %s: %s %s", endpoint, partner.partner_id, answer.ret, answer.msg
            )
        for listener in self.message_listeners:
            listener(partner, int(answer.ret))
        if self._recorder is not None:  # every message, accepted or refused (R38 compliance)
            self._recorder.note(
                protocol=inbound.PROTOCOL,
                partner_id=partner.partner_id,
                operator_id=partner.operator_id,
                at=self._clock.now(),
                endpoint=endpoint if endpoint in self.handlers else "(unknown endpoint)",
                ret=int(answer.ret),
                reason=answer.msg,
            )
        return wire.build_reply(answer.ret, answer.msg, answer.payload, partner.inbound_keys)

    def _admitted(
        self, partner: Partner, endpoint: str, request: wire.Request, authorization: str | None
    ) -> Answer | datetime:
        """The bearer token, then the TimeStamp and the replay guard: the refusal, or when
        the message was sent. Blocking when they ask the shared store (`checks_block`): then
        one thread hop for both, and the event loop serves others meanwhile (it used to wait
        for two database round trips a push)."""
        if endpoint != "query_token":
            scheme, _, token = (authorization or "").partition(" ")
            owner = self._tokens.partner_of(token.strip()) if scheme.lower() == "bearer" else None
            if owner != partner.partner_id:
                return Answer(Ret.TOKEN, "token missing, unknown or expired: call query_token")
        try:
            sent_at = wire.parse_timestamp(request.TimeStamp, partner.zone)
        except wire.EnvelopeError as exc:
            return Answer(Ret.PARAMETERS, str(exc))
        if runs_ahead(sent_at, self._clock.now()):
            # Whatever time window is configured for the past, a message from the future
            # would stamp its facts ahead of every honest later one.
            return Answer(
                Ret.PARAMETERS,
                f"TimeStamp {request.TimeStamp} is more than "
                f"{int(CLOCK_AHEAD_TOLERANCE.total_seconds())} s ahead of our clock",
            )
        problem = wire.seq_problem(request.Seq) or self._replay.check(
            partner.partner_id, sent_at, request.TimeStamp, request.Seq
        )
        if problem:
            return Answer(Ret.PARAMETERS, problem)
        return sent_at

    async def _checked(
        self, partner: Partner, endpoint: str, request: wire.Request, authorization: str | None
    ) -> Answer:
        handler = self.handlers.get(endpoint)
        if handler is None:
            return Answer(Ret.PARAMETERS, f"unknown endpoint {endpoint}")
        if not wire.request_signed(request, partner.inbound_keys):
            return Answer(Ret.SIGNATURE, "signature does not match")
        args = (partner, endpoint, request, authorization)
        refused = (
            await asyncio.to_thread(self._admitted, *args)
            if self._checks_block
            else self._admitted(*args)
        )
        if isinstance(refused, Answer):
            return refused
        sent_at = refused
        try:
            plain = wire.open_data(request.Data, partner.inbound_keys)
        except CryptoError as exc:
            return Answer(Ret.PARAMETERS, str(exc))
        sent = Sent(
            at=sent_at,
            stamp=f"{request.TimeStamp}{request.Seq}",
            received_at=self._clock.now(),
        )
        try:
            return Answer(Ret.OK, "", await handler(partner, plain, sent))
        except (model.PayloadError, BadParameters) as exc:
            return Answer(Ret.PARAMETERS, str(exc)[:500])
        except Refused as exc:
            return Answer(Ret.BUSINESS, str(exc)[:500])
        except Exception:
            log.exception("tcec %s from %s failed", endpoint, partner.partner_id)
            return Answer(Ret.SERVER, "server error")

    @staticmethod
    def _refuse_if(result: IntakeResult) -> None:
        if result.refused:
            raise Refused("; ".join(result.refused))

    def _tell(self, partner: Partner, seq: str, what: Any) -> None:
        for listener in self.charge_listeners:
            listener(partner, seq, what)

    # --- queries chargenet answers (R37) ----------------------------------------------------

    def _operator_of(self, partner: Partner) -> str | None:
        """None: an upstream platform, which sees every station."""
        return None if partner.partner_id in self._upstream else partner.operator_id

    def _station_rows(self, partner: Partner, station_ids: list[str]) -> list[StationDetailRow]:
        assert self._queries is not None
        operator = self._operator_of(partner)
        rows = []
        for sid in station_ids:
            row = self._queries.station(sid)
            if row is not None and (operator is None or row["operator_id"] == operator):
                rows.append(row)
        return rows

    async def _query_stations(self, partner: Partner, plain: str, sent: Sent) -> Any:
        assert self._queries is not None
        query = model.decode(plain, model.StationsQuery)
        page, size = outbound.page_of(query)
        since = outbound.changed_since(query, partner.zone, sent.received_at)
        # Incremental (LastQueryTime): the stations changed since, a station retired since
        # among them (StationStatus 5, no equipment) — else the partner would never learn
        # it closed. In full: the stations in service.
        rows, total = await asyncio.to_thread(
            functools.partial(
                self._queries.stations,
                operator_id=self._operator_of(partner),
                include_retired=since is not None,
                limit=size,
                offset=(page - 1) * size,
                changed_since=since,
            )
        )
        infos = await asyncio.to_thread(outbound.station_infos, self._queries, list(rows))
        return {
            "PageNo": page,
            "PageCount": outbound.page_count(total, size),
            "ItemSize": total,
            "StationInfos": infos,
        }

    async def _query_status(self, partner: Partner, plain: str, sent: Sent) -> Any:
        assert self._queries is not None
        query = model.decode(plain, model.StationStatusQuery)
        if not 1 <= len(query.StationIDs) <= outbound.MAX_STATUS_STATIONS:
            raise BadParameters(f"StationIDs holds 1..{outbound.MAX_STATUS_STATIONS} stations")
        stations = await asyncio.to_thread(self._station_rows, partner, query.StationIDs)
        infos = []
        for station in stations:
            rows, _ = await asyncio.to_thread(
                self._queries.connectors,
                station["station_id"],
                None,
                None,
                None,
                None,
                False,
                5000,
                0,
            )
            infos.append(
                {
                    "StationID": station["station_id"],
                    "ConnectorStatusInfos": [outbound.connector_status(r) for r in rows],
                }
            )
        return {"Total": len(infos), "StationStatusInfos": infos}

    async def _query_stats(self, partner: Partner, plain: str, sent: Sent) -> Any:
        assert self._queries is not None
        query = model.decode(plain, model.StatsQuery)
        start, end = outbound.stats_span(query, partner.zone)
        found = await asyncio.to_thread(self._station_rows, partner, [query.StationID])
        if not found:
            raise Refused(f"no station {query.StationID}")
        energy = await asyncio.to_thread(
            self._settlement.station_energy, query.StationID, start, end
        )
        chargers: dict[str, list[dict[str, Any]]] = {}
        for connector_id, charger_id, wh in energy:
            chargers.setdefault(charger_id, []).append(
                {"ConnectorID": connector_id, "ConnectorElectricity": Decimal(wh) / _KWH}
            )
        return {
            "StationStats": {
                "StationID": query.StationID,
                "StartTime": query.StartTime,
                "EndTime": query.EndTime,
                "StationElectricity": sum((Decimal(wh) for _, _, wh in energy), Decimal(0)) / _KWH,
                "EquipmentStatsInfos": [
                    {
                        "EquipmentID": cid,
                        "EquipmentElectricity": sum(
                            (c["ConnectorElectricity"] for c in cons), Decimal(0)
                        ),
                        "ConnectorStatsInfos": cons,
                    }
                    for cid, cons in sorted(chargers.items())
                ],
            }
        }

    # --- endpoints ------------------------------------------------------------------------

    async def _query_token(self, partner: Partner, plain: str, sent: Sent) -> Any:
        request = model.decode(plain, model.TokenRequest)
        if request.OperatorID != partner.partner_id:
            failure = codes.TokenFailure.UNKNOWN_OPERATOR
        elif not await asyncio.to_thread(partner.secret_matches, request.OperatorSecret):
            failure = codes.TokenFailure.WRONG_SECRET
        else:
            issued = self._tokens.issue(partner.partner_id)
            return model.TokenAnswer(
                OperatorID=partner.partner_id,
                SuccStat=0,
                FailReason=0,
                AccessToken=issued.token,
                TokenAvailableTime=issued.ttl_s,
            )
        log.warning("tcec query_token from %s refused: %s", partner.partner_id, failure.name)
        return model.TokenAnswer(OperatorID=partner.partner_id, SuccStat=1, FailReason=failure)

    async def _station_info(self, partner: Partner, plain: str, sent: Sent) -> Any:
        notice = model.decode(plain, model.StationInfoNotice)
        self._refuse_if(await self._intake.station(partner, notice.StationInfo, sent))
        return model.NoticeAnswer(Status=0)

    async def _station_status(self, partner: Partner, plain: str, sent: Sent) -> Any:
        notice = model.decode(plain, model.StationStatusNotice)
        fact = inbound.connector_status_fact(partner, notice.ConnectorStatusInfo, sent)
        parking = supervision_data.parking_fact(partner, notice.ConnectorStatusInfo, sent)
        facts = [fact] if parking is None else [fact, parking]
        self._refuse_if(await self._intake.submit(partner, facts))
        return model.NoticeAnswer(Status=0)

    async def _alarm_info(self, partner: Partner, plain: str, sent: Sent) -> Any:
        notice = model.decode(plain, model.AlarmNotice)
        facts = supervision_data.alarm_facts(partner, notice, sent)
        self._refuse_if(await self._intake.submit(partner, facts))
        return model.NoticeAnswer(Status=0)

    async def _event_info(self, partner: Partner, plain: str, sent: Sent) -> Any:
        notice = model.decode(plain, model.EventNotice)
        facts = supervision_data.event_facts(partner, notice, sent)
        self._refuse_if(await self._intake.submit(partner, facts))
        return model.NoticeAnswer(Status=0)

    async def _bms_info(self, partner: Partner, plain: str, sent: Sent) -> Any:
        notice = model.decode(plain, model.BmsNotice)
        facts = supervision_data.bms_facts(partner, notice, sent)
        if notice.Status is not None:
            status = model.ConnectorStatusInfo(ConnectorID=notice.ConnectorID, Status=notice.Status)
            facts.insert(0, inbound.connector_status_fact(partner, status, sent))
        self._refuse_if(await self._intake.submit(partner, facts))
        return model.NoticeAnswer(Status=0)

    async def _start_result(self, partner: Partner, plain: str, sent: Sent) -> Any:
        result = model.decode(plain, model.StartChargeResult)
        self._refuse_if(
            await self._intake.submit(partner, inbound.start_result_facts(partner, result, sent))
        )
        self._tell(partner, result.StartChargeSeq, result)
        return model.ChargeResultAnswer(StartChargeSeq=result.StartChargeSeq, SuccStat=0)

    async def _charge_status(self, partner: Partner, plain: str, sent: Sent) -> Any:
        snapshot = model.decode(plain, model.ChargingSnapshot)
        self._refuse_if(
            await self._intake.submit(partner, inbound.snapshot_facts(partner, snapshot, sent))
        )
        return model.SnapshotAnswer(StartChargeSeq=snapshot.StartChargeSeq, SuccStat=0)

    async def _stop_result(self, partner: Partner, plain: str, sent: Sent) -> Any:
        result = model.decode(plain, model.StopChargeResult)
        inbound.local_id(result.StartChargeSeq, "StartChargeSeq")
        self._tell(partner, result.StartChargeSeq, result)
        return model.ChargeResultAnswer(StartChargeSeq=result.StartChargeSeq, SuccStat=0)

    async def _order_info(self, partner: Partner, plain: str, sent: Sent) -> Any:
        order = model.decode(plain, model.ChargeOrderInfo)
        facts = inbound.order_facts(partner, order, sent)
        self._refuse_if(await self._intake.submit(partner, facts))
        # The bill is kept either way; one that disagrees with itself is disputed (R31).
        disputed = bool(bill_flags(inbound.bill_of(partner, order)))
        self._tell(partner, order.StartChargeSeq, order)
        return model.OrderInfoAnswer(
            StartChargeSeq=order.StartChargeSeq,
            ConnectorID=order.ConnectorID,
            ConfirmResult=1 if disputed else 0,
        )

    async def _check_orders(self, partner: Partner, plain: str, sent: Sent) -> Any:
        check = model.decode(plain, model.CheckOrders)
        reference = inbound.local_id(check.CheckOrderSeq, "CheckOrderSeq")
        start = inbound.parse_time(check.StartTime, partner.zone, "StartTime")
        end = inbound.parse_time(check.EndTime, partner.zone, "EndTime")
        if end < start:
            raise BadParameters("EndTime is before StartTime")
        stated = [
            OrderTotals(
                order_id=partner.session_id(inbound.local_id(o.StartChargeSeq, "StartChargeSeq")),
                energy_wh=kwh_to_wh(o.TotalPower),
                amount=o.TotalMoney,
            )
            for o in check.ChargeOrders
        ]
        problems = statement_problems(
            stated, check.OrderCount, kwh_to_wh(check.TotalOrderPower), check.TotalOrderMoney
        )
        if problems:
            raise BadParameters("; ".join(problems))
        recorded = await asyncio.to_thread(
            self._settlement.recorded_orders,
            partner.operator_id,
            partner.prefix,
            (start, end),
            [o.order_id for o in stated],
        )
        differences = reconcile(stated, recorded, (start, end), self._tolerance)
        in_period = [o for o in recorded if o.ended_at is not None and start <= o.ended_at <= end]
        event = ChargeOrdersReconciled(
            **event_meta(
                stable_id(inbound.PROTOCOL, partner.partner_id, "check", reference, sent.stamp),
                Source(adapter=inbound.PROTOCOL, operator_id=partner.operator_id),
                sent.at,
                sent.received_at,
            ),
            reconciliation_id=partner.prefix + reference,
            operator_id=OperatorId(partner.operator_id),
            period_start=start,
            period_end=end,
            stated_orders=check.OrderCount,
            stated_energy_wh=kwh_to_wh(check.TotalOrderPower),
            stated_amount=check.TotalOrderMoney,
            recorded_orders=len(in_period),
            recorded_energy_wh=sum(o.energy_wh or 0 for o in in_period),
            recorded_amount=sum((o.amount or Decimal(0) for o in in_period), Decimal(0)),
            differences=tuple(differences),
        )
        [outcome] = await self._intake.pipeline.submit([event])
        if not outcome.ok:
            raise Refused(f"the reconciliation could not be recorded: {outcome.reason}")
        disputes = [
            model.DisputeOrder(
                StartChargeSeq=partner.local(d.order_id) or d.order_id,
                TotalPower=Decimal(
                    d.stated_energy_wh
                    if d.stated_energy_wh is not None
                    else d.recorded_energy_wh or 0
                )
                / _KWH,
                TotalMoney=(d.stated_amount if d.stated_amount is not None else d.recorded_amount)
                or Decimal(0),
                DisputeReason=_DISPUTE_REASON[d.kind],
            )
            for d in differences
        ]
        return model.CheckOrdersAnswer(
            CheckOrderSeq=check.CheckOrderSeq,
            StartTime=check.StartTime,
            EndTime=check.EndTime,
            TotalDisputeOrder=len(disputes),
            TotalDisputePower=sum((d.TotalPower for d in disputes), Decimal(0)),
            TotalDisputeMoney=sum((d.TotalMoney for d in disputes), Decimal(0)),
            DisputeOrders=disputes,
        )


_DISPUTE_REASON = {
    DifferenceKind.MISSING: codes.DisputeReason.NOT_FOUND,
    DifferenceKind.AMOUNT: codes.DisputeReason.AMOUNT,
    DifferenceKind.ENERGY: codes.DisputeReason.ENERGY,
    DifferenceKind.AMOUNT_AND_ENERGY: codes.DisputeReason.AMOUNT_AND_ENERGY,
    DifferenceKind.EXTRA: codes.DisputeReason.NOT_STATED,
}
