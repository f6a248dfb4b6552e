"""Each OCPP action's handler, without a socket: a frame as a charger sends it, the answer it
gets and the events the platform stores. The WebSocket path is tested in test_gateway.py;
here each rule is tested once, fast."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.adapters import codec
from chargenet.adapters.ocpp import wire
from chargenet.adapters.ocpp.context import (
    ChargerContext,
    GatewayConfig,
    GatewayStats,
    Reply,
)
from chargenet.adapters.ocpp.handlers import (
    HANDLERS,
    METER_FIELDS,
    PLAIN_METER,
    PLAIN_STATUS,
    STATUS_FIELDS,
    meter_sampled,
    status_changed,
)
from chargenet.adapters.ocpp.model import V16, V201
from chargenet.app.endpoints import ChargerEndpoint, ConnectorRef, OpenSession
from chargenet.core.drivers import Authorisation, AuthStatus
from chargenet.core.events import (
    AlarmCleared,
    AlarmRaised,
    ChargerDataTransferred,
    ChargerInventoryReported,
    ChargingNeedsStated,
    ConnectorStatusChanged,
    EquipmentNoticed,
    Event,
    MeterSampled,
    SessionEnded,
    SessionStarted,
    Source,
)
from chargenet.core.ids import ChargerId
from chargenet.core.sessions import SessionFlag
from chargenet.core.status import ConnectorStatus
from chargenet.core.supervision import Severity
from chargenet.kit.clock import FixedClock

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WIRE_NOW = "2026-03-02T08:00:00Z"
ANSWER_NOW = "2026-03-02T08:00:00.000Z"  # how the platform writes times
TESTED: set[tuple[str, str]] = set()


@dataclass
class Endpoints:
    sessions: list[OpenSession] = field(default_factory=list)
    alarms: dict[tuple[str, str], str] = field(default_factory=dict)

    def endpoint(self, charger_id: str) -> ChargerEndpoint | None:
        return None

    def endpoints(self, protocols: Any) -> list[ChargerEndpoint]:
        return []

    def online_chargers(self, protocols: Any) -> list[str]:
        return []

    def secrets_fingerprint(self) -> Hashable:
        return 0

    def secret_hashes(self) -> dict[str, str]:
        return {}

    def open_sessions(self, charger_id: str) -> list[OpenSession]:
        return self.sessions

    def open_alarm(self, target_id: str, code: str) -> str | None:
        return self.alarms.get((target_id, code))


@dataclass
class Tokens:
    refused: dict[str, AuthStatus]

    def authorise(self, token: str | None) -> Authorisation:
        status = self.refused.get(token or "", AuthStatus.ACCEPTED)
        expires = NOW + timedelta(days=1) if status is AuthStatus.ACCEPTED else None
        return Authorisation(status, expires_at=expires)


@dataclass
class Services:
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    config: GatewayConfig = field(default_factory=lambda: GatewayConfig(heartbeat_s=120))
    stats: GatewayStats = field(default_factory=GatewayStats)
    endpoints: Endpoints = field(default_factory=Endpoints)
    authoriser: Tokens | None = None
    warnings: list[str] = field(default_factory=list)

    def warn(self, charger_id: str, message: str, *args: Any) -> None:
        self.warnings.append(message % args)


def context(version: str, services: Services | None = None) -> ChargerContext:
    connectors = {
        (1, 1): ConnectorRef("C1-1-1", 7_000),
        (2, 1): ConnectorRef("C1-2-1", 60_000),
    }
    endpoint = ChargerEndpoint("C1", version, False, connectors, None)
    return ChargerContext(services or Services(), endpoint, version, NOW - timedelta(minutes=5))


def handle(ctx: ChargerContext, action: str, payload: dict[str, Any]) -> Reply:
    """Decode the frame as the gateway does (schema-checked), then run its handler."""
    call = wire.parse(json.dumps([2, "m1", action, payload]).encode(), ctx.version)
    assert isinstance(call, wire.Call)
    TESTED.add((ctx.version, action))

    async def run() -> Reply:
        reply = HANDLERS[ctx.version][action](ctx, call.payload, NOW)
        return reply if isinstance(reply, Reply) else await reply

    return asyncio.run(run())


def only(events: Any, kind: type[Event]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# --- both versions -----------------------------------------------------------------------


def test_boot_is_accepted_with_the_platform_time_and_interval_and_records_the_inventory() -> None:
    ctx = context(V16)
    reply = handle(ctx, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    assert reply.payload == {"status": "Accepted", "currentTime": ANSWER_NOW, "interval": 120}
    [inventory] = only(reply.events, ChargerInventoryReported)
    assert inventory.charger_id == "C1"

    ctx = context(V201)
    reply = handle(
        ctx,
        "BootNotification",
        {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"},
    )
    assert reply.payload["status"] == "Accepted"
    assert only(reply.events, ChargerInventoryReported)


def test_heartbeat_answers_the_platform_time_and_stores_nothing() -> None:
    for version in (V16, V201):
        reply = handle(context(version), "Heartbeat", {})
        assert reply == Reply((), {"currentTime": ANSWER_NOW})


def test_data_transfer_is_kept_and_accepted() -> None:
    for version in (V16, V201):
        reply = handle(
            context(version), "DataTransfer", {"vendorId": "acme", "messageId": "m", "data": "x"}
        )
        assert reply.payload == {"status": "Accepted"}
        [kept] = only(reply.events, ChargerDataTransferred)
        assert (kept.vendor_id, kept.data) == ("acme", "x")


def test_a_tamper_event_is_a_major_alarm_and_a_reboot_only_information() -> None:
    for version in (V16, V201):
        ctx = context(version)
        tamper = handle(
            ctx,
            "SecurityEventNotification",
            {"type": "TamperDetectionActivated", "timestamp": WIRE_NOW},
        )
        reboot = handle(
            ctx, "SecurityEventNotification", {"type": "ResetOrReboot", "timestamp": WIRE_NOW}
        )
        assert only(tamper.events, AlarmRaised)[0].severity is Severity.MAJOR
        assert only(reboot.events, AlarmRaised)[0].severity is Severity.INFO


def test_firmware_and_log_upload_progress_are_noticed() -> None:
    cases = [
        (V16, "FirmwareStatusNotification", {"status": "Installed"}),
        (V16, "SignedFirmwareStatusNotification", {"status": "Installed"}),
        (V16, "DiagnosticsStatusNotification", {"status": "Uploaded"}),
        (V16, "LogStatusNotification", {"status": "Uploaded"}),
        (V201, "FirmwareStatusNotification", {"status": "Installed"}),
        (V201, "LogStatusNotification", {"status": "Uploaded"}),
    ]
    for version, action, payload in cases:
        reply = handle(context(version), action, payload)
        assert reply.payload == {}
        assert len(only(reply.events, EquipmentNoticed)) == 1, action


def test_a_charger_clock_before_2010_raises_one_alarm_per_connection() -> None:
    ctx = context(V16)
    old = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    first = handle(ctx, "StatusNotification", {**old, "timestamp": "2005-01-01T00:00:00Z"})
    second = handle(ctx, "StatusNotification", {**old, "timestamp": "2005-01-01T00:01:00Z"})
    assert [a.code for a in only(first.events, AlarmRaised)] == ["ClockUnset"]
    assert only(second.events, AlarmRaised) == []
    # the report itself is kept, at the time it arrived
    assert only(second.events, ConnectorStatusChanged)[0].occurred_at == NOW


# --- OCPP 1.6 ----------------------------------------------------------------------------


def test_16_status_of_a_connector_and_of_the_whole_charge_point() -> None:
    ctx = context(V16)
    reply = handle(
        ctx,
        "StatusNotification",
        {"connectorId": 2, "errorCode": "NoError", "status": "Charging", "timestamp": WIRE_NOW},
    )
    [status] = only(reply.events, ConnectorStatusChanged)
    assert (status.connector_id, status.status) == ("C1-2-1", ConnectorStatus.CHARGING)

    fault = handle(
        ctx,
        "StatusNotification",
        {"connectorId": 0, "errorCode": "GroundFailure", "status": "Faulted"},
    )
    [notice] = only(fault.events, EquipmentNoticed)
    assert (notice.code, notice.cleared) == ("GroundFailure", False)


def test_16_status_of_an_unknown_connector_is_named_so_the_store_refuses_it() -> None:
    services = Services()
    reply = handle(
        context(V16, services),
        "StatusNotification",
        {"connectorId": 9, "errorCode": "NoError", "status": "Available"},
    )
    assert only(reply.events, ConnectorStatusChanged)[0].connector_id == "C1-9-1"
    assert services.warnings == ["unknown connector 9-1"]


def test_16_authorize_answers_from_the_platform_tokens() -> None:
    services = Services(authoriser=Tokens({"LOST": AuthStatus.BLOCKED}))
    ok = handle(context(V16, services), "Authorize", {"idTag": "CARD1"})
    blocked = handle(context(V16, services), "Authorize", {"idTag": "LOST"})
    assert ok.payload == {
        "idTagInfo": {"status": "Accepted", "expiryDate": "2026-03-03T08:00:00.000Z"}
    }
    assert blocked.payload == {"idTagInfo": {"status": "Blocked"}}
    anyone = handle(context(V16), "Authorize", {"idTag": "LOST"})  # no driver accounts
    assert anyone.payload == {"idTagInfo": {"status": "Accepted"}}


def test_16_a_resent_start_gets_the_same_transaction_and_event_ids() -> None:
    start = {"connectorId": 1, "idTag": "CARD1", "meterStart": 1000, "timestamp": WIRE_NOW}
    first = handle(context(V16), "StartTransaction", start)
    again = handle(context(V16), "StartTransaction", start)
    assert first.payload["transactionId"] == again.payload["transactionId"] > 0
    [s1], [s2] = only(first.events, SessionStarted), only(again.events, SessionStarted)
    assert s1.event_id == s2.event_id
    assert (s1.connector_id, s1.meter_start_wh) == ("C1-1-1", 1000)


def test_16_a_start_queued_offline_is_flagged() -> None:
    old = (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    reply = handle(
        context(V16),
        "StartTransaction",
        {"connectorId": 1, "idTag": "CARD1", "meterStart": 0, "timestamp": old},
    )
    assert only(reply.events, SessionStarted)[0].flags == (SessionFlag.STARTED_OFFLINE,)


def test_16_stop_ends_the_session_with_its_final_register() -> None:
    ctx = context(V16)
    started = handle(
        ctx,
        "StartTransaction",
        {"connectorId": 1, "idTag": "CARD1", "meterStart": 1000, "timestamp": WIRE_NOW},
    )
    tx = started.payload["transactionId"]
    stopped = handle(
        ctx,
        "StopTransaction",
        {"transactionId": tx, "meterStop": 3000, "timestamp": WIRE_NOW, "reason": "EVDisconnected"},
    )
    [ended] = only(stopped.events, SessionEnded)
    assert ended.session_id == only(started.events, SessionStarted)[0].session_id
    assert (ended.meter_stop_wh, ended.stop_reason) == (3000, "EVDisconnected")
    assert only(stopped.events, MeterSampled)[0].energy_register_wh == 3000


def test_16_stop_of_a_transaction_started_offline_ends_the_newest_open_session() -> None:
    services = Services()
    services.endpoints.sessions = [OpenSession("C1:77", "C1-2-1", NOW - timedelta(minutes=30))]
    reply = handle(
        context(V16, services),
        "StopTransaction",
        {"transactionId": -1, "meterStop": 500, "timestamp": WIRE_NOW},
    )
    [ended] = only(reply.events, SessionEnded)
    assert ended.session_id == "C1:77"
    assert SessionFlag.STARTED_OFFLINE in ended.flags


def test_16_meter_values_are_sampled_and_an_impossible_jump_is_dropped() -> None:
    services = Services()
    ctx = context(V16, services)

    def sample(at: datetime, wh: int) -> Reply:
        wire = at.isoformat().replace("+00:00", "Z")
        return handle(
            ctx,
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 5,
                "meterValue": [{"timestamp": wire, "sampledValue": [{"value": str(wh)}]}],
            },
        )

    first = sample(NOW, 10_000)
    # 7 kW for one minute cannot add 50 kWh
    jump = sample(NOW + timedelta(minutes=1), 60_000)
    assert only(first.events, MeterSampled)[0].energy_register_wh == 10_000
    assert only(jump.events, MeterSampled) == []
    assert services.stats.dropped_values == 1
    # the main meter (connector 0) is not a connector's
    main = handle(
        ctx,
        "MeterValues",
        {
            "connectorId": 0,
            "meterValue": [{"timestamp": WIRE_NOW, "sampledValue": [{"value": "1"}]}],
        },
    )
    assert main.events == ()


# --- OCPP 2.0.1 --------------------------------------------------------------------------


def _transaction(kind: str, seq: int, **more: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "timestamp": WIRE_NOW,
        "triggerReason": "Authorized",
        "seqNo": seq,
        "transactionInfo": {"transactionId": "T1", **more.pop("info", {})},
        **more,
    }


def _register(wh: int) -> list[dict[str, Any]]:
    return [{"timestamp": WIRE_NOW, "sampledValue": [{"value": wh}]}]


def test_201_a_transaction_from_start_to_end_and_occupied_means_charging_meanwhile() -> None:
    ctx = context(V201)
    started = handle(
        ctx,
        "TransactionEvent",
        _transaction(
            "Started",
            0,
            evse={"id": 1, "connectorId": 1},
            idToken={"idToken": "CARD1", "type": "ISO14443"},
            meterValue=_register(2000),
            info={"chargingState": "Charging"},
        ),
    )
    assert started.payload["idTokenInfo"]["status"] == "Accepted"
    [session] = only(started.events, SessionStarted)
    assert (session.connector_id, session.meter_start_wh) == ("C1-1-1", 2000)
    assert only(started.events, ConnectorStatusChanged)[0].status is ConnectorStatus.CHARGING

    occupied = handle(
        ctx,
        "StatusNotification",
        {"timestamp": WIRE_NOW, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
    )
    assert only(occupied.events, ConnectorStatusChanged)[0].status is ConnectorStatus.CHARGING

    # the end without a register: the last one this connection saw is the meter stop
    ended = handle(
        ctx, "TransactionEvent", _transaction("Ended", 1, info={"stoppedReason": "EVDisconnected"})
    )
    [end] = only(ended.events, SessionEnded)
    assert (end.session_id, end.meter_stop_wh, end.stop_reason) == (
        session.session_id,
        2000,
        "EVDisconnected",
    )
    after = handle(
        ctx,
        "StatusNotification",
        {"timestamp": WIRE_NOW, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
    )
    assert only(after.events, ConnectorStatusChanged)[0].status is ConnectorStatus.OCCUPIED


def test_201_a_transaction_after_a_reconnect_finds_its_connector_in_the_store() -> None:
    services = Services()
    services.endpoints.sessions = [OpenSession("C1:T1", "C1-2-1", NOW - timedelta(minutes=9))]
    reply = handle(
        context(V201, services),
        "TransactionEvent",
        _transaction("Updated", 3, meterValue=_register(9000)),
    )
    [sample] = only(reply.events, MeterSampled)
    assert (sample.connector_id, sample.energy_register_wh) == ("C1-2-1", 9000)


def test_201_authorize_answers_from_the_platform_tokens() -> None:
    services = Services(authoriser=Tokens({"OLD": AuthStatus.EXPIRED}))
    reply = handle(
        context(V201, services), "Authorize", {"idToken": {"idToken": "OLD", "type": "ISO14443"}}
    )
    assert reply.payload == {"idTokenInfo": {"status": "Expired"}}


def test_201_meter_values_of_an_evse_and_not_of_the_whole_station() -> None:
    ctx = context(V201)
    reply = handle(ctx, "MeterValues", {"evseId": 2, "meterValue": _register(4000)})
    assert only(reply.events, MeterSampled)[0].connector_id == "C1-2-1"
    assert handle(ctx, "MeterValues", {"evseId": 0, "meterValue": _register(1)}).events == ()


def test_201_notify_event_raises_a_problem_and_clears_it() -> None:
    services = Services()
    ctx = context(V201, services)
    item = {
        "eventId": 7,
        "timestamp": WIRE_NOW,
        "trigger": "Alerting",
        "actualValue": "true",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": "Problem"},
    }
    raised = handle(ctx, "NotifyEvent", {"generatedAt": WIRE_NOW, "seqNo": 0, "eventData": [item]})
    [alarm] = only(raised.events, AlarmRaised)
    assert (alarm.target_id, alarm.code, alarm.severity) == (
        "C1-1-1",
        "Connector.Problem",
        Severity.MAJOR,
    )
    services.endpoints.alarms[("C1-1-1", "Connector.Problem")] = alarm.alarm_id
    cleared = handle(
        ctx,
        "NotifyEvent",
        {
            "generatedAt": WIRE_NOW,
            "seqNo": 1,
            "eventData": [{**item, "eventId": 8, "cleared": True}],
        },
    )
    assert only(cleared.events, AlarmCleared)[0].alarm_id == alarm.alarm_id


def test_201_notify_report_of_the_station_inventory() -> None:
    reply = handle(
        context(V201),
        "NotifyReport",
        {
            "requestId": 1,
            "generatedAt": WIRE_NOW,
            "seqNo": 0,
            "reportData": [
                {
                    "component": {"name": "ChargingStation"},
                    "variable": {"name": "SerialNumber"},
                    "variableAttribute": [{"value": "SN-42"}],
                }
            ],
        },
    )
    assert reply.payload == {}
    [inventory] = only(reply.events, ChargerInventoryReported)
    assert inventory.serial_number == "SN-42"


def test_201_charging_needs_are_stated_on_the_open_session_or_rejected() -> None:
    services = Services()
    needs = {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase",
            "departureTime": "2026-03-02T17:00:00Z",
            "acChargingParameters": {
                "energyAmount": 20000,
                "evMinCurrent": 6,
                "evMaxCurrent": 16,
                "evMaxVoltage": 400,
            },
        },
    }
    rejected = handle(context(V201, services), "NotifyEVChargingNeeds", needs)
    assert rejected == Reply((), {"status": "Rejected"})
    services.endpoints.sessions = [OpenSession("C1:T1", "C1-1-1", NOW)]
    accepted = handle(context(V201, services), "NotifyEVChargingNeeds", needs)
    assert accepted.payload == {"status": "Accepted"}
    [stated] = only(accepted.events, ChargingNeedsStated)
    assert (stated.session_id, stated.energy_wh, stated.max_power_w) == ("C1:T1", 20000, 6400)
    assert stated.departure_at == datetime(2026, 3, 2, 17, tzinfo=UTC)


@pytest.mark.parametrize("version", [V16, V201])
def test_every_action_handled_has_a_test_here(version: str, request: pytest.FixtureRequest) -> None:
    # Runs last in this module (pytest keeps file order): by then every test above ran.
    here = [item for item in request.session.items if item.path == request.path]
    everything = [name for name in globals() if name.startswith("test_")]
    if len({item.originalname for item in here if isinstance(item, pytest.Function)}) < len(
        everything
    ):
        pytest.skip("only meaningful when the whole module runs")
    assert {a for v, a in TESTED if v == version} == set(HANDLERS[version])


_NUMBER = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
_WH = st.one_of(st.none(), st.integers(-(10**13), 10**13))


@given(
    st.text(min_size=1, max_size=40),
    st.sampled_from([None, "C1", "Ç-ø"]),
    st.datetimes(timezones=st.just(UTC)),
    st.text(max_size=20),
    st.one_of(st.none(), st.text(max_size=20)),
    _WH,
    _WH,
    _NUMBER,
    _NUMBER,
    _NUMBER,
    _NUMBER,
    _WH,
)
def test_a_meter_value_made_by_filling_its_fields_is_the_one_its_class_makes(
    event_id: str,
    charger_id: str | None,
    at: datetime,
    connector_id: str,
    session_id: str | None,
    register: int | None,
    power: int | None,
    current: float | None,
    voltage: float | None,
    soc: float | None,
    temperature: float | None,
    offered: int | None,
) -> None:
    # The gateway makes a meter value's event by filling a bare instance (`meter_sampled`);
    # MeterSampled changed in any way (a field more, a check of its own) and it must be
    # made by its class again: METER_FIELDS and `_plain_dataclass` follow it.
    assert PLAIN_METER, "MeterSampled changed: see handlers.METER_FIELDS"
    values: dict[str, Any] = dict(
        zip(
            METER_FIELDS,
            [
                event_id,
                Source(adapter="ocpp", charger_id=ChargerId(charger_id) if charger_id else None),
                at,
                NOW,
                connector_id,
                session_id,
                register,
                power,
                current,
                voltage,
                soc,
                temperature,
                offered,
                None,
            ],
            strict=True,
        )
    )
    filled, made = meter_sampled(values), MeterSampled(**values)
    assert type(filled) is MeterSampled
    assert filled == made and hash(filled) == hash(made) and repr(filled) == repr(made)
    assert codec.encode(filled) == codec.encode(made)
    assert filled.problems() == made.problems()


@settings(max_examples=300, deadline=None)
@given(
    event_id=st.text(max_size=40),
    charger_id=st.text(max_size=12),
    at=st.datetimes(timezones=st.just(UTC)),
    connector_id=st.text(max_size=20),
    status=st.sampled_from(list(ConnectorStatus)),
    error_code=st.none() | st.text(max_size=70),
    vendor=st.none() | st.text(max_size=70),
    info=st.none() | st.text(max_size=210),
)
def test_a_status_made_by_filling_it_is_the_one_its_class_makes(
    event_id: str,
    charger_id: str,
    at: datetime,
    connector_id: str,
    status: ConnectorStatus,
    error_code: str | None,
    vendor: str | None,
    info: str | None,
) -> None:
    # As a meter value's (above): ConnectorStatusChanged changed in any way and it must be
    # made by its class again: STATUS_FIELDS and `_plain_dataclass` follow it.
    assert PLAIN_STATUS, "ConnectorStatusChanged changed: see handlers.STATUS_FIELDS"
    source = Source(adapter="ocpp", charger_id=ChargerId(charger_id) if charger_id else None)
    values: dict[str, Any] = dict(
        zip(
            STATUS_FIELDS,
            [event_id, source, at, NOW, connector_id, status, error_code, vendor, info],
            strict=True,
        )
    )
    filled, made = status_changed(values), ConnectorStatusChanged(**values)
    assert type(filled) is ConnectorStatusChanged
    assert filled == made and hash(filled) == hash(made) and repr(filled) == repr(made)
    assert codec.encode(filled) == codec.encode(made)
    assert filled.problems() == made.problems()


def _former_plausible(
    registers: dict[str, tuple[int, float]], connector_id: str, wh: int, power: int, at: float
) -> bool:
    """`plausible_register` as it was, every time read as a number."""
    last = registers.get(connector_id)
    if last is not None:
        gained, hours = wh - last[0], max(at - last[1], 0.0) / 3600
        if gained > power * hours * 1.2 + 1_000:
            return False
    registers[connector_id] = (wh, at)
    return True


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C1-1-1", "C1-2-1"]),
            st.integers(-(10**6), 10**7),
            st.integers(-(10**5), 10**6),
            st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2100, 1, 1),
                timezones=st.just(UTC),
            ),
        ),
        max_size=20,
    )
)
def test_a_register_is_judged_plausible_as_it_was(
    readings: list[tuple[str, int, int, datetime]],
) -> None:
    # The times are read only when a register gained more than 1,000 Wh (or the connector's
    # power is negative): the same verdicts as reading them every time.
    ctx = context(V16)
    former: dict[str, tuple[int, float]] = {}
    for connector_id, wh, power, at in readings:
        expected = _former_plausible(former, connector_id, wh, power, at.timestamp())
        assert ctx.plausible_register(connector_id, wh, power, at) is expected
