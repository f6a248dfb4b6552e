"""chargenet as an OCPI 2.2.1 Hub between two parties connected to it: an eMSP (CN*EMA)
and a CPO (CN*CPB), each a platform of its own written here from the specification and
served over real HTTP on a loopback port, the hub a whole chargenet (CN*HUB).

Direct requests through the hub, a response_url answered across it, Broadcast Push,
Open Routing Requests, and HubClientInfo pushed through the outbox with the still-alive
check marking a party OFFLINE and CONNECTED again (transport_and_format 4.1.8,
mod_hub_client_info, status_codes 4xxx)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chargenet.app.ocpi import Party, PeerKind
from chargenet.kit.net import free_port
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import (
    Instance,
    LiveServer,
    Switch,
    auth,
    registered_peer,
    start_instance,
    wait_for,
)
from tests.builders import areas, operator

EMA, CPB, HUB = Party("CN", "EMA"), Party("CN", "CPB"), Party("CN", "HUB")


def to_from(to: Party, sender: Party) -> dict[str, str]:
    return {
        "OCPI-to-country-code": to.country_code,
        "OCPI-to-party-id": to.party_id,
        "OCPI-from-country-code": sender.country_code,
        "OCPI-from-party-id": sender.party_id,
    }


def routing(headers: Any) -> tuple[str | None, ...]:
    names = ("to-country-code", "to-party-id", "from-country-code", "from-party-id")
    return tuple(headers.get(f"ocpi-{n}") for n in names)


def ok(data: Any = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"status_code": 1000, "timestamp": spec.ts()}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, headers=headers)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeParty:
    """Another platform, from the spec: its versions, a tokens Sender (eMSP), a Commands
    receiver that posts its CommandResult later (CPO), a response_url of its own, and a
    Receiver for Locations, Tokens and ClientInfo that accepts anything and notes it."""

    me: Party
    role: str
    token_to_hub: str = ""  # the token it calls the hub with
    answers: bool = True  # posts a CommandResult to the response_url by itself
    seen: list[Seen] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.switch = Switch(Starlette(routes=[Route("/{path:path}", self.any, methods=_ALL)]))
        self.server = LiveServer(self.switch, self.port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi/2.2.1"

    @property
    def token_from_hub(self) -> str:
        return f"hub-calls-{self.me.party_id}"

    def endpoints(self) -> list[dict[str, str]]:
        modules = ["locations", "tokens", "hubclientinfo"]
        out = [{"identifier": m, "role": "RECEIVER", "url": f"{self.base}/{m}"} for m in modules]
        if self.role == "EMSP":
            out.append({"identifier": "tokens", "role": "SENDER", "url": f"{self.base}/tokens"})
        else:
            out.append(
                {"identifier": "commands", "role": "RECEIVER", "url": f"{self.base}/commands"}
            )
        return out

    def got(self, path_end: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(path_end)]

    async def any(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != auth(self.token_from_hub)["Authorization"]:
            return JSONResponse({"status_code": 2000, "status_message": "who?"}, 401)
        raw = await request.body()
        body = await request.json() if raw else None
        path = request.url.path
        self.seen.append(Seen(request.method, path, dict(request.headers), body))
        if path == "/ocpi/versions":
            return ok([{"version": "2.2.1", "url": self.base}])
        if path.endswith("/authorize"):
            if "/KNOWN" not in path:
                return JSONResponse({"status_code": 2004, "timestamp": spec.ts()}, 404)
            return ok({"allowed": "ALLOWED", "token": {"uid": "KNOWN"}})
        if path.endswith("/tokens") and request.method == "GET":
            nxt = f"{self.base}/tokens?offset=1&limit=1"
            token = {"uid": "A1", "type": "RFID", "party_id": self.me.party_id}
            return ok([token], **{"X-Total-Count": "2", "Link": f'<{nxt}>; rel="next"'})
        if "/commands/" in path and request.method == "POST" and body and "response_url" in body:
            if not self.answers:
                return ok({"result": "ACCEPTED", "timeout": 30})
            threading.Timer(0.2, self.answer_later, (body["response_url"],)).start()
            return ok({"result": "ACCEPTED", "timeout": 30})
        return ok()

    def answer_later(self, url: str) -> None:
        self.result = httpx.post(url, json={"result": "ACCEPTED"}, headers=auth(self.token_to_hub))


_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass
class World:
    hub: Instance
    emsp: FakeParty
    cpo: FakeParty

    def connect(self, fake: FakeParty, kind: PeerKind, operator_id: str | None) -> None:
        ocpi = self.hub.ocpi
        owner = fake.me if operator_id else None
        fake.token_to_hub = registered_peer(ocpi, fake.me.party_id, owner, operator_id, kind)
        ocpi.directory.update_peer(
            fake.me.party_id,
            self.hub.platform.clock.now(),
            roles=[{"role": fake.role, "country_code": "CN", "party_id": fake.me.party_id}],
            endpoints=fake.endpoints(),
            token_out=fake.token_from_hub,
            versions_url=f"http://127.0.0.1:{fake.port}/ocpi/versions",
        )

    @property
    def url(self) -> str:
        return f"{self.hub.base_url}/ocpi/2.2.1"


@contextmanager
def started_world(tmp_path: Path, **settings: Any) -> Iterator[World]:
    # No still-alive job of its own (it would state the parties' ClientInfo at a moment
    # of its choosing, when it got round to it): the tests run the check when they want.
    hub = start_instance(
        tmp_path / "hub.db",
        "CN*HUB",
        "hub",
        outbox_retry_base_s=0.2,
        ocpi_still_alive_s=0.0,
        **settings,
    )
    hub.ingest([*areas(), operator("OPB", name="充电B")])
    emsp, cpo = FakeParty(EMA, "EMSP"), FakeParty(CPB, "CPO")
    emsp.server.start()
    cpo.server.start()
    found = World(hub, emsp, cpo)
    found.connect(emsp, PeerKind.EMSP, None)
    found.connect(cpo, PeerKind.CPO, "OPB")
    try:
        yield found
    finally:
        emsp.server.stop()
        cpo.server.stop()
        hub.stop()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with started_world(tmp_path) as found:
        yield found


@pytest.fixture
def driven_world(tmp_path: Path) -> Iterator[World]:
    """The world whose outbox only the test delivers, a round when it says: a worker of
    its own would send (or resend) a push whenever its sleep ended, before the test took
    the receiver down or between a failed attempt and the look at it."""
    with started_world(tmp_path, outbox_worker=False) as found:
        yield found


def put_location(w: World, headers: dict[str, str], lid: str = "LOC1") -> httpx.Response:
    evse = "E1" if lid == "LOC1" else f"E-{lid}"  # an EVSE uid is unique within its CPO
    body = spec.location(lid, owner=CPB, evses=[spec.evse(evse)])
    return httpx.put(
        f"{w.url}/receiver/locations/CN/CPB/{lid}",
        json=body,
        headers={**auth(w.cpo.token_to_hub), **headers},
    )


def test_a_direct_request_reaches_the_other_party_and_its_answer_comes_back(world: World) -> None:
    w = world
    # The CPO reads the eMSP's tokens through the hub (Tokens Sender, GET).
    asked = httpx.get(
        f"{w.url}/sender/tokens",
        params={"limit": "1"},
        headers={**auth(w.cpo.token_to_hub), **to_from(EMA, CPB), "X-Correlation-ID": "c-1"},
    )
    assert asked.status_code == 200 and asked.json()["data"][0]["uid"] == "A1", asked.text
    [there] = w.emsp.got("/tokens")
    assert routing(there.headers) == ("CN", "EMA", "CN", "CPB")  # "Hub to receiving platform"
    assert there.headers["x-correlation-id"] == "c-1"  # 4.2: the same correlation id …
    assert there.headers["x-request-id"] != asked.headers["x-request-id"]  # … a new request id
    assert routing(asked.headers) == ("CN", "CPB", "CN", "EMA")  # "Hub to requesting platform"
    assert asked.headers["x-total-count"] == "2"
    # The next page is the hub's to call, not the eMSP's (the CPO holds no token there).
    assert asked.headers["link"].startswith(f"<{w.url}/sender/tokens?offset=1")

    # The eMSP starts a session at the CPO's EVSE (Commands START_SESSION) through the hub.
    own_url = f"{w.emsp.base}/commands/START_SESSION/u-1"
    command = {"response_url": own_url, "location_id": "LOC1", "evse_uid": "E1", "token": {}}
    answer = httpx.post(
        f"{w.url}/receiver/commands/START_SESSION",
        json=command,
        headers={**auth(w.emsp.token_to_hub), **to_from(CPB, EMA)},
    )
    assert answer.json()["data"]["result"] == "ACCEPTED", answer.text
    [received] = w.cpo.got("/commands/START_SESSION")
    assert routing(received.headers) == ("CN", "CPB", "CN", "EMA")
    # The CPO answers at the hub (it has no token for the eMSP), which passes it on.
    assert received.body["response_url"].startswith(f"{w.url}/hub/results/")
    assert received.body["location_id"] == "LOC1"
    [result] = wait_for(lambda: w.emsp.got("/commands/START_SESSION/u-1"), what="the result")
    assert result.body == {"result": "ACCEPTED"}
    assert routing(result.headers) == ("CN", "EMA", "CN", "CPB")
    wait_for(lambda: getattr(w.cpo, "result", None) is not None, what="the CPO's post")
    assert w.cpo.result.json()["status_code"] == 1000


def test_a_receiver_nobody_knows_gets_4001_and_a_borrowed_sender_is_refused(world: World) -> None:
    w = world
    # Towards a party roaming through it the hub is a hub only (credentials 7.3.1).
    ours = httpx.get(f"{w.url}/credentials", headers=auth(w.emsp.token_to_hub)).json()["data"]
    assert [(r["role"], r["party_id"]) for r in ours["roles"]] == [("HUB", "HUB")]
    nobody = httpx.get(
        f"{w.url}/sender/tokens",
        headers={**auth(w.cpo.token_to_hub), **to_from(Party("CN", "ZZZ"), CPB)},
    )
    assert nobody.status_code == 404 and nobody.json()["status_code"] == 4001  # status_codes 4xxx
    borrowed = httpx.get(
        f"{w.url}/sender/tokens", headers={**auth(w.cpo.token_to_hub), **to_from(EMA, EMA)}
    )
    assert borrowed.status_code == 403 and borrowed.json()["status_code"] == 2001
    # Nor may a party write another's objects through the hub.
    theirs = httpx.put(
        f"{w.url}/receiver/tokens/CN/CPB/T1",
        json={"uid": "T1"},
        headers={**auth(w.emsp.token_to_hub), **to_from(HUB, EMA)},
    )
    assert theirs.status_code == 403 and theirs.json()["status_code"] == 2001
    # A party whose platform is no longer registered: 4003, connection problem.
    w.hub.ocpi.registration.revoke("EMA")
    gone = httpx.get(
        f"{w.url}/sender/tokens", headers={**auth(w.cpo.token_to_hub), **to_from(EMA, CPB)}
    )
    assert gone.status_code == 502 and gone.json()["status_code"] == 4003, gone.text
    assert not w.emsp.got("/tokens")


def test_a_cpos_location_is_broadcast_to_the_emsps(world: World) -> None:
    """Broadcast Push: TO the hub (or to nobody); the hub keeps it and sends it on TO each
    eMSP FROM the hub, the URL keeping the CPO's party; sessions are not broadcast."""
    w = world
    reply = put_location(w, to_from(HUB, CPB))
    assert reply.json()["status_code"] == 1000, reply.text
    [pushed] = wait_for(lambda: w.emsp.got("/locations/CN/CPB/LOC1"), what="the broadcast")
    assert pushed.method == "PUT" and routing(pushed.headers) == ("CN", "EMA", "CN", "HUB")
    assert pushed.body["id"] == "LOC1" and pushed.body["evses"][0]["uid"] == "E1"
    assert w.hub.platform.read.stations()[1] == 1  # the hub holds it too
    assert not w.cpo.got("/locations/CN/CPB/LOC1")  # not back to where it came from

    assert put_location(w, {}, "LOC2").json()["status_code"] == 1000  # no routing headers
    wait_for(lambda: w.emsp.got("/locations/CN/CPB/LOC2"), what="the second broadcast")
    session = spec.session("S1", location_id="LOC1", evse_uid="E1")
    session |= {"country_code": "CN", "party_id": "CPB"}
    put = httpx.put(
        f"{w.url}/receiver/sessions/CN/CPB/S1",
        json=session,
        headers={**auth(w.cpo.token_to_hub), **to_from(HUB, CPB)},
    )
    assert put.json()["status_code"] == 1000, put.text
    # An eMSP's token goes to every CPO the same way.
    token = {"country_code": "CN", "party_id": "EMA", "uid": "T1", "type": "RFID"}
    shared = httpx.put(
        f"{w.url}/receiver/tokens/CN/EMA/T1",
        json=token,
        headers={**auth(w.emsp.token_to_hub), **to_from(HUB, EMA)},
    )
    assert shared.json()["status_code"] == 1000, shared.text
    [got] = wait_for(lambda: w.cpo.got("/tokens/CN/EMA/T1"), what="the token at the CPO")
    assert routing(got.headers) == ("CN", "CPB", "CN", "HUB") and got.body == token
    hub = w.hub.ocpi.hub
    assert hub is not None
    # counted when the receiver's answer is back, a moment after it noted the request
    wait_for(lambda: hub.broadcasts == 3, what="three broadcasts answered")
    assert not w.emsp.got("/sessions/CN/CPB/S1")


