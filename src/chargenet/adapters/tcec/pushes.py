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
  goes up with StationStatus 5 (关闭下线) and no equipment. Each such push first says
  Status 0 of each gun the change took out of service — dropped by a charger's update,
  retired with a pile or station (`TcecSender._calls`, one rule: `_retired_with`).
A retired connector is never pushed with the status it last had: a push about one (a late
report, a push queued before it was retired) says Status 0 (离网): ConnectorStatusInfo has
no code for equipment that is gone, and 255 (故障) would count it among the failed piles
(`outbound.connector_status`).
A delivery names the connector, station or retired charger only; the sender reads what
chargenet holds when it sends, so a delivery resent after a delay, or caused by a late
report the recency rule did not make current, never pushes anything older than it holds
(ConnectorStatusInfo carries no time of its own for the receiver to order by).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from hashlib import blake2b
from typing import Any

from chargenet.adapters.tcec import outbound
from chargenet.adapters.tcec.client import Clients, PartnerError
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.partners import PartnerDirectory, partner_of_id
from chargenet.app.outbox import DeliveryRecord, DeliveryRule, NewDelivery, Sent
from chargenet.app.queries import ConnectorRow, StateQueries
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
_STATUS = STATUS_PUSH.removeprefix(TCEC_KINDS)

# Answers that will not change by asking again: given up at once instead of resent.
PERMANENT = frozenset({Ret.SIGNATURE, Ret.PARAMETERS, Ret.BUSINESS})


def _about(event: Event) -> tuple[str, str, dict[str, str]] | None:
    """(kind, subject, payload) of the push an event causes, if any."""
    if isinstance(event, ConnectorStatusChanged):
        return STATUS_PUSH, event.connector_id, {"ConnectorID": event.connector_id}
    if isinstance(event, StationRegistered | StationUpdated):
        return STATION_PUSH, event.station.station_id, {"StationID": event.station.station_id}
    if isinstance(event, StationRetired):
        return STATION_PUSH, event.station_id, {"StationID": event.station_id}
    if isinstance(event, ChargerRegistered | ChargerUpdated):
        # The charger and the change's time: the connectors it no longer lists were retired
        # then, and are said 0 before the station (`TcecSender._calls`).
        sid, cid = event.charger.station_id, event.charger.charger_id
        return (
            STATION_PUSH,
            sid,
            {"StationID": sid, "EquipmentID": cid, "Since": event.occurred_at.isoformat()},
        )
    if isinstance(event, ChargerRetired):
        # The event names the charger only: its station is read when the push is sent.
        return STATION_PUSH, event.charger_id, {"EquipmentID": event.charger_id}
    return None


def status_pushes(upstream: frozenset[str]) -> DeliveryRule:
    """The rule: a status report or a station's change → one push per upstream partner."""

    def rule(event: Event) -> list[NewDelivery]:
        about = _about(event) if upstream else None
        if about is None:
            return []
        kind, subject, body = about
        origin = partner_of_id(subject)
        payload = json.dumps(body)
        return [
            NewDelivery(
                # Stable for the event (a hash, not uuid5: this runs for every status
                # change on the ingest path; benchmarks/outbox).
                delivery_id=blake2b(
                    f"{kind}\x1f{partner}\x1f{event.event_id}".encode(), digest_size=16
                ).hexdigest(),
                kind=kind,
                destination=partner,
                payload=payload,
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

    def _calls(self, delivery: DeliveryRecord) -> list[tuple[str, Any]] | None:
        """(endpoint, body) of each call a delivery makes, in order; None: its subject is
        unknown. A station push first says 0 离网 of each connector the change behind it
        took out of service — those its charger no longer lists (an update), those retired
        with the charger or the station — for a province that keeps connector statuses
        apart from EquipmentInfos (while it still knows the connectors)."""
        endpoint = delivery.kind.removeprefix(TCEC_KINDS)
        payload = json.loads(delivery.payload)
        if delivery.kind == STATUS_PUSH:
            row = self._queries.connector(payload["ConnectorID"])
            if row is None:
                return None
            return [(endpoint, {"ConnectorStatusInfo": outbound.connector_status(row)})]
        if delivery.kind != STATION_PUSH:
            return [(endpoint, payload)]
        gone: list[ConnectorRow] = []
        station_id = payload.get("StationID")
        charger_id = payload.get("EquipmentID")
        if charger_id is not None:
            charger = self._queries.charger(charger_id)
            if charger is None:
                return None
            if station_id is None:  # a retired charger: the station it belonged to
                station_id = charger["station_id"]
            # Since the charger's change (registered or updated), or its retirement.
            since = payload.get("Since")
            when = datetime.fromisoformat(since) if since else charger["retired_at"]
            gone = _retired_with(when, charger["connectors"])
        station = self._queries.station(station_id)
        if station is None:
            return None
        if charger_id is None and station["retired_at"] is not None:
            held, _ = self._queries.connectors(station_id, None, None, None, None, True, 5000, 0)
            gone = _retired_with(station["retired_at"], held)
        [info] = outbound.station_infos(self._queries, [station])
        return [
            *((_STATUS, {"ConnectorStatusInfo": outbound.connector_status(c)}) for c in gone),
            (endpoint, {"StationInfo": info}),
        ]

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        partner = await asyncio.to_thread(self._directory.get, delivery.destination)
        if partner is None or not partner.base_url or partner.outbound_keys is None:
            # Not registered, disabled, or no keys to call it with: resending cannot help.
            why = f"partner {delivery.destination} is unknown, disabled or cannot be called"
            return Sent(False, error=why, permanent=True)
        calls = await asyncio.to_thread(self._calls, delivery)
        if calls is None:
            return Sent(False, error=f"nothing to push: {delivery.ref} is unknown", permanent=True)
        client = self._clients.for_partner(delivery.destination)
        *before, (endpoint, body) = calls
        try:
            for first_endpoint, first_body in before:
                try:
                    await client.call(first_endpoint, first_body, dict[str, Any], timeout=timeout_s)
                except PartnerError as exc:
                    if exc.ret not in PERMANENT:
                        raise
                    # Refused for good (a connector the province never had): the station
                    # push that follows still says what is in service.
            answer = await client.call(endpoint, body, dict[str, Any], timeout=timeout_s)
        except PartnerError as exc:
            return Sent(False, error=str(exc), permanent=exc.ret in PERMANENT)
        return Sent(True, answer=json.dumps(answer, ensure_ascii=False, sort_keys=True))


def _retired_with(when: datetime | None, connectors: Sequence[ConnectorRow]) -> list[ConnectorRow]:
    """The connectors retired by a change at `when` — dropped by a charger's update, or
    retired with a charger or station — or since (not those retired earlier, which the
    province was told of then; one retired later is said again by its own push, harmless)."""
    if when is None:
        return []
    return [c for c in connectors if c["retired_at"] is not None and c["retired_at"] >= when]
