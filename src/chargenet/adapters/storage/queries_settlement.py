"""Reads of drivers, tokens, the ledger and the sessions they pay for (app/settlement.py),
and the writer of the token uids kept for local lists."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, exists, func, literal, or_, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from chargenet.adapters.storage import like
from chargenet.adapters.storage.projections._sql import upsert
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import (
    chargers,
    connector_live,
    connectors,
    sessions,
    stations,
)
from chargenet.adapters.storage.tables_ocpi import connector_tariffs, tariffs
from chargenet.adapters.storage.tables_settlement import (
    driver_tokens,
    drivers,
    ledger_accounts,
    ledger_checkpoints,
    ledger_disputes,
    ledger_entries,
    ledger_postings,
    session_claims,
    token_uids,
)
from chargenet.adapters.storage.tables_tcec import station_prices
from chargenet.app.settlement import (
    ConnectorTargetRow,
    DisputeRow,
    DriverRow,
    DriverTokenRow,
    LedgerEntryRow,
    LiveRow,
    MovementRow,
    PostingRow,
    PublishedTokenRow,
    SessionFacts,
    UnitPrice,
)
from chargenet.core.drivers import TokenKind, TokenState
from chargenet.core.ledger import (
    AccountKind,
    EntryKind,
    account_kind,
    arrears,
    closed,
    operator_account,
    wallet,
)
from chargenet.core.sessions import SessionState
from chargenet.core.tariffs import TariffPeriod, price_at
from chargenet.kit.timeutil import DEFAULT_LOCAL_TZ, to_local

log = logging.getLogger(__name__)


def full_balances_at(conn: Connection, accounts: Sequence[str], at: datetime) -> dict[str, Decimal]:
    """Accounts' balances at `at` (postings before it) from every posting since the first:
    what a checkpoint holds, and what the checkpoint path must agree with."""
    rows = conn.execute(
        select(ledger_postings.c.account, func.sum(ledger_postings.c.amount))
        .where(ledger_postings.c.account.in_(accounts), ledger_postings.c.posted_at < at)
        .group_by(ledger_postings.c.account)
    ).all()
    found = {a: Decimal(amount) for a, amount in rows}
    return {a: found.get(a, Decimal(0)) for a in accounts}


def balances_at(conn: Connection, accounts: Sequence[str], at: datetime) -> dict[str, Decimal]:
    """Accounts' balances at `at`: each account's newest checkpoint at or before `at`, plus
    its postings from the checkpoint up to `at` (all of them where it has none). Accounts
    checkpointed at the same instant (every operator at a month's end) are summed by one
    query from the index on (account, posted_at, kind, amount)."""
    if not accounts:
        return {}
    newest: dict[str, tuple[datetime, Decimal]] = {}
    for row in conn.execute(
        select(
            ledger_checkpoints.c.account, ledger_checkpoints.c.at, ledger_checkpoints.c.balance
        ).where(ledger_checkpoints.c.account.in_(accounts), ledger_checkpoints.c.at <= at)
    ):
        held = newest.get(row.account)
        if held is None or row.at > held[0]:
            newest[row.account] = (row.at, row.balance)
    since: dict[datetime | None, list[str]] = defaultdict(list)
    for account in accounts:
        held = newest.get(account)
        since[held[0] if held else None].append(account)
    out: dict[str, Decimal] = {}
    for first, group in since.items():
        if first is None:
            out.update(full_balances_at(conn, group, at))
            continue
        rows = conn.execute(
            select(ledger_postings.c.account, func.sum(ledger_postings.c.amount))
            .where(
                ledger_postings.c.account.in_(group),
                ledger_postings.c.posted_at >= first,
                ledger_postings.c.posted_at < at,
            )
            .group_by(ledger_postings.c.account)
        ).all()
        moved = {a: Decimal(amount) for a, amount in rows}
        for account in group:
            out[account] = newest[account][1] + moved.get(account, Decimal(0))
    return out


# A session's token: the one the charger reported, else the one its remote start claimed.
_TOKEN_OF = func.coalesce(sessions.c.token_hash, session_claims.c.token_digest)
_SESSIONS = sessions.outerjoin(session_claims, session_claims.c.session_id == sessions.c.session_id)
_SESSION_COLUMNS = (
    sessions.c.session_id,
    sessions.c.connector_id,
    sessions.c.charger_id,
    sessions.c.operator_id,
    sessions.c.state,
    sessions.c.started_at,
    sessions.c.ended_at,
    sessions.c.energy_wh,
    sessions.c.meter_start_wh,
    _TOKEN_OF.label("token_hash"),
    sessions.c.flags,
)


def _facts(row: Any) -> SessionFacts:
    return SessionFacts(**row._mapping)


def _token(row: Any) -> TokenState:
    return TokenState(
        digest=row.token_digest,
        driver_id=row.driver_id,
        kind=TokenKind(row.kind),
        blocked=row.blocked,
        expires_at=row.expires_at,
        driver_closed=row.closed,
    )


_TOKEN_QUERY = select(
    driver_tokens.c.token_digest,
    driver_tokens.c.driver_id,
    driver_tokens.c.kind,
    driver_tokens.c.blocked,
    driver_tokens.c.expires_at,
    drivers.c.closed,
).join(drivers, drivers.c.driver_id == driver_tokens.c.driver_id)


class SqlSettlementReads:
    def __init__(self, read_engine: Engine, write_engine: Engine, zone: str = DEFAULT_LOCAL_TZ):
        self._read = read_engine
        self._write = write_engine
        self._zone = zone

    # tokens and drivers

    def token(self, digest: str) -> TokenState | None:
        with self._read.connect() as conn:
            row = conn.execute(_TOKEN_QUERY.where(driver_tokens.c.token_digest == digest)).first()
        return None if row is None else _token(row)

    def has_tokens(self) -> bool:
        with self._read.connect() as conn:
            return bool(conn.execute(select(exists().select_from(driver_tokens))).scalar())

    def driver(self, driver_id: str) -> DriverRow | None:
        with self._read.connect() as conn:
            row = conn.execute(select(drivers).where(drivers.c.driver_id == driver_id)).first()
        return None if row is None else row_of(DriverRow, row._mapping)

    def tokens_of(self, driver_id: str) -> list[DriverTokenRow]:
        query = (
            select(driver_tokens)
            .where(driver_tokens.c.driver_id == driver_id, driver_tokens.c.rekeyed_to.is_(None))
            .order_by(driver_tokens.c.registered_at)
        )
        with self._read.connect() as conn:
            return [row_of(DriverTokenRow, r) for r in conn.execute(query).mappings()]

    def local_list(self) -> list[tuple[str, TokenState]]:
        query = _TOKEN_QUERY.add_columns(token_uids.c.uid).join(
            token_uids, token_uids.c.token_digest == driver_tokens.c.token_digest
        )
        with self._read.connect() as conn:
            return [(r.uid, _token(r)) for r in conn.execute(query.order_by(token_uids.c.uid))]

    def published_tokens(
        self,
        date_from: datetime | None,
        date_to: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[list[PublishedTokenRow], int]:
        """Cards and VINs with their text, changed in [date_from, date_to), for partners
        (OCPI Tokens sender); app tokens are secrets and never listed."""
        changed = driver_tokens.c.as_of
        query = (
            select(
                token_uids.c.uid,
                driver_tokens.c.token_digest,
                driver_tokens.c.driver_id,
                driver_tokens.c.kind,
                driver_tokens.c.label,
                driver_tokens.c.blocked,
                driver_tokens.c.expires_at,
                driver_tokens.c.as_of,
                drivers.c.closed,
            )
            .join(token_uids, token_uids.c.token_digest == driver_tokens.c.token_digest)
            .join(drivers, drivers.c.driver_id == driver_tokens.c.driver_id)
        )
        if date_from is not None:
            query = query.where(changed >= date_from)
        if date_to is not None:
            query = query.where(changed < date_to)
        with self._read.connect() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
            rows = conn.execute(
                query.order_by(changed, token_uids.c.uid).offset(offset).limit(limit)
            ).mappings()
            return [row_of(PublishedTokenRow, r) for r in rows], int(total)

    def keep_uid(self, digest: str, uid: str, at: datetime) -> None:
        with self._write.begin() as conn:
            upsert(
                conn,
                token_uids,
                {"token_digest": digest, "uid": uid, "updated_at": at},
                ["token_digest"],
                newer_only=False,
            )

    def forget_uid(self, digest: str) -> None:
        with self._write.begin() as conn:
            conn.execute(delete(token_uids).where(token_uids.c.token_digest == digest))

    def uid_of(self, digest: str) -> str | None:
        with self._read.connect() as conn:
            found = conn.execute(
                select(token_uids.c.uid).where(token_uids.c.token_digest == digest)
            ).scalar()
        return None if found is None else str(found)

    # the ledger

    def balances(self, accounts: Sequence[str]) -> dict[str, Decimal]:
        query = (
            select(ledger_postings.c.account, func.sum(ledger_postings.c.amount))
            .where(ledger_postings.c.account.in_(list(accounts)))
            .group_by(ledger_postings.c.account)
        )
        with self._read.connect() as conn:
            return {r[0]: r[1] or Decimal(0) for r in conn.execute(query)}

    def floor(self, account: str) -> Decimal:
        with self._read.connect() as conn:
            found = conn.execute(
                select(ledger_accounts.c.floor).where(ledger_accounts.c.account == account)
            ).scalar()
        return found if found is not None else Decimal(0)

    def _postings(
        self, conn: Any, entry_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, Decimal]]]:
        out: dict[str, list[tuple[str, Decimal]]] = {}
        query = select(
            ledger_postings.c.entry_id, ledger_postings.c.account, ledger_postings.c.amount
        ).where(ledger_postings.c.entry_id.in_(list(entry_ids)))
        for r in conn.execute(query):
            out.setdefault(r.entry_id, []).append((r.account, r.amount))
        return out

    @staticmethod
    def _described(row: Any, postings: list[tuple[str, Decimal]]) -> LedgerEntryRow:
        """An entry with who it concerns: its driver, its operator, the money that went
        to operator and platform (a charge's total), and the driver's net."""
        driver_id: str | None = None
        operator_id: str | None = None
        total = driver_net = Decimal(0)
        for account, amount in postings:
            kind = account_kind(account)
            name = account.partition(":")[2]
            if kind in (AccountKind.WALLET, AccountKind.ARREARS):
                driver_id = name
                driver_net += amount
            elif kind is AccountKind.OPERATOR:
                operator_id = name
                total += amount
            elif kind is AccountKind.FEES:
                total += amount
        return row_of(
            LedgerEntryRow,
            row._mapping,
            driver_id=driver_id,
            operator_id=operator_id,
            total=total,
            driver_net=driver_net,
            postings=[PostingRow(account=a, amount=str(m)) for a, m in postings],
        )

    def entry(self, entry_id: str) -> LedgerEntryRow | None:
        with self._read.connect() as conn:
            row = conn.execute(
                select(ledger_entries).where(ledger_entries.c.entry_id == entry_id)
            ).first()
            if row is None:
                return None
            return self._described(row, self._postings(conn, [entry_id]).get(entry_id, []))

    def disputes(self, operator_id: str | None, open_only: bool, limit: int) -> list[DisputeRow]:
        query = select(ledger_disputes).order_by(
            ledger_disputes.c.opened_at.desc(), ledger_disputes.c.dispute_id
        )
        if operator_id is not None:
            query = query.where(ledger_disputes.c.operator_id == operator_id)
        if open_only:
            query = query.where(ledger_disputes.c.decided_by.is_(None))
        with self._read.connect() as conn:
            return [row_of(DisputeRow, r) for r in conn.execute(query.limit(limit)).mappings()]

    def entries_of(self, driver_id: str, limit: int) -> list[LedgerEntryRow]:
        mine = [wallet(driver_id), arrears(driver_id)]
        ids = (
            select(ledger_postings.c.entry_id)
            .where(ledger_postings.c.account.in_(mine))
            .distinct()
            .scalar_subquery()
        )
        query = (
            select(ledger_entries)
            .where(ledger_entries.c.entry_id.in_(ids))
            .order_by(ledger_entries.c.posted_at.desc(), ledger_entries.c.entry_id)
            .limit(limit)
        )
        with self._read.connect() as conn:
            rows = conn.execute(query).all()
            postings = self._postings(conn, [r.entry_id for r in rows])
            return [self._described(r, postings.get(r.entry_id, [])) for r in rows]

    def account_movements(
        self, account: str, start: datetime, end: datetime
    ) -> tuple[Decimal, list[MovementRow]]:
        """The balance of an account at `start`, and its postings in [start, end)."""
        with self._read.connect() as conn:
            opening = balances_at(conn, [account], start)[account]
            rows = conn.execute(
                select(
                    ledger_postings.c.entry_id,
                    ledger_postings.c.amount,
                    ledger_postings.c.posted_at,
                    ledger_entries.c.kind,
                    ledger_entries.c.reference,
                )
                .join(ledger_entries, ledger_entries.c.entry_id == ledger_postings.c.entry_id)
                .where(
                    ledger_postings.c.account == account,
                    ledger_postings.c.posted_at >= start,
                    ledger_postings.c.posted_at < end,
                )
                .order_by(ledger_postings.c.posted_at, ledger_postings.c.entry_id)
            ).mappings()
            return opening, [row_of(MovementRow, r) for r in rows]

    def operator_totals(
        self,
        start: datetime,
        end: datetime,
        operator_id: str | None = None,
        now: datetime | None = None,
    ) -> tuple[dict[str, Decimal], list[tuple[str, str, int, Decimal]]]:
        """Opening balances at `start` of operators' accounts, and (account, kind, count,
        amount) of their postings in [start, end): summed in SQL, one row per account and
        kind whatever the number of sessions, from the index on (account, posted_at, kind,
        amount) alone. The opening balance is the newest checkpoint plus the postings since
        (`balances_at`). Given `now`, the period's edges that are closed then
        (`core.ledger.closed`) are checkpointed for the statements asked next."""
        opening, totals, accounts = self._operator_totals(start, end, operator_id)
        for at in (start, end):
            if now is not None and closed(at, now) and accounts:
                try:
                    self.write_checkpoints(accounts, at, now)
                except (IntegrityError, OperationalError) as exc:
                    # A statement asked twice at once (the other wrote them), a busy
                    # writer: the checkpoints are written by the next statement instead.
                    log.warning("balance checkpoints at %s not written: %s", at, exc)
        return opening, totals

    def _operator_totals(
        self, start: datetime, end: datetime, operator_id: str | None
    ) -> tuple[dict[str, Decimal], list[tuple[str, str, int, Decimal]], list[str]]:
        with self._read.connect() as conn:
            if operator_id is None:
                accounts = list(
                    conn.execute(
                        select(ledger_accounts.c.account).where(
                            like.starts_with(ledger_accounts.c.account, "operator:")
                        )
                    ).scalars()
                )
            else:
                accounts = [operator_account(operator_id)]
            if not accounts:
                return {}, [], []
            mine = ledger_postings.c.account.in_(accounts)
            opening = balances_at(conn, accounts, start)
            rows = conn.execute(
                select(
                    ledger_postings.c.account,
                    ledger_postings.c.kind,
                    func.count(),
                    func.sum(ledger_postings.c.amount),
                )
                .where(
                    mine, ledger_postings.c.posted_at >= start, ledger_postings.c.posted_at < end
                )
                .group_by(ledger_postings.c.account, ledger_postings.c.kind)
            ).all()
        return opening, [(a, k, int(n), Decimal(t)) for a, k, n, t in rows], accounts

    def write_checkpoints(self, accounts: Sequence[str], at: datetime, now: datetime) -> int:
        """Checkpoint accounts' balances at `at` (a closed month's boundary) where none is
        held; the number written. Summed inside a write transaction that no posting can
        interleave with: SQLite's writer takes the write lock at BEGIN, PostgreSQL's waits
        for the transactions posting now and holds new postings for its few milliseconds
        (SHARE lock on ledger_postings). A posting that lands before `at` later deletes the
        checkpoint (projections/settlement.py)."""
        with self._write.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE ledger_postings IN SHARE MODE"))
            held = set(
                conn.execute(
                    select(ledger_checkpoints.c.account).where(
                        ledger_checkpoints.c.account.in_(accounts), ledger_checkpoints.c.at == at
                    )
                ).scalars()
            )
            missing = [a for a in accounts if a not in held]
            if not missing:
                return 0
            balances = balances_at(conn, missing, at)
            conn.execute(
                ledger_checkpoints.insert(),
                [
                    {"account": a, "at": at, "balance": balances[a], "written_at": now}
                    for a in missing
                ],
            )
            return len(missing)

    def refunded(self, charge_id: str) -> Decimal:
        query = (
            select(func.sum(ledger_postings.c.amount))
            .join(ledger_entries, ledger_entries.c.entry_id == ledger_postings.c.entry_id)
            .where(
                ledger_entries.c.kind == EntryKind.REFUND.value,
                ledger_entries.c.reference == charge_id,
                or_(
                    ledger_postings.c.account.like("operator:%"),
                    ledger_postings.c.account.like("fees:%"),
                ),
            )
        )
        with self._read.connect() as conn:
            found = conn.execute(query).scalar()
        return -(found or Decimal(0))

    # sessions

    def session(self, session_id: str) -> SessionFacts | None:
        with self._read.connect() as conn:
            row = conn.execute(
                select(*_SESSION_COLUMNS)
                .select_from(_SESSIONS)
                .where(sessions.c.session_id == session_id)
            ).first()
        return None if row is None else _facts(row)

    def sessions_of(self, driver_id: str, limit: int) -> list[SessionFacts]:
        digests = select(driver_tokens.c.token_digest).where(driver_tokens.c.driver_id == driver_id)
        query = (
            select(*_SESSION_COLUMNS)
            .select_from(_SESSIONS)
            .where(_TOKEN_OF.in_(digests.scalar_subquery()))
            .order_by(sessions.c.started_at.desc())
            .limit(limit)
        )
        with self._read.connect() as conn:
            return [_facts(r) for r in conn.execute(query)]

    def live(self, session_id: str) -> LiveRow | None:
        query = (
            select(
                connector_live.c.session_id,
                connector_live.c.power_w,
                connector_live.c.energy_register_wh,
                connector_live.c.meter_at,
                connector_live.c.status,
            )
            .join(sessions, sessions.c.connector_id == connector_live.c.connector_id)
            .where(sessions.c.session_id == session_id)
        )
        with self._read.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else row_of(LiveRow, row)

    def unsettled(self, limit: int) -> list[str]:
        charged = select(ledger_entries.c.entry_id).where(
            ledger_entries.c.entry_id == literal("charge:") + sessions.c.session_id
        )
        query = (
            select(sessions.c.session_id)
            .select_from(_SESSIONS)
            .join(driver_tokens, driver_tokens.c.token_digest == _TOKEN_OF)
            .where(
                sessions.c.state == SessionState.COMPLETED.value,
                # untrusted (NULL) or no energy: nothing to charge, not retried
                sessions.c.energy_wh > 0,
                ~exists(charged),
            )
            .order_by(sessions.c.ended_at)
            .limit(limit)
        )
        with self._read.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def connector_target(self, connector_id: str) -> ConnectorTargetRow | None:
        """Where a remote start for a connector goes: its charger, numbers and protocol."""
        query = (
            select(
                connectors.c.connector_id,
                connectors.c.charger_id,
                connectors.c.operator_id,
                connectors.c.evse_no,
                connectors.c.connector_no,
                chargers.c.protocol,
                stations.c.access,
            )
            .join(chargers, chargers.c.charger_id == connectors.c.charger_id)
            .join(stations, stations.c.station_id == connectors.c.station_id)
            .where(connectors.c.connector_id == connector_id, connectors.c.retired_at.is_(None))
        )
        with self._read.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else row_of(ConnectorTargetRow, row)

    # the price in force

    def price_in_force(self, connector_id: str, at: datetime) -> UnitPrice | None:
        """The operator's time-of-use price at the connector (its own, else its station's)
        at local time `at`, else the first OCPI tariff of the connector valid at `at`."""
        with self._read.connect() as conn:
            station = conn.execute(
                select(connectors.c.station_id).where(connectors.c.connector_id == connector_id)
            ).scalar()
            if station is None:
                return None
            rows = conn.execute(
                select(station_prices).where(
                    station_prices.c.station_id == station,
                    station_prices.c.scope.in_([connector_id, ""]),
                )
            ).all()
            for row in sorted(rows, key=lambda r: r.scope == ""):
                periods = tuple(
                    TariffPeriod(
                        start=time.fromisoformat(p["start"]),
                        energy_price=Decimal(p["energy_price"]),
                        service_price=Decimal(p["service_price"]),
                    )
                    for p in json.loads(row.periods)
                )
                period = price_at(periods, to_local(at, self._zone).time())
                if period is not None:
                    return UnitPrice(
                        per_kwh=period.energy_price + period.service_price,
                        per_session=Decimal(0),
                        currency=row.currency,
                        source=f"station_prices:{station}:{row.scope or '*'}",
                    )
            ids = conn.execute(
                select(connector_tariffs.c.tariff_ids).where(
                    connector_tariffs.c.connector_id == connector_id
                )
            ).scalar()
            for tariff_id in (ids or "").split(","):
                if not tariff_id:
                    continue
                t = conn.execute(
                    select(tariffs).where(
                        tariffs.c.tariff_id == tariff_id,
                        tariffs.c.withdrawn_at.is_(None),
                        or_(tariffs.c.valid_from.is_(None), tariffs.c.valid_from <= at),
                        or_(tariffs.c.valid_until.is_(None), tariffs.c.valid_until > at),
                    )
                ).first()
                if t is not None and t.energy_per_kwh is not None:
                    return UnitPrice(
                        per_kwh=t.energy_per_kwh,
                        per_session=t.per_session or Decimal(0),
                        currency=t.currency,
                        source=f"ocpi:{tariff_id}",
                    )
        return None
