"""The frame reader never fails any other way than with the CallError to answer, and a
connection never fails on a frame at all."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargenet.adapters.ocpp import wire
from chargenet.adapters.ocpp.gateway import OcppGateway
from chargenet.adapters.ocpp.link import Link
from chargenet.adapters.ocpp.model import V16, V201
from chargenet.adapters.ocpp.wire import Call, CallError, CallResult, FrameError
from chargenet.app.endpoints import ChargerEndpoint, ConnectorRef
from chargenet.kit.clock import SystemClock

CODES = {
    "FormationViolation", "FormatViolation", "RpcFrameworkError", "MessageTypeNotSupported",
    "NotImplemented", "ProtocolError", "PropertyConstraintViolation", "TypeConstraintViolation",
    "OccurenceConstraintViolation", "OccurrenceConstraintViolation",
}  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)  # fmt: skip
actions = st.sampled_from(
    ["BootNotification", "StatusNotification", "MeterValues", "StartTransaction",
     "TransactionEvent", "Heartbeat", "DataTransfer", "NoSuchAction"]
)  # fmt: skip
versions = st.sampled_from([V16, V201])


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    """JSON nested up to 3,000 levels deep (arrays or objects), as a DataTransfer's data
    or as the payload itself."""
    depth = draw(st.integers(0, 3000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    inner = opener * depth + b"1" + closer * depth
    if draw(st.booleans()):
        return b'[2,"d1","DataTransfer",{"vendorId":"V","data":' + inner + b"}]"
    return b'[2,"d2","Heartbeat",' + inner + b"]"


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    """A well-formed frame with arbitrary bytes (often not UTF-8) in its message id, in a
    string of its payload, or at any position."""
    junk = draw(st.binary(min_size=1, max_size=40))
    where = draw(st.sampled_from(["id", "payload", "anywhere"]))
    kind = draw(st.sampled_from([b"2", b"3", b"4"]))
    if where == "id":
        return b"[" + kind + b',"' + junk + b'","Heartbeat",{}]'
    if where == "payload":
        return b'[2,"p1","DataTransfer",{"vendorId":"' + junk + b'"}]'
    base = (
        b'[2,"p2","StatusNotification",'
        b'{"connectorId":1,"errorCode":"NoError","status":"Available"}]'
    )
    at = draw(st.integers(0, len(base)))
    return base[:at] + junk + base[at:]


def _check(data: bytes, version: str) -> None:
    try:
        message = wire.parse(data, version)
    except FrameError as exc:
        error = exc
    else:
        assert isinstance(message, Call | CallResult | CallError)
        return
    assert error.code in CODES and error.message_id and len(error.description) <= 255
    # The answer itself can be sent: a valid UTF-8 JSON CALLERROR whose id is one the
    # charger could have sent (or "-1").
    answer = json.loads(wire.error(error.message_id, error.code, error.description).decode())
    assert answer[0] == 4 and 0 < len(answer[1]) <= 36


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), versions)
def test_arbitrary_bytes(data: bytes, version: str) -> None:
    _check(data, version)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([2, 3, 4, 5, "2"]),
    st.text(max_size=40),
    actions,
    json_values,
    versions,
)
def test_frames_of_the_right_shape_with_any_payload(
    kind: object, message_id: str, action: str, payload: object, version: str
) -> None:
    _check(json.dumps([kind, message_id, action, payload]).encode(), version)


@settings(max_examples=200, deadline=None)
@given(deep() | spliced(), versions)
def test_deep_nesting_and_bytes_that_are_not_utf8(data: bytes, version: str) -> None:
    _check(data, version)


# --- the whole path of a frame through a connection -----------------------------------


class _Socket:
    """Stands in for the WebSocket: hands the link its frames, records what it sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.inbox: list[bytes] = []

    async def message(self) -> bytes | None:
        return self.inbox.pop(0) if self.inbox else None

    def written(self, data: bytes) -> bool:
        self.sent.append(data.decode())
        return True

    async def write(self, data: bytes) -> None:
        self.sent.append(data.decode())


class _Pipeline:
    async def submit(self, events: Any) -> list[Any]:
        return []


class _Endpoints:
    def open_sessions(self, charger_id: str) -> list[Any]:
        return []

    def open_alarm(self, target_id: str, code: str) -> str | None:
        return None


