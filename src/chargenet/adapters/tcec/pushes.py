"""chargenet pushing to partner platforms through the durable outbox (app/outbox.py).

Deliveries of kind `tcec.<endpoint>` go to the partner named as destination in the
standard envelope (`client.py`: token, AES-128-CBC, HMAC-MD5; a new envelope per attempt,
the receiver recognises a resend by the payload's own ids).

City → province (R37, 纵向贯通), to every upstream partner (not back to the partner that
reported it):
- each connector status report accepted from any intake causes a
  `notification_stationStatus` (T/CEC 102 Part 3, 设备状态变化推送);
- each station registered, changed or retired, and each charger registered, changed or
  retired, causes a `notification_stationInfo` of its station (Part 3, 充电站信息变化推送):
  EquipmentInfos lists the equipment in service, so a retired pile (or a connector a
  charger no longer lists) leaves the province's copy of the station; a retired station
  goes up with StationStatus 5 (关闭下线) and no equipment.
A retired connector is never pushed with the status it last had: a push about one (a late
report, a push queued before it was retired) says Status 0 (离网): ConnectorStatusInfo has
no code for equipment that is gone, and 255 (故障) would count it among the failed piles
(`outbound.connector_status`).
A delivery names the connector or station only; the sender reads what chargenet holds
when it sends, so a delivery resent after a delay, or caused by a late report the recency
rule did not make current, never pushes anything older than what chargenet holds
(ConnectorStatusInfo carries no time of its own for the receiver to order by).
"""

from __future__ import annotations

import asyncio
import json
from hashlib import blake2b
from typing import Any

from chargenet.adapters.tcec import outbound
from chargenet.adapters.tcec.client import Clients, PartnerError
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.partners import PartnerDirectory, partner_of_id
from chargenet.app.outbox import DeliveryRecord, DeliveryRule, NewDelivery, Sent
from chargenet.app.queries import StateQueries
from chargenet.core.events import (
    ChargerRegistered,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    Event,
    StationRegistered,
    StationRetired,
    StationUpdated,
)

TCEC_KINDS = "tcec."
STATUS_PUSH = TCEC_KINDS + "notification_stationStatus"
STATION_PUSH = TCEC_KINDS + "notification_stationInfo"

# Answers that will not change by asking again: given up at once instead of resent.
PERMANENT = frozenset({Ret.SIGNATURE, Ret.PARAMETERS, Ret.BUSINESS})


def _about(event: Event) -> tuple[str, str, str] | None:
    """(kind, id field, id) of the push an event causes, if any."""
    if isinstance(event, ConnectorStatusChanged):
        return STATUS_PUSH, "ConnectorID", event.connector_id
    if isinstance(event, StationRegistered | StationUpdated):
        return STATION_PUSH, "StationID", event.station.station_id
    if isinstance(event, StationRetired):
        return STATION_PUSH, "StationID", event.station_id
    if isinstance(event, ChargerRegistered | ChargerUpdated):
        return STATION_PUSH, "StationID", event.charger.station_id
    if isinstance(event, ChargerRetired):
        # The event names the charger only: its station is read when the push is sent.
        return STATION_PUSH, "EquipmentID", event.charger_id
    return None


def status_pushes(upstream: frozenset[str]) -> DeliveryRule:
    """The rule: a status report or a station's change → one push per upstream partner."""

    def rule(event: Event) -> list[NewDelivery]:
        about = _about(event) if upstream else None
        if about is None:
            return []
        kind, field, subject = about
        origin = partner_of_id(subject)
        return [
            NewDelivery(
                # Stable for the event (a hash, not uuid5: this runs for every status
                # change on the ingest path; benchmarks/outbox).
                delivery_id=blake2b(
                    f"{kind}\x1f{partner}\x1f{event.event_id}".encode(), digest_size=16
                ).hexdigest(),
                kind=kind,
                destination=partner,
                payload=json.dumps({field: subject}),
                ref=subject,
            )
            for partner in sorted(upstream)
            if partner != origin
        ]

    return rule


class TcecSender:
    def __init__(
        self, clients: Clients, directory: PartnerDirectory, queries: StateQueries
    ) -> None:
        self._clients = clients
        self._directory = directory
        self._queries = queries

    def _body(self, delivery: DeliveryRecord) -> Any:
        payload = json.loads(delivery.payload)
        if delivery.kind == STATUS_PUSH:
            row = self._queries.connector(payload["ConnectorID"])
            return None if row is None else {"ConnectorStatusInfo": outbound.connector_status(row)}
        if delivery.kind == STATION_PUSH:
            station_id = payload.get("StationID")
            if station_id is None:  # a retired charger: the station it belonged to
                charger = self._queries.charger(payload["EquipmentID"])
                station_id = None if charger is None else charger["station_id"]
            station = None if station_id is None else self._queries.station(station_id)
            if station is None:
                return None
            [info] = outbound.station_infos(self._queries, [station])
            return {"StationInfo": info}
        return payload

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        partner = await asyncio.to_thread(self._directory.get, delivery.destination)
        if partner is None or not partner.base_url or partner.outbound_keys is None:
            # Not registered, disabled, or no keys to call it with: resending cannot help.
            why = f"partner {delivery.destination} is unknown, disabled or cannot be called"
            return Sent(False, error=why, permanent=True)
        body = await asyncio.to_thread(self._body, delivery)
        if body is None:
            return Sent(False, error=f"nothing to push: {delivery.ref} is unknown", permanent=True)
        endpoint = delivery.kind.removeprefix(TCEC_KINDS)
        client = self._clients.for_partner(delivery.destination)
        try:
            answer = await client.call(endpoint, body, dict[str, Any], timeout=timeout_s)
        except PartnerError as exc:
            return Sent(False, error=str(exc), permanent=exc.ret in PERMANENT)
        return Sent(True, answer=json.dumps(answer, ensure_ascii=False, sort_keys=True))
