"""Fuzzing the OCPI party: pushed objects with junk in them, documents that are no OCPI
object at all, bytes that are not JSON, and query parameters of the sender modules. Every
answer is an OCPI envelope with a client error (2xxx, HTTP 4xx or 200) or success, never
a server error (3000, HTTP 5xx); and what was accepted before is still there after."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.app.ocpi import Party, PeerKind
from chargenet.bootstrap import bootstrap, build_ocpi
from chargenet.config import Settings
from chargenet.entrypoints.web import create_app
from chargenet.kit.net import free_port
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import CPO, auth
from tests.builders import small_world
from tests.fuzzing import JSON_DOCUMENTS, ODD_NUMBERS, ODD_TEXT, fuzz, mutated

pytestmark = pytest.mark.fuzz

BASE = "/ocpi/2.2.1/receiver"
KEPT = f"{BASE}/locations/CN/XZP/LOC1"  # accepted before the fuzzing; must survive it
FUZZED = f"{BASE}/locations/CN/XZP/LOCF"


@dataclass
class Env:
    client: TestClient
    ocpi: OcpiParty
    token: str

    def send(self, method: str, path: str, body: bytes, token: str | None = None) -> Any:
        response = self.client.request(
            method,
            path,
            content=body,
            headers={**auth(token or self.token), "content-type": "application/json"},
        )
        assert response.status_code < 500, (method, path, body[:300], response.text[:500])
        reply = response.json()
        assert reply["status_code"] != 3000, (method, path, body[:300], reply)
        return reply


@pytest.fixture(scope="module")
def env(module_database_url: str) -> Iterator[Env]:
    platform = bootstrap(Settings(database_url=module_database_url, sqlite_synchronous="OFF"))
    platform.ingestor.ingest(small_world())
    ocpi = build_ocpi(platform)
    token = spec.registered_peer(ocpi, "CN*XZP", CPO, "OP1")
    with TestClient(create_app(platform, routers=[ocpi_router(ocpi)])) as client:
        found = Env(client, ocpi, token)
        body = json.dumps(spec.location("LOC1", evses=[spec.evse("E1", connectors=2)]))
        assert found.send("PUT", KEPT, body.encode())["status_code"] == 1000
        body = json.dumps(spec.location("LOCF", evses=[spec.evse("EF")]))
        assert found.send("PUT", FUZZED, body.encode())["status_code"] == 1000
        yield found
    ocpi.directory.dispose()
    platform.close()


def _kept(env: Env) -> Any:
    return env.client.get(KEPT, headers=auth(env.token)).json()["data"]


# (method, path, a valid body for it, top-level keys the mutation leaves alone)
TARGETS: list[tuple[str, str, Callable[[], dict[str, Any]], tuple[str, ...]]] = [
    ("PUT", FUZZED, lambda: spec.location("LOCF", evses=[spec.evse("EF")]), ()),
    ("PATCH", FUZZED, lambda: {"name": "新名字", "last_updated": spec.ts(5)}, ()),
    ("PUT", f"{FUZZED}/EF", lambda: spec.evse("EF", "CHARGING"), ()),
    ("PATCH", f"{FUZZED}/EF", lambda: {"status": "AVAILABLE", "last_updated": spec.ts(6)}, ()),
    ("PUT", f"{FUZZED}/EF/1", lambda: spec.connector("1"), ()),
    ("PATCH", f"{FUZZED}/EF/1", lambda: {"max_amperage": 125, "last_updated": spec.ts(7)}, ()),
    ("PUT", f"{BASE}/sessions/CN/XZP/SF", lambda: spec.session("SF", location_id="LOCF"), ()),
    ("PATCH", f"{BASE}/sessions/CN/XZP/SF", lambda: {"kwh": 3.5, "last_updated": spec.ts(8)}, ()),
    ("PUT", f"{BASE}/tariffs/CN/XZP/TF", lambda: spec.tariff("TF"), ()),
    ("POST", f"{BASE}/cdrs", lambda: spec.cdr("CF"), ()),
]


@pytest.mark.parametrize(
    ("method", "path", "valid", "keep"),
    TARGETS,
    ids=[f"{m} {p[len(BASE) :]}" for m, p, *_ in TARGETS],
)
def test_pushed_objects_with_junk_get_a_client_error_and_lose_nothing(
    env: Env,
    method: str,
    path: str,
    valid: Callable[[], dict[str, Any]],
    keep: tuple[str, ...],
) -> None:
    before = _kept(env)
    bodies = st.one_of(
        mutated(valid(), keep).map(lambda d: json.dumps(d, ensure_ascii=False).encode()),
        JSON_DOCUMENTS.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=64),
        st.sampled_from([b"[" * 5000, b'{"a":' * 50, b"NaN", b""]),
    )

    @fuzz(40)
    @given(bodies)
    @example(b"[" * 100_000)  # the parser's recursion limit: always tried
    def push(body: bytes) -> None:
        env.send(method, path, body)

    push()
    assert _kept(env) == before
    # The pipeline still takes valid pushes.
    ok = json.dumps(spec.session("S2", location_id="LOC1")).encode()
    assert env.send("PUT", f"{BASE}/sessions/CN/XZP/S2", ok)["status_code"] == 1000


def test_credentials_with_junk_get_a_client_error(env: Env) -> None:
    dead = f"http://127.0.0.1:{free_port()}/ocpi/versions"  # fails fast: nothing listens
    valid = {
        "token": "their-token-b",
        "url": dead,
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "晋北充电"},
                "party_id": "XZP",
                "country_code": "CN",
            }
        ],
    }

    token_a = env.ocpi.registration.issue_token_a(
        "CN*NEW", PeerKind.CPO, "新运营商", owner=Party("CN", "NEW"), operator_id="OP1"
    )

    @fuzz(120)
    @given(st.one_of(mutated(valid, keep=("url",)), JSON_DOCUMENTS))
    def register(body: Any) -> None:
        reply = env.send("POST", "/ocpi/2.2.1/credentials", json.dumps(body).encode(), token_a)
        assert reply["status_code"] != 1000  # the versions URL is dead: never registered

    register()


@pytest.mark.parametrize("module", ["locations", "sessions", "cdrs", "tariffs"])
def test_sender_query_parameters_with_junk_get_a_client_error(env: Env, module: str) -> None:
    values = st.one_of(st.text(max_size=12), ODD_TEXT, ODD_NUMBERS.map(str))

    @fuzz(120)
    @given(st.dictionaries(st.sampled_from(["offset", "limit", "date_from", "date_to"]), values))
    def read(params: dict[str, str]) -> None:
        response = env.client.get(
            f"/ocpi/2.2.1/sender/{module}", params=params, headers=auth(env.token)
        )
        assert response.status_code < 500, (params, response.text[:300])
        assert response.json()["status_code"] in (1000, 2001), (params, response.text[:300])

    read()
