"""OCPI objects → chargenet events, exactly as OCPP data enters: a Location is a station,
each EVSE a charger (protocol "ocpi") with its connectors, an EVSE status a connector
status, PLANNED/REMOVED registry changes, Sessions sessions, CDRs and Tariffs their own
events. `last_updated` becomes `occurred_at`; event ids are stable, so a resent object maps
to the same events and changes nothing.

Beside these typed events, each object pushed is kept whole as its party stated it
(`ObjectStated`), so that every field OCPI carries — a connector's format, an EVSE's
capabilities, a session's INVALID status — is given back and forwarded as pushed. Drivers'
token uids and contract ids are personal: the statement holds digests of them.

Times a party states (`last_updated`, a session's or record's start and end) more than the
shared clock tolerance ahead of ours are refused (`wire.stated_time`)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chargenet.adapters.ocpi import model, vocab
from chargenet.adapters.ocpi.ids import connector_global, global_id
from chargenet.adapters.ocpi.status import LIFECYCLE_STATUSES, from_ocpi
from chargenet.adapters.ocpi.wire import OcpiError, Status, parse_time, stated_time, utc_text
from chargenet.app.ocpi import Party
from chargenet.core.drivers import TokenKey
from chargenet.core.events import (
    ChargeDetailRecorded,
    ChargerRegistered,
    ChargerRetired,
    ChargerUpdated,
    ConnectorStatusChanged,
    ConnectorTariffsSet,
    Event,
    ObjectStated,
    SessionEnded,
    SessionStarted,
    SessionUpdated,
    Source,
    StatedKind,
    StationRegistered,
    StationUpdated,
    TariffPublished,
    TariffWithdrawn,
    event_meta,
)
from chargenet.core.ids import ChargerId, ConnectorId, OperatorId, SessionId, StationId
from chargenet.core.money import Money
from chargenet.core.registry.model import ChargerRecord, ConnectorRecord, EvseRecord, StationRecord
from chargenet.core.tariffs import PriceComponent, PriceDimension, TariffElement, TariffKind
from chargenet.kit.ids import stable_id

PROTOCOL = "ocpi-2.2.1"
PLANNED_REASON = "OCPI status PLANNED: not yet in service"
REMOVED_REASON = "OCPI status REMOVED"


@dataclass(frozen=True, slots=True)
class Writer:
    """On whose behalf objects are written: the party, its chargenet operator, the source."""

    party: Party
    operator_id: str
    source: Source
    received_at: datetime
    token_key: TokenKey  # the deployment's key of token digests (OcpiSettings)


def _meta(writer: Writer, occurred_at: datetime, *key: object) -> Any:
    return event_meta(stable_id("ocpi", *key), writer.source, occurred_at, writer.received_at)


def wh(kwh: Decimal) -> int:
    return int((kwh * 1000).to_integral_value(rounding=ROUND_HALF_UP))


def _when(text: str, field: str, writer: Writer) -> datetime:
    return stated_time(text, field, writer.received_at)


# --- the objects as stated ----------------------------------------------------------------


def _digest(value: Any, key: TokenKey) -> Any:
    # Tokens (RFID uids, contract ids) are personal: only the keyed digest is kept.
    return key.digest(value)[:36] if isinstance(value, str) else value


def private(body: Mapping[str, Any], key: TokenKey) -> dict[str, Any]:
    """The object with drivers' token identifiers replaced by digests (36 characters, the
    CiString length they had): a session's or record's `cdr_token` uid and contract id, a
    Location's `publish_allowed_to` uid and printed number. These are the only fields not
    kept as pushed. Applied once, to what a party sends, never to what we already hold."""
    out = copy.deepcopy(dict(body))
    token = out.get("cdr_token")
    if isinstance(token, dict):
        for name in ("uid", "contract_id"):
            token[name] = _digest(token.get(name), key)
    for allowed in out.get("publish_allowed_to") or ():
        if isinstance(allowed, dict):
            for name in ("uid", "visual_number"):
                if name in allowed:
                    allowed[name] = _digest(allowed[name], key)
    return out


_TIME_KEYS = ("last_updated", "date_time", "period_begin", "period_end")


def _ocpi_time(text: str) -> str:
    """A DateTime as OCPI allows it (types: DateTime, string(25), UTC): as sent when it is
    one, else the same instant in chargenet's own form (a party's microseconds or offset)."""
    clock = text.partition("T")[2]
    if not clock or (len(text) <= 25 and "+" not in clock and "-" not in clock):
        return text  # already fit, or not a date-time at all (regular hours: "06:00")
    try:
        return utc_text(parse_time(text))
    except OcpiError:
        return text


def _fit_times(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _fit_times(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_fit_times(v, key) for v in value]
    if isinstance(value, str) and key.endswith(_TIME_KEYS):
        return _ocpi_time(value)
    return value


def stated(
    kind: StatedKind, object_id: str, body: Mapping[str, Any], writer: Writer, when: datetime
) -> ObjectStated:
    """The object as its party stated it (its DateTimes fitted to string(25), so that all
    chargenet sends on is valid OCPI). A record (CDR) is final: its first statement is the
    one kept, so its event id leaves the content out and a second copy is a duplicate."""
    text = json.dumps(_fit_times(body), ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    key: tuple[object, ...] = () if kind is StatedKind.CDR else (when, digest)
    return ObjectStated(
        **_meta(writer, when, "stated", kind.value, object_id, *key),
        kind=kind,
        object_id=object_id,
        protocol=PROTOCOL,
        body=text,
    )


# --- locations ----------------------------------------------------------------------------


def station_record(loc: model.Location, writer: Writer) -> StationRecord:
    hours = loc.opening_times
    return StationRecord(
        station_id=StationId(global_id(writer.party, loc.id)),
        operator_id=OperatorId(writer.operator_id),
        name=(loc.name or loc.address).strip()[:200],
        lat=float(loc.coordinates.latitude),
        lon=float(loc.coordinates.longitude),
        category=vocab.category_in(loc.parking_type, loc.facilities),
        access=vocab.access_in(loc.publish),
        address=loc.address[:300],
        opening_hours=vocab.hours_in(
            hours.twentyfourseven if hours else True,
            [
                (h.weekday, h.period_begin, h.period_end)
                for h in (hours.regular_hours if hours else [])
            ],
        ),
    )


def station_events(loc: model.Location, writer: Writer, *, known: bool) -> list[Event]:
    record = station_record(loc, writer)
    when = _when(loc.last_updated, "last_updated", writer)
    meta = _meta(writer, when, "station", record.station_id, when, repr(record))
    if known:
        return [StationUpdated(**meta, station=record)]
    return [StationRegistered(**meta, station=record)]


def charger_record(evse: model.Evse, station_id: str, writer: Writer) -> ChargerRecord:
    charger_id = global_id(writer.party, evse.uid)
    numeric = [c.id for c in evse.connectors if c.id.isdigit() and int(c.id) >= 1]
    by_number = len(numeric) == len(evse.connectors) and len(set(numeric)) == len(numeric)
    connectors = []
    for position, con in enumerate(evse.connectors, 1):
        try:
            power_type = vocab.power_in(con.power_type)
        except ValueError as exc:
            raise OcpiError(Status.INVALID_PARAMETERS, f"connector {con.id}: {exc}") from None
        connectors.append(
            ConnectorRecord(
                connector_no=int(con.id) if by_number else position,
                connector_id=ConnectorId(connector_global(charger_id, con.id)),
                standard=vocab.standard_in(con.standard),
                power_type=power_type,
                max_power_w=vocab.max_power_w(
                    con.power_type, con.max_voltage, con.max_amperage, con.max_electric_power
                ),
                max_voltage_v=con.max_voltage or None,
                max_current_a=con.max_amperage or None,
            )
        )
    return ChargerRecord(
        charger_id=ChargerId(charger_id),
        station_id=StationId(station_id),
        evses=(EvseRecord(evse_no=1, evse_uid=evse.uid, connectors=tuple(connectors)),),
        protocol="ocpi",
    )


def evse_events(
    evse: model.Evse, station_id: str, writer: Writer, *, known: bool, retired: bool
) -> list[Event]:
    """Registry events for the EVSE (register, update, PLANNED, REMOVED), then its status
    and tariffs."""
    record = charger_record(evse, station_id, writer)
    when = _when(evse.last_updated, "last_updated", writer)
    cid = record.charger_id
    meta = _meta(writer, when, "charger", cid, when, repr(record))
    retire_meta = _meta(writer, when, "charger-retired", cid, when, evse.status)
    out: list[Event] = []
    if evse.status == "REMOVED":
        if known and not retired:
            out.append(ChargerRetired(**retire_meta, charger_id=cid, reason=REMOVED_REASON))
        return out
    if evse.status == "PLANNED":
        if not known:
            out.append(ChargerRegistered(**meta, charger=record))
        if not retired:
            out.append(ChargerRetired(**retire_meta, charger_id=cid, reason=PLANNED_REASON))
        return out
    if known and not retired:
        out.append(ChargerUpdated(**meta, charger=record))
    else:
        out.append(ChargerRegistered(**meta, charger=record))
    connector_ids = [c.connector_id for c in record.evses[0].connectors if c.connector_id]
    out += status_events(connector_ids, evse.status, when, writer)
    for con in evse.connectors:
        if con.tariff_ids is not None:
            out.append(tariffs_set(connector_global(cid, con.id), con, writer))
    return out


def tariffs_set(connector_id: str, con: model.Connector, writer: Writer) -> ConnectorTariffsSet:
    when = _when(con.last_updated, "last_updated", writer)
    ids = tuple(global_id(writer.party, t) for t in con.tariff_ids or ())
    return ConnectorTariffsSet(
        **_meta(writer, when, "tariffs-set", connector_id, when, ids),
        connector_id=ConnectorId(connector_id),
        tariff_ids=ids,
    )


def status_events(
    connector_ids: Sequence[str], status: str, when: datetime, writer: Writer
) -> list[Event]:
    if status in LIFECYCLE_STATUSES:
        return []
    try:
        mapped = from_ocpi(status)
    except ValueError as exc:
        raise OcpiError(Status.INVALID_PARAMETERS, str(exc)) from None
    assert mapped is not None
    return [
        ConnectorStatusChanged(
            **_meta(writer, when, "status", cid, when, status),
            connector_id=ConnectorId(cid),
            status=mapped,
        )
        for cid in connector_ids
    ]


# --- sessions -----------------------------------------------------------------------------


def session_events(
    s: model.Session, connector_id: str, writer: Writer, *, known: bool
) -> list[Event]:
    sid = SessionId(global_id(writer.party, s.id))
    if s.status in ("PENDING", "RESERVATION") and not known:
        return []  # nothing delivered yet: the session begins when it turns ACTIVE
    started = _when(s.start_date_time, "start_date_time", writer)
    updated = _when(s.last_updated, "last_updated", writer)
    energy = wh(s.kwh)
    cost = Money(s.total_cost.excl_vat, s.currency) if s.total_cost else None
    out: list[Event] = [
        SessionStarted(
            **_meta(writer, started, "session-started", sid),
            session_id=sid,
            connector_id=ConnectorId(connector_id),
            # the digest every intake uses, so a driver's own token finds its session
            token_hash=writer.token_key.digest(s.cdr_token.uid),
        ),
        SessionUpdated(
            **_meta(writer, updated, "session-updated", sid, updated, energy, cost),
            session_id=sid,
            energy_wh=energy,
            cost=cost,
        ),
    ]
    if s.status in ("COMPLETED", "INVALID"):
        ended = _when(s.end_date_time, "end_date_time", writer) if s.end_date_time else updated
        out.append(
            SessionEnded(
                **_meta(writer, ended, "session-ended", sid),
                session_id=sid,
                energy_wh=energy,
                cost=cost,
                stop_reason="invalid" if s.status == "INVALID" else None,
            )
        )
    return out


# --- charge detail records ----------------------------------------------------------------


def _seconds(hours: Decimal | None) -> int | None:
    return None if hours is None else int((hours * 3600).to_integral_value(ROUND_HALF_UP))


def cdr_event(c: model.Cdr, connector_id: str, writer: Writer) -> ChargeDetailRecorded:
    cdr_id = global_id(writer.party, c.id)
    when = _when(c.last_updated, "last_updated", writer)
    tariff_ids = tuple(
        global_id(writer.party, str(t["id"]))
        for t in c.tariffs or ()
        if isinstance(t, dict) and t.get("id")
    )
    return ChargeDetailRecorded(
        **_meta(writer, when, "cdr", cdr_id),
        cdr_id=cdr_id,
        connector_id=ConnectorId(connector_id),
        started_at=_when(c.start_date_time, "start_date_time", writer),
        ended_at=_when(c.end_date_time, "end_date_time", writer),
        energy_wh=wh(c.total_energy),
        cost=Money(c.total_cost.excl_vat, c.currency),
        cost_incl_vat=c.total_cost.incl_vat,
        session_id=SessionId(global_id(writer.party, c.session_id)) if c.session_id else None,
        charging_time_s=_seconds(c.total_time),
        parking_time_s=_seconds(c.total_parking_time),
        auth_method=c.auth_method[:32],
        token_hash=writer.token_key.digest(c.cdr_token.uid),
        tariff_ids=tariff_ids,
        credit=bool(c.credit),
        credit_reference_id=c.credit_reference_id,
        remark=c.remark,
    )


# --- tariffs ------------------------------------------------------------------------------


def _alt_text(texts: list[model.DisplayText] | None) -> str:
    if not texts:
        return ""
    for language in ("zh", "en"):
        for text in texts:
            if text.language.lower().startswith(language):
                return text.text
    return texts[0].text


def tariff_event(t: model.Tariff, writer: Writer) -> TariffPublished:
    tariff_id = global_id(writer.party, t.id)
    when = _when(t.last_updated, "last_updated", writer)
    elements = []
    for n, element in enumerate(t.elements, 1):
        components = []
        for pc in element.price_components:
            try:
                dimension = PriceDimension(pc.type)
            except ValueError:
                raise OcpiError(
                    Status.INVALID_PARAMETERS, f"element {n}: unknown price component {pc.type!r}"
                ) from None
            components.append(
                PriceComponent(
                    dimension=dimension, price=pc.price, step_size=pc.step_size, vat=pc.vat
                )
            )
        restrictions = tuple(
            sorted(
                (k, json.dumps(v, ensure_ascii=False))
                for k, v in (element.restrictions or {}).items()
            )
        )
        elements.append(TariffElement(components=tuple(components), restrictions=restrictions))
    try:
        kind = TariffKind(t.type) if t.type else None
    except ValueError:
        raise OcpiError(Status.INVALID_PARAMETERS, f"unknown tariff type {t.type!r}") from None
    return TariffPublished(
        **_meta(writer, when, "tariff", tariff_id, when, repr(elements), t.currency, t.type),
        tariff_id=tariff_id,
        operator_id=OperatorId(writer.operator_id),
        currency=t.currency,
        elements=tuple(elements),
        kind=kind,
        alt_text=_alt_text(t.tariff_alt_text),
        valid_from=parse_time(t.start_date_time, "start_date_time") if t.start_date_time else None,
        valid_until=parse_time(t.end_date_time, "end_date_time") if t.end_date_time else None,
    )


def tariff_withdrawn(tariff_id: str, writer: Writer, when: datetime) -> TariffWithdrawn:
    return TariffWithdrawn(
        **_meta(writer, when, "tariff-withdrawn", tariff_id), tariff_id=tariff_id
    )
