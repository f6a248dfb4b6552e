"""Drivers' token digests are keyed with the deployment's secret; tokens registered under
the unkeyed digest of earlier versions keep working and are re-keyed; the local
authorisation list (cards and VINs in the clear) is read by admins and the charger's own
operator only."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from chargenet.adapters.api.auth import StaticTokens
from chargenet.bootstrap import Platform
from chargenet.core.access import Principal, Role
from chargenet.core.drivers import (
    DEVELOPMENT_TOKEN_SECRET,
    AuthStatus,
    TokenKind,
    legacy_token_digest,
    token_digest,
    use_token_secret,
)
from chargenet.core.events import SessionEnded, SessionStarted, TokenRegistered
from chargenet.core.ids import ConnectorId, SessionId
from chargenet.entrypoints.web import create_app
from tests.app.test_settlement import ADMIN, CARD, driver, prices, run, session
from tests.builders import T0, charger, meta, operator, small_world, station

VIN = "LSVAU2180N2183294"


@pytest.fixture
def secret() -> Iterator[None]:
    yield
    use_token_secret(DEVELOPMENT_TOKEN_SECRET)


def test_a_tokens_digest_depends_on_the_deployments_secret(secret: None) -> None:
    use_token_secret("deployment-one")
    one = token_digest(CARD)
    use_token_secret("deployment-two")
    two = token_digest(CARD)
    unkeyed = hashlib.sha256(b"chargenet-token\x1f" + CARD.encode()).hexdigest()[:40]
    assert len({one, two, unkeyed}) == 3
    assert legacy_token_digest(CARD) == unkeyed
    use_token_secret("deployment-one")
    assert token_digest(CARD) == one  # stable for a deployment


def test_the_log_and_state_hold_no_unkeyed_digest_of_a_card(platform: Platform) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        r = await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        assert r.status_code == 201, r.text
        p.ingestor.ingest(session("C1:1", CARD, 1_000))
        with p.store.engine.connect() as conn:
            log = " ".join(str(r[0]) for r in conn.execute(text("SELECT payload FROM events")))
            tokens = [r[0] for r in conn.execute(text("SELECT token_digest FROM driver_tokens"))]
            hashes = [r[0] for r in conn.execute(text("SELECT token_hash FROM sessions"))]
        return r.json()["token_digest"], log, tokens, hashes

    digest, log, tokens, hashes = run(platform, scenario)
    assert legacy_token_digest(CARD) not in log and CARD not in log
    assert tokens == hashes == [digest] == [token_digest(CARD)]


def _legacy_session(sid: str, uid: str, wh: int) -> list[Any]:
    """A session recorded by an earlier version: its token under the unkeyed digest."""
    return [
        SessionStarted(
            **meta(T0),
            session_id=SessionId(sid),
            connector_id=ConnectorId("C1-1-1"),
            meter_start_wh=0,
            token_hash=legacy_token_digest(uid),
        ),
        SessionEnded(
            **meta(T0 + timedelta(minutes=30)), session_id=SessionId(sid), meter_stop_wh=wh
        ),
    ]


def test_tokens_of_unkeyed_digests_keep_working_and_are_rekeyed(platform: Platform) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        out: dict[str, Any] = {}
        me = await driver(c, "lina")
        await c.post(
            "/api/v1/drivers/lina/topups", json={"amount": "100.00", "key": "k1"}, headers=ADMIN
        )
        # What an earlier version left: a card and an app token under unkeyed digests,
        # the card's text kept for local lists, and a session that names the card.
        app_token = "app-token-of-2024"
        for kind, uid in ((TokenKind.RFID, CARD), (TokenKind.APP, app_token)):
            p.ingestor.ingest(
                [
                    TokenRegistered(
                        **meta(T0 - timedelta(days=30)),
                        token_digest=legacy_token_digest(uid),
                        driver_id="lina",
                        kind=kind,
                    )
                ]
            )
        assert p.settlement_reads is not None
        p.settlement_reads.keep_uid(legacy_token_digest(CARD), CARD, T0)
        p.ingestor.ingest(_legacy_session("C1:old", CARD, 10_000))
        assert p.authoriser is not None
        out["before"] = p.authoriser.authorise(CARD).status
        out["app before"] = p.authoriser.authorise(app_token).status

        out["rekeyed"] = await p.drivers.rekey_known()
        out["again"] = await p.drivers.rekey_known()
        out["after"] = p.authoriser.authorise(CARD)
        out["app rekeyed"] = await p.drivers.rekey(app_token)
        out["app after"] = p.authoriser.authorise(app_token).status
        p.ingestor.ingest(session("C1:new", CARD, 10_000))  # the charger reports the keyed one
        await p.settlement.settle_pending()
        out["old charged"] = p.settlement.reads.entry("charge:C1:old")
        out["new charged"] = p.settlement.reads.entry("charge:C1:new")
        out["me"] = (await c.get("/api/v1/driver/me", headers=me)).json()
        out["list"] = [uid for uid, _ in p.settlement_reads.local_list()]
        return out

    out = run(platform, scenario)
    assert out["before"] is out["app before"] is AuthStatus.ACCEPTED
    assert (out["rekeyed"], out["again"]) == (1, 0)
    assert out["after"].status is AuthStatus.ACCEPTED and out["after"].driver_id == "lina"
    assert out["app rekeyed"] == token_digest("app-token-of-2024")
    assert out["app after"] is AuthStatus.ACCEPTED
    assert out["old charged"]["driver_id"] == out["new charged"]["driver_id"] == "lina"
    listed = {t["token_digest"] for t in out["me"]["tokens"]}
    assert listed == {token_digest(CARD), token_digest("app-token-of-2024")}
    assert out["list"] == [CARD]


PRINCIPALS = {
    "op1": Principal("op1-staff", Role.OPERATOR, operator_id="OP1"),
    "op2": Principal("op2-staff", Role.OPERATOR, operator_id="OP2"),
    "bureau": Principal("xinfu-bureau", Role.REGULATOR, area_code="140902"),
}


def test_a_chargers_local_list_is_read_by_admins_and_its_own_operator_only(
    platform: Platform,
) -> None:
    platform.ingestor.ingest(
        [*small_world(), prices(), operator("OP2", name="Two"), station("S2", "OP2")]
    )
    platform.ingestor.ingest([charger("C9", "S2", guns=1)])
    app = create_app(
        platform, api_tokens=["admin-secret"], authenticators=[StaticTokens(PRINCIPALS)]
    )

    async def main() -> dict[str, httpx.Response]:
        await platform.start()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://chargenet"
            ) as c:
                me = await driver(c, "lina")
                for kind, uid in (("rfid", CARD), ("vin", VIN)):
                    r = await c.post(
                        "/api/v1/driver/tokens", json={"kind": kind, "token": uid}, headers=me
                    )
                    assert r.status_code == 201, r.text
                url = "/api/v1/chargers/C1/local-list"
                return {
                    "admin": await c.get(url, headers=ADMIN),
                    "own operator": await c.get(url, headers={"Authorization": "Bearer op1"}),
                    "other operator": await c.get(url, headers={"Authorization": "Bearer op2"}),
                    "other's charger": await c.get(
                        "/api/v1/chargers/C9/local-list", headers={"Authorization": "Bearer op1"}
                    ),
                    "regulator": await c.get(url, headers={"Authorization": "Bearer bureau"}),
                    "driver": await c.get(url, headers=me),
                    "anonymous": await c.get(url),
                }
        finally:
            await platform.stop()

    answers = asyncio.run(main())
    listed = answers["admin"].json()
    assert {(e["uid"], e["kind"], e["status"]) for e in listed} == {
        (CARD, "rfid", "accepted"),
        (VIN, "vin", "accepted"),
    }
    assert answers["own operator"].json() == listed
    for who in ("other operator", "other's charger", "regulator", "driver"):
        assert answers[who].status_code in (403, 404), who
        assert CARD not in answers[who].text, who
    assert answers["anonymous"].status_code == 401