def test_open_routing_finds_the_cpo_of_a_location_and_the_emsp_of_a_token(world: World) -> None:
    w = world
    assert put_location(w, {}).json()["status_code"] == 1000
    command = {"response_url": f"{w.emsp.base}/commands/UNLOCK_CONNECTOR/u-2"}
    command |= {"location_id": "loc1", "evse_uid": "E1", "connector_id": "1"}
    # No OCPI-to-*: the hub finds the CPO holding Location LOC1 (ids are CiString).
    sent = httpx.post(
        f"{w.url}/receiver/commands/UNLOCK_CONNECTOR",
        json=command,
        headers=auth(w.emsp.token_to_hub),
    )
    assert sent.json()["data"]["result"] == "ACCEPTED", sent.text
    [received] = w.cpo.got("/commands/UNLOCK_CONNECTOR")
    assert routing(received.headers) == ("CN", "CPB", "CN", "EMA")  # "Hub to receiving"
    unknown = httpx.post(
        f"{w.url}/receiver/commands/UNLOCK_CONNECTOR",
        json={**command, "location_id": "NOWHERE"},
        headers=auth(w.emsp.token_to_hub),
    )
    assert unknown.json()["status_code"] == 4001 and len(w.cpo.got("/UNLOCK_CONNECTOR")) == 1

    # A token none of the hub's drivers holds: the connected eMSPs are asked.
    url = f"{w.url}/sender/tokens/KNOWN/authorize"
    allowed = httpx.post(url, json={}, headers=auth(w.cpo.token_to_hub))
    assert allowed.json()["data"]["allowed"] == "ALLOWED", allowed.text
    [asked] = w.emsp.got("/tokens/KNOWN/authorize")
    assert routing(asked.headers) == ("CN", "EMA", "CN", "CPB")
    url = f"{w.url}/sender/tokens/STRANGER/authorize"
    nobody = httpx.post(url, json={}, headers=auth(w.cpo.token_to_hub))
    assert nobody.status_code == 404 and nobody.json()["status_code"] == 2004


