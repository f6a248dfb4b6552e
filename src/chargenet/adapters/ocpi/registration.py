"""Versions and Credentials: the Token A → B → C registration, both ways.

Someone registers with us: an administrator issues token A out of band (`chargenet ocpi
issue-token`); the party calls our versions with A and POSTs its credentials (its token B,
its versions URL, its roles); we fetch its versions and endpoints with B, discard A and
answer with our credentials holding token C, which it uses from then on.

We register with someone (`chargenet ocpi connect`): with the A they gave us we fetch their
endpoints, POST our credentials with a fresh token of ours, and keep the token they answer
with. Tokens presented to us are stored as SHA-256 digests only, and any can be revoked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chargenet.adapters.ocpi import model
from chargenet.adapters.ocpi.client import OcpiClient
from chargenet.adapters.ocpi.ids import party
from chargenet.adapters.ocpi.receiver import Receiver, Submit
from chargenet.adapters.ocpi.wire import (
    VERSION,
    OcpiError,
    PeerFailed,
    Status,
    new_token,
    token_digest,
    utc_text,
)
from chargenet.app.ocpi import (
    Caller,
    CredentialKind,
    OcpiDirectory,
    OcpiQueries,
    Party,
    Peer,
    PeerKind,
    PeerStatus,
)
from chargenet.core.events import OperatorRegistered, Source, event_meta
from chargenet.core.ids import OperatorId
from chargenet.core.registry.model import OperatorRecord
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this chargenet is on the OCPI network."""

    party: Party
    name: str
    base_url: str  # how other parties reach us

    @property
    def versions_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/ocpi/versions"

    @property
    def version_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/ocpi/{VERSION}"


_CONNECTION = {  # HubClientInfo 15.5.1 ConnectionStatus
    PeerStatus.REGISTERED: "CONNECTED",
    PeerStatus.PENDING: "PLANNED",
    PeerStatus.REVOKED: "SUSPENDED",
}


def _role(role: str, owner: Party, name: str) -> dict[str, Any]:
    return {
        "role": role,
        "business_details": {"name": name[:100]},
        "party_id": owner.party_id,
        "country_code": owner.country_code,
    }


