"""Federation (R37): a city forwards its Locations, Sessions, CDRs (and Tariffs) to the
province — another chargenet — over the same OCPI receiver interfaces any operator uses.

It listens to stored events on the bus, turns each into the object it changed, renders
that object from current state and pushes it: a status change is a PATCH of the EVSE, any
other change a PUT of the whole Location. Pending objects are coalesced (ten changes to one
station make one push of its newest state) and kept until the province accepts them:
transport failures and server errors are retried with back-off; a refusal (2xxx) is logged
and dropped, since sending it again would be refused again. On start, and whenever the bus
had to drop events for us, every Location is pushed again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Protocol

from chargenet.adapters.ocpi import outbound
from chargenet.adapters.ocpi.ids import PartyBook, route
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.wire import PeerFailed
from chargenet.app.ocpi import Party, Peer, PeerKind, PeerStatus
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
from chargenet.kit.aio import wait_at_most

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (what, id)
_BATCH_WAIT_S = 0.05
_SYNC_PAGE = 200


class Subscription(Protocol):
    dropped: int

    def get_nowait(self) -> Event | None: ...

    async def get(self) -> Event: ...

    def close(self) -> None: ...


class Bus(Protocol):
    def subscribe(self, maxsize: int = 10_000) -> Any: ...


# An operator's own statement of an object changes what is forwarded of it, even when
# nothing chargenet models changed (a postal code, an EVSE's capabilities).
_STATED_KEYS = {
    StatedKind.LOCATION: "location",
    StatedKind.EVSE: "charger",
    StatedKind.SESSION: "session",
    StatedKind.CDR: "cdr",
    StatedKind.TARIFF: "tariff",
}


def keys_of(event: Event) -> list[Key]:
    """The objects an event changed, as the province knows them."""
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
    return []


def _object_url(endpoint: str, owner: Party, *ids: str) -> str:
    return "/".join([endpoint.rstrip("/"), owner.country_code, owner.party_id, *ids])


class Forwarder:
    def __init__(self, p: OcpiParty) -> None:
        self._p = p
        self._pending: dict[str, OrderedDict[Key, None]] = {}
        self._sent_parties: dict[str, set[Party]] = {}
        self._retry_at: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._full_sync = False
        self._synced: set[str] = set()
        self.stats = p.forward_stats

    # --- collecting -----------------------------------------------------------------------

    def _mark(self, keys: list[Key], peers: list[Peer]) -> None:
        for peer in peers:
            pending = self._pending.setdefault(peer.peer_id, OrderedDict())
            for key in keys:
                pending.pop(key, None)
                pending[key] = None

    async def _sync_all(self, peers: list[Peer]) -> None:
        """Queue every Location (and every active session) for pushing."""
        reads = self._p.reads
        offset = 0
        while True:
            rows, total = await asyncio.to_thread(reads.locations, offset=offset, limit=_SYNC_PAGE)
            self._mark([("location", r["station_id"]) for r in rows], peers)
            offset += len(rows)
            if not rows or offset >= total:
                break
        self.stats.full_syncs += 1

    async def _upstreams(self) -> list[Peer]:
        peers = await asyncio.to_thread(self._p.directory.peers, PeerKind.UPSTREAM)
        return [p for p in peers if p.status is PeerStatus.REGISTERED and p.token_out]

    # --- pushing --------------------------------------------------------------------------

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
            rows, _ = await asyncio.to_thread(reads.sessions, session_ids=[ident], limit=1)
            if not rows:
                return peer
            data = outbound.session(rows[0], book, p.settings.currency)
            return await self._put(peer, "sessions", data, data["id"])
        if what == "cdr":
            rows, _ = await asyncio.to_thread(reads.cdrs, cdr_ids=[ident], limit=1)
            if not rows:
                return peer
            data = outbound.cdr(rows[0], book, tz)
            owner = Party(data["country_code"], data["party_id"])
            peer = await self._ensure_roles(peer, owner)
            url = peer.endpoint("cdrs", "RECEIVER")
            if url:
                await self._send(peer, "POST", url.rstrip("/"), owner, data)
            return peer
        if what in ("tariff", "tariff-withdrawn"):
            rows, _ = await asyncio.to_thread(reads.tariffs, tariff_ids=[ident], limit=1)
            if not rows:
                return peer
            data = outbound.tariff(rows[0], book)
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

    async def _drain(self, peer: Peer, book: PartyBook) -> None:
        loop = asyncio.get_running_loop()
        pending = self._pending.get(peer.peer_id)
        if not pending or loop.time() < self._retry_at.get(peer.peer_id, 0.0):
            return
        while pending:
            key = next(iter(pending))
            try:
                peer = await self._push(peer, key, book)
            except PeerFailed as exc:
                if exc.refused:
                    log.warning("upstream %s refused %s: %s", peer.peer_id, key, exc)
                    self.stats.refused += 1
                    pending.pop(key, None)
                    continue
                self.stats.failures += 1
                delay = min(
                    self._backoff.get(peer.peer_id, 0.5) * 2, self._p.settings.forward_retry_max_s
                )
                self._backoff[peer.peer_id] = delay
                self._retry_at[peer.peer_id] = loop.time() + delay
                log.warning(
                    "upstream %s unreachable (%s); retrying in %.1f s", peer.peer_id, exc, delay
                )
                return
            pending.pop(key, None)
            self.stats.pushed += 1
        self._backoff.pop(peer.peer_id, None)

    # --- the loop -------------------------------------------------------------------------

    async def run(self, bus: Bus) -> None:
        subscription: Subscription = bus.subscribe()
        dropped = 0
        try:
            while True:
                keys: list[Key] = []
                try:
                    first = await wait_at_most(subscription.get(), 1.0)
                    keys += keys_of(first)
                    await asyncio.sleep(_BATCH_WAIT_S)  # let a burst gather into one round
                    while (event := subscription.get_nowait()) is not None:
                        keys += keys_of(event)
                except TimeoutError:
                    pass
                if subscription.dropped != dropped:
                    dropped = subscription.dropped
                    self._full_sync = True
                peers = await self._upstreams()
                # A new upstream gets everything; all of them do after the bus dropped events.
                fresh = (
                    peers
                    if self._full_sync
                    else [p for p in peers if p.peer_id not in self._synced]
                )
                self._full_sync = False
                if fresh:
                    await self._sync_all(fresh)
                    self._synced |= {p.peer_id for p in fresh}
                self._mark(keys, peers)
                book = await self._p.receiver.book()
                for peer in peers:
                    try:
                        await self._drain(peer, book)
                    except Exception:
                        log.exception("forwarding to %s failed", peer.peer_id)
        finally:
            subscription.close()