def _link(version: str) -> tuple[Link, _Socket]:
    gateway = OcppGateway(_Pipeline(), _Endpoints(), SystemClock())  # type: ignore[arg-type]
    endpoint = ChargerEndpoint("C1", version, False, {(1, 1): ConnectorRef("C1-1-1", 60_000)}, None)
    socket = _Socket()
    return Link(gateway, socket, endpoint, version, datetime.now(UTC)), socket  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=200)
    | deep()
    | spliced()
    | st.builds(
        lambda k, i, a, p: json.dumps([k, i, a, p]).encode(),
        st.sampled_from([2, 3, 4, 7]),
        st.text(max_size=40),
        actions,
        json_values,
    ),
    versions,
)
def test_no_frame_escapes_the_link_and_a_call_gets_one_answer(data: bytes, version: str) -> None:
    """Whatever arrives, the link answers at most once, with a valid OCPP-J frame, and
    raises nothing (an exception here is what closed connections with 1011)."""
    link, socket = _link(version)
    socket.inbox.append(data)
    asyncio.run(link.run())
    assert link.gateway.stats.failed == 0  # (the link logs what escaped a frame's handling)
    assert len(socket.sent) <= 1
    for text in socket.sent:
        answer = json.loads(text)
        assert answer[0] in (3, 4) and 0 < len(answer[1]) <= 36
    if data.startswith(b'[2,"') and len(socket.sent) == 0:
        raise AssertionError(f"a CALL went unanswered: {data[:80]!r}")


def test_a_broken_answer_is_logged_not_answered() -> None:
    """A CALLERROR answers a CALL (OCPP-J §4.2.3); a charger's broken CALLRESULT or
    CALLERROR gets none, whether its id is readable or not."""
    for data in (b'[3,"x1",{},"extra"]', b'[3,"\xff",{}]', b"[4," + b"[" * 1200, b'[3,"x2",{'):
        with pytest.raises(FrameError) as answer:
            wire.parse(data, V201)
        assert answer.value.answer is False, data
    with pytest.raises(FrameError) as call:
        wire.parse(b'[2,"c1",{', V201)
    assert (call.value.answer, call.value.message_id, call.value.code) == (
        True,
        "c1",
        "RpcFrameworkError",
    )


# --- a known CALL read in one decode ----------------------------------------------------

_MEASURANDS = ["Energy.Active.Import.Register", "Power.Active.Import", "SoC", "Voltage", "Nope"]
_UNITS = ["Wh", "kWh", "W", "Percent", "V", "Watts"]


@st.composite
def near_calls(draw: st.DrawFn) -> bytes:
    """Frames of the commonest CALLs as chargers send them, and near misses: another
    message type, a long or empty id, a missing, extra or mistyped field, an unknown
    action spelled like a known one, an escaped action, whitespace."""
    kind = draw(st.sampled_from([2, 2, 2, 3, 4, 5]))
    message_id = draw(st.sampled_from(["m1", "", "x" * 37, 'a","b', "ü"]) | st.text(max_size=8))
    action = draw(
        st.sampled_from(
            ["MeterValues", "StatusNotification", "Heartbeat", "MeterValue", "TransactionEvent"]
        )
    )
    sampled = [
        {
            k: v
            for k, v in (
                ("value", draw(st.sampled_from(["1", "7000", "55.5", "x"]) | st.integers())),
                ("measurand", draw(st.sampled_from(_MEASURANDS))),
                ("unit", draw(st.sampled_from(_UNITS))),
                ("phase", draw(st.sampled_from(["L1", "L9"]))),
            )
            if draw(st.booleans())
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    payload: dict[str, Any] = {
        "connectorId": draw(st.sampled_from([1, 0, -1, "1", 1.5])),
        "meterValue": [{"timestamp": "2026-12-06T18:00:00Z", "sampledValue": sampled}],
        "errorCode": draw(st.sampled_from(["NoError", "GroundFailure", "Bad"])),
        "status": draw(st.sampled_from(["Available", "Charging", "Open"])),
        "evseId": 1,
        "connectorStatus": "Occupied",
        "timestamp": "2026-12-06T18:00:00Z",
    }
    keep = draw(st.lists(st.sampled_from(sorted(payload)), unique=True))
    frame = json.dumps(
        [kind, message_id, action, {k: payload[k] for k in keep}],
        separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])),
    )
    if draw(st.integers(0, 9)) == 0:
        frame = frame.replace(f'"{action}"', f'"{action[0]}\\u00{ord(action[1]):02x}{action[2:]}"')
    return frame.encode()


def _read(data: bytes, version: str) -> object:
    try:
        return wire.parse(data, version)
    except FrameError as exc:
        return (exc.message_id, exc.code, exc.description, exc.answer)


@settings(max_examples=1000, deadline=None)
@given(near_calls(), versions)
def test_a_known_call_read_in_one_decode_is_read_as_in_two(data: bytes, version: str) -> None:
    # Every action seen once (so its whole-frame decoder is known), then each frame read
    # both ways: the same Call, or the same CallError (code, id, text), as the frame and
    # its payload read apart.
    for action in ("MeterValues", "StatusNotification", "Heartbeat", "TransactionEvent"):
        _read(json.dumps([2, "w", action, {}]).encode(), version)
    one = _read(data, version)
    known = wire._known_frames
    wire._known_frames = {}
    try:
        two = _read(data, version)
    finally:
        wire._known_frames = known
    assert one == two
