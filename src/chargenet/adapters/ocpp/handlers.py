"""Messages from chargers → domain events and the answer the charger gets.

Every event id is derived from the message's content (`stable_id`), so a message resent
from a charger's offline queue maps to the same event and is stored once. Answers never
depend on whether the events were accepted: a StopTransaction for a transaction we never
saw is still answered, so that the charger stops resending it (the refusal is recorded in
`rejected_events`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from chargenet.adapters.ocpp import auth as ocpp_auth
from chargenet.adapters.ocpp import equipment
from chargenet.adapters.ocpp import status as ocpp_status
from chargenet.adapters.ocpp.context import ChargerContext, Handler, Reply
from chargenet.adapters.ocpp.model import V16, V201
from chargenet.adapters.ocpp.values import (
    Stamp,
    iso_text,
    parse_planned_time,
    parse_time,
    read_sample,
    token_hash,
    wire_time,
)
from chargenet.core.drivers import Authorisation, AuthStatus
from chargenet.core.events import (
    MAX_DATA_TRANSFER_CHARS,
    AlarmCleared,
    AlarmRaised,
    ChargerDataTransferred,
    ChargingNeedsStated,
    ConnectorStatusChanged,
    EquipmentNoticed,
    Event,
    EventMeta,
    MeterSampled,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import AlarmId, ChargerId, ConnectorId, EventId, SessionId
from chargenet.core.oversight import NoticeKind
from chargenet.core.sessions import SessionFlag
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import Severity, TargetKind
from chargenet.kit.ids import stable_id, stable_id_after

log = logging.getLogger(__name__)

OFFLINE_AFTER = timedelta(minutes=10)  # a start this much older than its arrival was queued
ACCEPTED = {"status": "Accepted"}

# Security events that mean someone may be tampering or the software cannot be trusted.
SERIOUS_SECURITY_EVENTS = frozenset(
    {
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCentralSystemCertificate",
        "InvalidCsmsCertificate",
        "InvalidChargePointCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
        "AttemptedReplayAttacks",
        "FailedToAuthenticateAtCsms",
        "FailedToAuthenticateAtCentralSystem",
    }
)
ROUTINE_SECURITY_EVENTS = frozenset(
    {"StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime", "FirmwareUpdated"}
)


def meta(link: ChargerContext, received: datetime, at: datetime, *parts: object) -> EventMeta:
    return {
        "event_id": EventId(stable_id("ocpp", link.charger_id, *parts)),
        # The charger speaks for itself: it may write only about its own connectors and
        # sessions (core/ownership.py), whatever ids it sends.
        "source": link.source,
        "occurred_at": at,
        "received_at": received,
    }


def session_id(charger_id: str, tx: object) -> SessionId:
    text = f"{charger_id}:{tx}"
    return SessionId(text if len(text) <= 128 else stable_id("ocpp-session", charger_id, tx))


def transaction_id_16(charger_id: str, connector: int, timestamp: str, meter_start: int) -> int:
    """The transaction id we hand a 1.6 charger: derived from the start itself, so that a
    resent StartTransaction gets the same id and maps to the same session."""
    value = int(stable_id("ocpp-tx", charger_id, connector, timestamp, meter_start)[:8], 16)
    return (value & 0x7FFFFFFF) or 1


async def authorised(link: ChargerContext, token: str | None) -> Authorisation:
    """The platform's answer to a token (docs/settlement.md): its drivers' tokens decide,
    or every token is accepted where the platform runs no driver accounts."""
    authoriser = link.services.authoriser
    if authoriser is None:
        return Authorisation(AuthStatus.ACCEPTED)
    return await asyncio.to_thread(authoriser.authorise, token)


async def id_tag_info(link: ChargerContext, token: str | None) -> dict[str, Any]:
    """1.6 IdTagInfo (§7.30): status, and expiryDate for the charger's cache."""
    verdict = await authorised(link, token)
    info: dict[str, Any] = {"status": ocpp_auth.status_16(verdict.status)}
    if verdict.expires_at is not None:
        info["expiryDate"] = wire_time(verdict.expires_at)
    return info


