"""The driver API (/api/v1/driver/…): one account to charge anywhere, and the platform's
administration of drivers and their money (/api/v1/drivers/…, /api/v1/settlement/…).

A driver logs in with `POST /api/v1/driver/login` and calls the rest with the returned
`Authorization: Bearer <token>`; every driver route is about the caller's own account only
(someone else's session or token is 404, as if it did not exist). docs/settlement.md.
"""

# No `from __future__ import annotations`: FastAPI reads the body models' annotations.

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from chargenet.adapters.api.auth import Authenticator
from chargenet.adapters.api.binding import Admin, Member, bind, caller, services
from chargenet.app.accounts import SESSION_LIFETIME, AccountService, LoginRefused
from chargenet.app.orders import Failure, OrderResult
from chargenet.app.settlement import (
    DisputeRow,
    DriverService,
    MovementRow,
    RemoteCharging,
    SettlementReads,
    SettlementService,
    statements,
)
from chargenet.core.access import Audience, Principal, Role, declared
from chargenet.core.drivers import TokenKind
from chargenet.core.errors import UnknownReference
from chargenet.core.ledger import arrears, cents, operator_account, wallet
from chargenet.core.supervision import OrderOutcome
from chargenet.kit.timeutil import local_midnight_utc

Amount = Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)]
Key = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
Timeout = Annotated[float, Field(gt=0, le=120)]
# (operator, local day, zone, opening, movements, currency, generated) → XLSX
Statement = Callable[[str, date, str, Decimal, Sequence[MovementRow], str, datetime], bytes]


class BearerSessions:
    """An authenticator: a driver's login session presented as a bearer token (an app
    sends no cookies). Staff log in to the dashboard with its cookie, not this way."""

    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts

    def principal(self, request: Request) -> Principal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        found = self.accounts.resolve(token.strip())
        if found is None or found[0].role is not Role.DRIVER:
            return None
        return found[0].principal()


