"""Drivers, their tokens and the settlement ledger (core/drivers.py, core/ledger.py).

A ledger entry is applied whole or not at all: balanced, in its accounts' currency, every
wallet kept at or above its limit (the rule is `core.ledger.limit_problems`, the balances
are summed here inside the writer's transaction, so two entries can never both spend the
same money). An entry whose key is posted already changes nothing; posted again with
other content it is refused (the first word holds; corrections are refunds or disputes).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, update

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore, run, upsert
from chargenet.adapters.storage.tables_settlement import (
    driver_tokens,
    drivers,
    ledger_accounts,
    ledger_checkpoints,
    ledger_disputes,
    ledger_entries,
    ledger_postings,
    session_claims,
)
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import (
    DisputeOpened,
    DriverRegistered,
    LedgerPosted,
    SessionClaimed,
    TokenRegistered,
    TokenRekeyed,
    TokenStatusChanged,
)
from chargenet.core.ledger import (
    AccountKind,
    EntryKind,
    LimitBreached,
    account_kind,
    arrears,
    limit_problems,
    wallet,
)


def _account(
    conn: Connection, account: str, currency: str, floor: Decimal | None
) -> dict[str, Any]:
    """The account's row, made at first use (its currency fixed then)."""
    row = fetch_row(conn, ledger_accounts, account=account)
    if row is None:
        row = {"account": account, "currency": currency, "floor": floor or Decimal(0)}
        insert_ignore(conn, ledger_accounts, row)
        return row
    if row["currency"] != currency:
        raise Conflict(f"account {account} holds {row['currency']}, not {currency}")
    if floor is not None and row["floor"] != floor:
        conn.execute(
            update(ledger_accounts).where(ledger_accounts.c.account == account).values(floor=floor)
        )
        row["floor"] = floor
    return row


def _balance(conn: Connection, account: str) -> Decimal:
    def build() -> Any:
        return select(func.sum(ledger_postings.c.amount)).where(
            ledger_postings.c.account == bindparam("account", type_=ledger_postings.c.account.type)
        )

    rows = run(conn, ("ledger-balance",), build, {"account": account})
    return rows[0][0] if rows and rows[0][0] is not None else Decimal(0)


def _limited(account: str, amount: Decimal) -> bool:
    """Whether a posting can break a limit (core.ledger.limit_problems): money out of a
    wallet, money into arrears or a provider's account. Only those balances are summed:
    an operator's account, which grows by every session, never needs its sum here."""
    kind = account_kind(account)
    if kind is AccountKind.WALLET:
        return amount < 0
    return kind in (AccountKind.ARREARS, AccountKind.PROVIDER) and amount > 0


def _apply_driver(conn: Connection, event: DriverRegistered) -> None:
    upsert(
        conn,
        drivers,
        {
            "driver_id": event.driver_id,
            "display_name": event.display_name,
            "currency": event.currency,
            "credit_limit": event.credit_limit,
            "closed": event.closed,
            "registered_at": event.occurred_at,
            "as_of": event.occurred_at,
        },
        ["driver_id"],
        keep=["registered_at"],
    )
    row = fetch_row(conn, drivers, driver_id=event.driver_id)
    assert row is not None
    _account(conn, wallet(event.driver_id), row["currency"], -row["credit_limit"])
    _account(conn, arrears(event.driver_id), row["currency"], None)


def _apply_token(conn: Connection, event: TokenRegistered) -> None:
    if fetch_row(conn, drivers, driver_id=event.driver_id) is None:
        raise UnknownReference("driver", event.driver_id)
    held = fetch_row(conn, driver_tokens, token_digest=event.token_digest)
    if held is not None and held["driver_id"] != event.driver_id:
        raise Conflict("this token belongs to another driver")
    upsert(
        conn,
        driver_tokens,
        {
            "token_digest": event.token_digest,
            "driver_id": event.driver_id,
            "kind": event.kind.value,
            "label": event.label,
            "blocked": False,
            "expires_at": event.expires_at,
            "registered_at": event.occurred_at,
            "as_of": event.occurred_at,
        },
        ["token_digest"],
        keep=["registered_at", "blocked"],
    )


def _apply_token_status(conn: Connection, event: TokenStatusChanged) -> None:
    held = fetch_row(conn, driver_tokens, token_digest=event.token_digest)
    if held is None:
        raise UnknownReference("token", event.token_digest)
    if held["as_of"] > event.occurred_at:
        return
    conn.execute(
        update(driver_tokens)
        .where(driver_tokens.c.token_digest == event.token_digest)
        .values(blocked=event.blocked, expires_at=event.expires_at, as_of=event.occurred_at)
    )


