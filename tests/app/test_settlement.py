"""Drivers, tokens and money through the API, on the real store: a driver's session is
priced by the tariff in force at its start, the wallet debited, the operator credited,
once — whatever is resent — and a driver sees only their own account."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from chargenet.bootstrap import Platform
from chargenet.core.drivers import TokenKey
from chargenet.core.events import SessionEnded, SessionStarted, StationPricesPublished
from chargenet.core.ids import ConnectorId, SessionId, StationId
from chargenet.core.ledger import PLATFORM_FEES, operator_account
from chargenet.core.tariffs import TariffPeriod
from chargenet.entrypoints.web import create_app
from tests.builders import T0, meta, small_world

ADMIN = {"Authorization": "Bearer admin-secret"}
CARD = "04A1B2C3D4"


def prices() -> StationPricesPublished:
    """0.80 + 0.40 a kWh until 16:00 local time, then 1.20 + 0.60 (T0 is 16:00 in Shanghai)."""
    return StationPricesPublished(
        **meta(T0 - timedelta(days=1)),
        station_id=StationId("S1"),
        periods=(
            TariffPeriod(
                start=time(0), energy_price=Decimal("0.80"), service_price=Decimal("0.40")
            ),
            TariffPeriod(
                start=time(16), energy_price=Decimal("1.20"), service_price=Decimal("0.60")
            ),
        ),
    )


def session(key: TokenKey, sid: str, uid: str, wh: int, minutes: int = 0) -> list[Any]:
    """A session of token `uid` as a charger reports it: the digest under the platform's
    key (`Platform.token_key`, from its settings)."""
    start = T0 + timedelta(minutes=minutes)
    return [
        SessionStarted(
            **meta(start),
            session_id=SessionId(sid),
            connector_id=ConnectorId("C1-1-1"),
            meter_start_wh=1_000,
            token_hash=key.digest(uid),
        ),
        SessionEnded(
            **meta(start + timedelta(minutes=40)),
            session_id=SessionId(sid),
            meter_stop_wh=1_000 + wh,
        ),
    ]


Scenario = Callable[[httpx.AsyncClient, Platform], Awaitable[Any]]


@asynccontextmanager
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    platform.ingestor.ingest([*small_world(), prices()])
    app = create_app(platform, api_tokens=["admin-secret"])
    await platform.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://chargenet"
        ) as c:
            yield c
    finally:
        await platform.stop()


def run(platform: Platform, scenario: Scenario) -> Any:
    async def main() -> Any:
        async with client(platform) as c:
            return await scenario(c, platform)

    return asyncio.run(main())


async def driver(c: httpx.AsyncClient, name: str, limit: str = "0") -> dict[str, str]:
    r = await c.post(
        "/api/v1/drivers",
        json={"driver_id": name, "password": "a-long-password", "credit_limit": limit},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/driver/login", json={"driver_id": name, "password": "a-long-password"}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_session_is_charged_once_at_the_price_in_force_and_the_operator_credited(
    platform: Platform,
) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        r = await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        assert r.status_code == 201, r.text
        for _ in range(2):  # the provider resends its notification
            r = await c.post(
                "/api/v1/drivers/lina/topups",
                json={"amount": "100.00", "provider": "manual", "key": "pay-1"},
                headers=ADMIN,
            )
            assert r.status_code == 200, r.text
        p.ingestor.ingest(session(p.token_key, "C1:7", CARD, 20_000))
        p.ingestor.ingest(session(p.token_key, "C1:7", CARD, 20_000))  # the session end resent
        assert await p.settlement.settle_pending() == 1
        assert await p.settlement.settle_pending() == 0
        assert await p.settlement.settle_session("C1:7") is None
        account = (await c.get("/api/v1/driver/me", headers=me)).json()
        receipt = (await c.get("/api/v1/driver/sessions/C1:7", headers=me)).json()
        owed = p.settlement.reads.balances([operator_account("OP1"), PLATFORM_FEES])
        return account, receipt, owed

    account, receipt, owed = run(platform, scenario)
    # 20 kWh at 1.20 + 0.60 (16:00 local, the evening period) = 36.00
    assert account["balance"] == "64.00"
    assert receipt["receipt"]["total"] == "36.00"
    assert receipt["receipt"]["price_per_kwh"] == "1.80"
    assert owed[operator_account("OP1")] + owed[PLATFORM_FEES] == Decimal("36.00")
    assert owed[PLATFORM_FEES] == Decimal("0.36")
    assert [t["kind"] for t in account["tokens"]] == ["rfid"]
    assert CARD not in str(account)


def test_refunds_and_disputes_move_money_back_and_never_more_than_was_charged(
    platform: Platform,
) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        await c.post(
            "/api/v1/drivers/lina/topups", json={"amount": "50.00", "key": "k1"}, headers=ADMIN
        )
        p.ingestor.ingest(session(p.token_key, "C1:8", CARD, 10_000))
        await p.settlement.settle_pending()
        part = await c.post(
            "/api/v1/settlement/sessions/C1:8/refund",
            json={"amount": "5.00", "key": "r1"},
            headers=ADMIN,
        )
        again = await c.post(
            "/api/v1/settlement/sessions/C1:8/refund",
            json={"amount": "5.00", "key": "r1"},
            headers=ADMIN,
        )
        too_much = await c.post(
            "/api/v1/settlement/sessions/C1:8/refund",
            json={"amount": "50.00", "key": "r2"},
            headers=ADMIN,
        )
        disputed = await c.post(
            "/api/v1/settlement/sessions/C1:8/dispute",
            json={"amount": "1.00", "key": "d1"},
            headers=ADMIN,
        )
        wallet = (await c.get("/api/v1/driver/wallet", headers=me)).json()
        account = (await c.get("/api/v1/driver/me", headers=me)).json()
        return part, again, too_much, disputed, wallet, account

    part, again, too_much, disputed, wallet, account = run(platform, scenario)
    assert part.status_code == again.status_code == disputed.status_code == 200
    assert too_much.status_code == 409
    # 50 − 18.00 (10 kWh at 1.80) + 5 refunded + 1 decided for the driver
    assert account["balance"] == "38.00"
    assert sorted(e["kind"] for e in wallet) == ["charge", "dispute", "refund", "topup"]


def test_a_drivers_wallet_never_goes_below_its_limit_the_rest_is_arrears(
    platform: Platform,
) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina", limit="10.00")
        await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        p.ingestor.ingest(
            session(p.token_key, "C1:9", CARD, 10_000)
        )  # 18.00 with no money on the wallet
        await p.settlement.settle_pending()
        return (await c.get("/api/v1/driver/me", headers=me)).json()

    account = run(platform, scenario)
    assert account["balance"] == "-10.00"
    assert account["arrears"] == "8.00"
    assert account["available"] == "0.00"


def test_a_driver_sees_and_stops_only_their_own_sessions_and_tokens(platform: Platform) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        lina = await driver(c, "lina")
        wang = await driver(c, "wang")
        r = await c.post(
            "/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=lina
        )
        digest = r.json()["token_digest"]
        p.ingestor.ingest(session(p.token_key, "C1:10", CARD, 1_000)[:1])  # still running
        return [
            await c.get("/api/v1/driver/sessions/C1:10", headers=wang),
            await c.post("/api/v1/driver/sessions/C1:10/stop", json={}, headers=wang),
            await c.post(f"/api/v1/driver/tokens/{digest}/block", json={}, headers=wang),
            await c.get("/api/v1/driver/sessions", headers=wang),
            await c.get("/api/v1/driver/sessions/C1:10", headers=lina),
            await c.get("/api/v1/driver/me"),
            await c.get("/api/v1/driver/me", headers=ADMIN),
        ]

    theirs, stop, block, mine, own, anonymous, admin = run(platform, scenario)
    assert theirs.status_code == stop.status_code == block.status_code == 404
    assert mine.json() == []
    assert own.status_code == 200 and own.json()["state"] == "active"
    assert anonymous.status_code == 401
    assert admin.status_code == 403


def test_the_background_job_charges_a_session_as_it_ends(platform: Platform) -> None:
    from chargenet.entrypoints.web import settle_sessions

    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        await c.post(
            "/api/v1/drivers/lina/topups", json={"amount": "50.00", "key": "k1"}, headers=ADMIN
        )
        job = asyncio.create_task(settle_sessions(p))
        await asyncio.sleep(0.1)
        await p.pipeline.submit(session(p.token_key, "C1:11", CARD, 10_000))
        # A deadline in seconds, not a count of polls: on a loaded machine the job takes
        # its time, and the balance below must be read once the charge is booked.
        deadline = asyncio.get_running_loop().time() + 30
        while (
            p.settlement.reads.entry("charge:C1:11") is None
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(0.02)
        job.cancel()
        return (await c.get("/api/v1/driver/me", headers=me)).json()

    assert run(platform, scenario)["balance"] == "32.00"


def test_an_operators_daily_statement_balances_to_the_cent(platform: Platform) -> None:
    import io

    from openpyxl import load_workbook

    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        await c.post(
            "/api/v1/drivers/lina/topups", json={"amount": "90.00", "key": "k1"}, headers=ADMIN
        )
        p.ingestor.ingest(session(p.token_key, "C1:20", CARD, 10_000))  # 18.00
        p.ingestor.ingest(session(p.token_key, "C1:21", CARD, 5_000, minutes=60))  # 9.00
        await p.settlement.settle_pending()
        await c.post(
            "/api/v1/settlement/sessions/C1:21/refund",
            json={"amount": "2.00", "key": "r"},
            headers=ADMIN,
        )
        return await c.get(
            "/api/v1/settlement/operators/OP1/statement",
            params={"day": "2025-05-01"},
            headers=ADMIN,
        )

    r = run(platform, scenario)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0]]
    labels = {row[0]: row for row in rows}
    # charges of that day: 18.00 − 0.18 and 9.00 − 0.09 to the operator (the refund is
    # posted today, on today's statement)
    amounts = [row[4] for row in rows if row[2] in ("charge", "refund")]
    assert sorted(amounts) == [8.91, 17.82]
    assert labels["opening balance"][4] == 0
    assert labels["closing balance"][4] == 26.73


def test_a_months_statements_sum_each_operators_movements_by_kind(platform: Platform) -> None:
    async def scenario(c: httpx.AsyncClient, p: Platform) -> Any:
        me = await driver(c, "lina")
        await c.post("/api/v1/driver/tokens", json={"kind": "rfid", "token": CARD}, headers=me)
        await c.post(
            "/api/v1/drivers/lina/topups", json={"amount": "90.00", "key": "k1"}, headers=ADMIN
        )
        p.ingestor.ingest(session(p.token_key, "C1:30", CARD, 10_000))  # 18.00
        p.ingestor.ingest(session(p.token_key, "C1:31", CARD, 5_000, minutes=60))  # 9.00
        await p.settlement.settle_pending()
        may = await c.get("/api/v1/settlement/statements?month=2025-05", headers=ADMIN)
        june = await c.get("/api/v1/settlement/statements?month=2025-06", headers=ADMIN)
        bad = await c.get("/api/v1/settlement/statements?month=2025-13", headers=ADMIN)
        day = p.settlement.reads.account_movements(
            operator_account("OP1"), T0 - timedelta(days=1), T0 + timedelta(days=1)
        )
        return may, june, bad, day

    may, june, bad, (_, rows) = run(platform, scenario)
    assert may.status_code == 200, may.text
    [op1] = may.json()
    # 18.00 and 9.00 less the platform's 1 %: what the day's rows add up to, too
    assert op1["operator_id"] == "OP1" and op1["opening"] == "0.00"
    assert op1["movements"] == {"charge": {"count": 2, "amount": "26.73"}}
    assert Decimal(op1["closing"]) == sum((r["amount"] for r in rows), Decimal(0))
    assert june.json() == [
        {"operator_id": "OP1", "opening": "26.73", "movements": {}, "closing": "26.73"}
    ]
    assert bad.status_code == 422
