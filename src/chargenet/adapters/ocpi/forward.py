"""Federation (R37): a city forwards its Locations, Sessions, CDRs (and Tariffs) to the
province — another chargenet — over the same OCPI receiver interfaces any operator uses.

The pushes go through the durable outbox (app/outbox.py, table `deliveries`): each stored
event that changes an object the province knows (`keys_of`) causes, in the event's own
transaction, one delivery per registered upstream platform (`ocpi_pushes`), of kind
`ocpi.<what>` about the object's id, in the queue `ocpi:<peer>`. A worker of any node
claims a queue's head and sends it (`Forwarder.send`): it renders the object from current
state and pushes it, a status change as a PATCH of the EVSE, any other change as a PUT of
the whole Location. So a push survives a restart of the process, is sent by one node of a
cluster, goes out in the order the changes were stored, and is resent with back-off while
the province is unreachable or failing; a refusal (2xxx) is given up at once, since sending
it again would be refused again. Pending pushes of the same object are coalesced: one
with a later one waiting is settled without sending (the later one sends the newest state).

An upstream newly registered, and every upstream when the forwarding job starts, gets every
Location (`Forwarder.run`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from hashlib import blake2b
from typing import Any

from chargenet.adapters.ocpi import outbound
from chargenet.adapters.ocpi.ids import PartyBook, route
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.wire import PeerFailed
from chargenet.app.ocpi import Party, Peer, PeerKind, PeerStatus
from chargenet.app.outbox import DeliveryRecord, DeliveryRule, DeliveryStore, NewDelivery, Sent
from chargenet.core.events import (
    ChargeDetailRecorded,
    ChargerPresenceChanged,
    ChargerRegistered,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    ConnectorTariffsSet,
    Event,
    ObjectStated,
    OperatorRegistered,
    OperatorUpdated,
    SessionEnded,
    SessionStarted,
    SessionUpdated,
    StatedKind,
    StationRegistered,
    StationRetired,
    StationUpdated,
    StopOrderIssued,
    StopOrderLifted,
    TariffPublished,
    TariffWithdrawn,
)

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (what, id)
_SYNC_PAGE = 200
OCPI_KINDS = "ocpi."
PEERS_TTL_S = 1.0  # how long the delivery rule trusts its list of upstream platforms
_BOOK_TTL_S = 1.0


# An operator's own statement of an object changes what is forwarded of it, even when
# nothing chargenet models changed (a postal code, an EVSE's capabilities).
_STATED_KEYS = {
    StatedKind.LOCATION: "location",
    StatedKind.EVSE: "charger",
    StatedKind.SESSION: "session",
    StatedKind.CDR: "cdr",
    StatedKind.TARIFF: "tariff",
}


# Types `_keys_of` has nothing for, whatever their fields: every branch there asks the type
# (a writer asks for every event it stores; a meter value went through a dozen isinstance
# tests to find none).
_UNKEYED: set[type[Event]] = set()


def keys_of(event: Event) -> list[Key]:
    """The objects an event changed, as the province knows them."""
    if type(event) in _UNKEYED:
        return []
    keys = _keys_of(event)
    if keys is None:
        _UNKEYED.add(type(event))
        return []
    return keys


def _keys_of(event: Event) -> list[Key] | None:
    """`keys_of`, None where no branch is for the event's type."""
    if isinstance(event, StationRegistered | StationUpdated):
        return [("location", event.station.station_id)]
    if isinstance(event, StationRetired):
        return [("location", event.station_id)]
    if isinstance(event, ChargerRegistered | ChargerUpdated):
        return [("location", event.charger.station_id)]
    if isinstance(event, ChargerRetired):
        return [("charger", event.charger_id)]
    if isinstance(event, ConnectorStatusChanged):
        return [("status", event.connector_id)]
    if isinstance(event, ChargerPresenceChanged):
        return [("presence", event.charger_id)]  # offline shows as UNKNOWN upstream
    if isinstance(event, ConnectorTariffsSet):
        return [("connector", event.connector_id)]
    if isinstance(event, SessionStarted | SessionUpdated | SessionEnded):
        return [("session", event.session_id)]
    if isinstance(event, ChargeDetailRecorded):
        return [("cdr", event.cdr_id)]
    if isinstance(event, TariffPublished):
        return [("tariff", event.tariff_id)]
    if isinstance(event, TariffWithdrawn):
        return [("tariff-withdrawn", event.tariff_id)]
    if isinstance(event, OperatorRegistered | OperatorUpdated):
        return [("roles", "")]
    if isinstance(event, ObjectStated):  # a hub's ClientInfo is not forwarded
        key = _STATED_KEYS.get(event.kind)
        return [] if key is None else [(key, event.object_id)]
    if isinstance(event, StopOrderIssued | StopOrderLifted):
        # A stop order shows its chargers out of order (INOPERATIVE) while in force.
        return [("stop", event.stop_id)]
    return None


