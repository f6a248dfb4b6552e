"""Versions and Credentials: the Token A → B → C handshake as the specification describes
it, driven by a client written from the spec with its own versions endpoint on a loopback
port (our side calls it back during registration)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.adapters.storage.tables_ocpi import ocpi_credentials
from chargenet.app.ocpi import PeerKind, PeerStatus
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.entrypoints.cli.main import app as cli
from chargenet.entrypoints.web import create_app
from chargenet.kit.net import free_port
from tests.adapters.ocpi.spec import CPO, LiveServer, auth
from tests.builders import small_world

TOKEN_B = "cpo-token-b-for-chargenet"


@dataclass
class Stub:
    """The other party's versions and details, checking the token it gave us (B)."""

    url: str
    seen: list[str] = field(default_factory=list)


@pytest.fixture
def stub() -> Iterator[Stub]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = FastAPI()
    found = Stub(f"{base}/ocpi/versions")

    def check(request: Request) -> None:
        found.seen.append(request.headers.get("authorization", ""))

    @app.get("/ocpi/versions")
    async def versions(request: Request) -> dict[str, Any]:
        check(request)
        data = [{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}]
        return {"data": data, "status_code": 1000, "timestamp": "2025-05-01T08:00:00Z"}

    @app.get("/ocpi/2.2.1")
    async def details(request: Request) -> dict[str, Any]:
        check(request)
        endpoints = [
            {
                "identifier": "credentials",
                "role": "RECEIVER",
                "url": f"{base}/ocpi/2.2.1/credentials",
            },
            {"identifier": "locations", "role": "SENDER", "url": f"{base}/ocpi/2.2.1/locations"},
        ]
        return {
            "data": {"version": "2.2.1", "endpoints": endpoints},
            "status_code": 1000,
            "timestamp": "2025-05-01T08:00:00Z",
        }

    server = LiveServer(app, port)
    server.start()
    yield found
    server.stop()


@pytest.fixture
def ours(platform: Platform) -> Iterator[tuple[TestClient, OcpiParty]]:
    platform.ingestor.ingest(small_world())
    ocpi = build_ocpi(platform)
    with TestClient(create_app(platform, routers=[ocpi_router(ocpi)])) as client:
        yield client, ocpi
    ocpi.directory.dispose()


def credentials(url: str, party: str = "XZP") -> dict[str, Any]:
    return {
        "token": TOKEN_B,
        "url": url,
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "晋北充电"},
                "party_id": party,
                "country_code": "CN",
            }
        ],
    }


