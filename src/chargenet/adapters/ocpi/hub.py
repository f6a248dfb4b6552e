"""chargenet as an OCPI 2.2.1 Hub between the parties connected to it.

Message routing (transport_and_format 4.1.8): a request to one of our Functional Modules
whose `OCPI-to-*` headers name another connected party is passed on to that party's
endpoint of the same module and interface (a Direct request: TO the receiving party, FROM
the requesting one; a new X-Request-ID, the same X-Correlation-ID, 4.2), and its answer is
passed back with the headers reversed. A `response_url` in such a request points at the
requesting party, which the receiving one holds no token for: the hub gives its own
(`/hub/results/{ticket}`) and passes the asynchronous result on.

Broadcast Push (4.1.8.3): a push of Locations, Tariffs or Tokens addressed to the hub (or
to nobody) is handled here as always and then sent to every connected party of the
"opposite role" implementing the module's Receiver: a CPO's to the eMSPs, NSPs and
Others; an eMSP's (or an Other's) to the CPOs; TO the receiving party, FROM the hub.

Open Routing Request (4.1.8.4): without `OCPI-to-*` the hub decides. A command (or a
charging profile) goes to the CPO holding its Location (or Session); a real-time
authorization of a token none of our drivers holds asks the connected eMSPs in turn.

HubClientInfo (mod_hub_client_info): every party of a peer has a ClientInfo the hub
states (`ObjectStated`, kind CLIENT_INFO) and pushes to the other parties through the
durable outbox whenever its status changes (15.2.1 push model); a still-alive check GETs
the versions of every party not heard from for a while (15.2.3) and marks it OFFLINE while
it does not answer, CONNECTED again when it does.

The tickets, when each party was last heard from and which are OFFLINE are in `HubState`:
this process's memory, or the database every node shares (shared_state = "database",
adapters/storage/shared_state.py), so that a result may be posted to any node and every
node refuses a party the node running the still-alive check found OFFLINE.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from fastapi import Request
from fastapi.responses import Response

from chargenet.adapters.ocpi.ids import global_id, party
from chargenet.adapters.ocpi.inbound import PROTOCOL
from chargenet.adapters.ocpi.party import CALLER_CACHE_S, OcpiParty
from chargenet.adapters.ocpi.wire import (
    CORRELATION_ID,
    FROM_COUNTRY,
    FROM_PARTY,
    REQUEST_ID,
    TO_COUNTRY,
    TO_PARTY,
    VERSION,
    OcpiError,
    PeerFailed,
    Status,
    message_id,
    routing_headers,
    utc_text,
)
from chargenet.app.ingest import Attached, Outcome
from chargenet.app.ocpi import Caller, Party, Peer, PeerKind, PeerStatus
from chargenet.app.outbox import DeliveryRecord, NewDelivery, Sent
from chargenet.core.events import Event, ObjectStated, Source, StatedKind, event_meta
from chargenet.kit.bounds import DocumentRefused, read_capped
from chargenet.kit.ids import new_id, stable_id

log = logging.getLogger(__name__)

SubmitWith = Callable[[Sequence[Event], Attached | None], Awaitable[list[Outcome]]]

# Shared with all: "useful to share data like Tokens and Locations, but not so much for
# CDRs and Sessions … specific to only one party" (4.1.8.3). Tariffs are public like
# Locations.
BROADCAST = frozenset({"locations", "tariffs", "tokens"})
# "CPO pushing information to all eMSPs and NSPs … 'Other' is seen as an eMSP type of role
# … Messages from 'Other' are only sent to CPOs" (4.1.8.3).
_OPPOSITE = {
    "CPO": frozenset({"EMSP", "NSP", "OTHER"}),
    "EMSP": frozenset({"CPO"}),
    "OTHER": frozenset({"CPO"}),
}
_PUSH = frozenset({"PUT", "PATCH", "POST"})
CLIENT_INFO_KIND = "ocpi.clientinfo"  # outbox deliveries: PUT {hubclientinfo}/{cc}/{pid}
_TICKET_S = 3600.0  # how long a relayed response_url stays open
_HEARD_EVERY_S = 5.0  # a party's last-heard time is written at most this often per node
_MAX_TICKETS = 10_000
_MAX_BODY = 4 * 1024 * 1024
_PASSED_BACK = ("x-total-count", "x-limit", "location")


@dataclass(frozen=True, slots=True)
class Connection:
    """A party connected to the hub: its role and the platform it is reached through."""

    party: Party
    role: str
    peer: Peer


@dataclass(frozen=True, slots=True)
class _Ticket:
    url: str  # the requesting party's own response_url
    requester: str  # its peer
    requesting: Party
    receiving: Party
    receiver: str  # the peer that may post the result

    def text(self) -> str:
        return json.dumps(
            {
                "url": self.url,
                "requester": self.requester,
                "requesting": [self.requesting.country_code, self.requesting.party_id],
                "receiving": [self.receiving.country_code, self.receiving.party_id],
                "receiver": self.receiver,
            },
            separators=(",", ":"),
        )

    @classmethod
    def read(cls, text: str) -> _Ticket:
        d = json.loads(text)
        return cls(
            d["url"], d["requester"], Party(*d["requesting"]), Party(*d["receiving"]), d["receiver"]
        )


class HubState(Protocol):
    """What every node of the hub must agree on (blocking calls: run them in a thread).
    Times are microseconds since the epoch, the clock the nodes share."""

    def keep_ticket(self, key: str, body: str, expires_us: int, now_us: int) -> None: ...

    def ticket(self, key: str, now_us: int) -> str | None:
        """The ticket's body; None when unknown or expired."""
        ...

    def heard(self, peer_id: str, at_us: int) -> bool:
        """Note the party heard from; whether it was OFFLINE until now (told once)."""
        ...

    def heard_at(self, peer_id: str) -> int | None: ...

    def offline(self) -> frozenset[str]: ...

    def set_offline(self, peer_id: str, offline: bool) -> None: ...


