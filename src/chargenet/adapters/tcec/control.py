"""Orders for chargers reported through T/CEC 102 (`ChargerControl` for protocol "tcec").

T/CEC 102 has no message for a regulator's stop-and-rectify order (R33), so chargenet
pushes its own `notification_supervision_order` in the standard envelope; it goes through
the durable outbox (app/outbox.py, stored with the order: `QueuedControl`), so an
unreachable operator gets it resent (Part 4), across restarts. The outcome is the
operator's answer (SuccStat 0 accepted, 1 refused) or NOTIFIED when it acknowledges
without deciding. Remote start and stop use the standard's query_start_charge and
query_stop_charge.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from chargenet.adapters.tcec import inbound, model
from chargenet.adapters.tcec.client import PartnerError
from chargenet.adapters.tcec.outward import Charging
from chargenet.adapters.tcec.partners import Partner, PartnerDirectory, partner_of_id
from chargenet.adapters.tcec.pushes import TCEC_KINDS
from chargenet.app.orders import Order, OrderResult
from chargenet.app.outbox import NewDelivery, Sent
from chargenet.app.queries import StateQueries
from chargenet.core.supervision import OrderKind, OrderOutcome
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_id

log = logging.getLogger(__name__)

SUPERVISION_ENDPOINT = "notification_supervision_order"
SUPERVISION_KINDS = frozenset({OrderKind.STOP, OrderKind.RESUME, OrderKind.NOTICE})


def outcome_of(answer: dict[str, Any]) -> tuple[OrderOutcome, str]:
    succ = answer.get("SuccStat")
    remark = str(answer.get("Remark") or "")
    if succ is None:
        return OrderOutcome.NOTIFIED, remark or "the operator acknowledged the order"
    if succ == 0:
        return OrderOutcome.ACCEPTED, remark
    return OrderOutcome.REJECTED, f"FailReason {answer.get('FailReason')} {remark}".strip()


class TcecControl:
    kind = TCEC_KINDS + SUPERVISION_ENDPOINT

    def __init__(
        self,
        *,
        directory: PartnerDirectory,
        charging: Charging,
        queries: StateQueries,
        clock: Clock,
    ) -> None:
        self._directory = directory
        self._charging = charging
        self._queries = queries
        self._clock = clock

    def _partner(self, charger_id: str) -> Partner | None:
        partner_id = partner_of_id(charger_id)
        if partner_id is not None:
            return self._directory.get(partner_id)
        row = self._queries.charger(charger_id)
        if row is None:
            return None
        return self._directory.by_operator(row["operator_id"])

    def delivery(self, order: Order) -> NewDelivery | None:
        """A stop, resume or notice order as the push to its operator's platform."""
        if order.kind not in SUPERVISION_KINDS:
            return None
        partner = self._partner(order.charger_id)
        if partner is None:
            return None
        connector = None
        if order.target_id != order.charger_id:
            connector = partner.local(order.target_id)
        payload = model.SupervisionOrder(
            OrderID=order.order_id,
            Kind=order.kind.value,
            EquipmentID=partner.local(order.charger_id) or order.charger_id,
            ConnectorID=connector,
            Reason=order.reason,
            IssuedTime=inbound.format_time(self._clock.now(), partner.zone),
        )
        return NewDelivery(
            delivery_id=stable_id(self.kind, order.order_id),
            kind=self.kind,
            destination=partner.partner_id,
            payload=json.dumps(model.to_builtins(payload), ensure_ascii=False),
            ref=order.order_id,
            held=True,
        )

    def outcome(self, sent: Sent) -> OrderResult:
        if not sent.ok:
            return OrderResult(OrderOutcome.FAILED, sent.error)
        answer = json.loads(sent.answer) if sent.answer else {}
        return OrderResult(*outcome_of(answer if isinstance(answer, dict) else {}))

    async def execute(self, order: Order, timeout_s: float) -> OrderResult:
        partner = await asyncio.to_thread(self._partner, order.charger_id)
        if partner is None:
            return OrderResult(OrderOutcome.FAILED, f"no T/CEC partner for {order.charger_id}")
        try:
            if order.kind is OrderKind.REMOTE_STOP:
                return await self._remote_stop(partner, order, timeout_s)
            if order.kind is OrderKind.REMOTE_START:
                return await self._remote_start(partner, order, timeout_s)
        except PartnerError as exc:
            return OrderResult(OrderOutcome.FAILED, str(exc))
        return OrderResult(
            OrderOutcome.FAILED, f"T/CEC 102 cannot carry a {order.kind.value} order"
        )

    async def _remote_stop(self, partner: Partner, order: Order, timeout_s: float) -> OrderResult:
        rows, _ = await asyncio.to_thread(
            self._queries.connectors, None, None, None, None, [order.charger_id], False, 100, 0
        )
        for row in rows:
            if order.target_id not in (order.charger_id, row["connector_id"]):
                continue
            sessions, _ = await asyncio.to_thread(
                self._queries.sessions, None, row["connector_id"], "active", 1, 0
            )
            if not sessions:
                continue
            seq = partner.local(sessions[0]["session_id"])
            connector = partner.local(row["connector_id"])
            if seq is None or connector is None:
                continue
            answer = await self._charging.stop(partner, seq, connector, timeout_s)
            if answer.SuccStat == 0:
                return OrderResult(OrderOutcome.ACCEPTED, f"stopping {seq}")
            return OrderResult(OrderOutcome.REJECTED, f"FailReason {answer.FailReason}")
        return OrderResult(OrderOutcome.FAILED, "no active session to stop")

    async def _remote_start(self, partner: Partner, order: Order, timeout_s: float) -> OrderResult:
        """query_equip_auth (may this connector be started from here), then
        query_start_charge; the answer names the session (StartChargeSeq)."""
        connector = partner.local(order.target_id)
        if connector is None:
            return OrderResult(OrderOutcome.FAILED, "a remote start needs a connector as target")
        auth = await self._charging.authorise(partner, connector)
        if auth.SuccStat != 0:
            return OrderResult(
                OrderOutcome.REJECTED,
                f"query_equip_auth FailReason {auth.FailReason}",
                model.to_builtins(auth),
            )
        answer = await self._charging.start(partner, connector, timeout_s)
        plain = model.to_builtins(answer)
        if answer.SuccStat == 0:
            return OrderResult(
                OrderOutcome.ACCEPTED,
                f"StartChargeSeq {answer.StartChargeSeq}",
                plain,
                session_id=partner.session_id(answer.StartChargeSeq),
            )
        return OrderResult(OrderOutcome.REJECTED, f"FailReason {answer.FailReason}", plain)