async def id_token_info(link: ChargerContext, token: str | None) -> dict[str, Any]:
    """2.0.1 IdTokenInfoType: status, and cacheExpiryDateTime for the charger's cache."""
    verdict = await authorised(link, token)
    info: dict[str, Any] = {"status": ocpp_auth.status_201(verdict.status)}
    if verdict.expires_at is not None:
        info["cacheExpiryDateTime"] = wire_time(verdict.expires_at)
    return info


def now_text(link: ChargerContext) -> str:
    return wire_time(link.services.clock.now())


def clock_events(link: ChargerContext, stamp: Stamp, received: datetime) -> list[Event]:
    """Once per connection: an alarm when the charger's clock is unset or runs ahead."""
    if link.clock_flagged or not stamp.replaced:
        return []
    link.clock_flagged = True
    code = "ClockUnset" if stamp.unset else "ClockAhead"
    message = (
        "the charger sends time stamps before 2010: its clock is not set"
        if stamp.unset
        else f"the charger's clock is {stamp.skew_s:.0f} s ahead of ours"
    )
    alarm = stable_id("ocpp-clock", link.charger_id, link.connected_at.isoformat(), code)
    return [
        AlarmRaised(
            **meta(link, received, received, "clock", link.connected_at.isoformat(), code),
            alarm_id=AlarmId(alarm),
            target_kind=TargetKind.CHARGER,
            target_id=link.charger_id,
            code=code,
            severity=Severity.INFO,
            message=message,
        )
    ]