class DriverLogin(BaseModel):
    driver_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class DriverIn(BaseModel):
    driver_id: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    display_name: str = Field(default="", max_length=200)
    credit_limit: Decimal = Field(default=Decimal(0), ge=0, le=100_000, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class TokenIn(BaseModel):
    kind: Literal["rfid", "app", "vin"]
    token: str | None = Field(
        default=None, max_length=64, description="a card's uid or a VIN; none for an app token"
    )
    label: str = Field(default="", max_length=64)
    expires_at: datetime | None = None


class BlockIn(BaseModel):
    blocked: bool = True
    reason: str = Field(default="", max_length=500)


class StartIn(BaseModel):
    connector_id: str = Field(min_length=1, max_length=128)
    token: str | None = Field(
        default=None,
        max_length=64,
        description="one of your tokens; none: the platform issues one for this start",
    )
    timeout_s: Timeout = 30.0


class StopIn(BaseModel):
    timeout_s: Timeout = 30.0


class TopUpIn(BaseModel):
    amount: Amount
    provider: str = Field(default="manual", pattern=r"^[a-z0-9_-]{1,32}$")
    key: Key = Field(description="the provider's transaction id: a resend changes nothing")


class RefundIn(BaseModel):
    amount: Amount | None = Field(default=None, description="none: what is left of the charge")
    key: Key


class DisputeIn(BaseModel):
    amount: Decimal = Field(
        ge=-1_000_000,
        le=1_000_000,
        decimal_places=2,
        description="> 0 from the operator to the driver, < 0 from the driver to the operator",
    )
    key: Key


_FAILED = {Failure.NOT_CONNECTED: 409, Failure.CONNECTION_LOST: 502, Failure.ERROR: 502}


def _answered(body: dict[str, Any], result: OrderResult) -> Any:
    """The charger's answer as the caller gets it (status codes as for commands)."""
    body |= {"outcome": result.outcome.value, "detail": result.detail, "answer": result.answer}
    if result.outcome is OrderOutcome.TIMEOUT:
        return JSONResponse(body, status_code=504)
    if result.outcome is OrderOutcome.FAILED:
        status = _FAILED[result.failure] if result.failure is not None else 502
        return JSONResponse(body, status_code=status)
    return body


@dataclass(frozen=True)
class DriversApi:
    """Drivers' accounts and money as one app composed them. `statement` renders an
    operator's day as XLSX (None: not served); `operators(id)` finds an operator (None:
    every id is taken as one)."""

    accounts: AccountService
    drivers: DriverService
    settlement: SettlementService
    charging: RemoteCharging
    statement: Statement | None = None
    zone: str = "Asia/Shanghai"
    operators: Callable[[str], object | None] | None = None

    @property
    def reads(self) -> SettlementReads:
        return self.drivers.reads

    async def known_operator(self, operator_id: str) -> None:
        # An account nobody holds is no operator with nothing owed: the id is wrong.
        found = self.operators
        if found is not None and await run_in_threadpool(found, operator_id) is None:
            raise UnknownReference("operator", operator_id)

    def account(self, driver_id: str) -> dict[str, Any]:
        reads = self.reads
        found = reads.driver(driver_id)
        if found is None:
            raise HTTPException(404, "no driver account")
        balances = reads.balances([wallet(driver_id), arrears(driver_id)])
        balance = balances.get(wallet(driver_id), Decimal(0))
        return {
            "driver_id": driver_id,
            "display_name": found["display_name"],
            "currency": found["currency"],
            "closed": found["closed"],
            "balance": _text(balance),
            "credit_limit": _text(found["credit_limit"]),
            "available": _text(balance + found["credit_limit"]),
            "arrears": _text(-balances.get(arrears(driver_id), Decimal(0))),
            "tokens": [
                {
                    "token_digest": t["token_digest"],
                    "kind": t["kind"],
                    "label": t["label"],
                    "blocked": t["blocked"],
                    "expires_at": t["expires_at"].isoformat() if t["expires_at"] else None,
                }
                for t in reads.tokens_of(driver_id)
            ],
        }


def _driver(request: Request) -> Principal:
    principal = caller(request)
    if principal.role is Role.PUBLIC:
        raise HTTPException(401, "log in as a driver", headers={"WWW-Authenticate": "Bearer"})
    if principal.role is not Role.DRIVER:
        raise HTTPException(403, "for drivers, about their own account")
    return principal


Driver = Annotated[Principal, Depends(_driver)]
"""A logged-in driver (401 anonymous, 403 anyone else)."""
Context = Annotated[DriversApi, Depends(services(DriversApi))]
router = APIRouter(prefix="/api/v1", tags=["drivers"])


def drivers_router(
    accounts: AccountService,
    drivers: DriverService,
    settlement: SettlementService,
    charging: RemoteCharging,
    authenticators: Sequence[Authenticator],
    statement: Statement | None = None,
    zone: str = "Asia/Shanghai",
    operators: Callable[[str], object | None] | None = None,
) -> APIRouter:
    api = DriversApi(accounts, drivers, settlement, charging, statement, zone, operators)
    return bind(router, api, authenticators)


@router.post("/driver/login", **declared(Audience.PUBLIC))
async def login(api: Context, body: DriverLogin, request: Request) -> Any:
    """Log in as a driver: a bearer token for the app, valid 12 hours."""
    address = request.client.host if request.client else ""
    try:
        user, token, session = await run_in_threadpool(
            api.accounts.login, body.driver_id, body.password, address
        )
    except LoginRefused as exc:
        if exc.retry_after_s is not None:
            raise HTTPException(
                429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}
            ) from exc
        raise HTTPException(401, str(exc)) from exc
    if user.role is not Role.DRIVER:
        await run_in_threadpool(api.accounts.logout, token)
        raise HTTPException(401, "wrong user name or password")
    return {
        "token": token,
        "driver_id": user.username,
        "expires_at": session.expires_at.isoformat(),
        "expires_in_s": int(SESSION_LIFETIME.total_seconds()),
    }


@router.get("/driver/me", **declared(Audience.DRIVER))
async def me(api: Context, principal: Driver) -> Any:
    """The caller's account: wallet, what it can still pay, arrears, tokens."""
    return await run_in_threadpool(api.account, principal.name)


@router.post("/driver/tokens", status_code=201, **declared(Audience.DRIVER))
async def add_token(api: Context, body: TokenIn, principal: Driver) -> Any:
    """Add a token to your account: your RFID card, your car's VIN, or an app token
    (shown once in the answer, never again)."""
    issued = await api.drivers.issue_token(
        principal.name, TokenKind(body.kind), body.token, body.label, body.expires_at
    )
    return {"token_digest": issued.digest, "kind": issued.kind.value, "token": issued.token}


@router.post("/driver/tokens/{token_digest}/block", **declared(Audience.DRIVER))
async def block_token(api: Context, token_digest: str, body: BlockIn, principal: Driver) -> Any:
    """Block (a lost card) or unblock one of your tokens."""
    await api.drivers.set_blocked(token_digest, body.blocked, body.reason, principal.name)
    return {"token_digest": token_digest, "blocked": body.blocked}