def test_client_info_is_pushed_and_a_silent_party_goes_offline_and_comes_back(
    driven_world: World,
) -> None:
    w = driven_world
    hub = w.hub.ocpi.hub
    assert hub is not None
    hub.still_alive_s = 0.0  # every party counts as quiet: each round checks them all

    def deliver() -> bool:
        """One round of the outbox; False, so that `deliver() or …` reads on."""
        w.hub.run(w.hub.platform.outbox.run_once())
        return False

    def pushed(fake: FakeParty, about: Party) -> list[str]:
        return [s.body["status"] for s in fake.got(f"/hubclientinfo/CN/{about.party_id}")]

    def listed() -> dict[str, str]:
        got = httpx.get(f"{w.url}/hubclientinfo", headers=auth(w.emsp.token_to_hub))
        return {i["party_id"]: i["status"] for i in got.json()["data"]}

    changed = w.hub.run(hub.reconcile(probe=True))
    assert {(c["party_id"], c["status"]) for c in changed} == {
        ("EMA", "CONNECTED"),
        ("CPB", "CONNECTED"),
    }
    assert w.cpo.got("/ocpi/versions") and w.emsp.got("/ocpi/versions")  # still alive?
    deliver()
    # Each hears of the other, not of itself (15.2.1 push model), without routing headers.
    assert pushed(w.emsp, CPB) == ["CONNECTED"] and pushed(w.cpo, EMA) == ["CONNECTED"]
    assert not pushed(w.emsp, EMA) and not pushed(w.cpo, CPB)
    [info] = w.emsp.got("/hubclientinfo/CN/CPB")
    assert info.body["role"] == "CPO" and routing(info.headers) == (None,) * 4
    assert w.hub.run(hub.reconcile(probe=True)) == []  # nothing changed, nothing pushed

    w.cpo.switch.down = True
    changed = w.hub.run(hub.reconcile(probe=True))
    assert [(c["party_id"], c["status"]) for c in changed] == [("CPB", "OFFLINE")]
    # The eMSP is away just when the push is due: the outbox keeps it and sends it again.
    w.emsp.switch.down = True
    deliver()
    outbox = w.hub.platform.outbox
    [waiting] = outbox.store.items(state="pending", kind="ocpi.clientinfo")
    assert waiting.destination == "EMA" and waiting.attempts == 1
    w.emsp.switch.down = False
    wait_for(lambda: deliver() or pushed(w.emsp, CPB) == ["CONNECTED", "OFFLINE"], what="resent")
    assert listed()["CPB"] == "OFFLINE" and listed()["EMA"] == "CONNECTED"
    # Nothing is sent to an OFFLINE party (15.1.2): 4003, connection problem.
    refused = httpx.get(
        f"{w.url}/sender/locations",
        headers={**auth(w.emsp.token_to_hub), **to_from(CPB, EMA)},
    )
    assert refused.status_code == 502 and refused.json()["status_code"] == 4003

    w.cpo.switch.down = False
    changed = w.hub.run(hub.reconcile(probe=True))
    assert [(c["party_id"], c["status"]) for c in changed] == [("CPB", "CONNECTED")]
    deliver()
    assert pushed(w.emsp, CPB) == ["CONNECTED", "OFFLINE", "CONNECTED"]
    assert listed()["CPB"] == "CONNECTED"
    # The statements are in the log, like every other fact.
    stated = w.hub.ocpi.reads.statements("clientinfo")
    assert {r["object_id"] for r in stated} == {"CN*EMA", "CN*CPB"}