def _plain_dataclass(cls: type, names: tuple[str, ...]) -> bool:
    """Whether an instance of `cls` is its fields in its `__dict__` and nothing else: a
    dataclass (events are frozen ones) of exactly these fields, in this order, with the
    `__init__` dataclasses wrote and no `__post_init__`. Such an event can be made by
    filling the `__dict__` of a bare instance (0.2 µs) rather than by its `__init__`, which
    sets each of its fields through `object.__setattr__` (1.4 µs for a meter value's
    fourteen); anything else about the class (another field, slots, a check of its own)
    and it is made by its `__init__`. tests/adapters/ocpp/test_handlers.py holds the two
    ways equal."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return False
    fields = dataclasses.fields(cls)
    init = getattr(cls.__init__, "__code__", None)
    return (
        tuple(f.name for f in fields) == names
        and all(f.init for f in fields)
        and init is not None
        and init.co_filename == "<string>"  # dataclasses' own
        and hasattr(object.__new__(cls), "__dict__")
    )


METER_FIELDS = (
    "event_id",
    "source",
    "occurred_at",
    "received_at",
    "connector_id",
    "session_id",
    "energy_register_wh",
    "power_w",
    "current_a",
    "voltage_v",
    "soc_percent",
    "temperature_c",
    "power_offered_w",
    "session_energy_wh",
)
PLAIN_METER = _plain_dataclass(MeterSampled, METER_FIELDS)
_new = object.__new__


STATUS_FIELDS = (
    "event_id",
    "source",
    "occurred_at",
    "received_at",
    "connector_id",
    "status",
    "error_code",
    "vendor_error_code",
    "info",
)
PLAIN_STATUS = _plain_dataclass(ConnectorStatusChanged, STATUS_FIELDS)


def status_changed(values: dict[str, Any]) -> ConnectorStatusChanged:
    """A ConnectorStatusChanged of `values`, every one of `STATUS_FIELDS` in their order
    (made as `meter_sampled` makes a meter value's: one in ten of a charger's messages)."""
    if PLAIN_STATUS:
        event: ConnectorStatusChanged = _new(ConnectorStatusChanged)
        event.__dict__.update(values)
        return event
    return ConnectorStatusChanged(**values)


def meter_sampled(values: dict[str, Any]) -> MeterSampled:
    """A MeterSampled of `values`, every one of `METER_FIELDS` in their order."""
    if PLAIN_METER:
        event: MeterSampled = _new(MeterSampled)
        event.__dict__.update(values)
        return event
    return MeterSampled(**values)


def _sample_events(
    link: ChargerContext,
    received: datetime,
    connector_id: str,
    max_power_w: int,
    meter_values: Sequence[Any],
    session: SessionId | None,
    *parts: object,
) -> tuple[list[Event], int | None]:
    """MeterSampled events from a MeterValue list; also the last energy register."""
    out: list[Event] = []
    last_register: int | None = None
    # The first parts of their ids, hashed once a connection (`meta`'s, spelled out).
    prefix = link.meter_prefix(connector_id, session)
    source = link.source
    for item in meter_values:
        stamp = parse_time(item.timestamp, received)
        if not link.clock_flagged and (stamp.unset or stamp.ahead):
            out += clock_events(link, stamp, received)
        sample = read_sample(item.sampledValue)
        if sample.dropped:
            link.services.stats.dropped_values += len(sample.dropped)
            link.services.warn(link.charger_id, "dropped implausible %s", ",".join(sample.dropped))
        register = sample.energy_register_wh
        if register is not None and not link.plausible_register(
            connector_id, register, max_power_w, stamp.at
        ):
            link.services.stats.dropped_values += 1
            link.services.warn(link.charger_id, "meter jump to %d Wh", register)
            sample.energy_register_wh = register = None
        if register is None and sample.empty:  # (a register kept: not empty)
            continue
        if register is not None:
            last_register = register
        out.append(
            meter_sampled(
                {
                    "event_id": stable_id_after(prefix, item.timestamp, *parts),
                    "source": source,
                    "occurred_at": stamp.at,
                    "received_at": received,
                    "connector_id": connector_id,
                    "session_id": session,
                    "energy_register_wh": register,
                    "power_w": sample.power_w,
                    "current_a": sample.current_a,
                    "voltage_v": sample.voltage_v,
                    "soc_percent": sample.soc_percent,
                    "temperature_c": sample.temperature_c,
                    "power_offered_w": sample.power_offered_w,
                    "session_energy_wh": None,
                }
            )
        )
    return out, last_register


def _unknown_connector(link: ChargerContext, where: str) -> str:
    """A connector the registry does not know: named anyway, so the store refuses the
    event and records why (nothing invented is ever trusted)."""
    link.services.warn(link.charger_id, "unknown connector %s", where)
    return f"{link.charger_id}-{where}"


# --- shared by both versions --------------------------------------------------------------


def heartbeat(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return Reply((), {"currentTime": now_text(link)})


def _booted(link: ChargerContext, event: Event) -> Reply:
    return Reply(
        (event,),
        {
            "status": "Accepted",
            "currentTime": now_text(link),
            "interval": link.services.config.heartbeat_s,
        },
    )


async def boot_16(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return _booted(link, equipment.boot_inventory_16(link.charger_id, payload, received))


async def boot_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return _booted(link, equipment.boot_inventory_201(link.charger_id, payload, received))


async def notify_report_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    event = equipment.report_inventory_201(link.charger_id, payload, received)
    return Reply((event,) if event is not None else (), {})


async def firmware_status(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return Reply((equipment.firmware_notice(link.charger_id, payload, received),), {})


async def upload_status(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return Reply((equipment.upload_notice(link.charger_id, payload, received),), {})


async def data_transfer(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    data = payload.data
    if data is not None and not isinstance(data, str):
        data = msgspec.json.encode(data).decode()
    if data is not None and len(data) > MAX_DATA_TRANSFER_CHARS:
        data = data[:MAX_DATA_TRANSFER_CHARS]
    event = ChargerDataTransferred(
        **meta(link, received, received, "data", payload.vendorId, payload.messageId, data),
        charger_id=ChargerId(link.charger_id),
        vendor_id=payload.vendorId,
        message_id=payload.messageId,
        data=data,
    )
    return Reply((event,), dict(ACCEPTED))


async def security_event(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    stamp = parse_time(payload.timestamp, received)
    severity = (
        Severity.MAJOR
        if payload.type in SERIOUS_SECURITY_EVENTS
        else Severity.INFO
        if payload.type in ROUTINE_SECURITY_EVENTS
        else Severity.WARNING
    )
    event = AlarmRaised(
        **meta(link, received, stamp.at, "security", payload.type, payload.timestamp),
        alarm_id=AlarmId(
            stable_id("ocpp-security", link.charger_id, payload.type, payload.timestamp)
        ),
        target_kind=TargetKind.CHARGER,
        target_id=link.charger_id,
        code=payload.type[:64],
        severity=severity,
        message=payload.techInfo or "",
    )
    return Reply((event, *clock_events(link, stamp, received)), {})


# --- OCPP 1.6 -----------------------------------------------------------------------------


def status_16(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    stamp = parse_time(payload.timestamp, received)
    events: list[Event] = clock_events(link, stamp, received)
    # Without a time stamp two identical reports are still two facts.
    when = payload.timestamp or iso_text(received)
    error = None if payload.errorCode == "NoError" else payload.errorCode
    if payload.connectorId == 0:
        # The whole charge point: its faults, and its return to Available, go to the safety
        # rules, which map the code, keep one alarm per fault and clear it.
        if error is not None or payload.status == "Available":
            events.append(
                EquipmentNoticed(
                    **meta(link, received, stamp.at, "status0", payload.status, error, when),
                    charger_id=ChargerId(link.charger_id),
                    kind=NoticeKind.STATUS,
                    code=payload.errorCode,
                    cleared=error is None,
                    severity=2 if payload.status == "Faulted" else 4,  # OCPP 2.0.1's scale
                    info=payload.info or payload.vendorErrorCode or "",
                )
            )
        return Reply(events, {})
    ref = link.endpoint.connector(payload.connectorId, 1)
    connector_id = ref.connector_id if ref else _unknown_connector(link, f"{payload.connectorId}-1")
    status = payload.status
    events.append(
        status_changed(
            {  # (`meta`'s, spelled out)
                "event_id": stable_id(
                    "ocpp", link.charger_id, "status", payload.connectorId, status, error, when
                ),
                "source": link.source,
                "occurred_at": stamp.at,
                "received_at": received,
                "connector_id": connector_id,
                "status": ocpp_status.from_ocpp16(status),
                "error_code": error,
                "vendor_error_code": payload.vendorErrorCode,
                "info": payload.info,
            }
        )
    )
    return Reply(events, {})


async def authorize_16(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return Reply((), {"idTagInfo": await id_tag_info(link, payload.idTag)})


async def start_16(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    stamp = parse_time(payload.timestamp, received)
    tx = transaction_id_16(
        link.charger_id, payload.connectorId, payload.timestamp, payload.meterStart
    )
    ref = link.endpoint.connector(payload.connectorId, 1)
    connector_id = ref.connector_id if ref else _unknown_connector(link, f"{payload.connectorId}-1")
    flags: list[SessionFlag] = []
    if stamp.replaced:
        flags.append(SessionFlag.CLOCK_UNSET)
    if received - stamp.at > OFFLINE_AFTER:
        flags.append(SessionFlag.STARTED_OFFLINE)
    sid = session_id(link.charger_id, tx)
    link.remember_transaction(str(tx), connector_id, payload.meterStart)
    events: list[Event] = [
        *clock_events(link, stamp, received),
        SessionStarted(
            **meta(link, received, stamp.at, "start", tx),
            session_id=sid,
            connector_id=ConnectorId(connector_id),
            meter_start_wh=payload.meterStart,
            token_hash=token_hash(payload.idTag, link.services.config.token_key),
            flags=tuple(flags),
        ),
    ]
    # The session is recorded whatever the answer: the charger may have started already
    # (offline), and a refused token makes it stop (1.6 StopTransactionOnInvalidId).
    info = await id_tag_info(link, payload.idTag)
    return Reply(events, {"transactionId": tx, "idTagInfo": info})


async def stop_16(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    stamp = parse_time(payload.timestamp, received)
    flags: list[SessionFlag] = [SessionFlag.CLOCK_UNSET] if stamp.replaced else []
    answer: dict[str, Any] = (
        {"idTagInfo": await id_tag_info(link, payload.idTag)} if payload.idTag else {}
    )
    tx = payload.transactionId
    if tx <= 0:
        # Started while offline and never confirmed (id −1): end the charger's newest open
        # session that began before this stop.
        open_sessions = await asyncio.to_thread(
            link.services.endpoints.open_sessions, link.charger_id
        )
        candidates = [s for s in open_sessions if s.started_at <= stamp.at]
        if not candidates:
            link.services.warn(link.charger_id, "stop of transaction %d matches no session", tx)
            return Reply((), answer)
        sid = SessionId(candidates[0].session_id)
        flags.append(SessionFlag.STARTED_OFFLINE)
        connector: tuple[str, int] | None = (
            candidates[0].connector_id,
            _max_power(link, candidates[0].connector_id),
        )
    else:
        sid = session_id(link.charger_id, tx)
        connector = await _session_connector(link, str(tx))
    link.forget_transaction(str(tx))
    events: list[Event] = clock_events(link, stamp, received)
    if connector is not None:
        # The meter readings a stop carries are the connector's too: the transactionData
        # samples (some chargers report only there) and meterStop, the register when the
        # transaction ended (1.6 StopTransaction.req). Same ids as the samples of
        # MeterValues, so a sample sent both ways is stored once.
        connector_id, max_power = connector
        samples, _ = _sample_events(
            link, received, connector_id, max_power, payload.transactionData or (), sid, tx
        )
        events += samples
        if link.plausible_register(connector_id, payload.meterStop, max_power, stamp.at):
            events.append(
                MeterSampled(
                    **meta(link, received, stamp.at, "stop-meter", sid, payload.meterStop),
                    connector_id=ConnectorId(connector_id),
                    session_id=sid,
                    energy_register_wh=payload.meterStop,
                )
            )
        else:
            link.services.stats.dropped_values += 1
            link.services.warn(link.charger_id, "meter stop jump to %d Wh", payload.meterStop)
    events.append(
        SessionEnded(
            **meta(link, received, stamp.at, "stop", sid),
            session_id=sid,
            meter_stop_wh=payload.meterStop,
            stop_reason=payload.reason or "Local",
            flags=tuple(flags),
        )
    )
    return Reply(events, answer)


def meter_16(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    if payload.connectorId == 0:
        return Reply((), {})  # the main meter of the whole charge point: not a connector's
    ref = link.endpoint.connector(payload.connectorId, 1)
    if ref is None:
        _unknown_connector(link, f"{payload.connectorId}-1")
        return Reply((), {})
    tx = payload.transactionId
    sid = session_id(link.charger_id, tx) if tx is not None and tx > 0 else None
    events, _ = _sample_events(
        link, received, ref.connector_id, ref.max_power_w, payload.meterValue, sid, tx
    )
    return Reply(events, {})


# --- OCPP 2.0.1 ---------------------------------------------------------------------------


def status_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    stamp = parse_time(payload.timestamp, received)
    ref = link.endpoint.connector(payload.evseId, payload.connectorId)
    where = f"{payload.evseId}-{payload.connectorId}"
    connector_id = ref.connector_id if ref else _unknown_connector(link, where)
    status = ocpp_status.from_ocpp201(payload.connectorStatus)
    if status is ConnectorStatus.OCCUPIED and link.charging and connector_id in link.charging:
        status = ConnectorStatus.CHARGING  # 2.0.1 has no "Charging" status of its own
    event = status_changed(
        {  # (`meta`'s, spelled out)
            "event_id": stable_id(
                "ocpp", link.charger_id, "status", where, payload.connectorStatus, payload.timestamp
            ),
            "source": link.source,
            "occurred_at": stamp.at,
            "received_at": received,
            "connector_id": connector_id,
            "status": status,
            "error_code": None,
            "vendor_error_code": None,
            "info": None,
        }
    )
    clock = clock_events(link, stamp, received)
    return Reply((*clock, event) if clock else (event,), {})


def _token_text(id_token: Any) -> str | None:
    """The text of a 2.0.1 IdTokenType; None for NoAuthorization (no token presented)."""
    if id_token is None or id_token.type == "NoAuthorization":
        return None
    return str(id_token.idToken) or None


async def authorize_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    return Reply((), {"idTokenInfo": await id_token_info(link, _token_text(payload.idToken))})


def _max_power(link: ChargerContext, connector_id: str) -> int:
    refs = link.endpoint.connectors.values()
    return next((r.max_power_w for r in refs if r.connector_id == connector_id), 0)


async def _session_connector(link: ChargerContext, tx: str) -> tuple[str, int] | None:
    """The connector of a transaction: remembered on this connection, else (a reconnect
    in between) the one of its open session in the store."""
    known = link.transactions.get(tx) if link.transactions else None
    if known is None:
        sid = session_id(link.charger_id, tx)
        sessions = await asyncio.to_thread(link.services.endpoints.open_sessions, link.charger_id)
        match = next((s for s in sessions if s.session_id == sid), None)
        if match is None:
            return None
        link.remember_transaction(tx, match.connector_id, None)
        connector_id = match.connector_id
    else:
        connector_id = known[0]
    return connector_id, _max_power(link, connector_id)


async def _transaction_connector(
    link: ChargerContext, payload: Any, tx: str
) -> tuple[str, int] | None:
    evse = payload.evse
    if evse is not None:
        ref = link.endpoint.connector(evse.id, evse.connectorId)
        if ref is not None:
            return ref.connector_id, ref.max_power_w
    return await _session_connector(link, tx)


async def transaction_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    stamp = parse_time(payload.timestamp, received)
    info = payload.transactionInfo
    tx: str = info.transactionId
    sid = session_id(link.charger_id, tx)
    kind = payload.eventType
    events: list[Event] = clock_events(link, stamp, received)
    answer: dict[str, Any] = (
        {"idTokenInfo": await id_token_info(link, _token_text(payload.idToken))}
        if payload.idToken
        else {}
    )
    found = await _transaction_connector(link, payload, tx)
    if found is None:
        link.services.warn(link.charger_id, "transaction %s on no known connector", tx)
        if kind == "Ended":
            events.append(
                SessionEnded(
                    **meta(link, received, stamp.at, "tx-ended", tx),
                    session_id=sid,
                    stop_reason=info.stoppedReason,
                )
            )
        return Reply(events, answer)
    connector_id, max_power = found
    samples, register = _sample_events(
        link, received, connector_id, max_power, payload.meterValue or (), sid, kind, payload.seqNo
    )
    if kind == "Started":
        flags = [SessionFlag.STARTED_OFFLINE] if payload.offline else []
        if stamp.replaced:
            flags.append(SessionFlag.CLOCK_UNSET)
        events.append(
            SessionStarted(
                **meta(link, received, stamp.at, "tx-started", tx),
                session_id=sid,
                connector_id=ConnectorId(connector_id),
                meter_start_wh=register,
                token_hash=token_hash(
                    payload.idToken.idToken if payload.idToken else None,
                    link.services.config.token_key,
                ),
                flags=tuple(flags),
            )
        )
        link.remember_transaction(tx, connector_id, register)
        events += samples
    elif kind == "Updated":
        events += samples
        if register is not None:
            link.remember_transaction(tx, connector_id, register)
    else:  # Ended
        events += samples
        known = link.forget_transaction(tx)
        stop = register if register is not None else (known[1] if known else None)
        events.append(
            SessionEnded(
                **meta(link, received, stamp.at, "tx-ended", tx),
                session_id=sid,
                meter_stop_wh=stop,
                stop_reason=info.stoppedReason or "Local",
                flags=(SessionFlag.CLOCK_UNSET,) if stamp.replaced else (),
            )
        )
    state = info.chargingState
    if state is not None or kind == "Ended":
        if link.charging is None:
            link.charging = set()
        if state == "Charging" and kind != "Ended":
            link.charging.add(connector_id)
        else:
            link.charging.discard(connector_id)
        status = (
            ocpp_status.FROM_OCPP201_CHARGING_STATE.get(state, ConnectorStatus.OCCUPIED)
            if state is not None
            else ConnectorStatus.OCCUPIED  # ended: still plugged until StatusNotification says
        )
        if kind != "Ended" or state is not None:
            events.append(
                ConnectorStatusChanged(
                    **meta(link, received, stamp.at, "tx-state", tx, kind, payload.seqNo, state),
                    connector_id=ConnectorId(connector_id),
                    status=status,
                )
            )
    return Reply(events, answer)


def meter_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    if payload.evseId == 0:
        return Reply((), {})
    ref = link.endpoint.connector(payload.evseId)
    if ref is None:
        _unknown_connector(link, f"{payload.evseId}")
        return Reply((), {})
    events, _ = _sample_events(
        link, received, ref.connector_id, ref.max_power_w, payload.meterValue, None, payload.evseId
    )
    return Reply(events, {})


async def notify_event_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    events: list[Event] = []
    for item in payload.eventData:
        stamp = parse_time(item.timestamp, received)
        target_kind, target_id = TargetKind.CHARGER, link.charger_id
        evse = item.component.evse
        if evse is not None:
            ref = link.endpoint.connector(evse.id, evse.connectorId)
            if ref is not None:
                target_kind, target_id = TargetKind.CONNECTOR, ref.connector_id
        code = f"{item.component.name}.{item.variable.name}"[:64]
        if item.cleared:
            alarm = await asyncio.to_thread(link.services.endpoints.open_alarm, target_id, code)
            if alarm is not None:
                events.append(
                    AlarmCleared(
                        **meta(link, received, stamp.at, "event-cleared", alarm, item.eventId),
                        alarm_id=AlarmId(alarm),
                        reason=f"charger reports {code} cleared",
                    )
                )
            continue
        problem = item.variable.name in ("Problem", "Tripped", "Fault")
        events.append(
            AlarmRaised(
                **meta(link, received, stamp.at, "event", item.eventId, item.timestamp),
                alarm_id=AlarmId(
                    stable_id("ocpp-event", link.charger_id, item.eventId, item.timestamp)
                ),
                target_kind=target_kind,
                target_id=target_id,
                code=code,
                severity=Severity.MAJOR if problem else Severity.WARNING,
                message=" ".join(
                    part for part in (item.actualValue, item.techCode, item.techInfo) if part
                )[:500],
            )
        )
    return Reply(events, {})


async def charging_needs_201(link: ChargerContext, payload: Any, received: datetime) -> Reply:
    """NotifyEVChargingNeeds (2.0.1 K15): the vehicle's energy wanted, departure and power
    range, stated on the EVSE's open session. The answer is Accepted; the plan that follows
    reaches the charger as a TxProfile (K15.FR.02 lets it come later)."""
    ref = link.endpoint.connector(payload.evseId)
    if ref is None:
        _unknown_connector(link, f"{payload.evseId}")
        return Reply((), {"status": "Rejected"})
    sessions = await asyncio.to_thread(link.services.endpoints.open_sessions, link.charger_id)
    match = next((s for s in sessions if s.connector_id == ref.connector_id), None)
    if match is None:
        return Reply((), {"status": "Rejected"})
    needs = payload.chargingNeeds
    # A departure is in the future by nature: read as stated, not as a skewed clock's stamp.
    departure = parse_planned_time(needs.departureTime)
    energy = max_w = min_w = None
    ac, dc = needs.acChargingParameters, needs.dcChargingParameters
    if ac is not None:
        energy = ac.energyAmount
        max_w = int(ac.evMaxCurrent * ac.evMaxVoltage)
        min_w = int(ac.evMinCurrent * ac.evMaxVoltage)
    elif dc is not None:
        energy = dc.energyAmount
        max_w = dc.evMaxPower if dc.evMaxPower is not None else dc.evMaxCurrent * dc.evMaxVoltage
    event = ChargingNeedsStated(
        **meta(link, received, received, "needs", match.session_id, payload.evseId, received),
        session_id=SessionId(match.session_id),
        energy_wh=None if energy is None else int(energy),
        departure_at=departure,
        max_power_w=None if max_w is None else int(max_w),
        min_power_w=min_w,
    )
    return Reply([event], {"status": "Accepted"})


HANDLERS: dict[str, dict[str, Handler]] = {
    V16: {
        "BootNotification": boot_16,
        "Heartbeat": heartbeat,
        "StatusNotification": status_16,
        "Authorize": authorize_16,
        "StartTransaction": start_16,
        "StopTransaction": stop_16,
        "MeterValues": meter_16,
        "DataTransfer": data_transfer,
        "SecurityEventNotification": security_event,
        "FirmwareStatusNotification": firmware_status,
        "SignedFirmwareStatusNotification": firmware_status,
        "DiagnosticsStatusNotification": upload_status,
        "LogStatusNotification": upload_status,
    },
    V201: {
        "BootNotification": boot_201,
        "Heartbeat": heartbeat,
        "StatusNotification": status_201,
        "Authorize": authorize_201,
        "TransactionEvent": transaction_201,
        "MeterValues": meter_201,
        "DataTransfer": data_transfer,
        "SecurityEventNotification": security_event,
        "NotifyEvent": notify_event_201,
        "NotifyReport": notify_report_201,
        "NotifyEVChargingNeeds": charging_needs_201,
        "FirmwareStatusNotification": firmware_status,
        "LogStatusNotification": upload_status,
    },
}
