"""chargenet against an independent OCPI 2.2.1 implementation: an operator's back-end built
with extrawest-ocpi (py_ocpi), in its own venv and process. chargenet registers with it
(Token A → B → C, with py_ocpi as the server), py_ocpi pushes a Location to chargenet's
receiver, and chargenet pulls py_ocpi's Locations sender incrementally (date_from)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargenet.adapters.ocpi.pull import pull_peer
from chargenet.adapters.ocpi.wire import parse_time
from chargenet.app.ocpi import PeerKind, PeerStatus
from chargenet.kit.net import free_port
from tests.adapters.ocpi.spec import CPO, Instance, auth, start_instance, wait_for
from tests.builders import areas, operator

ROOT = Path(__file__).resolve().parents[3]
PEER_PYTHON = ROOT / ".venv-ocpi-peer" / "bin" / "python"
PEER_SCRIPT = Path(__file__).parent / "peer" / "cpo.py"

PROBE = {"X-Test-Probe": "1"}  # the test's own calls, which the peer does not record

pytestmark = pytest.mark.skipif(
    not PEER_PYTHON.exists(),
    reason="extrawest-ocpi's venv is missing: `./dev test` creates .venv-ocpi-peer",
)


@dataclass
class Peer:
    base_url: str
    state_file: Path

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    port = free_port()
    state = tmp_path / "peer-state.json"
    env = {
        **os.environ,
        "PORT": str(port),
        "STATE": str(state),
        "PROTOCOL": "http",
        "OCPI_HOST": f"127.0.0.1:{port}",
        "COUNTRY_CODE": "CN",
        "PARTY_ID": "XZP",
    }
    log = (tmp_path / "peer.log").open("w")
    process = subprocess.Popen(
        [str(PEER_PYTHON), str(PEER_SCRIPT)], env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return (
                httpx.get(f"{base}/ocpi/versions", headers=PROBE | auth("peer-token-a")).status_code
                == 200
            )
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=30, what="the extrawest-ocpi peer")
        yield Peer(base, state)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        if sys.exc_info()[0] is not None:
            sys.stderr.write((tmp_path / "peer.log").read_text())


@pytest.fixture
def ours(tmp_path: Path) -> Iterator[Instance]:
    instance = start_instance(tmp_path / "chargenet.db", "CN*CGN", "忻州市充电设施监管平台")
    instance.ingest([*areas(), operator("OP1", name="晋北充电")])
    yield instance
    instance.stop()


def test_register_receive_a_push_and_pull_incrementally(peer: Peer, ours: Instance) -> None:
    registered = ours.run(
        ours.ocpi.registration.connect(
            f"{peer.base_url}/ocpi/versions",
            "peer-token-a",
            kind=PeerKind.CPO,
            peer_id="CN*XZP",
            name="晋北充电",
            operator_id="OP1",
        )
    )
    # py_ocpi called us back with our token and stored our credentials and endpoints.
    theirs = peer.state()
    our_token = theirs["their_credentials"]["token"]
    assert theirs["their_credentials"]["url"] == f"{ours.base_url}/ocpi/versions"
    assert any(
        e["identifier"] == "locations" and e["role"] == "RECEIVER"
        for e in theirs["their_endpoints"]["endpoints"]
    )
    assert registered.status is PeerStatus.REGISTERED and registered.token_out == "peer-token-c"
    assert dict(registered.writable) == {CPO: "OP1"}

    # py_ocpi pushes a Location to our receiver (it reads our endpoints with our token).
    pushed = httpx.post(
        f"{peer.base_url}/push/2.2.1",
        json={
            "module_id": "locations",
            "object_id": "LOC1",
            "receivers": [
                {"endpoints_url": f"{ours.base_url}/ocpi/2.2.1", "auth_token": our_token}
            ],
        },
        headers=auth("peer-token-c"),
    )
    assert pushed.status_code == 200, pushed.text
    answer = pushed.json()["receiver_responses"][0]
    assert answer["status_code"] == 201 and answer["response"]["status_code"] == 1000
    stations, _ = ours.platform.read.stations()
    assert [(s["name"], s["operator_id"]) for s in stations] == [("原平服务区 LOC1", "OP1")]
    # What we hold is what py_ocpi's own sender says of LOC1, field by field. (py_ocpi
    # lower-cases every CiString it sends, ids included: `cn`, `xzp`, `loc1`.)
    sender = registered.endpoint("locations", "SENDER")
    assert sender is not None
    listed = httpx.get(sender, headers=PROBE | auth("peer-token-c"), follow_redirects=True)
    [theirs_loc1] = [loc for loc in listed.json()["data"] if loc["id"].upper() == "LOC1"]
    ours_loc1 = httpx.get(
        f"{ours.base_url}/ocpi/2.2.1/receiver/locations/CN/XZP/LOC1", headers=auth(our_token)
    ).json()
    assert_same(ours_loc1["data"], theirs_loc1)

    # We pull its Locations sender: both locations, statuses mapped.
    first = ours.run(pull_peer(ours.ocpi, registered))
    assert first == {"locations": 2}
    assert peer.state()["list_locations"]["date_from"] is None
    rows, _ = ours.platform.read.connectors(limit=100)
    assert sorted(r["status"] for r in rows) == ["available", "charging"]

    # The operator's system changes LOC2; the next pull asks only for what changed since.
    httpx.post(
        f"{peer.base_url}/test/update/LOC2",
        json={"status": "OUTOFORDER", "last_updated": "2025-05-01T09:00:00Z"},
    )
    second = ours.run(pull_peer(ours.ocpi, registered))
    assert second == {"locations": 1}
    assert peer.state()["list_locations"]["date_from"].startswith("2025-05-01 08:05:00")
    rows, _ = ours.platform.read.connectors(limit=100)
    assert sorted(r["status"] for r in rows) == ["available", "faulted"]

    # Every call we made to py_ocpi carried a unique X-Request-ID and an X-Correlation-ID.
    ours_calls = peer.state()["calls"]
    assert len(ours_calls) >= 5  # versions, details, credentials, pulls
    assert all(c["request_id"] and c["correlation_id"] for c in ours_calls), ours_calls
    request_ids = [c["request_id"] for c in ours_calls]
    assert len(set(request_ids)) == len(request_ids)


def assert_same(ours: object, theirs: object, where: str = "$") -> None:
    """Every field the peer states (null aside) is ours too, with the same value; EVSEs and
    connectors are matched by uid and id."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        for key, value in theirs.items():
            if value is not None:
                assert key in ours, f"{where}.{key} missing"
                assert_same(ours[key], value, f"{where}.{key}")
    elif (
        isinstance(theirs, list)
        and theirs
        and isinstance(theirs[0], dict)
        and ("uid" in theirs[0] or "id" in theirs[0])
    ):
        key = "uid" if "uid" in theirs[0] else "id"
        assert isinstance(ours, list), where
        mine = {o[key]: o for o in ours}
        for item in theirs:
            assert_same(mine.get(item[key]), item, f"{where}[{item[key]}]")
    elif isinstance(theirs, str) and where.endswith("last_updated"):
        assert isinstance(ours, str) and parse_time(ours) == parse_time(theirs), where
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def test_a_peer_clock_days_ahead_cannot_freeze_a_port(peer: Peer, ours: Instance) -> None:
    """py_ocpi's operator system reports LOC2 out of order with a clock two days ahead, then
    honestly available. The first is refused (2001) and moves no pull cursor; the second is
    taken, so the port does not stay faulted."""
    registered = ours.run(
        ours.ocpi.registration.connect(
            f"{peer.base_url}/ocpi/versions",
            "peer-token-a",
            kind=PeerKind.CPO,
            peer_id="CN*XZP",
            name="晋北充电",
            operator_id="OP1",
        )
    )
    assert ours.run(pull_peer(ours.ocpi, registered)) == {"locations": 2}
    ahead = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    update = f"{peer.base_url}/test/update/LOC2"
    httpx.post(update, json={"status": "OUTOFORDER", "last_updated": ahead})
    assert ours.run(pull_peer(ours.ocpi, registered)) == {"locations": 0}
    cursor = ours.ocpi.directory.cursor("CN*XZP", "locations")
    assert cursor is not None and cursor < datetime.now(UTC)

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    httpx.post(update, json={"status": "AVAILABLE", "last_updated": now})
    assert ours.run(pull_peer(ours.ocpi, registered)) == {"locations": 1}
    rows, _ = ours.platform.read.connectors(limit=100)
    assert sorted(r["status"] for r in rows) == ["available", "available"]