# --- several hub nodes on one database (shared_state = "database") ---------------------


@dataclass
class Nodes:
    """The hub as two nodes behind a balancer: `a` (the world's hub) and `b`, one database."""

    w: World
    b: Instance

    @property
    def b_url(self) -> str:
        return f"{self.b.base_url}/ocpi/2.2.1"

    def at_b(self, url: str) -> str:
        """A URL node A gave, as the balancer might send it: to node B."""
        assert url.startswith(self.w.url), url
        return self.b_url + url[len(self.w.url) :]


@pytest.fixture
def nodes(migrated_database_url: str, tmp_path: Path) -> Iterator[Nodes]:
    # No still-alive job of their own: the test runs node A's check when it wants it.
    shared: dict[str, Any] = {"database_url": migrated_database_url}
    shared |= {"shared_state": "database", "ocpi_still_alive_s": 0.0}
    a = start_instance(tmp_path / "a.db", "CN*HUB", "hub", **shared)
    b = start_instance(tmp_path / "b.db", "CN*HUB", "hub", **shared)
    a.ingest([*areas(), operator("OPB", name="充电B")])
    emsp, cpo = FakeParty(EMA, "EMSP"), FakeParty(CPB, "CPO", answers=False)
    emsp.server.start()
    cpo.server.start()
    w = World(a, emsp, cpo)
    w.connect(emsp, PeerKind.EMSP, None)
    w.connect(cpo, PeerKind.CPO, "OPB")
    try:
        yield Nodes(w, b)
    finally:
        emsp.server.stop()
        cpo.server.stop()
        b.stop()
        a.stop()


