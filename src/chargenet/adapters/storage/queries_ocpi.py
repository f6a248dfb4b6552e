"""Storage for the OCPI party: its directory of peers and credentials (configuration, on a
writer engine of its own) and the reads its senders, receiver and open-data feed make."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    RowMapping,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)

from chargenet.adapters.storage.engine import create_store_engine
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import (
    areas,
    chargers,
    connector_live,
    connectors,
    operators,
    sessions,
    stations,
)
from chargenet.adapters.storage.stopped import stop_changed, stopped
from chargenet.adapters.storage.tables_ocpi import (
    cdrs,
    connector_tariffs,
    ocpi_credentials,
    ocpi_parties,
    ocpi_peers,
    ocpi_pull_cursors,
    stated_objects,
    tariffs,
)
from chargenet.adapters.storage.tables_supervision import stop_orders
from chargenet.adapters.storage.types import UtcDateTime
from chargenet.app.ocpi import (
    Caller,
    ConnectorOwnerRow,
    CredentialKind,
    EvseConnectorsRow,
    LiveStatusRow,
    OcpiCdrRow,
    OcpiChargerRow,
    OcpiConnectorRow,
    OcpiLocationRow,
    OcpiOperatorRow,
    OcpiSessionRow,
    OcpiStationRow,
    OcpiTariffRow,
    Party,
    PartyOwnerRow,
    PartyRow,
    Peer,
    PeerKind,
    PeerStatus,
    StatementRow,
    TariffPriceRow,
)
from chargenet.core.status import ConnectorStatus, effective_status

_JSON_FIELDS = ("endpoints", "roles")


class SqlOcpiDirectory:
    """Peers, credential digests, parties and pull cursors. Writes take their own short
    transactions on a dedicated writer connection, apart from the ingest writer."""

    def __init__(self, url: str) -> None:
        self._engine: Engine = create_store_engine(url, writer=True)

    def dispose(self) -> None:
        self._engine.dispose()

    def add_peer(self, peer_id: str, kind: PeerKind, name: str, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(ocpi_peers).values(
                    peer_id=peer_id,
                    kind=kind.value,
                    name=name,
                    status=PeerStatus.PENDING.value,
                    endpoints="[]",
                    roles="[]",
                    created_at=now,
                    updated_at=now,
                )
            )

    def update_peer(self, peer_id: str, now: datetime, **values: Any) -> None:
        allowed = {"status", "versions_url", "version", "endpoints", "roles", "token_out", "name"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not a peer field: {sorted(unknown)}")
        row: dict[str, Any] = {}
        for name, value in values.items():
            if name in _JSON_FIELDS:
                value = json.dumps(list(value), ensure_ascii=False)
            elif name == "status":
                value = PeerStatus(value).value
            row[name] = value
        with self._engine.begin() as conn:
            conn.execute(
                update(ocpi_peers)
                .where(ocpi_peers.c.peer_id == peer_id)
                .values(**row, updated_at=now)
            )

    def _peer(self, conn: Any, row: Any) -> Peer:
        writable = {
            Party(r.country_code, r.party_id): r.operator_id
            for r in conn.execute(
                select(
                    ocpi_parties.c.country_code, ocpi_parties.c.party_id, ocpi_parties.c.operator_id
                ).where(ocpi_parties.c.peer_id == row.peer_id)
            )
        }
        return Peer(
            peer_id=row.peer_id,
            kind=PeerKind(row.kind),
            name=row.name,
            status=PeerStatus(row.status),
            versions_url=row.versions_url,
            version=row.version,
            endpoints=tuple(json.loads(row.endpoints)),
            roles=tuple(json.loads(row.roles)),
            token_out=row.token_out,
            writable=writable,
        )

    def peer(self, peer_id: str) -> Peer | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(ocpi_peers).where(ocpi_peers.c.peer_id == peer_id)).first()
            return None if row is None else self._peer(conn, row)

    def peers(self, kind: PeerKind | None = None) -> list[Peer]:
        stmt = select(ocpi_peers).order_by(ocpi_peers.c.peer_id)
        if kind is not None:
            stmt = stmt.where(ocpi_peers.c.kind == kind.value)
        with self._engine.connect() as conn:
            return [self._peer(conn, row) for row in conn.execute(stmt).all()]

    def add_credential(
        self, token_hash: str, peer_id: str, kind: CredentialKind, now: datetime
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(ocpi_credentials).values(
                    token_hash=token_hash, peer_id=peer_id, kind=kind.value, issued_at=now
                )
            )

    def caller(self, token_hash: str) -> Caller | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(ocpi_credentials.c.kind.label("credential_kind"), ocpi_peers)
                .join(ocpi_peers, ocpi_peers.c.peer_id == ocpi_credentials.c.peer_id)
                .where(
                    ocpi_credentials.c.token_hash == token_hash,
                    ocpi_credentials.c.revoked_at.is_(None),
                )
            ).first()
            if row is None:
                return None
            return Caller(self._peer(conn, row), CredentialKind(row.credential_kind), token_hash)

    def revoke_credentials(
        self,
        peer_id: str,
        now: datetime,
        kind: CredentialKind | None = None,
        token_hash: str | None = None,
        only: bool = False,
    ) -> int:
        where = [ocpi_credentials.c.peer_id == peer_id, ocpi_credentials.c.revoked_at.is_(None)]
        if kind is not None:
            where.append(ocpi_credentials.c.kind == kind.value)
        if token_hash is not None:
            same = ocpi_credentials.c.token_hash == token_hash
            where.append(same if only else ~same)
        with self._engine.begin() as conn:
            result = conn.execute(update(ocpi_credentials).where(*where).values(revoked_at=now))
            return int(result.rowcount)

    def set_party(self, party: Party, operator_id: str, peer_id: str | None, now: datetime) -> None:
        key = (
            ocpi_parties.c.country_code == party.country_code,
            ocpi_parties.c.party_id == party.party_id,
        )
        with self._engine.begin() as conn:
            conn.execute(delete(ocpi_parties).where(*key))
            conn.execute(
                insert(ocpi_parties).values(
                    country_code=party.country_code,
                    party_id=party.party_id,
                    operator_id=operator_id,
                    peer_id=peer_id,
                    created_at=now,
                )
            )

    def party(self, party: Party) -> PartyOwnerRow | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(ocpi_parties.c.operator_id, ocpi_parties.c.peer_id).where(
                        ocpi_parties.c.country_code == party.country_code,
                        ocpi_parties.c.party_id == party.party_id,
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            return PartyOwnerRow(operator_id=row["operator_id"], peer_id=row["peer_id"])

    def parties(self) -> list[PartyRow]:
        with self._engine.connect() as conn:
            stmt = select(ocpi_parties).order_by(
                ocpi_parties.c.country_code, ocpi_parties.c.party_id
            )
            return [row_of(PartyRow, r) for r in conn.execute(stmt).mappings()]

    def cursor(self, peer_id: str, module: str) -> datetime | None:
        with self._engine.connect() as conn:
            value: datetime | None = conn.execute(
                select(ocpi_pull_cursors.c.synced_to).where(
                    ocpi_pull_cursors.c.peer_id == peer_id, ocpi_pull_cursors.c.module == module
                )
            ).scalar()
            return value

    def save_cursor(
        self,
        peer_id: str,
        module: str,
        synced_to: datetime | None,
        now: datetime,
        objects: int,
        error: str | None,
    ) -> None:
        key = (ocpi_pull_cursors.c.peer_id == peer_id, ocpi_pull_cursors.c.module == module)
        with self._engine.begin() as conn:
            old = conn.execute(select(ocpi_pull_cursors).where(*key)).first()
            conn.execute(delete(ocpi_pull_cursors).where(*key))
            conn.execute(
                insert(ocpi_pull_cursors).values(
                    peer_id=peer_id,
                    module=module,
                    synced_to=synced_to if synced_to is not None else (old and old.synced_to),
                    last_run_at=now,
                    objects=(old.objects if old else 0) + objects,
                    last_error=error,
                )
            )


def _stated(kind: str, object_id: Any) -> Any:
    """The operator's own statement of an object (its JSON text), or NULL."""
    return (
        select(stated_objects.c.body)
        .where(stated_objects.c.kind == kind, stated_objects.c.object_id == object_id)
        .scalar_subquery()
    )