def test_a_driver_starts_and_stops_a_charge_at_an_extrawest_cpo(peer: Peer, ours: Instance) -> None:
    """py_ocpi as the CPO receiving Commands: chargenet finds its Commands receiver at
    registration, sends START_SESSION for a driver, gets py_ocpi's CommandResponse and then
    its CommandResult at the response_url; py_ocpi's Session (pushed, with the token it was
    given) is the driver's; STOP_SESSION ends it the same way."""
    registered = ours.run(
        ours.ocpi.registration.connect(
            f"{peer.base_url}/ocpi/versions",
            "peer-token-a",
            kind=PeerKind.CPO,
            peer_id="CN*XZP",
            name="晋北充电",
            operator_id="OP1",
        )
    )
    assert registered.endpoint("commands", "RECEIVER") is not None
    assert ours.run(pull_peer(ours.ocpi, registered)) == {"locations": 2}
    rows, _ = ours.platform.read.connectors(limit=100)
    [connector] = [r["connector_id"] for r in rows if r["status"] == "available"]
    p = ours.platform

    async def setup() -> str:
        await p.drivers.register("lina", "a-long-password")
        await p.settlement.top_up("lina", Decimal("100.00"), "manual", "k1")
        return p.accounts.login("lina", "a-long-password")[1]

    bearer = {"Authorization": f"Bearer {ours.run(setup())}"}
    api = f"{ours.base_url}/api/v1/driver"
    started = httpx.post(
        f"{api}/charges", json={"connector_id": connector}, headers=bearer, timeout=40
    )
    assert started.status_code == 200, started.text
    assert started.json()["outcome"] == "accepted"
    assert started.json()["answer"]["result"] == "ACCEPTED"  # py_ocpi's CommandResult
    [start] = peer.state()["commands"]
    assert start["command"] == "START_SESSION"
    assert start["body"]["location_id"].upper() == "LOC1"
    token = start["body"]["token"]
    assert token["type"] == "APP_USER" and token["party_id"].upper() == "CGN"

    # The charge point starts; py_ocpi pushes its Session, which carries that token.
    session = {
        "country_code": "CN",
        "party_id": "XZP",
        "id": "S9",
        "start_date_time": "2025-05-01T08:10:00Z",
        "kwh": 0,
        "cdr_token": {
            "country_code": token["country_code"],
            "party_id": token["party_id"],
            "uid": token["uid"],
            "type": "APP_USER",
            "contract_id": token["contract_id"],
        },
        "auth_method": "COMMAND",
        "location_id": "LOC1",
        "evse_uid": "LOC1-E1",
        "connector_id": "1",
        "currency": "CNY",
        "status": "ACTIVE",
        "last_updated": "2025-05-01T08:10:00Z",
    }
    assert httpx.post(f"{peer.base_url}/test/session/S9", json=session).status_code == 200
    pushed = httpx.post(
        f"{peer.base_url}/push/2.2.1",
        json={
            "module_id": "sessions",
            "object_id": "S9",
            "receivers": [
                {
                    "endpoints_url": f"{ours.base_url}/ocpi/2.2.1",
                    "auth_token": peer.state()["their_credentials"]["token"],
                }
            ],
        },
        headers=auth("peer-token-c"),
    )
    assert pushed.status_code == 200, pushed.text
    mine = httpx.get(f"{api}/sessions", headers=bearer).json()
    assert [s["session_id"].upper() for s in mine] == ["CN*XZP*S9"]

    stopped = httpx.post(
        f"{api}/sessions/{mine[0]['session_id']}/stop", json={}, headers=bearer, timeout=40
    )
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["outcome"] == "accepted"
    stop = peer.state()["commands"][1]
    assert stop["command"] == "STOP_SESSION" and stop["body"]["session_id"].upper() == "S9"