@router.get("/driver/wallet", **declared(Audience.DRIVER))
async def wallet_entries(api: Context, principal: Driver) -> Any:
    """Your wallet's movements, newest first."""
    entries = await run_in_threadpool(api.reads.entries_of, principal.name, 200)
    return [
        {
            "entry_id": e["entry_id"],
            "kind": e["kind"],
            "reference": e["reference"],
            "amount": _text(e["driver_net"]),
            "currency": e["currency"],
            "posted_at": e["posted_at"].isoformat(),
        }
        for e in entries
    ]


@router.get("/driver/sessions", **declared(Audience.DRIVER))
async def my_sessions(api: Context, principal: Driver) -> Any:
    """Your sessions, newest first."""
    found = await run_in_threadpool(api.reads.sessions_of, principal.name, 200)
    return [
        {
            "session_id": s.session_id,
            "connector_id": s.connector_id,
            "state": s.state,
            "started_at": s.started_at.isoformat(),
            "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            "energy_wh": s.energy_wh,
        }
        for s in found
    ]


@router.get("/driver/sessions/{session_id}", **declared(Audience.DRIVER))
async def my_session(api: Context, session_id: str, principal: Driver) -> Any:
    """One of your sessions: live energy, power and cost so far, or its receipt."""
    return await run_in_threadpool(api.charging.view, principal.name, session_id)


@router.post("/driver/charges", **declared(Audience.DRIVER))
async def start(api: Context, body: StartIn, principal: Driver) -> Any:
    """Start charging at a connector; the answer is the charger's. 402 when your
    token or wallet cannot charge (nothing is sent)."""
    answer = await api.charging.start(principal.name, body.connector_id, body.token, body.timeout_s)
    price = answer.price
    out = {
        "order_id": answer.order_id,
        "connector_id": body.connector_id,
        "authorisation": answer.authorisation.status.value,
        "price": None
        if price is None
        else {
            "per_kwh": str(price.per_kwh),
            "per_session": str(price.per_session),
            "currency": price.currency,
        },
    }
    if answer.authorisation.status.value != "accepted":
        out |= {"outcome": answer.result.outcome.value, "detail": answer.result.detail}
        return JSONResponse(out, status_code=402)
    return _answered(out, answer.result)


@router.post("/driver/sessions/{session_id}/stop", **declared(Audience.DRIVER))
async def stop(api: Context, session_id: str, body: StopIn, principal: Driver) -> Any:
    """Stop one of your running sessions; the answer is the charger's."""
    result = await api.charging.stop(principal.name, session_id, body.timeout_s)
    return _answered({"session_id": session_id}, result)


# --- administration -----------------------------------------------------------------


@router.post("/drivers", status_code=201, **declared(Audience.ADMIN))
async def add_driver(api: Context, body: DriverIn, _: Admin) -> Any:
    """Open a driver's account (its log-in and wallet)."""
    await api.drivers.register(
        body.driver_id, body.password, body.display_name, body.credit_limit, body.currency
    )
    return {"driver_id": body.driver_id}


@router.post("/drivers/{driver_id}/tokens", status_code=201, **declared(Audience.ADMIN))
async def issue(api: Context, driver_id: str, body: TokenIn, _: Admin) -> Any:
    """Give a driver a token (a card handed out, a VIN, an app token)."""
    issued = await api.drivers.issue_token(
        driver_id, TokenKind(body.kind), body.token, body.label, body.expires_at
    )
    return {"token_digest": issued.digest, "kind": issued.kind.value, "token": issued.token}


@router.post("/drivers/{driver_id}/topups", **declared(Audience.ADMIN))
async def top_up(api: Context, driver_id: str, body: TopUpIn, _: Admin) -> Any:
    """Money received for a driver; the same key again changes nothing."""
    posted = await api.settlement.top_up(driver_id, body.amount, body.provider, body.key)
    return {"driver_id": driver_id, "posted": posted}


@router.post("/settlement/sessions/{session_id}/refund", **declared(Audience.ADMIN))
async def refund(api: Context, session_id: str, body: RefundIn, _: Admin) -> Any:
    """Give back part or all of a session's charge; the same key again changes nothing."""
    entry = await api.settlement.refund(session_id, body.amount, body.key)
    return {"entry_id": entry.entry_id, "postings": _postings(entry.postings)}


@router.post("/settlement/sessions/{session_id}/dispute", **declared(Audience.ADMIN))
async def decide_dispute(api: Context, session_id: str, body: DisputeIn, _: Admin) -> Any:
    """Settle a dispute about a session's charge between its operator and its driver."""
    entry = await api.settlement.dispute(session_id, body.amount, body.key)
    return {"entry_id": entry.entry_id, "postings": _postings(entry.postings)}