def test_token_a_then_b_then_c(
    ours: tuple[TestClient, OcpiParty], stub: Stub, platform: Platform
) -> None:
    client, ocpi = ours
    token_a = ocpi.registration.issue_token_a(
        "CN*XZP", PeerKind.CPO, "晋北充电", owner=CPO, operator_id="OP1"
    )
    versions = client.get("/ocpi/versions", headers=auth(token_a)).json()
    assert versions["status_code"] == 1000 and versions["timestamp"].endswith("Z")
    details = client.get(urlsplit(versions["data"][0]["url"]).path, headers=auth(token_a)).json()
    identifiers = {(e["identifier"], e["role"]) for e in details["data"]["endpoints"]}
    assert {
        ("credentials", "RECEIVER"),
        ("locations", "SENDER"),
        ("locations", "RECEIVER"),
    } <= identifiers
    # Token A opens registration only.
    assert client.get("/ocpi/2.2.1/sender/locations", headers=auth(token_a)).status_code == 401

    reply = client.post(
        "/ocpi/2.2.1/credentials", json=credentials(stub.url), headers=auth(token_a)
    ).json()
    assert reply["status_code"] == 1000
    token_c = reply["data"]["token"]
    assert token_c not in (token_a, TOKEN_B)
    assert reply["data"]["roles"][0]["role"] == "NAP"
    # We called their versions and details with their token B, base64-encoded.
    expected = "Token " + base64.b64encode(TOKEN_B.encode()).decode()
    assert stub.seen == [expected, expected]

    assert client.get("/ocpi/versions", headers=auth(token_a)).status_code == 401  # A discarded
    listed = client.get("/ocpi/2.2.1/sender/locations", headers=auth(token_c))
    assert listed.status_code == 200 and listed.json()["status_code"] == 1000
    peer = ocpi.directory.peer("CN*XZP")
    assert peer is not None and peer.status is PeerStatus.REGISTERED and peer.token_out == TOKEN_B
    assert (
        peer.endpoint(
            "locations",
            "SENDER",
        )
        is not None
    )
    # Tokens presented to us are kept as digests only.
    with platform.store.engine.connect() as conn:
        stored = [row.token_hash for row in conn.execute(select(ocpi_credentials))]
    assert len(stored) == 2 and token_a not in stored and token_c not in stored

    # Registered already: POST again is refused; PUT renews the token.
    again = client.post(
        "/ocpi/2.2.1/credentials", json=credentials(stub.url), headers=auth(token_c)
    )
    assert again.status_code == 405
    renewed = client.put(
        "/ocpi/2.2.1/credentials", json=credentials(stub.url), headers=auth(token_c)
    ).json()
    token_c2 = renewed["data"]["token"]
    ocpi.forget_callers()
    assert client.get("/ocpi/2.2.1/sender/locations", headers=auth(token_c)).status_code == 401
    assert client.get("/ocpi/2.2.1/sender/locations", headers=auth(token_c2)).status_code == 200

    # Revoked: every call is refused, from the next one on (the callers this node holds
    # in memory are forgotten by the revocation itself).
    assert client.get("/ocpi/versions", headers=auth(token_c2)).status_code == 200
    ocpi.registration.revoke("CN*XZP")
    assert client.get("/ocpi/versions", headers=auth(token_c2)).status_code == 401
    status = {"status": "AVAILABLE", "last_updated": "2025-05-01T08:00:00Z"}
    patch = client.patch(
        "/ocpi/2.2.1/receiver/locations/CN/XZP/LOC1/E1", json=status, headers=auth(token_c2)
    )
    assert patch.status_code == 401


def test_registration_naming_another_party_is_refused(
    ours: tuple[TestClient, OcpiParty], stub: Stub
) -> None:
    client, ocpi = ours
    token_a = ocpi.registration.issue_token_a(
        "CN*XZP", PeerKind.CPO, "晋北充电", owner=CPO, operator_id="OP1"
    )
    reply = client.post(
        "/ocpi/2.2.1/credentials", json=credentials(stub.url, party="ZZZ"), headers=auth(token_a)
    )
    assert reply.json()["status_code"] == 2001
    peer = ocpi.directory.peer("CN*XZP")
    assert peer is not None and peer.status is PeerStatus.PENDING


def test_unreachable_versions_url_is_3001(ours: tuple[TestClient, OcpiParty]) -> None:
    client, ocpi = ours
    token_a = ocpi.registration.issue_token_a(
        "CN*XZP", PeerKind.CPO, "晋北充电", owner=CPO, operator_id="OP1"
    )
    dead = f"http://127.0.0.1:{free_port()}/ocpi/versions"
    reply = client.post(
        "/ocpi/2.2.1/credentials", json=credentials(dead), headers=auth(token_a)
    ).json()
    assert reply["status_code"] == 3001


def test_cli_issues_token_a_for_a_registered_operator_only(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    (tmp_path / "operators.csv").write_text("operator_id,name\nOP1,晋北充电\n", encoding="utf-8")
    assert (
        runner.invoke(cli, ["import", str(tmp_path / "operators.csv"), "--db", db]).exit_code == 0
    )
    ok = runner.invoke(
        cli, ["ocpi", "issue-token", "--party", "CN*XZP", "--operator", "OP1", "--db", db]
    )
    assert ok.exit_code == 0, ok.output
    assert "token A:" in ok.output and "/ocpi/versions" in ok.output
    unknown = runner.invoke(
        cli, ["ocpi", "issue-token", "--party", "CN*ABC", "--operator", "NOPE", "--db", db]
    )
    assert unknown.exit_code == 1 and "not in the registry" in unknown.output
    listed = runner.invoke(cli, ["ocpi", "peers", "--db", db])
    assert "CN*XZP" in listed.output and "pending" in listed.output
    revoked = runner.invoke(cli, ["ocpi", "revoke", "CN*XZP", "--db", db])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.output