def _object_url(endpoint: str, owner: Party, *ids: str) -> str:
    return "/".join([endpoint.rstrip("/"), owner.country_code, owner.party_id, *ids])


def queue_of(peer_id: str) -> str:
    return f"ocpi:{peer_id}"


def delivery(key: Key, peer_id: str, delivery_id: str) -> NewDelivery:
    what, ident = key
    return NewDelivery(
        delivery_id=delivery_id,
        kind=OCPI_KINDS + what,
        destination=peer_id,
        payload=json.dumps({"what": what, "id": ident}),
        ref=ident,
        queue=queue_of(peer_id),
    )


class UpstreamPeers:
    """The registered upstream platforms, read at most every `ttl_s` (the delivery rule
    runs for every stored event). A platform registered in another process is seen within
    `ttl_s`; the forwarder's first full copy to it waits that long, so whatever the rule
    missed meanwhile is in the state that copy reads."""

    def __init__(self, load: Callable[[], list[str]], ttl_s: float = PEERS_TTL_S) -> None:
        self._load = load
        self.ttl_s = ttl_s
        self._peers: list[str] = []
        self._read_at = float("-inf")

    def __call__(self) -> list[str]:
        now = time.monotonic()
        if now - self._read_at >= self.ttl_s:
            try:
                self._peers = self._load()
            except Exception:  # a failed read keeps the last list rather than fail the event
                log.exception("reading the upstream OCPI platforms failed")
            self._read_at = now
        return self._peers


def ocpi_pushes(upstreams: Callable[[], Sequence[str]]) -> DeliveryRule:
    """The rule: an event that changes an object the province knows → one push of it per
    upstream platform (pure but for the cached list of platforms)."""

    def rule(event: Event) -> list[NewDelivery]:
        if type(event) in _UNKEYED:  # `keys_of`'s first answer, without its call
            return []
        keys = keys_of(event)
        if not keys:
            return []
        peers = upstreams()
        return [
            delivery(
                key,
                peer,
                # Stable for the event: a writer that stores it again adds nothing.
                blake2b(
                    f"ocpi\x1f{peer}\x1f{event.event_id}\x1f{n}".encode(), digest_size=16
                ).hexdigest(),
            )
            for peer in peers
            for n, key in enumerate(keys)
        ]

    return rule