@router.get("/settlement/disputes", **declared(Audience.OPERATOR))
async def disputes(
    api: Context,
    principal: Member,
    operator_id: str | None = None,
    open_only: bool = True,
    limit: int = Query(200, ge=1, le=1000),
) -> Any:
    """Disputes opened on operators' figures, with both sides' figures (operators:
    their own)."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "operators and admins")
    if principal.role is Role.OPERATOR:
        if operator_id not in (None, principal.operator_id):
            raise HTTPException(403, "operators see their own disputes only")
        operator_id = principal.operator_id
    rows = await run_in_threadpool(api.reads.disputes, operator_id, open_only, limit)
    return [_dispute(r) for r in rows]


@router.get("/settlement/statements", **declared(Audience.OPERATOR))
async def month_statements(
    api: Context,
    principal: Member,
    month: str = Query(
        pattern=r"^(19[7-9]\d|2[01]\d\d)-(0[1-9]|1[0-2])$", description="YYYY-MM, local"
    ),
) -> Any:
    """Every operator's statement of one local month: opening balance, movements by
    kind (count and amount), closing balance; summed by the database (operators: their
    own)."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "operators and admins")
    first = date(int(month[:4]), int(month[5:]), 1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start, end = local_midnight_utc(first, api.zone), local_midnight_utc(after, api.zone)
    only = principal.operator_id if principal.role is Role.OPERATOR else None
    opening, totals = await run_in_threadpool(
        api.reads.operator_totals, start, end, only, api.drivers.clock.now()
    )
    return [
        {
            "operator_id": s.operator_id,
            "opening": _text(s.opening),
            "movements": {
                kind: {"count": n, "amount": _text(amount)}
                for kind, (n, amount) in sorted(s.movements.items())
            },
            "closing": _text(s.closing),
        }
        for s in statements(opening, totals)
    ]


@router.get("/settlement/operators/{operator_id}", **declared(Audience.OPERATOR))
async def operator_balance(api: Context, operator_id: str, principal: Member) -> Any:
    """What the platform owes an operator for its drivers' sessions (operators: their
    own)."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "operators and admins")
    if principal.role is Role.OPERATOR and principal.operator_id != operator_id:
        raise HTTPException(403, "operators see their own account only")
    await api.known_operator(operator_id)
    account = operator_account(operator_id)
    balances = await run_in_threadpool(api.reads.balances, [account])
    return {"operator_id": operator_id, "owed": _text(balances.get(account, Decimal(0)))}


@router.get("/settlement/operators/{operator_id}/statement", **declared(Audience.OPERATOR))
async def daily_statement(
    api: Context,
    operator_id: str,
    day: date,
    principal: Member,
) -> Any:
    """An operator's statement of one local day as XLSX: opening balance, every movement,
    closing balance (operators: their own)."""
    if principal.role is Role.REGULATOR:
        raise HTTPException(403, "operators and admins")
    if principal.role is Role.OPERATOR and principal.operator_id != operator_id:
        raise HTTPException(403, "operators see their own statements only")
    if api.statement is None:
        raise HTTPException(404, "statements are not served here")
    await api.known_operator(operator_id)
    start = local_midnight_utc(day, api.zone)
    end = local_midnight_utc(day + timedelta(days=1), api.zone)
    opening, movements = await run_in_threadpool(
        api.reads.account_movements, operator_account(operator_id), start, end
    )
    body = await run_in_threadpool(
        api.statement,
        operator_id,
        day,
        api.zone,
        opening,
        movements,
        api.drivers.currency,
        api.drivers.clock.now(),
    )
    name = f"statement-{operator_id}-{day.isoformat()}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _dispute(row: DisputeRow) -> dict[str, Any]:
    def money(amount: Decimal | None) -> str | None:
        return None if amount is None else _text(amount)

    return {
        "dispute_id": row["dispute_id"],
        "session_id": row["session_id"],
        "operator_id": row["operator_id"],
        "origin": row["origin"],
        "document_id": row["document_id"],
        "stated": {"energy_wh": row["stated_energy_wh"], "amount": money(row["stated_amount"])},
        "recorded": {
            "energy_wh": row["recorded_energy_wh"],
            "amount": money(row["recorded_amount"]),
        },
        "currency": row["currency"],
        "opened_at": row["opened_at"].isoformat(),
        "decided_by": row["decided_by"],
    }


def _postings(postings: Sequence[Any]) -> list[dict[str, str]]:
    return [{"account": p.account, "amount": _text(p.amount)} for p in postings]


def _text(amount: Decimal) -> str:
    """Money as a decimal string in cents ("-10.00", never "-1E+1")."""
    return str(cents(amount))