class MemoryHubState:
    """HubState in this process's memory (shared_state = "memory", one node)."""

    def __init__(self, max_tickets: int = _MAX_TICKETS) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[str, tuple[str, int]] = {}
        self._heard: dict[str, int] = {}
        self._offline: set[str] = set()
        self._max = max_tickets

    def keep_ticket(self, key: str, body: str, expires_us: int, now_us: int) -> None:
        with self._lock:
            for old in [k for k, (_, e) in self._tickets.items() if e <= now_us]:
                del self._tickets[old]
            if len(self._tickets) >= self._max:
                self._tickets.pop(next(iter(self._tickets)))  # the oldest
            self._tickets[key] = (body, expires_us)

    def ticket(self, key: str, now_us: int) -> str | None:
        found = self._tickets.get(key)
        return found[0] if found is not None and found[1] > now_us else None

    def heard(self, peer_id: str, at_us: int) -> bool:
        with self._lock:
            self._heard[peer_id] = max(self._heard.get(peer_id, at_us), at_us)
            was = peer_id in self._offline
            self._offline.discard(peer_id)
            return was

    def heard_at(self, peer_id: str) -> int | None:
        return self._heard.get(peer_id)

    def offline(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._offline)

    def set_offline(self, peer_id: str, offline: bool) -> None:
        with self._lock:
            if offline:
                self._offline.add(peer_id)
            else:
                self._offline.discard(peer_id)


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def header_party(request: Request, country: str, party_id: str) -> Party | None:
    cc, pid = request.headers.get(country, "").strip(), request.headers.get(party_id, "").strip()
    return party(cc, pid) if cc and pid else None