def start_session(n: Nodes, uid: str) -> str:
    """The eMSP starts a session at the CPO through node A; the response_url the CPO got."""
    w = n.w
    own_url = f"{w.emsp.base}/commands/START_SESSION/{uid}"
    command = {"response_url": own_url, "location_id": "LOC1", "evse_uid": "E1", "token": {}}
    answer = httpx.post(
        f"{w.url}/receiver/commands/START_SESSION",
        json=command,
        headers={**auth(w.emsp.token_to_hub), **to_from(CPB, EMA)},
    )
    assert answer.json()["data"]["result"] == "ACCEPTED", answer.text
    received = [s for s in w.cpo.got("/commands/START_SESSION") if s.body["response_url"]]
    return str(received[-1].body["response_url"])


def test_a_result_posted_to_another_node_reaches_the_requester(nodes: Nodes) -> None:
    n, w = nodes, nodes.w
    ticket = start_session(n, "u-1")
    assert ticket.startswith(f"{w.url}/hub/results/")
    w.hub.switch.down = True  # node A is away: only B can pass the result on
    posted = httpx.post(
        n.at_b(ticket), json={"result": "ACCEPTED"}, headers=auth(w.cpo.token_to_hub)
    )
    assert posted.status_code == 200 and posted.json()["status_code"] == 1000, posted.text
    [result] = w.emsp.got("/commands/START_SESSION/u-1")
    assert result.body == {"result": "ACCEPTED"}
    assert routing(result.headers) == ("CN", "EMA", "CN", "CPB")
    # The ticket is the CPO's to use, at any node.
    theirs = httpx.post(n.at_b(ticket), json={}, headers=auth(w.emsp.token_to_hub))
    assert theirs.status_code == 403 and theirs.json()["status_code"] == 2001

    # A ticket that has expired is refused at every node; the requester hears nothing.
    w.hub.switch.down = False
    assert w.hub.ocpi.hub is not None
    w.hub.ocpi.hub.ticket_s = 0.0
    late = start_session(n, "u-2")
    for url in (late, n.at_b(late)):
        refused = httpx.post(url, json={"result": "ACCEPTED"}, headers=auth(w.cpo.token_to_hub))
        assert refused.status_code == 404 and refused.json()["status_code"] == 2001
    assert not w.emsp.got("/commands/START_SESSION/u-2")


