"""Drivers' token digests are keyed with the deployment's secret; tokens registered under
the unkeyed digest of earlier versions keep working and are re-keyed; the local
authorisation list (cards and VINs in the clear) is read by admins and the charger's own
operator only."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from chargenet.adapters.api.auth import StaticTokens
from chargenet.bootstrap import Platform, bootstrap, warn_development_key
from chargenet.config import Settings
from chargenet.core.access import Principal, Role
from chargenet.core.drivers import (
    DEVELOPMENT_TOKEN_KEY,
    AuthStatus,
    TokenKey,
    TokenKind,
    legacy_token_digest,
)
from chargenet.core.events import SessionEnded, SessionStarted, TokenRegistered
from chargenet.core.ids import ConnectorId, SessionId
from chargenet.entrypoints.web import create_app
from tests.app.test_settlement import ADMIN, CARD, driver, prices, run, session
from tests.builders import T0, charger, meta, operator, small_world, station

VIN = "LSVAU2180N2183294"


def test_a_tokens_digest_depends_on_the_deployments_secret() -> None:
    one = TokenKey.of("deployment-one").digest(CARD)
    two = TokenKey.of("deployment-two").digest(CARD)
    unkeyed = hashlib.sha256(b"chargenet-token\x1f" + CARD.encode()).hexdigest()[:40]
    assert len({one, two, unkeyed}) == 3
    assert legacy_token_digest(CARD) == unkeyed
    assert TokenKey.of("deployment-one").digest(CARD) == one  # stable for a deployment
    # What earlier versions stored under the development key (computed by the module-level
    # digest this replaced): HMAC-SHA256 over the domain and the upper-cased text.
    assert DEVELOPMENT_TOKEN_KEY.digest("04a1b2c3") == "7289cee7d5195a7da969f5c9a20e87a19a318216"
    with pytest.raises(ValueError, match="cannot be empty"):
        TokenKey.of("")


def test_two_platforms_in_one_process_digest_with_their_own_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The key comes from each platform's settings, not from the process: a charger's
    session and a registered card agree within a platform, and differ across deployments.
    Only platforms without a secret warn, once per process however many start."""
    digests = {}
    warn_development_key.cache_clear()  # as in a process that starts now
    runs = (("one", "deployment-one"), ("dev", None), ("two", "deployment-two"), ("dev2", None))
    with caplog.at_level(logging.WARNING, logger="chargenet.bootstrap"):
        for name, secret in runs:
            settings = Settings(
                database_url=f"sqlite:///{tmp_path / name}.db",
                sqlite_synchronous="OFF",
                token_secret=secret,
            )
            p = bootstrap(settings)
            try:
                assert p.drivers.key is p.token_key
                assert p.authoriser is not None and p.authoriser.key is p.token_key
                assert p.ocpp is not None and p.ocpp.config.token_key is p.token_key
                digests[name] = p.token_key.digest(CARD)
            finally:
                p.close()
    assert digests["one"] == TokenKey.of("deployment-one").digest(CARD)
    assert digests["dev"] == digests["dev2"] == DEVELOPMENT_TOKEN_KEY.digest(CARD)
    assert len(set(digests.values())) == 3
    warned = [r for r in caplog.records if "CHARGENET_TOKEN_SECRET" in r.getMessage()]
    assert len(warned) == 1


def test_the_log_and_state_hold_no_unkeyed_digest_of_a_card(platform: Platform) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        r = await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        assert r.status_code == 201, r.text
        p.ingestor.ingest(session(p.token_key, "C1:1", CARD, 1_000))
        with p.store.engine.connect() as conn:
            log = " ".join(str(r[0]) for r in conn.execute(text("SELECT payload FROM events")))
            tokens = [r[0] for r in conn.execute(text("SELECT token_digest FROM driver_tokens"))]
            hashes = [r[0] for r in conn.execute(text("SELECT token_hash FROM sessions"))]
        return r.json()["token_digest"], log, tokens, hashes

    digest, log, tokens, hashes = run(platform, scenario)
    assert legacy_token_digest(CARD) not in log and CARD not in log
    assert tokens == hashes == [digest] == [platform.token_key.digest(CARD)]


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
        p.ingestor.ingest(
            session(p.token_key, "C1:new", CARD, 10_000)
        )  # the charger reports the keyed one
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
    key = platform.token_key
    assert out["app rekeyed"] == key.digest("app-token-of-2024")
    assert out["app after"] is AuthStatus.ACCEPTED
    assert out["old charged"]["driver_id"] == out["new charged"]["driver_id"] == "lina"
    listed = {t["token_digest"] for t in out["me"]["tokens"]}
    assert listed == {key.digest(CARD), key.digest("app-token-of-2024")}
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