class Registration:
    def __init__(
        self,
        directory: OcpiDirectory,
        reads: OcpiQueries,
        receiver: Receiver,
        submit: Submit,
        client: OcpiClient,
        identity: Identity,
        clock: Clock,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_change = on_change  # credentials changed: forget cached callers
        self._directory = directory
        self._reads = reads
        self._receiver = receiver
        self._submit = submit
        self._client = client
        self.identity = identity
        self._clock = clock

    # --- what we say about ourselves ------------------------------------------------------

    async def our_roles(self, kind: PeerKind) -> list[dict[str, Any]]:
        """Towards operators we are the national access point (NAP) that receives their data;
        towards a province, and towards parties that roam through us, we are a hub, and
        only that: "A Hub SHALL only report itself as role: Hub … SHALL report connected
        parties via the HubClientInfo module" (credentials 7.3.1). The parties behind us
        are `client_infos`."""
        me = self.identity
        hub = kind in (PeerKind.UPSTREAM, PeerKind.EMSP)  # parties roaming through us too
        return [_role("HUB" if hub else "NAP", me.party, me.name)]

    async def client_infos(self) -> list[dict[str, Any]]:
        """The parties connected to us as a hub (HubClientInfo 15.4.1): every operator whose
        objects we forward, as a CPO under its party, and every party of a platform that
        roams through us (an eMSP …) in its role. A party behind an OCPI platform is
        CONNECTED while that platform is registered, PLANNED while its registration is
        under way, SUSPENDED once revoked; one connected otherwise (OCPP, T/CEC, imports)
        is CONNECTED. Where the hub stated a party's ClientInfo (adapters/ocpi/hub.py:
        OFFLINE while it does not answer the still-alive check) that statement stands,
        unless the registration says PLANNED or SUSPENDED."""
        book = await self._receiver.book()
        operators = await asyncio.to_thread(self._reads.operators)
        peers = [
            peer
            for peer in await asyncio.to_thread(self._directory.peers)
            if peer.kind is not PeerKind.UPSTREAM
        ]
        stated = {
            row["object_id"]: json.loads(row["body"])
            for row in await asyncio.to_thread(self._reads.statements, "clientinfo")
        }
        status_of = {
            operator_id: _CONNECTION[peer.status]
            for peer in peers
            if peer.kind is PeerKind.CPO
            for operator_id in peer.writable.values()
        }
        out: dict[Party, dict[str, Any]] = {}
        for op in operators:
            owner = book.party_of(op["operator_id"])
            if owner == self.identity.party or owner in out:
                continue
            out[owner] = {
                "party_id": owner.party_id,
                "country_code": owner.country_code,
                "role": "CPO",
                "status": status_of.get(op["operator_id"], "CONNECTED"),
                "last_updated": utc_text(op["as_of"]),
            }
        for peer in peers:
            for owner, role in peer.parties().items():
                if owner == self.identity.party or role == "HUB":
                    continue
                info = out.setdefault(
                    owner,
                    {
                        "party_id": owner.party_id,
                        "country_code": owner.country_code,
                        "role": role,
                        "status": _CONNECTION[peer.status],
                        "last_updated": utc_text(self._clock.now()),
                    },
                )
                held = stated.get(str(owner))
                if held is not None and info["status"] == "CONNECTED":
                    out[owner] = {**info, **held}
        return list(out.values())

    async def credentials(self, token: str, kind: PeerKind) -> dict[str, Any]:
        return {
            "token": token,
            "url": self.identity.versions_url,
            "roles": await self.our_roles(kind),
        }

    # --- issuing token A (administrator, out of band) -------------------------------------

    def issue_token_a(
        self,
        peer_id: str,
        kind: PeerKind,
        name: str,
        *,
        owner: Party | None = None,
        operator_id: str | None = None,
    ) -> str:
        """Create a pending peer and return its token A (shown once, stored as a digest)."""
        now = self._clock.now()
        if kind is PeerKind.CPO:
            if owner is None or operator_id is None:
                raise ValueError("an operator's platform needs its party and its operator")
            known = {op["operator_id"] for op in self._reads.operators()}
            if operator_id not in known:
                raise ValueError(
                    f"operator {operator_id!r} is not in the registry: import it first"
                )
            taken = self._directory.party(owner)
            if taken is not None and taken["peer_id"] not in (None, peer_id):
                raise ValueError(f"party {owner} is already registered by {taken['peer_id']}")
        existing = self._directory.peer(peer_id)
        if existing is None:
            self._directory.add_peer(peer_id, kind, name, now)
        elif existing.status is PeerStatus.REGISTERED:
            raise ValueError(f"peer {peer_id} is registered already; revoke it first")
        else:
            self._directory.update_peer(peer_id, now, status=PeerStatus.PENDING, name=name)
        token = new_token()
        self._directory.revoke_credentials(peer_id, now)
        self._directory.add_credential(token_digest(token), peer_id, CredentialKind.A, now)
        if owner is not None and operator_id is not None:
            self._directory.set_party(owner, operator_id, peer_id, now)
        return token

    # --- they register with us ------------------------------------------------------------

    async def _hub_clients(
        self, roles: list[model.CredentialsRole], endpoints: list[dict[str, Any]], token: str
    ) -> dict[Party, str]:
        """The CPOs a hub says are connected to it (HubClientInfo Sender, 15.3.2), by party,
        named by their party (ClientInfo carries no name); none when it offers no HUB role
        or no HubClientInfo. SUSPENDED parties are gone for good (15.1.4)."""
        url = next(
            (
                str(e["url"])
                for e in endpoints
                if e.get("identifier") == "hubclientinfo" and e.get("role", "SENDER") == "SENDER"
            ),
            None,
        )
        if url is None or not any(r.role == "HUB" for r in roles):
            return {}
        out: dict[Party, str] = {}
        try:
            async for page in self._client.pages(url, token, {}):
                for info in page:
                    if not isinstance(info, dict) or info.get("role") != "CPO":
                        continue
                    if info.get("status") == "SUSPENDED":
                        continue
                    owner = party(str(info.get("country_code")), str(info.get("party_id")))
                    out[owner] = str(owner)
        except PeerFailed as exc:
            raise OcpiError(
                Status.UNABLE_TO_USE_CLIENT_API, f"cannot read your HubClientInfo: {exc}"
            ) from None
        return out

    async def _take_roles(
        self,
        peer: Peer,
        roles: list[model.CredentialsRole],
        endpoints: list[dict[str, Any]],
        token: str,
    ) -> None:
        offered = {party(r.country_code, r.party_id): r for r in roles}
        if peer.kind is PeerKind.CPO:
            if peer.writable and not set(peer.writable) & set(offered):
                assigned = ", ".join(str(p) for p in peer.writable)
                raise OcpiError(
                    Status.INVALID_PARAMETERS,
                    f"the credentials' roles do not include party {assigned} given with token A",
                )
            return
        if peer.kind is not PeerKind.PLATFORM:
            return
        # A platform (a city) writes for the operators behind it: as a hub, the CPOs its
        # HubClientInfo lists; a platform that is no hub, its own CPO roles.
        writes = {owner: r.business_details.name for owner, r in offered.items() if r.role == "CPO"}
        writes |= await self._hub_clients(roles, endpoints, token)
        now = self._clock.now()
        known = {op["operator_id"] for op in await asyncio.to_thread(self._reads.operators)}
        new_operators = []
        for owner, name in writes.items():
            held = await asyncio.to_thread(self._directory.party, owner)
            if held is not None and held["peer_id"] not in (None, peer.peer_id):
                log.warning(
                    "peer %s offered party %s, held by %s", peer.peer_id, owner, held["peer_id"]
                )
                continue
            operator_id = held["operator_id"] if held is not None else str(owner)
            if operator_id not in known:
                new_operators.append(
                    OperatorRegistered(
                        **event_meta(
                            stable_id("ocpi", "operator", operator_id),
                            Source(adapter="ocpi", operator_id=OperatorId(operator_id)),
                            now,
                        ),
                        operator=OperatorRecord(operator_id=OperatorId(operator_id), name=name),
                    )
                )
            await asyncio.to_thread(
                self._directory.set_party, owner, operator_id, peer.peer_id, now
            )
        if new_operators:
            await self._submit(new_operators)

    async def _exchange(self, caller: Caller, body: Any) -> dict[str, Any]:
        creds = model.parse(body, model.Credentials)
        try:
            _, endpoints = await self._client.discover(creds.url, creds.token)
        except PeerFailed as exc:
            status = (
                Status.UNSUPPORTED_VERSION
                if "offers no OCPI" in str(exc)
                else Status.UNABLE_TO_USE_CLIENT_API
            )
            raise OcpiError(status, f"cannot use your API: {exc}") from None
        peer = caller.peer
        await self._take_roles(peer, creds.roles, endpoints, creds.token)
        now = self._clock.now()
        token_c = new_token()
        directory = self._directory
        await asyncio.to_thread(directory.revoke_credentials, peer.peer_id, now)
        await asyncio.to_thread(
            directory.add_credential, token_digest(token_c), peer.peer_id, CredentialKind.C, now
        )
        await asyncio.to_thread(
            directory.update_peer,
            peer.peer_id,
            now,
            status=PeerStatus.REGISTERED,
            versions_url=creds.url,
            version=VERSION,
            endpoints=endpoints,
            roles=[model.to_data(r) for r in creds.roles],
            token_out=creds.token,
        )
        log.info("OCPI peer %s registered (%s)", peer.peer_id, peer.kind.value)
        self._on_change()
        return await self.credentials(token_c, peer.kind)

    async def post(self, caller: Caller, body: Any) -> dict[str, Any]:
        if caller.credential is CredentialKind.C and caller.peer.status is PeerStatus.REGISTERED:
            raise OcpiError(Status.CLIENT_ERROR, "already registered: use PUT to update", 405)
        return await self._exchange(caller, body)

    async def put(self, caller: Caller, body: Any) -> dict[str, Any]:
        if (
            caller.credential is not CredentialKind.C
            or caller.peer.status is not PeerStatus.REGISTERED
        ):
            raise OcpiError(Status.CLIENT_ERROR, "not registered: use POST", 405)
        return await self._exchange(caller, body)

    async def delete(self, caller: Caller) -> None:
        if (
            caller.credential is not CredentialKind.C
            or caller.peer.status is not PeerStatus.REGISTERED
        ):
            raise OcpiError(Status.CLIENT_ERROR, "not registered", 405)
        await asyncio.to_thread(self.revoke, caller.peer.peer_id)

    def revoke(self, peer_id: str) -> int:
        now = self._clock.now()
        count = self._directory.revoke_credentials(peer_id, now)
        self._directory.update_peer(peer_id, now, status=PeerStatus.REVOKED, token_out=None)
        self._on_change()
        return count

    # --- we register with them ------------------------------------------------------------

    async def connect(
        self,
        versions_url: str,
        token_a: str,
        *,
        kind: PeerKind,
        peer_id: str,
        name: str,
        operator_id: str | None = None,
    ) -> Peer:
        """Register with another party using the token A it gave us."""
        if kind is PeerKind.PLATFORM:
            raise ValueError("platforms register with us; connect to upstreams or operators")
        directory = self._directory
        now = self._clock.now()
        _, endpoints = await self._client.discover(versions_url, token_a)
        cred_url = next((e["url"] for e in endpoints if e.get("identifier") == "credentials"), None)
        if not cred_url:
            raise PeerFailed(f"{versions_url} lists no credentials endpoint")
        existing = await asyncio.to_thread(directory.peer, peer_id)
        if existing is None:
            await asyncio.to_thread(directory.add_peer, peer_id, kind, name, now)
        elif existing.status is PeerStatus.REGISTERED:
            raise ValueError(f"peer {peer_id} is registered already")
        # Our token for them goes in before the POST: they call our versions with it.
        ours = new_token()
        await asyncio.to_thread(directory.revoke_credentials, peer_id, now)
        await asyncio.to_thread(
            directory.add_credential, token_digest(ours), peer_id, CredentialKind.C, now
        )
        try:
            _, body = await self._client.call(
                "POST", str(cred_url), token_a, json=await self.credentials(ours, kind)
            )
            theirs = model.parse(body.get("data"), model.Credentials)
        except (PeerFailed, OcpiError):
            await asyncio.to_thread(directory.revoke_credentials, peer_id, now)
            raise
        if kind is PeerKind.CPO:
            cpo_roles = [r for r in theirs.roles if r.role == "CPO"] or theirs.roles
            if operator_id is None:
                raise ValueError("connecting to an operator needs its chargenet operator id")
            for role in cpo_roles:
                await asyncio.to_thread(
                    directory.set_party,
                    party(role.country_code, role.party_id),
                    operator_id,
                    peer_id,
                    now,
                )
        await asyncio.to_thread(
            directory.update_peer,
            peer_id,
            now,
            status=PeerStatus.REGISTERED,
            versions_url=versions_url,
            version=VERSION,
            endpoints=endpoints,
            roles=[model.to_data(r) for r in theirs.roles],
            token_out=theirs.token,
        )
        self._on_change()
        peer = await asyncio.to_thread(directory.peer, peer_id)
        assert peer is not None
        return peer

    async def refresh(self, peer: Peer) -> Peer:
        """PUT our credentials again at an upstream (new roles: operators we now forward)."""
        cred_url = peer.endpoint("credentials", "RECEIVER") or peer.endpoint(
            "credentials", "SENDER"
        )
        if not cred_url or not peer.token_out:
            raise PeerFailed(f"peer {peer.peer_id} has no credentials endpoint or token")
        now = self._clock.now()
        ours = new_token()
        await asyncio.to_thread(
            self._directory.add_credential, token_digest(ours), peer.peer_id, CredentialKind.C, now
        )
        try:
            _, body = await self._client.call(
                "PUT", cred_url, peer.token_out, json=await self.credentials(ours, peer.kind)
            )
            theirs = model.parse(body.get("data"), model.Credentials)
        except (PeerFailed, OcpiError):
            await asyncio.to_thread(
                self._directory.revoke_credentials,
                peer.peer_id,
                now,
                None,
                token_digest(ours),
                True,
            )
            raise
        # They hold our new token now: the old ones go.
        await asyncio.to_thread(
            self._directory.revoke_credentials, peer.peer_id, now, None, token_digest(ours)
        )
        await asyncio.to_thread(
            self._directory.update_peer,
            peer.peer_id,
            now,
            token_out=theirs.token,
            roles=[model.to_data(r) for r in theirs.roles],
        )
        self._on_change()
        refreshed = await asyncio.to_thread(self._directory.peer, peer.peer_id)
        assert refreshed is not None
        return refreshed