def test_a_party_node_a_found_offline_is_refused_by_node_b(nodes: Nodes) -> None:
    n, w = nodes, nodes.w
    hub_a, hub_b = w.hub.ocpi.hub, n.b.ocpi.hub
    assert hub_a is not None and hub_b is not None

    def tokens_via_b() -> httpx.Response:
        return httpx.get(
            f"{n.b_url}/sender/tokens",
            headers={**auth(w.cpo.token_to_hub), **to_from(EMA, CPB)},
        )

    assert tokens_via_b().json()["status_code"] == 1000  # B routes to the eMSP
    w.emsp.switch.down = True
    changed = w.hub.run(hub_a.reconcile(probe=True))  # A's still-alive check
    assert ("EMA", "OFFLINE") in {(c["party_id"], c["status"]) for c in changed}
    asked = len(w.emsp.seen)
    w.emsp.switch.down = False
    refused = tokens_via_b()
    assert refused.status_code == 502 and refused.json()["status_code"] == 4003, refused.text
    assert "OFFLINE" in refused.json()["status_message"]
    assert len(w.emsp.seen) == asked  # nothing was sent to it

    # The eMSP calls node B: heard from (within the still-alive time), it is CONNECTED
    # again for every node.
    hub_b.still_alive_s = 300.0
    back = httpx.get(f"{n.b_url}/hubclientinfo", headers=auth(w.emsp.token_to_hub))
    assert back.json()["status_code"] == 1000
    wait_for(lambda: tokens_via_b().json()["status_code"] == 1000, what="the eMSP back")

    def stated() -> str:
        found = {r["object_id"]: r["body"] for r in w.hub.ocpi.reads.statements("clientinfo")}
        return str(found["CN*EMA"])

    wait_for(lambda: '"status":"CONNECTED"' in stated(), what="CONNECTED stated by B")
