"""The OCPP server: chargers connect to ws(s)://HOST:PORT/ocpp/{charge_point_id}.

What happens at the door (before the WebSocket upgrade, so a refused charger costs us one
HTTP exchange): admission control (`admission.py`: bounds on the connections still arriving,
on the events not yet durable and on open connections: beyond them 503 with a Retry-After
that books the charger's return, answered at accept without a WebSocket connection
object, so a reconnect storm queues at the chargers rather than in our memory and in
every accepted charger's answers), the identity must be a registered OCPP charger (else 404),
HTTP Basic auth against its hashed password (security profiles 1 and 2; else 401), and the
subprotocol must be the one it is registered with. A password changed or removed by another
process stops working within `credentials_poll_s` (the credentials watch, below).

The same rule holds for a charger already connected (`_judge`): when its password changes
or goes, or it or its station is retired, or it is registered for another protocol, every
node holding its socket closes it with 1008 (policy violation, RFC 6455 §7.4.1) — heard on
the bus (in this process, relayed from the stored-event feed on an intake node, or read
from the log when another process wrote it into the database of a process alone on it:
adapters/storage/log_tail.py) or seen by the credentials watch — and it must log in again
under the new rule.

Inside: one `Link` per socket. A new connection for an identity replaces the old one;
presence goes offline when the socket closes, when the charger misses ~3 heartbeat
intervals, or when it stops answering our CALLs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import http
import logging
import ssl
import time
from collections.abc import AsyncIterator, Hashable, Sequence
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from chargenet.adapters.ocpp.admission import Admission, Arrival, Refusal
from chargenet.adapters.ocpp.connection import ChargerConnection
from chargenet.adapters.ocpp.context import GatewayConfig, GatewayStats, Handler
from chargenet.adapters.ocpp.handlers import HANDLERS
from chargenet.adapters.ocpp.link import Link
from chargenet.adapters.ocpp.model import VERSIONS
from chargenet.app.endpoints import ChargerEndpoint, ChargerEndpoints, SocketRegistry
from chargenet.app.pipeline import Submitter
from chargenet.app.settlement import Authoriser
from chargenet.core.events import (
    ChargerPresenceChanged,
    Event,
    Source,
    event_meta,
)
from chargenet.core.ids import ChargerId
from chargenet.core.registry.changes import CHARGER_RECORD_CHANGES, changed_records
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock
from chargenet.kit.ids import new_id
from chargenet.kit.secrets import verify_secret

# GatewayConfig and GatewayStats live with the handlers' context; importable from here too.
__all__ = ["GatewayConfig", "GatewayStats", "OcppGateway"]

log = logging.getLogger(__name__)
# websockets logs every open and close at INFO: thousands of chargers would drown the log.
_ws_log = logging.getLogger("chargenet.ocpp.ws")
_ws_log.setLevel(logging.WARNING)

PATH_PREFIX = "/ocpp/"
MAX_IDENTITY = 128
_REFRESH_AFTER_S = 10.0  # a refused login re-reads the charger's record at most this often
_WARN_EVERY_S = 60.0  # a charger's bad data is logged at most this often
_BUSY_REPORT_EVERY_S = 10.0  # chargers turned away at the door: a line at most this often
_PROOF_BYTES = 32  # SHA-256
_REVIEW_RETRY_S = 1.0  # connected chargers' records could not be read: try again after
_REVIEW_EACH_UP_TO = 16  # more chargers to re-read than this: one read of every record
POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1: the endpoint received what violates its policy


class OcppGateway:
    def __init__(
        self,
        pipeline: Submitter,
        endpoints: ChargerEndpoints,
        clock: Clock,
        config: GatewayConfig | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.endpoints = endpoints
        self.clock = clock
        self.config = config or GatewayConfig()
        self.stats = GatewayStats()
        self.links: dict[str, Link] = {}
        self._links_peak = 0
        self._directory: dict[str, ChargerEndpoint] = {}
        self._refreshed: dict[str, float] = {}
        # charger → SHA-256 of the password it last proved, in a buffer made once per charger
        # (when the directory is warmed) and overwritten in place. What a connection leaves
        # behind in memory made while thousands of connections come and go pins that memory:
        # a new digest per login kept ~15 KB of RSS per closed connection (benchmarks/
        # ocpp_ingest/retention.py).
        self._verified: dict[str, bytearray] = {}
        # charger → the hash the password in its proof buffer was verified against ("":
        # none): a proof counts only for a record with that hash, so the record a connection
        # keeps (`Link.endpoint`) always has the hash its password matched. Its entries are
        # made with the buffers and overwritten, never removed (the same memory rule).
        self._proved_for: dict[str, str] = {}
        # charger → the hash its password had when last read by the credentials watch
        self._secrets: dict[str, str] = {}
        # A record was loaded with another hash than that read: the fingerprint alone may
        # not say so (a password set, then removed, between two rounds gives the same one
        # back, but a login in between may have left its proof), so read every hash again.
        self._recheck = False
        self.admission = Admission(self.config.admission)
        # Connections refused at accept and not yet closed: the WebSocket server does not
        # know them, so its close leaves them; the gateway closes them when it stops.
        self._refusals: set[Refusal] = set()
        self._busy_said = -_BUSY_REPORT_EVERY_S
        self._busy_told = 0
        self._server: Server | None = None
        self._warned: dict[str, float] = {}
        self.port: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # The loop the gateway runs on (bus listeners are called on the writer's thread).
        self._loop: asyncio.AbstractEventLoop | None = None
        # Connected chargers whose records are to be read again (`_reviewing`), and whether
        # all of them are (a station retired: a cached record does not say its station).
        self._to_review: set[str] = set()
        self._review_all = False
        self._reviewer: asyncio.Task[None] | None = None
        # Who answers Authorize and the token of a start (None: every token is accepted).
        self.authoriser: Authoriser | None = None
        # Several intake nodes: the map of which node holds which charger (docs/scale.md).
        self.sockets: SocketRegistry | None = None

    def _spawn(self, coro: Any) -> None:
        """Fire and forget, keeping a reference until done (asyncio holds only weak ones)."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the directory of chargers ---------------------------------------------------------

    # What `forget` reads of the bus: an intake node hears no other stored events.
    HEARS = frozenset(cls.TYPE for cls in CHARGER_RECORD_CHANGES)

    def forget(self, events: Sequence[Event]) -> None:
        """Bus listener (on the writer's thread, after the events are stored): registry
        changes invalidate the cached charger, and a connected one's record is read again
        to see whether it may stay (`_judge`)."""
        review: list[str] | None = []
        for charger_id, _station in changed_records(events):
            if charger_id is not None:
                self._directory.pop(charger_id, None)
                if review is not None:
                    review.append(charger_id)
            else:
                # Retiring a station retires its chargers in the store without a
                # ChargerRetired each, and a cached record does not say its station: all
                # are read again (a rare event; each charger's next connect reads its row).
                self._directory.clear()
                review = None
        if review is None or review:
            self._review_soon(review)

    def _review_soon(self, charger_ids: list[str] | None) -> None:
        """From any thread: read these connected chargers' records again (None: every
        connected charger's) and close the connections they no longer allow."""
        loop = self._loop
        if loop is None:  # not serving: no connection to look at
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._review, charger_ids)

    def _review(self, charger_ids: list[str] | None) -> None:
        if charger_ids is None:
            self._review_all = True
        else:
            self._to_review.update(c for c in charger_ids if c in self.links)
        if (self._review_all or self._to_review) and self._reviewer is None:
            self._reviewer = asyncio.create_task(self._reviewing(), name="ocpp-review")

    async def _reviewing(self) -> None:
        """Read the records of the connected chargers asked for, one read at a time, until
        none is asked for. Only connections there before the read are judged by it: one made
        since passed the login check with a record at least as new."""
        try:
            while self._review_all or self._to_review:
                everyone, wanted = self._review_all, self._to_review
                self._review_all, self._to_review = False, set()
                if everyone or len(wanted) > _REVIEW_EACH_UP_TO:
                    links = dict(self.links)
                else:
                    links = {c: link for c in wanted if (link := self.links.get(c)) is not None}
                if not links:
                    continue
                try:
                    if len(links) > _REVIEW_EACH_UP_TO:
                        every = await asyncio.to_thread(self.endpoints.endpoints, list(VERSIONS))
                        records = {e.charger_id: e for e in every}
                    else:
                        records = {}
                    # One by one: those asked for, or those the read of every OCPP charger
                    # did not find (registered for no OCPP protocol now, most likely).
                    for charger_id in links:
                        if charger_id not in records:
                            found = await asyncio.to_thread(self.endpoints.endpoint, charger_id)
                            if found is not None:
                                records[charger_id] = found
                except Exception:
                    log.warning("OCPP: connected chargers' records not re-read", exc_info=True)
                    self._review_all |= everyone
                    self._to_review |= set(links)
                    await asyncio.sleep(_REVIEW_RETRY_S)
                    continue
                for charger_id, link in links.items():
                    if self.links.get(charger_id) is link:
                        self._judge(link, records.get(charger_id))
        finally:
            if self._reviewer is asyncio.current_task():
                self._reviewer = None

    def _judge(self, link: Link, record: ChargerEndpoint | None) -> None:
        """Close a connection its charger's record (read after the connection was made)
        would not let in: the login check's rule, for a charger already in. A rename, a
        connector or a tariff changes nothing of it. The record a connection keeps has the
        hash its password matched (`_proved_for`): another hash now means another password."""
        if record is None or record.retired:
            reason = "charger retired" if record is not None else "charger not registered"
        elif record.protocol != link.version:
            reason = "charger registered for another protocol"
        elif 1 <= self.config.security_profile <= 2 and (
            lost := _password_lost(link, record.secret_hash)
        ):
            reason = lost
        else:
            return
        self._revoke(link, reason)

    def _revoke(self, link: Link, reason: str) -> None:
        """Close a connection that lost its right to be here; its presence goes offline
        with this reason when its socket has closed (`_handle`)."""
        if link.revoked:
            return
        link.revoked = True
        self.stats.revoked += 1
        log.warning(
            "%s: connection closed (%d policy violation): %s",
            link.charger_id,
            POLICY_VIOLATION,
            reason,
        )
        self._spawn(link.close(reason, code=POLICY_VIOLATION))

    def forget_secret(self, charger_id: str) -> None:
        """The charger's password changed or was removed: the old one must not let it in
        again. Its cached record goes (the next login reads the new hash) and so does the
        proof of the last password that verified (zeroed in place: the buffer is kept)."""
        self._directory.pop(charger_id, None)
        if charger_id in self._proved_for:
            self._proved_for[charger_id] = ""
        slot = self._verified.get(charger_id)
        if slot is not None:
            slot[:] = bytes(_PROOF_BYTES)

    async def _watch_credentials(self, seen: Hashable) -> None:
        """Passwords are set without an event (secrets stay out of the log), often by
        another process (`chargenet ocpp set-password`) or another intake node: a cheap
        fingerprint of the credentials is read every few seconds, and only when it moved
        are the hashes read, once, to forget the chargers whose hash changed or went."""
        period = self.config.credentials_poll_s
        while True:
            await asyncio.sleep(period)
            try:
                now = await asyncio.to_thread(self.endpoints.secrets_fingerprint)
                if now == seen and not self._recheck:
                    continue
                # Cleared before the read: a record loaded meanwhile asks for another.
                self._recheck = False
                # The connections the read will judge: those made before it (a later one
                # may have proved a password newer than the read).
                links = dict(self.links)
                hashes = await asyncio.to_thread(self.endpoints.secret_hashes)
            except Exception:
                # A database that is away for a moment: try again next round (the cache
                # stays as it was meanwhile, as it would without this watch).
                self._recheck = True
                log.warning("OCPP credentials not re-read", exc_info=True)
                continue
            self._credentials_changed(hashes, links)
            seen = now

    def _credentials_changed(self, hashes: dict[str, str], links: dict[str, Link]) -> None:
        """Forget every charger whose hash is not the one we last knew (the previous read,
        or the record cached since) — in one pass with no await, so no login sees half —
        and close the connections (made before the read) whose password is not the
        charger's any more."""
        known = self._secrets
        stale = {cid for cid, old in known.items() if hashes.get(cid) != old}
        stale.update(cid for cid, new in hashes.items() if cid not in known)
        stale.update(
            cid
            for cid, endpoint in self._directory.items()
            if endpoint.secret_hash != hashes.get(cid)
        )
        for charger_id in stale:
            self.forget_secret(charger_id)
        self._secrets = hashes
        if stale:
            log.info("OCPP credentials changed for %d charger(s)", len(stale))
        for charger_id, link in links.items():
            if self.links.get(charger_id) is link:
                reason = _password_lost(link, hashes.get(charger_id))
                if reason is not None:
                    self._revoke(link, reason)

    def _warm(self, endpoints: Sequence[ChargerEndpoint]) -> None:
        """Cache every charger's record, and make each its proof buffer, at start."""
        for endpoint in endpoints:
            self._directory[endpoint.charger_id] = endpoint
            if endpoint.secret_hash is not None:
                self._verified.setdefault(endpoint.charger_id, bytearray(_PROOF_BYTES))
                self._proved_for.setdefault(endpoint.charger_id, "")
                self._secrets[endpoint.charger_id] = endpoint.secret_hash

    def _remember_proof(self, charger_id: str, proof: bytes, secret_hash: str) -> None:
        slot = self._verified.get(charger_id)
        if slot is None:  # a charger registered since the gateway started
            self._verified[charger_id] = bytearray(proof)
        else:
            slot[:] = proof
        self._proved_for[charger_id] = secret_hash

    async def _endpoint(self, charger_id: str, refresh: bool = False) -> ChargerEndpoint | None:
        cached = self._directory.get(charger_id)
        found = None if refresh else cached
        if found is None:
            found = await asyncio.to_thread(self.endpoints.endpoint, charger_id)
            if found is not None:
                if cached is not None and cached.secret_hash != found.secret_hash:
                    # A password changed since we cached it, seen before the credentials
                    # watch: the proof of the old one goes now, and so does a connection
                    # made with it.
                    self.forget_secret(found.charger_id)
                    link = self.links.get(found.charger_id)
                    if link is not None:
                        self._judge(link, found)
                if found.secret_hash != self._secrets.get(found.charger_id):
                    self._recheck = True
                # Only known chargers: every unknown identity tried (a scan) used to leave
                # an entry here for the life of the process.
                self._refreshed[found.charger_id] = time.monotonic()
                self._directory[found.charger_id] = found
        return found

    # --- handshake --------------------------------------------------------------------------

    def _refuse(
        self,
        connection: ServerConnection,
        status: http.HTTPStatus,
        text: str,
        arrival: Arrival | None = None,
    ) -> Response:
        if arrival is not None:
            arrival.leave()
        self.stats.refused_handshakes[status.value] = (
            self.stats.refused_handshakes.get(status.value, 0) + 1
        )
        response = connection.respond(status, text + "\n")
        if status is http.HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="chargenet OCPP"'
        return response

    def _open(self, protocol: ServerProtocol, server: Server, **options: Any) -> asyncio.Protocol:
        """A new TCP connection: refused at once while the node is full (`Refusal`: no
        WebSocket connection object for it), else a WebSocket connection whose request
        `_process_request` reads."""
        busy = self._busy(accepting=True)
        if busy is not None:
            self._turned_away(busy)
            return Refusal(self.admission.retry_after, self._refusals)
        connection = ChargerConnection(
            protocol, server, direct=self.config.direct_frames, **options
        )
        connection.chargenet_admission = self.admission
        self.admission.pending += 1
        return connection

    def _busy(self, accepting: bool) -> str | None:
        busy = self.admission.busy(accepting)
        if busy is None and len(self.links) >= self.config.max_connections:
            busy = "connections"
        return busy

    def _turned_away(self, busy: str) -> None:
        self.stats.busy[busy] = self.stats.busy.get(busy, 0) + 1
        refused = self.stats.refused_handshakes
        refused[503] = refused.get(503, 0) + 1
        self._report_busy()

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        assert isinstance(connection, ChargerConnection)
        connection.read()
        path = request.path.split("?", 1)[0]
        if not path.startswith(PATH_PREFIX):
            return self._refuse(connection, http.HTTPStatus.NOT_FOUND, "use /ocpp/{identity}")
        identity = unquote(path[len(PATH_PREFIX) :])
        if not identity or "/" in identity or len(identity) > MAX_IDENTITY:
            return self._refuse(connection, http.HTTPStatus.NOT_FOUND, "bad charger identity")
        # No place among the arriving: held at the door for one (up to `hold_s`), or, with
        # no room to hold it, refused here at the cost of the connection already made.
        busy = self._busy(accepting=False)
        counted = False
        if busy is None and self.admission.full():
            counted = await self.admission.wait_turn()
            busy = None if counted else "arriving"
        if busy is not None:
            self._turned_away(busy)
            response = connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "busy\n")
            response.headers["Retry-After"] = str(self.admission.retry_after())
            return response
        # Its place among the arriving: given back at its first answer, when it closes, or
        # after a timeout.
        arrival = connection.chargenet_arrival = self.admission.enter(counted)
        if connection.chargenet_lost:  # gone while it was held: its place is free at once
            arrival.leave()
        try:
            return await self._check(connection, request, identity, arrival)
        except BaseException:
            arrival.leave()
            raise

    def _report_busy(self) -> None:
        """Say that chargers are being turned away, at most once per interval."""
        now = time.monotonic()
        if now - self._busy_said < _BUSY_REPORT_EVERY_S:
            return
        refused = sum(self.stats.busy.values())
        admission = self.admission
        log.warning(
            "admission control: chargers told to come back later (%d since the last report;"
            " arriving %d, bound %d; events not yet durable %d; connections %d; let in %.0f/s,"
            " returns booked %.0f s ahead)",
            refused - self._busy_told,
            admission.arriving,
            admission.limit,
            admission.backlog,
            len(self.links),
            admission.rate,
            admission.queue_s(),
        )
        self._busy_said, self._busy_told = now, refused

    async def _check(
        self, connection: ServerConnection, request: Request, identity: str, arrival: Arrival
    ) -> Response | None:
        """Who the charger is and whether it proved it (an admitted connection)."""
        endpoint = await self._endpoint(identity)
        if endpoint is None or endpoint.retired or endpoint.protocol not in VERSIONS:
            return self._refuse(connection, http.HTTPStatus.NOT_FOUND, "unknown charger", arrival)
        if self.config.security_profile >= 3:
            # Mutual TLS: the certificate (already verified against our CA) names the
            # charger; it must be the identity in the path.
            if _certificate_name(connection) != identity:
                return self._refuse(
                    connection,
                    http.HTTPStatus.UNAUTHORIZED,
                    "certificate is not this charger's",
                    arrival,
                )
        elif self.config.security_profile >= 1:
            endpoint = await self._authenticate(identity, endpoint, request.headers)
            if endpoint is None:
                return self._refuse(
                    connection, http.HTTPStatus.UNAUTHORIZED, "bad credentials", arrival
                )
        assert isinstance(connection, ChargerConnection)
        connection.chargenet_endpoint = endpoint
        return None

    async def _authenticate(
        self, identity: str, endpoint: ChargerEndpoint, headers: Headers
    ) -> ChargerEndpoint | None:
        password = _basic_password(headers.get("Authorization"), identity)
        if password is None:
            return None
        proof = hashlib.sha256(password.encode()).digest()
        slot = self._verified.get(endpoint.charger_id)
        if (
            slot is not None
            and hmac.compare_digest(slot, proof)
            and self._proved_for.get(endpoint.charger_id) == endpoint.secret_hash
        ):
            return endpoint
        for attempt in range(2):
            if endpoint.secret_hash is not None and await asyncio.to_thread(
                verify_secret, password, endpoint.secret_hash
            ):
                # Not if the credentials watch dropped this record while we verified: the
                # proof would be of a password that may no longer be the charger's.
                if self._directory.get(endpoint.charger_id) is endpoint:
                    self._remember_proof(endpoint.charger_id, proof, endpoint.secret_hash)
                return endpoint
            # A password set since we cached the record (by another process): look again,
            # but not more often than every few seconds per charger.
            last = self._refreshed.get(identity, 0.0)
            if attempt or time.monotonic() - last < _REFRESH_AFTER_S:
                break
            fresh = await self._endpoint(identity, refresh=True)
            if fresh is None:
                return None
            endpoint = fresh
        return None

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        endpoint: ChargerEndpoint | None = getattr(connection, "chargenet_endpoint", None)
        wanted = endpoint.protocol if endpoint is not None else None
        if wanted in offered:
            return Subprotocol(wanted)  # type: ignore[arg-type]
        raise NegotiationError(f"this charger is registered for {wanted}")

    # --- connections ------------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        assert isinstance(connection, ChargerConnection)
        endpoint = connection.chargenet_endpoint
        version = connection.subprotocol or ""
        arrival = connection.chargenet_arrival
        assert endpoint is not None and arrival is not None  # set when its request was read
        link = Link(self, connection, endpoint, version, self.clock.now())
        link.answered = arrival.answered
        old = self.links.get(link.charger_id)
        self.links[link.charger_id] = link
        self._links_peak = max(self._links_peak, len(self.links))
        self.stats.accepted += 1
        self.stats.connections = len(self.links)
        if self._directory.get(link.charger_id) is not endpoint:
            # Its record changed (or its password, or its station was retired) between the
            # login check and now: the review of connected chargers may have missed it.
            self._review([link.charger_id])
        if self.sockets is not None:
            # Beside the charger's first frames, not before them: in a reconnect storm a
            # write awaited here put one more JetStream round trip before every answer.
            self._spawn(self._held(link.charger_id))
        if old is not None:
            old.replaced = True
            self.stats.replaced += 1
            self._spawn(old.close("replaced by a new connection"))
        else:
            # Beside the first frames too: in a reconnect storm, presence awaited here put
            # a whole pipeline (JetStream) round trip before the BootNotification was even
            # read. The first answer waits for it (`Link._recorded`).
            link.arrived = asyncio.ensure_future(self._presence(link.charger_id, True, "connected"))
            link.arrived.add_done_callback(_retrieved)
        try:
            await link.run()
        finally:
            arrival.leave()
            if self.links.get(link.charger_id) is link:
                del self.links[link.charger_id]
                self.stats.connections = len(self.links)
                self._closed(link.charger_id)
                if self._server is not None:
                    with contextlib.suppress(Exception):
                        if await self._still_ours(link.charger_id):
                            await self._presence(link.charger_id, False, link.close_reason)

    async def _held(self, charger_id: str) -> None:
        assert self.sockets is not None
        try:
            await self.sockets.held(charger_id)
        except Exception as exc:  # orders from elsewhere miss it until it reconnects
            self.warn(charger_id, "the socket map was not updated: %r", exc)

    async def _still_ours(self, charger_id: str) -> bool:
        """Whether a closed socket leaves the charger offline: not when it has connected
        to another intake node meanwhile (its old socket here timed out later)."""
        return True if self.sockets is None else await self.sockets.released(charger_id)

    def _closed(self, charger_id: str) -> None:
        """What a connection leaves behind goes with it."""
        warned = self._warned.get(charger_id)
        if warned is not None and time.monotonic() - warned >= _WARN_EVERY_S:
            del self._warned[charger_id]
        # A dict never gives back its table: after a mass disconnect, make a small one.
        if self._links_peak > 1024 and len(self.links) * 4 < self._links_peak:
            self.links = dict(self.links)
            self._links_peak = len(self.links)

    async def _presence(self, charger_id: str, online: bool, reason: str) -> None:
        await self.submit(
            [
                ChargerPresenceChanged(
                    **event_meta(new_id(), Source(adapter="ocpp"), self.clock.now()),
                    charger_id=ChargerId(charger_id),
                    online=online,
                    reason=reason,
                )
            ]
        )

    async def submit(self, events: Sequence[Event]) -> None:
        # The backlog admission control bounds: every event on its way to durable storage.
        admission = self.admission
        admission.backlog += len(events)
        # A pipeline that can store without telling each event's outcome (JetStream's) is
        # asked so: the outcomes go unread here.
        stored = getattr(self.pipeline, "stored", None)
        try:
            if stored is not None:
                await stored(events)
            else:
                await self.pipeline.submit(events)
        finally:
            admission.backlog -= len(events)

    def handlers(self, version: str) -> dict[str, Handler]:
        return HANDLERS.get(version, {})

    def warn(self, charger_id: str, message: str, *args: Any) -> None:
        """Log a charger's bad data at most once a minute per charger (a flood of bad
        frames must not flood the log)."""
        now = time.monotonic()
        if now - self._warned.get(charger_id, -_WARN_EVERY_S) >= _WARN_EVERY_S:
            self._warned[charger_id] = now
            log.warning("%s: " + message, charger_id, *args)

    async def _watchdog(self) -> None:
        """Presence goes stale fast: a link silent for ~3 heartbeat intervals is closed."""
        period = max(1.0, min(15.0, self.config.heartbeat_s / 4))
        while True:
            await asyncio.sleep(period)
            self._close_stale()

    def _close_stale(self) -> None:
        """A round of the watchdog, in a frame of its own that goes with it: a loop variable
        of the watchdog itself kept the last link it looked at (and that connection's
        buffers) alive after the charger left, until a later round found another link."""
        deadline = time.monotonic() - self.config.stale_after_s
        for link in list(self.links.values()):
            if link.last_seen < deadline:
                self.stats.stale += 1
                self._spawn(link.close("missed heartbeats", code=1001))

    def call_failed(self, link: Link) -> None:
        link.call_failures += 1
        if link.call_failures >= self.config.failed_calls_before_drop:
            self._spawn(link.close("not answering calls", code=1011))

    # --- running ----------------------------------------------------------------------------

    async def _mark_stale_offline(self) -> None:
        """Chargers left online by a previous run of the gateway are not connected now."""
        online = await asyncio.to_thread(self.endpoints.online_chargers, list(VERSIONS))
        if self.sockets is not None:  # those other live intake nodes hold are online
            elsewhere = await self.sockets.held_elsewhere(online)
            online = [charger_id for charger_id in online if charger_id not in elsewhere]
        events = [
            ChargerPresenceChanged(
                **event_meta(new_id(), Source(adapter="ocpp"), self.clock.now()),
                charger_id=ChargerId(charger_id),
                online=False,
                reason="gateway restarted",
            )
            for charger_id in online
            if charger_id not in self.links
        ]
        for start in range(0, len(events), 1000):
            await self.submit(events[start : start + 1000])

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.config.tls_cert:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        if self.config.tls_client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.config.tls_client_ca)
        return context

    @contextlib.asynccontextmanager
    async def running(self, host: str, port: int) -> AsyncIterator[OcppGateway]:
        """Serve until the block exits; then every charger is marked offline."""
        self.admission = Admission(self.config.admission)  # the config may have been replaced
        self._loop = asyncio.get_running_loop()
        # Passwords only count in profiles 1 and 2. The fingerprint is read before the
        # records are: a change between the two is then seen at the first round.
        watching = self.config.credentials_poll_s > 0 and 1 <= self.config.security_profile <= 2
        fingerprint = (
            await asyncio.to_thread(self.endpoints.secrets_fingerprint) if watching else None
        )
        self._warm(await asyncio.to_thread(self.endpoints.endpoints, list(VERSIONS)))
        await self._mark_stale_offline()
        server = await serve(
            self._handle,
            host,
            port,
            subprotocols=[Subprotocol(v) for v in VERSIONS],
            select_subprotocol=self._select_subprotocol,
            process_request=self._process_request,
            create_connection=self._open,  # type: ignore[arg-type]  # a factory, not a class
            compression=None,  # permessage-deflate costs ~50 KB per connection
            max_size=max(self.config.max_frame_bytes * 4, 1 << 20),
            max_queue=4,
            write_limit=4096,
            # No WebSocket pings: the heartbeat watchdog already finds silent chargers, and
            # a keepalive task per connection would cost memory and wake-ups for nothing.
            ping_interval=None,
            ssl=self._ssl(),
            backlog=4096,
            close_timeout=2,  # a reconnect storm must queue in the kernel, not be reset
            logger=_ws_log,
        )
        self._server = server
        self.port = server.sockets[0].getsockname()[1] if server.sockets else port
        watchdog = asyncio.create_task(self._watchdog(), name="ocpp-watchdog")
        watch = (
            asyncio.create_task(self._watch_credentials(fingerprint), name="ocpp-credentials")
            if watching
            else None
        )
        log.info("OCPP gateway listening on %s:%s", host, self.port)
        try:
            yield self
        finally:
            watchdog.cancel()
            if watch is not None:
                watch.cancel()
            self._loop = None
            if self._reviewer is not None:
                self._reviewer.cancel()
                self._reviewer = None
            self._to_review.clear()
            self._review_all = False
            self._server = None
            links = list(self.links.values())
            self.links.clear()
            with contextlib.suppress(Exception):
                await self.submit(
                    [
                        ChargerPresenceChanged(
                            **event_meta(new_id(), Source(adapter="ocpp"), self.clock.now()),
                            charger_id=ChargerId(link.charger_id),
                            online=False,
                            reason="gateway stopped",
                        )
                        for link in links
                    ]
                )
            for link in links:
                link.close_reason = "gateway stopped"
            server.close()  # closes every connection at once (1001 going away)
            for refusal in list(self._refusals):
                refusal.abort()
            try:
                await wait_at_most(server.wait_closed(), 5)
            except TimeoutError:
                # A peer that never finishes the close handshake must not hold us up.
                # `connections` from websockets 14 on, `all_connections` before
                found = getattr(server, "connections", None) or getattr(
                    server, "all_connections", ()
                )
                for connection in list(found or ()):
                    connection.transport.abort()
                with contextlib.suppress(TimeoutError):
                    await wait_at_most(server.wait_closed(), 2)

    async def serve_forever(self, host: str, port: int) -> None:
        async with self.running(host, port):
            await asyncio.Event().wait()


def _password_lost(link: Link, secret_hash: str | None) -> str | None:
    """Why a connection's password no longer holds, when the charger's hash is now
    `secret_hash` (None: it has no password); None when it still holds."""
    if secret_hash == link.endpoint.secret_hash:
        return None
    return "password changed" if secret_hash is not None else "password removed"


def _retrieved(task: asyncio.Future[None]) -> None:
    """A presence task's failure is dealt with by the link's first answer (or nobody's, if
    the charger sends nothing): never an unretrieved-exception warning."""
    if not task.cancelled():
        task.exception()


def _certificate_name(connection: ServerConnection) -> str | None:
    """The common name of the client certificate the TLS layer verified."""
    cert = connection.transport.get_extra_info("peercert")
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _basic_password(header: str | None, identity: str) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or user != identity:
        return None
    return password
