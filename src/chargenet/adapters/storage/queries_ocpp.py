"""Read queries of the OCPP gateway (see app/endpoints.py) and the credential writer."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text, update

from chargenet.adapters.storage.schema import alarms, chargers, connectors, sessions
from chargenet.adapters.storage.tables_ocpp import charger_credentials
from chargenet.app.endpoints import ChargerEndpoint, ConnectorRef, OpenSession
from chargenet.core.sessions import SessionState


class OcppQueries:
    def __init__(self, read_engine: Engine, write_engine: Engine) -> None:
        self._read = read_engine
        self._write = write_engine

    def endpoint(self, charger_id: str) -> ChargerEndpoint | None:
        found = self._load([charger_id], None)
        return found[0] if found else None

    def endpoints(self, protocols: Sequence[str]) -> list[ChargerEndpoint]:
        return self._load(None, protocols)

    def _load(
        self, ids: Sequence[str] | None, protocols: Sequence[str] | None
    ) -> list[ChargerEndpoint]:
        query = select(
            chargers.c.charger_id,
            chargers.c.protocol,
            chargers.c.retired_at,
            charger_credentials.c.secret_hash,
        ).outerjoin(charger_credentials, charger_credentials.c.charger_id == chargers.c.charger_id)
        if ids is not None:
            query = query.where(chargers.c.charger_id.in_(ids))
        if protocols is not None:
            query = query.where(chargers.c.protocol.in_(protocols))
        with self._read.connect() as conn:
            heads = conn.execute(query).all()
            if not heads:
                return []
            plugs: dict[str, dict[tuple[int, int], ConnectorRef]] = {}
            wanted = [h.charger_id for h in heads]
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(
                        connectors.c.charger_id,
                        connectors.c.evse_no,
                        connectors.c.connector_no,
                        connectors.c.connector_id,
                        connectors.c.max_power_w,
                    ).where(
                        connectors.c.charger_id.in_(wanted[start : start + 500]),
                        connectors.c.retired_at.is_(None),
                    )
                ).all()
                for row in rows:
                    plugs.setdefault(row.charger_id, {})[(row.evse_no, row.connector_no)] = (
                        ConnectorRef(row.connector_id, row.max_power_w)
                    )
        return [
            ChargerEndpoint(
                charger_id=h.charger_id,
                protocol=h.protocol,
                retired=h.retired_at is not None,
                connectors=plugs.get(h.charger_id, {}),
                secret_hash=h.secret_hash,
            )
            for h in heads
        ]

    def online_chargers(self, protocols: Sequence[str]) -> list[str]:
        with self._read.connect() as conn:
            rows = conn.execute(
                select(chargers.c.charger_id).where(
                    chargers.c.protocol.in_(protocols), chargers.c.online.is_(True)
                )
            ).all()
        return [r.charger_id for r in rows]

    def open_sessions(self, charger_id: str) -> list[OpenSession]:
        with self._read.connect() as conn:
            rows = conn.execute(
                select(sessions.c.session_id, sessions.c.connector_id, sessions.c.started_at)
                .where(
                    sessions.c.charger_id == charger_id,
                    sessions.c.state == SessionState.ACTIVE.value,
                )
                .order_by(sessions.c.started_at.desc())
            ).all()
        return [OpenSession(r.session_id, r.connector_id, r.started_at) for r in rows]

    def open_alarm(self, target_id: str, code: str) -> str | None:
        with self._read.connect() as conn:
            found: Any = conn.execute(
                select(alarms.c.alarm_id)
                .where(
                    alarms.c.target_id == target_id,
                    alarms.c.code == code,
                    alarms.c.cleared_at.is_(None),
                )
                .order_by(alarms.c.raised_at.desc())
                .limit(1)
            ).scalar()
        return None if found is None else str(found)

    def secrets_fingerprint(self) -> Hashable:
        """(rows, newest updated_at) of the credentials: one aggregate a
        gateway polls every few seconds. A delete lowers the count; an insert or update
        raises the newest stamp, as `set_secret` makes every write's stamp later than any
        already there (a change with a stamp the table already has would go unseen)."""
        table = charger_credentials
        with self._read.connect() as conn:
            row = conn.execute(select(func.count(), func.max(table.c.updated_at))).one()
        return (int(row[0]), row[1])

    def secret_hashes(self) -> dict[str, str]:
        table = charger_credentials
        with self._read.connect() as conn:
            rows = conn.execute(select(table.c.charger_id, table.c.secret_hash)).all()
        return {r.charger_id: r.secret_hash for r in rows}

    def set_secret(self, charger_id: str, secret_hash: str | None, at: datetime) -> None:
        with self._write.begin() as conn:
            table = charger_credentials
            if secret_hash is None:
                conn.execute(delete(table).where(table.c.charger_id == charger_id))
                return
            # Gateways notice a change by the newest stamp (`secrets_fingerprint`): this
            # write's must be later than every stamp there, whatever this process's clock
            # says (two changes in the same microsecond, another host's clock ahead). Writers
            # take turns for it: SQLite's writer transactions are serialised already (BEGIN
            # IMMEDIATE); on PostgreSQL the lock below (it lets readers through) makes two
            # writers that read the same newest stamp impossible.
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE charger_credentials IN SHARE ROW EXCLUSIVE MODE"))
            newest = conn.execute(select(func.max(table.c.updated_at))).scalar()
            if newest is not None and at <= newest:
                at = newest + timedelta(microseconds=1)
            changed = conn.execute(
                update(table)
                .where(table.c.charger_id == charger_id)
                .values(secret_hash=secret_hash, updated_at=at)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(table).values(
                        charger_id=charger_id, secret_hash=secret_hash, updated_at=at
                    )
                )
