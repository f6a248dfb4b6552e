"""OCPI 2.2.1 Tokens with chargenet as eMSP: a CPO pulls the drivers' cards (never their
app tokens) and asks for real-time authorization, answered from the same rule as every
other intake: ALLOWED, BLOCKED, EXPIRED, NO_CREDIT, or 2004 Unknown Token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.drivers import TokenKey, TokenKind
from chargenet.core.events import (
    DriverRegistered,
    LedgerPosted,
    TokenRegistered,
    TokenStatusChanged,
)
from chargenet.core.ledger import topup
from chargenet.entrypoints.web import create_app
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import CPO, auth
from tests.builders import T0, meta, small_world

TOKENS = "/ocpi/2.2.1/sender/tokens"


def _token(
    key: TokenKey, uid: str, kind: TokenKind = TokenKind.RFID, driver: str = "lina", **kw: Any
) -> TokenRegistered:
    digest = key.digest(uid)
    return TokenRegistered(**meta(T0), token_digest=digest, driver_id=driver, kind=kind, **kw)


@pytest.fixture
def cpo(any_platform: Platform) -> Iterator[tuple[TestClient, dict[str, str]]]:
    p = any_platform
    reads = p.settlement_reads
    assert reads is not None
    p.ingestor.ingest(
        [
            *small_world(),
            DriverRegistered(**meta(T0), driver_id="lina"),
            DriverRegistered(**meta(T0), driver_id="poor"),
            _token(p.token_key, "04CARD01"),
            _token(p.token_key, "04LOST01"),
            TokenStatusChanged(
                **meta(T0), token_digest=p.token_key.digest("04LOST01"), blocked=True
            ),
            _token(p.token_key, "04OLD001", expires_at=T0 - timedelta(days=1)),
            _token(p.token_key, "APPSECRET0000000000A", TokenKind.APP),
            _token(p.token_key, "04POOR01", driver="poor"),
            LedgerPosted(
                **meta(T0),
                entry=topup("t1", "lina", Decimal("20.00"), "manual", Decimal(0), "CNY"),
            ),
        ]
    )
    for uid in ("04CARD01", "04LOST01", "04OLD001", "04POOR01"):
        reads.keep_uid(p.token_key.digest(uid), uid, T0)
    ocpi = build_ocpi(p)
    token = spec.registered_peer(ocpi, "CN*XZP", CPO, "OP1")
    with TestClient(create_app(p, routers=[ocpi_router(ocpi)])) as client:
        yield client, auth(token)
    ocpi.directory.dispose()


def test_a_cpo_pulls_the_drivers_cards_and_never_their_app_tokens(
    cpo: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = cpo
    r = client.get(TOKENS, headers=headers, params={"limit": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_code"] == 1000
    assert r.headers["X-Total-Count"] == "4" and 'rel="next"' in r.headers["Link"]
    rest = client.get(TOKENS, headers=headers, params={"offset": 3}).json()["data"]
    tokens = {t["uid"]: t for t in body["data"] + rest}
    assert set(tokens) == {"04CARD01", "04LOST01", "04OLD001", "04POOR01"}
    assert tokens["04CARD01"]["type"] == "RFID" and tokens["04CARD01"]["valid"] is True
    assert tokens["04LOST01"]["valid"] is False and tokens["04OLD001"]["valid"] is False
    assert tokens["04CARD01"]["country_code"] == "CN" and tokens["04CARD01"]["party_id"] == "CGN"
    assert "APPSECRET" not in r.text + str(rest)


def test_real_time_authorization_answers_from_the_platforms_rule(
    cpo: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = cpo

    def ask(uid: str, kind: str = "RFID") -> tuple[int, dict[str, Any]]:
        r = client.post(f"{TOKENS}/{uid}/authorize", params={"type": kind}, headers=headers)
        return r.status_code, r.json()

    answers = {uid: ask(uid) for uid in ("04CARD01", "04LOST01", "04OLD001", "04POOR01")}
    assert {uid: a[1]["data"]["allowed"] for uid, a in answers.items()} == {
        "04CARD01": "ALLOWED",
        "04LOST01": "BLOCKED",
        "04OLD001": "EXPIRED",
        "04POOR01": "NO_CREDIT",
    }
    assert answers["04CARD01"][1]["data"]["token"]["uid"] == "04CARD01"
    assert ask("APPSECRET0000000000A", "APP_USER")[1]["data"]["allowed"] == "ALLOWED"
    code, unknown = ask("NOBODY01")
    assert code == 404 and unknown["status_code"] == 2004
    code, wrong_type = ask("04CARD01", "APP_USER")
    assert code == 404 and wrong_type["status_code"] == 2004
    refused = client.post(f"{TOKENS}/04CARD01/authorize")
    assert refused.status_code == 401