def _apply_rekey(conn: Connection, event: TokenRekeyed) -> None:
    held = fetch_row(conn, driver_tokens, token_digest=event.token_digest)
    if held is None:
        raise UnknownReference("token", event.token_digest)
    if held["rekeyed_to"] is not None and held["rekeyed_to"] != event.new_digest:
        raise Conflict("this token was re-keyed to another digest")
    other = fetch_row(conn, driver_tokens, token_digest=event.new_digest)
    if other is not None and other["driver_id"] != held["driver_id"]:
        raise Conflict("this token belongs to another driver")
    insert_ignore(
        conn, driver_tokens, {**held, "token_digest": event.new_digest, "rekeyed_to": None}
    )
    conn.execute(
        update(driver_tokens)
        .where(driver_tokens.c.token_digest == event.token_digest)
        .values(rekeyed_to=event.new_digest)
    )


def _apply_claim(conn: Connection, event: SessionClaimed) -> None:
    if fetch_row(conn, driver_tokens, token_digest=event.token_digest) is None:
        raise UnknownReference("token", event.token_digest)
    insert_ignore(
        conn,
        session_claims,
        {
            "session_id": event.claimed_session,
            "token_digest": event.token_digest,
            "claimed_at": event.occurred_at,
        },
    )


def _same(conn: Connection, event: LedgerPosted, held: dict[str, Any]) -> bool:
    entry = event.entry
    rows = conn.execute(
        select(ledger_postings.c.account, ledger_postings.c.amount).where(
            ledger_postings.c.entry_id == entry.entry_id
        )
    ).all()
    return (
        held["kind"] == entry.kind.value
        and held["currency"] == entry.currency
        and {r.account: r.amount for r in rows} == {p.account: p.amount for p in entry.postings}
    )


def _apply_posting(conn: Connection, event: LedgerPosted) -> None:
    entry = event.entry
    held = fetch_row(conn, ledger_entries, entry_id=entry.entry_id)
    if held is not None:
        if _same(conn, event, held):
            return  # the same entry again: nothing moves twice
        raise Conflict(f"entry {entry.entry_id} was posted with other content")
    balances: dict[str, Decimal] = {}
    floors: dict[str, Decimal] = {}
    for p in entry.postings:
        kind = account_kind(p.account)
        if kind in (AccountKind.WALLET, AccountKind.ARREARS):
            driver = p.account.partition(":")[2]
            if fetch_row(conn, drivers, driver_id=driver) is None:
                raise UnknownReference("driver", driver)
        row = _account(conn, p.account, entry.currency, None)
        if _limited(p.account, p.amount):
            balances[p.account] = _balance(conn, p.account)
            floors[p.account] = row["floor"]
    problems = limit_problems(entry, balances, floors)
    if problems:
        raise LimitBreached("; ".join(problems))
    insert_ignore(
        conn,
        ledger_entries,
        {
            "entry_id": entry.entry_id,
            "kind": entry.kind.value,
            "currency": entry.currency,
            "reference": entry.reference,
            "memo": entry.memo,
            "posted_at": event.occurred_at,
        },
    )
    for p in entry.postings:
        insert_ignore(
            conn,
            ledger_postings,
            {
                "entry_id": entry.entry_id,
                "account": p.account,
                "amount": p.amount,
                "posted_at": event.occurred_at,
                "kind": entry.kind.value,
            },
        )
    # A posting in a closed month (a late entry) makes the balances checkpointed after it
    # wrong: they go, and the next statement sums from an earlier one and writes them again.
    conn.execute(
        delete(ledger_checkpoints).where(
            ledger_checkpoints.c.account.in_([p.account for p in entry.postings]),
            ledger_checkpoints.c.at > event.occurred_at,
        )
    )

    if entry.kind is EntryKind.DISPUTE and entry.reference.startswith("charge:"):
        # A dispute entry about a session decides the disputes open on it.
        conn.execute(
            update(ledger_disputes)
            .where(
                ledger_disputes.c.session_id == entry.reference.removeprefix("charge:"),
                ledger_disputes.c.decided_by.is_(None),
            )
            .values(decided_by=entry.entry_id)
        )


def _apply_dispute(conn: Connection, event: DisputeOpened) -> None:
    # The first statement of a dispute holds: a resent CDR or statement opens nothing.
    insert_ignore(
        conn,
        ledger_disputes,
        {
            "dispute_id": event.dispute_id,
            "session_id": event.disputed_session,
            "operator_id": event.operator_id,
            "origin": event.origin,
            "document_id": event.document_id,
            "stated_energy_wh": event.stated_energy_wh,
            "stated_amount": event.stated_amount,
            "recorded_energy_wh": event.recorded_energy_wh,
            "recorded_amount": event.recorded_amount,
            "currency": event.currency,
            "opened_at": event.occurred_at,
            "decided_by": None,
        },
    )


APPLIERS: dict[type[Any], Callable[[Connection, Any], None]] = {
    DriverRegistered: _apply_driver,
    TokenRegistered: _apply_token,
    TokenStatusChanged: _apply_token_status,
    TokenRekeyed: _apply_rekey,
    LedgerPosted: _apply_posting,
    SessionClaimed: _apply_claim,
    DisputeOpened: _apply_dispute,
}
