"""Charge detail records, tariffs, the tariffs that apply at each connector, and objects as
their operators stated them."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, update

from chargenet.adapters.storage.projections._sql import fetch_row, insert_ignore, upsert
from chargenet.adapters.storage.schema import connectors, operators
from chargenet.adapters.storage.tables_ocpi import (
    cdrs,
    connector_tariffs,
    stated_objects,
    tariffs,
)
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    ChargeDetailRecorded,
    ConnectorTariffsSet,
    Event,
    ObjectStated,
    StatedKind,
    TariffPublished,
    TariffWithdrawn,
)
from chargenet.core.tariffs import headline_price


def _connector(conn: Connection, connector_id: str) -> dict[str, Any]:
    row = fetch_row(conn, connectors, connector_id=connector_id)
    if row is None:
        raise UnknownReference("connector", connector_id)
    return row


def _apply_cdr(conn: Connection, event: ChargeDetailRecorded) -> None:
    owner = _connector(conn, event.connector_id)
    # A record is final: a second copy (even with other content) changes nothing.
    insert_ignore(
        conn,
        cdrs,
        {
            "cdr_id": event.cdr_id,
            "connector_id": event.connector_id,
            "charger_id": owner["charger_id"],
            "station_id": owner["station_id"],
            "operator_id": owner["operator_id"],
            "session_id": event.session_id,
            "started_at": event.started_at,
            "ended_at": event.ended_at,
            "energy_wh": event.energy_wh,
            "charging_time_s": event.charging_time_s,
            "parking_time_s": event.parking_time_s,
            "cost_amount": event.cost.amount,
            "cost_incl_vat": event.cost_incl_vat,
            "currency": event.cost.currency,
            "auth_method": event.auth_method,
            "token_hash": event.token_hash,
            "tariff_ids": ",".join(event.tariff_ids),
            "credit": event.credit,
            "credit_reference_id": event.credit_reference_id,
            "remark": event.remark,
            "source_adapter": event.source.adapter,
            "as_of": event.occurred_at,
        },
    )


def _apply_tariff(conn: Connection, event: TariffPublished) -> None:
    if fetch_row(conn, operators, operator_id=event.operator_id) is None:
        raise UnknownReference("operator", event.operator_id)
    price = headline_price(event.elements)
    upsert(
        conn,
        tariffs,
        {
            "tariff_id": event.tariff_id,
            "operator_id": event.operator_id,
            "currency": event.currency,
            "kind": event.kind.value if event.kind else None,
            "alt_text": event.alt_text,
            "elements": msgspec.json.encode(event.elements).decode(),
            "energy_per_kwh": price.energy_per_kwh,
            "per_session": price.per_session,
            "time_per_hour": price.time_per_hour,
            "parking_per_hour": price.parking_per_hour,
            "valid_from": event.valid_from,
            "valid_until": event.valid_until,
            "withdrawn_at": None,
            "source_adapter": event.source.adapter,
            "registered_at": event.occurred_at,
            "as_of": event.occurred_at,
        },
        ["tariff_id"],
        keep=["registered_at"],
    )


def _apply_tariff_withdrawn(conn: Connection, event: TariffWithdrawn) -> None:
    existing = fetch_row(conn, tariffs, tariff_id=event.tariff_id)
    if existing is None:
        raise UnknownReference("tariff", event.tariff_id)
    if existing["withdrawn_at"] is not None or existing["as_of"] > event.occurred_at:
        return
    conn.execute(
        update(tariffs)
        .where(tariffs.c.tariff_id == event.tariff_id)
        .values(withdrawn_at=event.occurred_at, as_of=event.occurred_at)
    )


def _apply_connector_tariffs(conn: Connection, event: ConnectorTariffsSet) -> None:
    _connector(conn, event.connector_id)
    upsert(
        conn,
        connector_tariffs,
        {
            "connector_id": event.connector_id,
            "tariff_ids": ",".join(event.tariff_ids),
            "as_of": event.occurred_at,
        },
        ["connector_id"],
    )


def _apply_stated(conn: Connection, event: ObjectStated) -> None:
    values = {
        "kind": event.kind.value,
        "object_id": event.object_id,
        "protocol": event.protocol,
        "body": event.body,
        "as_of": event.occurred_at,
    }
    if event.kind is StatedKind.CDR:
        insert_ignore(conn, stated_objects, values)  # final, like the record itself
        return
    # The newest statement wins whole (a PUT replaces every field, OCPI 2.2.1 4.1.4.2); one
    # older than what is held changes nothing.
    upsert(conn, stated_objects, values, ["kind", "object_id"])


APPLIERS: dict[type[Event], Any] = {
    ObjectStated: _apply_stated,
    ChargeDetailRecorded: _apply_cdr,
    TariffPublished: _apply_tariff,
    TariffWithdrawn: _apply_tariff_withdrawn,
    ConnectorTariffsSet: _apply_connector_tariffs,
}