def _window(
    column: Any, date_from: datetime | None, date_to: datetime | None
) -> list[ColumnElement[bool]]:
    """OCPI: date_from inclusive, date_to exclusive."""
    out: list[ColumnElement[bool]] = []
    if date_from is not None:
        out.append(column >= type_coerce(date_from, UtcDateTime))
    if date_to is not None:
        out.append(column < type_coerce(date_to, UtcDateTime))
    return out


class OcpiReads:
    """The reads of the OCPI senders, receiver checks and the open-data feed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pg = engine.dialect.name == "postgresql"

    def _greatest(self, first: Any, *others: Any) -> Any:
        if self._pg:
            return func.greatest(first, *others)
        # SQLite's scalar max() is NULL when any argument is.
        return func.max(first, *[func.coalesce(o, first) for o in others])

    def _rows(self, stmt: Select[Any]) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def _mappings(self, stmt: Select[Any]) -> list[RowMapping]:
        with self._engine.connect() as conn:
            return list(conn.execute(stmt).mappings())

    def _page(self, stmt: Select[Any], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        with self._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = [dict(r) for r in conn.execute(stmt.offset(offset).limit(limit)).mappings()]
        return rows, int(total)

    # --- registry lookups -----------------------------------------------------------------

    def operators(self) -> list[OcpiOperatorRow]:
        stmt = select(operators.c.operator_id, operators.c.name, operators.c.as_of).order_by(
            operators.c.operator_id
        )
        return [
            OcpiOperatorRow(operator_id=r["operator_id"], name=r["name"], as_of=r["as_of"])
            for r in self._mappings(stmt)
        ]

    def statements(self, kind: str) -> list[StatementRow]:
        c = stated_objects.c
        stmt = select(c.object_id, c.body, c.as_of).where(c.kind == kind).order_by(c.object_id)
        return [
            StatementRow(object_id=r["object_id"], body=r["body"], as_of=r["as_of"])
            for r in self._mappings(stmt)
        ]

    def station(self, station_id: str) -> OcpiStationRow | None:
        for r in self._mappings(select(stations).where(stations.c.station_id == station_id)):
            return row_of(OcpiStationRow, r)
        return None

    def find_station_ids(self, location_id: str) -> list[str]:
        """Stations an OCPI location id may name: our own id, or a received `CC*PID*id`,
        in any case (OCPI ids are CiString: case-insensitive)."""
        wanted = location_id.upper()
        station_id = func.upper(stations.c.station_id)
        rows = self._rows(
            select(stations.c.station_id).where(
                or_(
                    station_id == wanted,
                    station_id.endswith(f"*{wanted}", autoescape=True),
                )
            )
        )
        return [r["station_id"] for r in rows]

    def evse_connectors(self, charger_id: str) -> EvseConnectorsRow | None:
        stmt = (
            select(
                chargers.c.operator_id,
                chargers.c.station_id,
                chargers.c.retired_at,
                chargers.c.as_of,
                connectors.c.connector_id,
                connectors.c.retired_at.label("connector_retired_at"),
            )
            .join(connectors, connectors.c.charger_id == chargers.c.charger_id)
            .where(chargers.c.charger_id == charger_id)
        )
        rows = self._mappings(stmt)
        if not rows:
            return None
        first = rows[0]
        return row_of(
            EvseConnectorsRow,
            first,
            connector_ids=[r["connector_id"] for r in rows if r["connector_retired_at"] is None],
        )

    def connector_owner(self, connector_id: str) -> ConnectorOwnerRow | None:
        stmt = select(
            connectors.c.connector_id,
            connectors.c.charger_id,
            connectors.c.station_id,
            connectors.c.operator_id,
        ).where(connectors.c.connector_id == connector_id)
        for r in self._mappings(stmt):
            return row_of(ConnectorOwnerRow, r)
        return None

    def stop_order_station(self, stop_id: str) -> str | None:
        """The station a stop order (for it or one of its chargers) concerns."""
        rows = self._rows(select(stop_orders.c.station_id).where(stop_orders.c.stop_id == stop_id))
        return rows[0]["station_id"] if rows else None

    def charger(self, charger_id: str) -> OcpiChargerRow | None:
        rows = self._mappings(select(chargers).where(chargers.c.charger_id == charger_id))
        if not rows:
            return None
        [row] = rows
        return row_of(
            OcpiChargerRow,
            row,
            connectors=self._connectors([row["station_id"]], charger_id=charger_id),
        )

    # --- locations ------------------------------------------------------------------------

    def _location_last_updated(self) -> Any:
        per_station = connectors.c.station_id == stations.c.station_id
        newest_charger = (
            select(func.max(chargers.c.as_of))
            .where(chargers.c.station_id == stations.c.station_id)
            .scalar_subquery()
        )
        # A charger that stops or starts talking changes what its Location shows.
        newest_presence = (
            select(func.max(chargers.c.presence_since))
            .where(chargers.c.station_id == stations.c.station_id)
            .scalar_subquery()
        )
        newest_connector = select(func.max(connectors.c.as_of)).where(per_station)
        newest_status = (
            select(func.max(connector_live.c.status_since))
            .select_from(
                connector_live.join(
                    connectors, connectors.c.connector_id == connector_live.c.connector_id
                )
            )
            .where(per_station)
            .scalar_subquery()
        )
        newest_tariffs = (
            select(func.max(connector_tariffs.c.as_of))
            .select_from(
                connector_tariffs.join(
                    connectors, connectors.c.connector_id == connector_tariffs.c.connector_id
                )
            )
            .where(per_station)
            .scalar_subquery()
        )
        return type_coerce(
            self._greatest(
                stations.c.as_of,
                newest_charger,
                newest_presence,
                newest_connector.scalar_subquery(),
                newest_status,
                newest_tariffs,
                stop_changed(stations.c.station_id),  # a stop order shows it out of order
            ),
            UtcDateTime,
        )

    def locations(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        station_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        public_only: bool = False,
        include_retired: bool = True,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiLocationRow], int]:
        last_updated = self._location_last_updated().label("last_updated")
        city = areas.alias("city")
        inner = (
            select(
                stations,
                operators.c.name.label("operator_name"),
                city.c.name_zh.label("city_name"),
                _stated("location", stations.c.station_id).label("stated"),
                last_updated,
            )
            .join(operators, operators.c.operator_id == stations.c.operator_id)
            .outerjoin(city, city.c.code == stations.c.city_code)
        )
        if operator_ids is not None:
            inner = inner.where(stations.c.operator_id.in_(list(operator_ids)))
        if station_ids is not None:
            inner = inner.where(stations.c.station_id.in_(list(station_ids)))
        if public_only:
            inner = inner.where(stations.c.access == "public")
        if not include_retired:
            inner = inner.where(stations.c.retired_at.is_(None))
        sub = inner.subquery()
        # Oldest first, in an order no update changes (OCPI 2.2.1 4.1.4.1): a client
        # crawling the pages while Locations change neither skips one nor sees one twice.
        stmt = (
            select(sub)
            .where(*_window(sub.c.last_updated, date_from, date_to))
            .order_by(sub.c.registered_at, sub.c.station_id)
        )
        rows, total = self._page(stmt, offset, limit)
        by_station: dict[str, list[OcpiConnectorRow]] = {r["station_id"]: [] for r in rows}
        if rows:
            for connector in self._connectors(list(by_station)):
                by_station[connector["station_id"]].append(connector)
        return [
            row_of(
                OcpiLocationRow,
                row,
                last_updated=UtcDateTime().process_result_value(
                    row["last_updated"], self._engine.dialect
                ),
                connectors=by_station[row["station_id"]],
            )
            for row in rows
        ], total

    def _connectors(
        self, station_ids: list[str], charger_id: str | None = None
    ) -> list[OcpiConnectorRow]:
        stmt = (
            select(
                connectors,
                chargers.c.protocol,
                chargers.c.online,
                chargers.c.as_of.label("charger_as_of"),
                chargers.c.presence_since,
                chargers.c.retired_at.label("charger_retired_at"),
                chargers.c.vendor,
                chargers.c.model,
                connector_live.c.status.label("reported_status"),
                connector_live.c.status_since,
                stopped().label("stopped"),
                stop_changed(chargers.c.station_id, chargers.c.charger_id).label("stop_changed_at"),
                connector_tariffs.c.tariff_ids,
                connector_tariffs.c.as_of.label("tariffs_as_of"),
                _stated("evse", chargers.c.charger_id).label("evse_stated"),
            )
            .join(chargers, chargers.c.charger_id == connectors.c.charger_id)
            .outerjoin(connector_live, connector_live.c.connector_id == connectors.c.connector_id)
            .outerjoin(
                connector_tariffs, connector_tariffs.c.connector_id == connectors.c.connector_id
            )
            .where(connectors.c.station_id.in_(station_ids))
            .order_by(connectors.c.charger_id, connectors.c.evse_no, connectors.c.connector_no)
        )
        if charger_id is not None:
            stmt = stmt.where(connectors.c.charger_id == charger_id)
        return [_connector(r) for r in self._mappings(stmt)]

    # --- sessions, records, tariffs -------------------------------------------------------

    def sessions(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        session_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiSessionRow], int]:
        stmt = (
            select(
                sessions,
                connectors.c.evse_no,
                connectors.c.evse_uid,
                connectors.c.connector_no,
                stations.c.source_adapter.label("station_source"),
                chargers.c.protocol,
                _stated("session", sessions.c.session_id).label("stated"),
            )
            .join(connectors, connectors.c.connector_id == sessions.c.connector_id)
            .join(stations, stations.c.station_id == sessions.c.station_id)
            .join(chargers, chargers.c.charger_id == sessions.c.charger_id)
            .where(*_window(sessions.c.as_of, date_from, date_to))
            .order_by(sessions.c.started_at, sessions.c.session_id)  # as Locations: stable
        )
        if operator_ids is not None:
            stmt = stmt.where(sessions.c.operator_id.in_(list(operator_ids)))
        if session_ids is not None:
            stmt = stmt.where(sessions.c.session_id.in_(list(session_ids)))
        rows, total = self._page(stmt, offset, limit)
        return [row_of(OcpiSessionRow, r) for r in rows], total

    def cdrs(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        cdr_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiCdrRow], int]:
        city = areas.alias("city")
        stmt = (
            select(
                cdrs,
                connectors.c.evse_no,
                connectors.c.evse_uid,
                connectors.c.connector_no,
                connectors.c.standard,
                connectors.c.power_type,
                connectors.c.max_power_w,
                chargers.c.protocol,
                stations.c.name.label("station_name"),
                stations.c.address,
                stations.c.lat,
                stations.c.lon,
                stations.c.source_adapter.label("station_source"),
                city.c.name_zh.label("city_name"),
                _stated("cdr", cdrs.c.cdr_id).label("stated"),
            )
            .join(connectors, connectors.c.connector_id == cdrs.c.connector_id)
            .join(chargers, chargers.c.charger_id == cdrs.c.charger_id)
            .join(stations, stations.c.station_id == cdrs.c.station_id)
            .outerjoin(city, city.c.code == stations.c.city_code)
            .where(*_window(cdrs.c.as_of, date_from, date_to))
            .order_by(cdrs.c.as_of, cdrs.c.cdr_id)  # a record never changes: stable
        )
        if operator_ids is not None:
            stmt = stmt.where(cdrs.c.operator_id.in_(list(operator_ids)))
        if cdr_ids is not None:
            stmt = stmt.where(cdrs.c.cdr_id.in_(list(cdr_ids)))
        rows, total = self._page(stmt, offset, limit)
        return [row_of(OcpiCdrRow, r) for r in rows], total

    def tariffs(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        tariff_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiTariffRow], int]:
        stmt = (
            select(tariffs, _stated("tariff", tariffs.c.tariff_id).label("stated"))
            .where(*_window(tariffs.c.as_of, date_from, date_to))
            .order_by(tariffs.c.registered_at, tariffs.c.tariff_id)  # as Locations: stable
        )
        if tariff_ids is not None:
            stmt = stmt.where(tariffs.c.tariff_id.in_(list(tariff_ids)))
        else:
            stmt = stmt.where(tariffs.c.withdrawn_at.is_(None))
        if operator_ids is not None:
            stmt = stmt.where(tariffs.c.operator_id.in_(list(operator_ids)))
        rows, total = self._page(stmt, offset, limit)
        return [row_of(OcpiTariffRow, r) for r in rows], total

    # --- open data ------------------------------------------------------------------------

    def live_status(
        self, *, since: datetime | None = None, offset: int = 0, limit: int = 1000
    ) -> tuple[list[LiveStatusRow], int]:
        """Connectors of public stations in service, with their effective status."""
        stmt = (
            select(
                connectors.c.connector_id,
                connectors.c.charger_id,
                connectors.c.station_id,
                connectors.c.evse_no,
                chargers.c.online,
                connector_live.c.status.label("reported_status"),
                connector_live.c.status_since,
                stopped().label("stopped"),
            )
            .join(stations, stations.c.station_id == connectors.c.station_id)
            .join(chargers, chargers.c.charger_id == connectors.c.charger_id)
            .outerjoin(connector_live, connector_live.c.connector_id == connectors.c.connector_id)
            .where(
                stations.c.access == "public",
                stations.c.retired_at.is_(None),
                connectors.c.retired_at.is_(None),
            )
            .order_by(connectors.c.connector_id)
        )
        if since is not None:
            stop_at = stop_changed(chargers.c.station_id, chargers.c.charger_id)
            changed = or_(
                and_(*_window(connector_live.c.status_since, since, None)),
                and_(*_window(chargers.c.presence_since, since, None)),
                and_(*_window(stop_at, since, None)),
            )
            stmt = stmt.where(changed)
        rows, total = self._page(stmt, offset, limit)
        return [
            LiveStatusRow(
                connector_id=r["connector_id"],
                charger_id=r["charger_id"],
                station_id=r["station_id"],
                evse_no=r["evse_no"],
                status=effective_status(
                    ConnectorStatus(r["reported_status"]) if r["reported_status"] else None,
                    r["online"],
                    bool(r["stopped"]),
                ).value,
                status_since=r["status_since"],
            )
            for r in rows
        ], total

    def tariff_prices(self, tariff_ids: Sequence[str]) -> dict[str, TariffPriceRow]:
        if not tariff_ids:
            return {}
        rows = self._mappings(
            select(
                tariffs.c.tariff_id,
                tariffs.c.currency,
                tariffs.c.kind,
                tariffs.c.energy_per_kwh,
                tariffs.c.per_session,
                tariffs.c.time_per_hour,
                tariffs.c.parking_per_hour,
                tariffs.c.alt_text,
            ).where(tariffs.c.tariff_id.in_(list(tariff_ids)), tariffs.c.withdrawn_at.is_(None))
        )
        return {r["tariff_id"]: row_of(TariffPriceRow, r) for r in rows}


def registered_upstreams(engine: Engine) -> list[str]:
    """The upstream platforms chargenet forwards to: registered, with a token to call them
    with (the OCPI forwarder's delivery rule, adapters/ocpi/forward.py)."""
    t = ocpi_peers
    stmt = (
        select(t.c.peer_id)
        .where(
            t.c.kind == PeerKind.UPSTREAM.value,
            t.c.status == PeerStatus.REGISTERED.value,
            t.c.token_out.is_not(None),
        )
        .order_by(t.c.peer_id)
    )
    with engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(stmt)]


def _connector(r: RowMapping) -> OcpiConnectorRow:
    reported, stopped = r["reported_status"], bool(r["stopped"])
    return row_of(
        OcpiConnectorRow,
        r,
        stopped=stopped,
        tariff_ids=[t for t in (r["tariff_ids"] or "").split(",") if t],
        status=effective_status(
            ConnectorStatus(reported) if reported else None,
            r["online"],
            stopped,
            retired=r["retired_at"] is not None,
        ).value,
    )