class Forwarder:
    """Sends the `ocpi.` deliveries (the outbox's sender for them) and gives each upstream
    platform its first full copy."""

    def __init__(
        self, p: OcpiParty, deliveries: DeliveryStore, peers_ttl_s: float = PEERS_TTL_S
    ) -> None:
        self._p = p
        self._deliveries = deliveries
        self._peers_ttl_s = peers_ttl_s
        self._sent_parties: dict[str, set[Party]] = {}
        self._synced: set[str] = set()
        self._book: tuple[float, PartyBook] | None = None
        self.stats = p.forward_stats

    # --- the first full copy --------------------------------------------------------------

    async def _sync_all(self, peers: list[str]) -> None:
        """Queue every Location for pushing to `peers`."""
        reads = self._p.reads
        offset = 0
        while True:
            rows, total = await asyncio.to_thread(reads.locations, offset=offset, limit=_SYNC_PAGE)
            items = [
                delivery(("location", r["station_id"]), peer, f"ocpi-sync-{uuid.uuid4().hex}")
                for peer in peers
                for r in rows
            ]
            await asyncio.to_thread(self._deliveries.add, items, self._p.clock.now())
            offset += len(rows)
            if not rows or offset >= total:
                break
        self.stats.full_syncs += 1

    async def _upstreams(self) -> list[Peer]:
        peers = await asyncio.to_thread(self._p.directory.peers, PeerKind.UPSTREAM)
        return [p for p in peers if p.status is PeerStatus.REGISTERED and p.token_out]

    async def run(self, every_s: float = 1.0) -> None:
        """The job: a platform this job has not copied everything to yet (newly registered,
        or all of them when the job starts) gets every Location, once the delivery rule has
        surely seen it too (the rule's cache time)."""
        while True:
            try:
                fresh = [
                    p.peer_id for p in await self._upstreams() if p.peer_id not in self._synced
                ]
                if fresh:
                    await asyncio.sleep(self._peers_ttl_s)
                    await self._sync_all(fresh)
                    self._synced |= set(fresh)
            except Exception:
                log.exception("OCPI forwarding: the full copy failed")
            await asyncio.sleep(every_s)

    # --- sending (the outbox's Sender for `ocpi.` deliveries) ------------------------------

    async def _party_book(self) -> PartyBook:
        now = time.monotonic()
        if self._book is None or now - self._book[0] > _BOOK_TTL_S:
            self._book = (now, await self._p.receiver.book())
        return self._book[1]

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        peer = await asyncio.to_thread(self._p.directory.peer, delivery.destination)
        if peer is None or peer.status is not PeerStatus.REGISTERED or not peer.token_out:
            why = f"upstream {delivery.destination} is not registered"
            return Sent(False, error=why, permanent=True)
        payload = json.loads(delivery.payload)
        key: Key = (payload["what"], payload["id"])
        try:
            await self._push(peer, key, await self._party_book())
        except PeerFailed as exc:
            if exc.refused:
                log.warning("upstream %s refused %s: %s", peer.peer_id, key, exc)
                self.stats.refused += 1
                return Sent(False, error=str(exc), permanent=True)
            self.stats.failures += 1
            return Sent(False, error=str(exc))
        self.stats.pushed += 1
        return Sent(True)

    # --- pushing ---------------------------------------------------------------------------

    async def _ensure_roles(self, peer: Peer, owner: Party) -> Peer:
        sent = self._sent_parties.get(peer.peer_id)
        if sent is not None and owner in sent:
            return peer
        # The province learns the parties behind us from our HubClientInfo when we put our
        # credentials again (credentials 7.3.1: a hub lists its clients there, not as roles).
        peer = await self._p.registration.refresh(peer)
        self._sent_parties[peer.peer_id] = {
            Party(c["country_code"], c["party_id"])
            for c in await self._p.registration.client_infos()
        } | {self._p.settings.identity.party}
        return peer

    async def _send(
        self, peer: Peer, method: str, url: str, owner: Party, body: Any = None
    ) -> None:
        """A request to the province, routed from the operator whose object it is
        (4.1.8.6, party to party via a hub: the hub keeps the requesting party's FROM)."""
        assert peer.token_out is not None
        await self._p.client.call(
            method, url, peer.token_out, json=body, route=route(peer.party(), owner)
        )

    async def _push(self, peer: Peer, key: Key, book: PartyBook) -> Peer:
        what, ident = key
        p, reads, tz = self._p, self._p.reads, self._p.settings.time_zone
        if what == "roles":
            self._sent_parties.pop(peer.peer_id, None)
            return await self._ensure_roles(peer, p.settings.identity.party)
        if what == "presence":
            charger = await asyncio.to_thread(reads.charger, ident)
            if charger is None:
                return peer
            firsts = {c["evse_no"]: c["connector_id"] for c in reversed(charger["connectors"])}
            for connector_id in firsts.values():
                peer = await self._push_status(peer, connector_id, ident, book)
            return peer
        if what == "stop":
            station_id = await asyncio.to_thread(reads.stop_order_station, ident)
            if station_id is None:
                return peer
            return await self._push(peer, ("location", station_id), book)
        if what in ("charger", "connector", "status"):
            owner_row = await asyncio.to_thread(
                reads.charger if what == "charger" else reads.connector_owner, ident
            )
            if owner_row is None:
                return peer
            if what == "status":
                return await self._push_status(peer, ident, owner_row["charger_id"], book)
            return await self._push(peer, ("location", owner_row["station_id"]), book)
        if what == "location":
            rows, _ = await asyncio.to_thread(reads.locations, station_ids=[ident], limit=1)
            if not rows:
                return peer
            data = outbound.location(rows[0], book, tz)
            return await self._put(peer, "locations", data, data["id"])
        if what == "session":
            held, _ = await asyncio.to_thread(reads.sessions, session_ids=[ident], limit=1)
            if not held:
                return peer
            data = outbound.session(held[0], book, p.settings.currency)
            return await self._put(peer, "sessions", data, data["id"])
        if what == "cdr":
            records, _ = await asyncio.to_thread(reads.cdrs, cdr_ids=[ident], limit=1)
            if not records:
                return peer
            data = outbound.cdr(records[0], book, tz)
            owner = Party(data["country_code"], data["party_id"])
            peer = await self._ensure_roles(peer, owner)
            url = peer.endpoint("cdrs", "RECEIVER")
            if url:
                await self._send(peer, "POST", url.rstrip("/"), owner, data)
            return peer
        if what in ("tariff", "tariff-withdrawn"):
            published, _ = await asyncio.to_thread(reads.tariffs, tariff_ids=[ident], limit=1)
            if not published:
                return peer
            data = outbound.tariff(published[0], book)
            if what == "tariff":
                return await self._put(peer, "tariffs", data, data["id"])
            owner = Party(data["country_code"], data["party_id"])
            url = peer.endpoint("tariffs", "RECEIVER")
            if url:
                await self._send(peer, "DELETE", _object_url(url, owner, data["id"]), owner)
            return peer
        return peer

    async def _put(self, peer: Peer, module: str, data: dict[str, Any], object_id: str) -> Peer:
        owner = Party(data["country_code"], data["party_id"])
        peer = await self._ensure_roles(peer, owner)
        url = peer.endpoint(module, "RECEIVER")
        if url:
            await self._send(peer, "PUT", _object_url(url, owner, object_id), owner, data)
        return peer

    async def _push_status(
        self, peer: Peer, connector_id: str, charger_id: str, book: PartyBook
    ) -> Peer:
        charger = await asyncio.to_thread(self._p.reads.charger, charger_id)
        if charger is None:
            return peer
        mine = [c for c in charger["connectors"] if c["connector_id"] == connector_id]
        if not mine:
            return peer
        station_rows, _ = await asyncio.to_thread(
            self._p.reads.locations, station_ids=[charger["station_id"]], limit=1
        )
        if not station_rows:
            return peer
        evse_rows = [c for c in charger["connectors"] if c["evse_no"] == mine[0]["evse_no"]]
        evse = outbound.evse(evse_rows)
        location = outbound.location(
            station_rows[0], book, self._p.settings.time_zone, with_evses=False
        )
        owner = Party(location["country_code"], location["party_id"])
        peer = await self._ensure_roles(peer, owner)
        url = peer.endpoint("locations", "RECEIVER")
        if not url:
            return peer
        target = _object_url(url, owner, location["id"], evse["uid"])
        try:
            await self._send(
                peer,
                "PATCH",
                target,
                owner,
                {"status": evse["status"], "last_updated": evse["last_updated"]},
            )
        except PeerFailed as exc:
            if exc.status != 2003:
                raise
            # The province does not know this EVSE yet: send the whole Location.
            return await self._push(peer, ("location", charger["station_id"]), book)
        return peer
