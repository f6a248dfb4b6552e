"""The frame reader never fails any other way than with the CallError to answer."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.adapters.ocpp import frames
from chargenet.adapters.ocpp.frames import Call, CallError, CallResult, FrameError
from chargenet.adapters.ocpp.schemas import V16, V201

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


def _check(data: bytes, version: str) -> None:
    try:
        message = frames.parse(data, version)
    except FrameError as exc:
        error = exc
    else:
        assert isinstance(message, Call | CallResult | CallError)
        return
    assert error.code in CODES and error.message_id and len(error.description) <= 255


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([V16, V201]))
def test_arbitrary_bytes(data: bytes, version: str) -> None:
    _check(data, version)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([2, 3, 4, 5, "2"]),
    st.text(max_size=40),
    actions,
    json_values,
    st.sampled_from([V16, V201]),
)
def test_frames_of_the_right_shape_with_any_payload(
    kind: object, message_id: str, action: str, payload: object, version: str
) -> None:
    _check(json.dumps([kind, message_id, action, payload]).encode(), version)