class Hub:
    def __init__(
        self,
        p: OcpiParty,
        submit: SubmitWith,
        *,
        still_alive_s: float = 300.0,
        check_every_s: float = 60.0,
        state: HubState | None = None,
    ) -> None:
        self.p = p
        self._submit = submit
        self.still_alive_s = still_alive_s  # 15.2.3: "when unsure, start with 5 minutes"
        self.check_every_s = check_every_s
        self.ticket_s = _TICKET_S
        self.state: HubState = state or MemoryHubState()
        # peer → monotonic time this node last wrote it heard from it (not every request)
        self._written: dict[str, float] = {}
        self._offline_seen: frozenset[str] = frozenset()  # as this node last read it
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cached: tuple[float, dict[Party, Connection]] | None = None
        self._reading: asyncio.Future[dict[Party, Connection]] | None = None
        self._generation = 0  # moves when a registration changes: a read under way is stale
        self._reconciling = asyncio.Lock()
        self.broadcasts = 0  # broadcast requests answered 1000 by their receiver
        self.broadcast_failures = 0

    # --- who is connected -----------------------------------------------------------------

    def connections(self) -> dict[Party, Connection]:
        """Every party of a registered peer (blocking: run in a thread)."""
        out: dict[Party, Connection] = {}
        for peer in self.p.directory.peers():
            if peer.status is PeerStatus.REGISTERED:
                for owner, role in peer.parties().items():
                    out.setdefault(owner, Connection(owner, role, peer))
        return out

    async def connected(self) -> dict[Party, Connection]:
        """`connections`, read at most once per CALLER_CACHE_S: every Location push asks
        whom to broadcast it to, and registrations change seldom (a change forgets it)."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] <= CALLER_CACHE_S:
            return cached[1]
        # One read for every request that finds the copy stale at once (50 concurrent
        # pushes used to make 50 reads of the same peers).
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read_connections())
        return await asyncio.shield(self._reading)

    async def _read_connections(self) -> dict[Party, Connection]:
        generation = self._generation
        try:
            started = time.monotonic()
            found = await asyncio.to_thread(self.connections)
            if generation == self._generation:  # else a change came while reading: read anew
                self._cached = (started, found)
            return found
        finally:
            if self._reading is asyncio.current_task():  # not a newer read's
                self._reading = None

    def heard(self, peer_id: str) -> None:
        """A request came from the peer: it is alive (15.2.3 counts from the last message);
        one marked OFFLINE is CONNECTED again at once. Written at most every few seconds
        per peer (at once when this node last saw it OFFLINE): the still-alive time is
        minutes."""
        now = time.monotonic()
        last = self._written.get(peer_id)
        if last is not None and now - last < _HEARD_EVERY_S and peer_id not in self._offline_seen:
            return
        self._written[peer_id] = now
        if len(self._written) > _MAX_TICKETS:  # peers come and go: forget the oldest
            self._written.pop(next(iter(self._written)))
        self._spawn(self._note_heard(peer_id))

    async def _note_heard(self, peer_id: str) -> None:
        try:
            was_offline = await asyncio.to_thread(self.state.heard, peer_id, _now_us())
        except Exception:
            log.exception("OCPI hub: cannot note %s heard from", peer_id)
            return
        if was_offline:
            self._offline_seen = self._offline_seen - {peer_id}
            self.reconcile_soon()

    async def offline(self) -> frozenset[str]:
        """The peers whose last still-alive check failed (on whichever node ran it)."""
        self._offline_seen = await asyncio.to_thread(self.state.offline)
        return self._offline_seen

    def forget(self) -> None:
        """A registration changed here: read the connected parties anew."""
        self._cached = None
        self._generation += 1
        self._reading = None

    def reconcile_soon(self) -> None:
        """A registration changed: state and push the ClientInfos that changed."""
        self.forget()
        self._spawn(self.reconcile())

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- routing --------------------------------------------------------------------------

    def sender(self, request: Request, caller: Caller) -> Party | None:
        """The requesting party (OCPI-from-*), which must be one the caller registered;
        without the headers, the caller's own party."""
        given = header_party(request, FROM_COUNTRY, FROM_PARTY)
        if given is None:
            return caller.peer.party() or next(iter(caller.peer.parties()), None)
        if given not in caller.peer.parties():
            raise OcpiError(
                Status.INVALID_PARAMETERS,
                f"OCPI-from-* names {given}, a party not registered with your credentials",
                403,
            )
        return given

    async def intercept(
        self, request: Request, caller: Caller, module: str, interface: str
    ) -> Response | None:
        """Pass the request on when it is addressed to another connected party; None when
        it is ours to answer (to us, to a party whose objects we hold, or to nobody)."""
        to = header_party(request, TO_COUNTRY, TO_PARTY)
        me = self.p.settings.identity.party
        if to is None or to == me or to in caller.peer.parties():
            return None
        sender = self.sender(request, caller)
        target = (await self.connected()).get(to)
        if target is None or target.peer.peer_id == caller.peer.peer_id:
            await self._not_connected(to)
            return None  # a party of an operator whose objects we hold ourselves
        return await self.forward(request, caller, module, interface, target, sender)

    @staticmethod
    def own_objects(request: Request, caller: Caller) -> None:
        """A Receiver interface's URL names the party owning the object ("Client Owned
        Objects", 4.1.3): one of the caller's own, as when it writes to us."""
        params = request.path_params
        if "cc" in params and "pid" in params:
            owner = party(str(params["cc"]), str(params["pid"]))
            if owner not in caller.peer.parties():
                raise OcpiError(
                    Status.INVALID_PARAMETERS,
                    f"party {owner} is not registered with your credentials:"
                    " you write only your own objects",
                    403,
                )

    async def _not_connected(self, to: Party) -> None:
        """Refuse a TO party we cannot reach: 4003 when its platform is not registered
        (any more), 4001 when nobody here is that party."""
        for peer in await asyncio.to_thread(self.p.directory.peers):
            if to in peer.parties() and peer.status is not PeerStatus.REGISTERED:
                raise OcpiError(
                    Status.CONNECTION_PROBLEM, f"{to} is not connected ({peer.status})", 502
                )
        ours = {
            party(i["country_code"], i["party_id"])
            for i in await self.p.registration.client_infos()
        }
        if to not in ours:
            raise OcpiError(Status.UNKNOWN_RECEIVER, f"unknown receiver {to} (OCPI-to-*)", 404)

    async def body(self, request: Request) -> bytes:
        """The request's body, read once (capped) and kept for whoever reads it next."""
        if not hasattr(request, "_body"):
            try:
                raw = await read_capped(
                    request.stream(), _MAX_BODY, request.headers.get("content-length")
                )
            except DocumentRefused as exc:
                raise OcpiError(Status.CLIENT_ERROR, str(exc), 413) from None
            request._body = raw
        return bytes(request._body)

    def _suffix(self, request: Request, module: str, interface: str) -> str:
        marker = f"/{VERSION}/{interface.lower()}/{module}"
        path = request.url.path
        at = path.find(marker)
        suffix = path[at + len(marker) :] if at >= 0 else ""
        return "" if suffix == "/" else suffix

    async def forward(
        self,
        request: Request,
        caller: Caller,
        module: str,
        interface: str,
        target: Connection,
        sender: Party | None,
    ) -> Response:
        """A Direct request through the hub (4.1.8.6 "Party to Party via Hub")."""
        if target.peer.peer_id in await self.offline():
            # mod_hub_client_info 15.1.2: "Connection to party is not available: No
            # requests can be sent."
            raise OcpiError(Status.CONNECTION_PROBLEM, f"{target.party} is OFFLINE", 502)
        base = target.peer.endpoint(module, interface)
        if base is None or target.peer.token_out is None:
            raise OcpiError(
                Status.UNKNOWN_RECEIVER, f"{target.party} offers no {module} {interface}", 404
            )
        self.own_objects(request, caller)
        raw = await self.body(request)
        params = list(request.query_params.multi_items())
        requesting = sender or target.party
        raw, params, tickets = self._own_response_url(raw, params, caller, requesting, target)
        if tickets:
            now = _now_us()
            expires = now + int(self.ticket_s * 1_000_000)
            for key, ticket in tickets:
                await asyncio.to_thread(self.state.keep_ticket, key, ticket.text(), expires, now)
        headers = {
            REQUEST_ID: message_id(),  # 4.2: a new X-Request-ID, the same X-Correlation-ID
            CORRELATION_ID: request.headers.get(CORRELATION_ID) or message_id(),
            **routing_headers(
                (
                    (target.party.country_code, target.party.party_id),
                    (requesting.country_code, requesting.party_id),
                )
            ),
        }
        url = base.rstrip("/") + self._suffix(request, module, interface)
        try:
            answer = await self.p.client.relay(
                request.method,
                url,
                target.peer.token_out,
                content=raw or None,
                params=params,
                headers=headers,
            )
        except httpx.TimeoutException as exc:
            raise OcpiError(
                Status.FORWARD_TIMEOUT, f"{target.party} did not answer: {exc!r}", 504
            ) from None
        except httpx.HTTPError as exc:
            raise OcpiError(
                Status.CONNECTION_PROBLEM, f"cannot reach {target.party}: {exc!r}", 502
            ) from None
        back = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED_BACK}
        link = answer.headers.get("link")
        if link:
            ours = f"{self.p.settings.identity.version_url}/{interface.lower()}/{module}"
            back["Link"] = link.replace(base.rstrip("/"), ours)
        back |= routing_headers(
            (
                (requesting.country_code, requesting.party_id),
                (target.party.country_code, target.party.party_id),
            )
        )
        log.info(
            "OCPI hub: %s %s from %s to %s → HTTP %d",
            request.method,
            module,
            requesting,
            target.party,
            answer.status_code,
        )
        return Response(
            answer.content,
            status_code=answer.status_code,
            headers=back,
            media_type="application/json",
        )

    # --- response_url ---------------------------------------------------------------------

    def _own_response_url(
        self,
        raw: bytes,
        params: list[tuple[str, str]],
        caller: Caller,
        requesting: Party,
        target: Connection,
    ) -> tuple[bytes, list[tuple[str, str]], list[tuple[str, _Ticket]]]:
        """Give the receiving party our response_url for the requesting party's (in a
        command's or a charging profile's body, or a GET's query): it holds a token for
        us, not for them. The tickets to keep, too."""
        tickets: list[tuple[str, _Ticket]] = []

        def ticket(url: str) -> str:
            key = new_id()[:36]
            receiver = target.peer.peer_id
            tickets.append(
                (key, _Ticket(url, caller.peer.peer_id, requesting, target.party, receiver))
            )
            return f"{self.p.settings.identity.version_url}/hub/results/{key}"

        params = [(k, ticket(v) if k == "response_url" else v) for k, v in params]
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return raw, params, tickets
            if isinstance(body, dict) and isinstance(body.get("response_url"), str):
                body["response_url"] = ticket(body["response_url"])
                raw = json.dumps(body, ensure_ascii=False).encode()
        return raw, params, tickets

    async def result(self, request: Request, caller: Caller, key: str) -> Response:
        """An asynchronous result posted to a response_url we gave: to the party that
        asked, from the party that answers."""
        text = await asyncio.to_thread(self.state.ticket, key, _now_us())
        if text is None:
            raise OcpiError(Status.INVALID_PARAMETERS, "no request awaits this result", 404)
        found = _Ticket.read(text)
        if caller.peer.peer_id != found.receiver:
            raise OcpiError(Status.INVALID_PARAMETERS, "this result is not yours to post", 403)
        requester = await asyncio.to_thread(self.p.directory.peer, found.requester)
        if requester is None or requester.token_out is None:
            raise OcpiError(Status.CONNECTION_PROBLEM, f"{found.requesting} is gone", 502)
        headers = {
            REQUEST_ID: message_id(),
            CORRELATION_ID: request.headers.get(CORRELATION_ID) or message_id(),
            **routing_headers(
                (
                    (found.requesting.country_code, found.requesting.party_id),
                    (found.receiving.country_code, found.receiving.party_id),
                )
            ),
        }
        try:
            answer = await self.p.client.relay(
                request.method,
                found.url,
                requester.token_out,
                content=await self.body(request) or None,
                params=list(request.query_params.multi_items()),
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise OcpiError(
                Status.CONNECTION_PROBLEM, f"cannot reach {found.requesting}: {exc!r}", 502
            ) from None
        return Response(
            answer.content, status_code=answer.status_code, media_type="application/json"
        )

    # --- open routing ---------------------------------------------------------------------

    async def open_route(
        self, request: Request, caller: Caller, module: str, interface: str
    ) -> Response:
        """A request to a module only the hub's clients implement, without OCPI-to-*:
        to the CPO holding the command's Location, or the profile's Session (4.1.8.4)."""
        raw = await self.body(request)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise OcpiError(Status.INVALID_PARAMETERS, "the body is not JSON", 400) from None
        connections = await self.connected()
        cpos = [
            c
            for c in connections.values()
            if c.role == "CPO" and c.peer.peer_id != caller.peer.peer_id
        ]
        found: list[Connection] = []
        if module == "commands" and isinstance(body, dict) and body.get("location_id"):
            location = str(body["location_id"])
            for c in cpos:
                station = await asyncio.to_thread(
                    self.p.reads.station, global_id(c.party, location)
                )
                if station is not None:
                    found.append(c)
        elif module == "chargingprofiles" and "session_id" in request.path_params:
            session = str(request.path_params["session_id"])
            ids = {global_id(c.party, session): c for c in cpos}
            rows, _ = await asyncio.to_thread(
                self.p.reads.sessions, session_ids=sorted(ids), limit=len(ids) or 1
            )
            found = [ids[r["session_id"]] for r in rows if r["session_id"] in ids]
        if len(found) != 1:
            which = "no connected CPO" if not found else f"{len(found)} CPOs"
            raise OcpiError(
                Status.UNKNOWN_RECEIVER,
                f"{which} holds what this {module} request names: give OCPI-to-*",
                404,
            )
        return await self.forward(
            request, caller, module, interface, found[0], self.sender(request, caller)
        )

    async def ask_around(
        self, request: Request, caller: Caller, module: str, interface: str
    ) -> Response | None:
        """A token none of our drivers holds: the connected eMSPs (and Others) implementing
        the module are asked in turn; the first that knows it answers (4.1.8.4: the hub
        decides). None when none does."""
        connections = await self.connected()
        sender = self.sender(request, caller)
        offline = await self.offline()
        for c in connections.values():
            if c.role not in ("EMSP", "OTHER") or c.peer.peer_id == caller.peer.peer_id:
                continue
            if c.peer.endpoint(module, interface) is None or c.peer.peer_id in offline:
                continue
            try:
                answer = await self.forward(request, caller, module, interface, c, sender)
            except OcpiError as exc:
                log.info("OCPI hub: %s not asked: %s", c.party, exc.message)
                continue
            status = status_code(answer)
            if answer.status_code < 300 and status == Status.SUCCESS:
                return answer
        return None

    # --- broadcast push -------------------------------------------------------------------

    def may_broadcast(self, request: Request, module: str, interface: str) -> bool:
        to = header_party(request, TO_COUNTRY, TO_PARTY)
        return (
            module in BROADCAST
            and interface == "RECEIVER"
            and request.method in _PUSH
            and to in (None, self.p.settings.identity.party)
        )

    async def broadcast(
        self, request: Request, caller: Caller, module: str, origin: Party | None
    ) -> int:
        """Send a push we accepted to every connected party of the opposite role that
        implements the module's Receiver, TO it and FROM the hub (4.1.8.6, "Party to Party
        Broadcast Push"); the URL keeps the original party ("For Client Owned Objects, the
        party-id and country-code in the URL segments will still be the original").
        Parties OFFLINE are skipped ("Do not queue Push messages", 15.1.2). How many."""
        parties = caller.peer.parties()
        role = parties.get(origin) if origin is not None else None
        targets = _OPPOSITE.get(role or "", frozenset())
        if not targets:
            return 0
        raw = await self.body(request)
        suffix = self._suffix(request, module, "RECEIVER")
        correlation = request.headers.get(CORRELATION_ID) or message_id()
        me = self.p.settings.identity.party
        count = 0
        candidates = [
            (c, url)
            for c in (await self.connected()).values()
            if c.role in targets
            and c.peer.peer_id != caller.peer.peer_id
            and (url := c.peer.endpoint(module, "RECEIVER")) is not None
            and c.peer.token_out is not None
        ]
        # The OFFLINE set is read only when there is someone to send to: most pushes of
        # a platform without roaming parties have nobody.
        offline = await self.offline() if candidates else frozenset()
        for c, url in candidates:
            if c.peer.peer_id in offline:
                continue
            headers = {
                REQUEST_ID: message_id(),
                CORRELATION_ID: correlation,
                **routing_headers(
                    ((c.party.country_code, c.party.party_id), (me.country_code, me.party_id))
                ),
            }
            self._spawn(
                self._push(request.method, url.rstrip("/") + suffix, c, raw, headers, str(origin))
            )
            count += 1
        return count

    async def _push(
        self,
        method: str,
        url: str,
        to: Connection,
        raw: bytes,
        headers: dict[str, str],
        origin: str,
    ) -> None:
        assert to.peer.token_out is not None
        try:
            answer = await self.p.client.relay(
                method, url, to.peer.token_out, content=raw, params=[], headers=headers
            )
        except httpx.HTTPError as exc:
            self.broadcast_failures += 1
            log.warning("OCPI hub: broadcast of %s to %s failed: %r", origin, to.party, exc)
            return
        if answer.status_code < 300 and status_code(answer) == Status.SUCCESS:
            self.broadcasts += 1
        else:
            # status_codes 4xxx: a receiver's error is not forwarded for a Broadcast Push.
            self.broadcast_failures += 1
            log.warning(
                "OCPI hub: broadcast of %s to %s: HTTP %d %s",
                origin,
                to.party,
                answer.status_code,
                answer.text[:200],
            )

    # --- HubClientInfo: push and still alive ----------------------------------------------

    async def _alive(self, peer: Peer, probe: bool) -> bool | None:
        """Whether the peer answers (GET versions, 15.2.3) when it has been quiet longer
        than the still-alive time; None when not checked (heard lately, or no probing)."""
        heard = await asyncio.to_thread(self.state.heard_at, peer.peer_id)
        if heard is not None and _now_us() - heard < self.still_alive_s * 1_000_000:
            return True
        if not probe or not peer.versions_url or not peer.token_out:
            return None
        try:
            await self.p.client.call("GET", peer.versions_url, peer.token_out)
        except PeerFailed as exc:
            log.info("OCPI hub: still-alive check of %s failed: %s", peer.peer_id, exc)
            return False
        await asyncio.to_thread(self.state.heard, peer.peer_id, _now_us())
        return True

    async def reconcile(self, probe: bool = False) -> list[dict[str, Any]]:
        """State each peer party's ClientInfo where its status changed (PLANNED while its
        registration is under way, CONNECTED, OFFLINE while it does not answer, SUSPENDED
        once revoked) and push it to the other parties; the ClientInfos changed. One
        round at a time, so that a change is stated once."""
        async with self._reconciling:
            return await self._reconcile(probe)

    async def _reconcile(self, probe: bool) -> list[dict[str, Any]]:
        peers = [
            peer
            for peer in await asyncio.to_thread(self.p.directory.peers)
            if peer.kind is not PeerKind.UPSTREAM  # our own hub, not a client of ours
        ]
        held = {
            row["object_id"]: json.loads(row["body"])
            for row in await asyncio.to_thread(
                self.p.reads.statements, StatedKind.CLIENT_INFO.value
            )
        }
        me = self.p.settings.identity.party
        now = self.p.clock.now()
        offline = set(await self.offline())
        changed: list[tuple[Peer, dict[str, Any]]] = []
        for peer in peers:
            statuses = {PeerStatus.PENDING: "PLANNED", PeerStatus.REVOKED: "SUSPENDED"}
            status = statuses.get(peer.status)
            if status is None:
                alive = await self._alive(peer, probe)
                if alive is None:
                    was = {held.get(str(p), {}).get("status") for p in peer.parties()}
                    alive = "OFFLINE" not in was
                status = "CONNECTED" if alive else "OFFLINE"
                if alive != (peer.peer_id not in offline):
                    await asyncio.to_thread(self.state.set_offline, peer.peer_id, not alive)
                    (offline.discard if alive else offline.add)(peer.peer_id)
            for owner, role in peer.parties().items():
                if owner == me or role == "HUB":
                    continue
                before = held.get(str(owner), {})
                if before.get("status") == status and before.get("role") == role:
                    continue
                info = {
                    "party_id": owner.party_id,
                    "country_code": owner.country_code,
                    "role": role,
                    "status": status,
                    "last_updated": utc_text(now),
                }
                held[str(owner)] = info
                changed.append((peer, info))
        self._offline_seen = frozenset(offline)
        if changed:
            await self._state(changed, peers, now, offline)
        return [info for _, info in changed]

    async def _state(
        self,
        changed: list[tuple[Peer, dict[str, Any]]],
        peers: list[Peer],
        now: Any,
        offline: set[str],
    ) -> None:
        events: list[Event] = []
        attached: dict[str, list[NewDelivery]] = {}
        for own, info in changed:
            object_id = f"{info['country_code']}*{info['party_id']}"
            text = json.dumps(info, separators=(",", ":"))
            event = ObjectStated(
                **event_meta(
                    stable_id("ocpi", "clientinfo", object_id, text), Source(adapter="ocpi"), now
                ),
                kind=StatedKind.CLIENT_INFO,
                object_id=object_id,
                protocol=PROTOCOL,
                body=text,
            )
            events.append(event)
            attached[event.event_id] = [
                NewDelivery(
                    delivery_id=stable_id(event.event_id, peer.peer_id),
                    kind=CLIENT_INFO_KIND,
                    destination=peer.peer_id,
                    payload=text,
                    ref=object_id,
                )
                for peer in peers
                if peer.peer_id != own.peer_id
                and peer.status is PeerStatus.REGISTERED
                and peer.peer_id not in offline  # 15.1.2: no queued pushes
                and peer.endpoint("hubclientinfo", "RECEIVER") is not None
            ]
            log.info("OCPI hub: %s is %s", object_id, info["status"])
        await self._submit(events, attached)

    async def run(self) -> None:
        """The still-alive job: check and push every `check_every_s`."""
        while True:
            try:
                await self.reconcile(probe=True)
            except Exception:
                log.exception("OCPI hub: still-alive round failed")
            await asyncio.sleep(self.check_every_s)


def status_code(response: Response | httpx.Response) -> int | None:
    """The OCPI status_code of an answer, when it has one."""
    raw = response.content if isinstance(response, httpx.Response) else response.body
    try:
        body = json.loads(bytes(raw))
    except ValueError:
        return None
    status = body.get("status_code") if isinstance(body, dict) else None
    return status if isinstance(status, int) else None


@dataclass
class ClientInfoSender:
    """Delivers a stated ClientInfo: PUT {hubclientinfo RECEIVER}/{cc}/{pid} (15.3.1.2),
    with no routing headers (a configuration module, 4.1.8.2)."""

    p: OcpiParty

    async def send(self, delivery: DeliveryRecord, timeout_s: float) -> Sent:
        peer = await asyncio.to_thread(self.p.directory.peer, delivery.destination)
        url = None if peer is None else peer.endpoint("hubclientinfo", "RECEIVER")
        if peer is None or peer.status is not PeerStatus.REGISTERED or not peer.token_out:
            return Sent(False, error=f"{delivery.destination} is not registered", permanent=True)
        if url is None:
            return Sent(
                False, error=f"{delivery.destination}: no ClientInfo receiver", permanent=True
            )
        info = json.loads(delivery.payload)
        target = f"{url.rstrip('/')}/{info['country_code']}/{info['party_id']}"
        try:
            _, body = await self.p.client.call("PUT", target, peer.token_out, json=info)
        except PeerFailed as exc:
            return Sent(False, error=str(exc), permanent=exc.refused)
        return Sent(True, answer=json.dumps(body.get("data")))
