"""OCPP-J framing: CALL [2, id, action, payload], CALLRESULT [3, id, payload], CALLERROR
[4, id, code, description, details].

A frame that cannot be read is answered with the version's own CallError code and never
closes the connection (OCPP-J 1.6 §4.2.3, 2.0.1 Part 4 §4.2.3 and §4.3: "When also the
MessageId cannot be read, the CALLERROR SHALL contain "-1" as MessageId"). A broken
CALLRESULT or CALLERROR is logged and dropped: a CALLERROR answers a CALL, never an answer.
Payloads are decoded straight into the compiled schema types (`model.py`); msgspec's
validation message tells which constraint broke, which picks the error code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from chargenet.adapters.ocpp.model import V16, SchemaMissing, actions, decoder, payload_type

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_MESSAGE_ID = 36  # the spec's maximum length of a unique message id

_outer = msgspec.json.Decoder(list[msgspec.Raw])
_call_frame = msgspec.json.Decoder(tuple[int, str, str, msgspec.Raw])
# (version, action) → the payload's decoder, for the actions a charger has sent (and the
# version defines): found by one dict look-up.
_known_calls: dict[tuple[str, str], msgspec.json.Decoder[Any]] = {}
# version → the action as a frame spells it (its bytes between the quotes) → the decoder of
# a whole CALL of that action, `[int, str, action, payload]`: the frame and its payload
# read in one pass, for the actions a charger has sent before.
_known_frames: dict[str, dict[bytes, msgspec.json.Decoder[Any]]] = {}
_str = msgspec.json.Decoder(str)
_int = msgspec.json.Decoder(int)
_encoder = msgspec.json.Encoder()
# The head of a frame: its message type and a message id of 1..36 characters written as a
# plain JSON string (no escapes, no raw control characters), followed by a comma.
_HEAD = re.compile(rb'^\s*\[\s*[0-9]{1,3}\s*,\s*"([^"\\\x00-\x1f]{1,36})"\s*,')
_ANSWER_HEAD = re.compile(rb"^\s*\[\s*[34]\s*,")


class Err:
    """CallError codes. 1.6 and 2.0.1 spell two of them differently."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL = "InternalError"
    PROTOCOL = "ProtocolError"
    SECURITY = "SecurityError"
    PROPERTY = "PropertyConstraintViolation"
    TYPE = "TypeConstraintViolation"
    GENERIC = "GenericError"

    @staticmethod
    def format(version: str) -> str:
        return "FormationViolation" if version == V16 else "FormatViolation"

    @staticmethod
    def occurrence(version: str) -> str:
        return "OccurenceConstraintViolation" if version == V16 else "OccurrenceConstraintViolation"

    @staticmethod
    def rpc(version: str) -> str:
        """The message could not be read as an RPC frame at all."""
        return "FormationViolation" if version == V16 else "RpcFrameworkError"


class Call(msgspec.Struct, frozen=True):
    message_id: str
    action: str
    payload: Any  # the compiled schema Struct of this action


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: msgspec.Raw  # decoded by whoever waits for it (it knows the action)


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str


class FrameError(Exception):
    """A frame we answer with a CallError (message_id "-1" when none could be read), or,
    with `answer` false, only log (a broken CALLRESULT or CALLERROR)."""

    def __init__(self, message_id: str, code: str, description: str, answer: bool = True) -> None:
        super().__init__(description)
        self.message_id = message_id
        self.code = code
        self.description = description
        self.answer = answer


def leading_id(data: bytes) -> str:
    """The message id of a frame too broken (or too big) to parse, when it can be read:
    an id that is not valid UTF-8 (OCPP-J: the whole message is UTF-8) cannot be."""
    match = _HEAD.match(data[:96])
    if match is None:
        return "-1"
    try:
        return match.group(1).decode()
    except UnicodeDecodeError:
        return "-1"


def unreadable(data: bytes, code: str, description: str) -> FrameError:
    """The refusal of a frame that cannot be parsed: a CallError with the id at its head
    ("-1" when none can be read); only logged when its head says it is an answer."""
    answer = _ANSWER_HEAD.match(data[:16]) is None
    return FrameError(leading_id(data), code, description, answer=answer)


def violation(version: str, error: msgspec.ValidationError) -> tuple[str, str]:
    """(CallError code, description) for a payload that breaks its schema."""
    text = str(error)
    if text.startswith("Object missing required field") or " of length >= " in text:
        return Err.occurrence(version), text
    if " of length <= " in text and text.startswith("Expected `array`"):
        return Err.occurrence(version), text
    if text.startswith("Object contains unknown field"):
        return Err.format(version), text
    if text.startswith("Expected `") and ", got `" in text:
        return Err.TYPE, text
    return Err.PROPERTY, text  # enums, string lengths, numeric bounds


def parse(data: bytes, version: str) -> Call | CallResult | CallError:
    """Read one frame; raises FrameError with the CallError to answer (or to log only)."""
    # Most frames are a well-formed CALL of an action seen before: read in one decode, the
    # action found first by its bytes (after the id's closing quote, up to the next quote)
    # and the frame then decoded whole by that action's type, which takes only a CALL of
    # exactly that action with a valid payload. Any other frame, or one this decode
    # refuses (a guess gone wrong among them), is read again below: once in two steps
    # (the frame, then its payload), else step by step, which gives every error its code.
    frames = _known_frames.get(version)
    if frames is not None:
        end = data.find(b'","', 4)
        if end > 0:
            start = end + 3
            whole = frames.get(data[start : data.find(b'"', start)])
            if whole is not None:
                try:
                    kind, message_id, action, payload = whole.decode(data)
                except (msgspec.DecodeError, RecursionError):
                    pass
                else:
                    if kind == CALL and 0 < len(message_id) <= MAX_MESSAGE_ID:
                        return Call(message_id, action, payload)
    try:
        kind, message_id, action, raw = _call_frame.decode(data)
    except (msgspec.DecodeError, RecursionError):
        pass
    else:
        if kind == CALL and 0 < len(message_id) <= MAX_MESSAGE_ID:
            known = _known_calls.get((version, action))
            if known is not None:
                return _payload(known, raw, message_id, action, version)
    try:
        parts = _outer.decode(data)
    except msgspec.DecodeError as exc:
        raise unreadable(data, Err.rpc(version), f"not an OCPP-J array: {exc}") from None
    except RecursionError:
        # Valid JSON nested deeper than any OCPP message (msgspec stops at 1,000 levels):
        # refused as a frame that is too long is.
        raise unreadable(data, Err.format(version), "JSON nested too deeply") from None
    if len(parts) < 3:
        raise unreadable(data, Err.rpc(version), "a frame has at least 3 elements")
    try:
        kind = _int.decode(parts[0])
    except msgspec.DecodeError:
        raise unreadable(data, Err.rpc(version), "the message type is not a number") from None
    answer = kind not in (CALLRESULT, CALLERROR)  # an answer is never answered
    try:
        message_id = _str.decode(parts[1])
    except msgspec.DecodeError:
        raise FrameError("-1", Err.rpc(version), "unreadable message id", answer) from None
    if not 0 < len(message_id) <= MAX_MESSAGE_ID:
        raise FrameError("-1", Err.rpc(version), "message id must be 1..36 characters", answer)
    if kind == CALL:
        return _call(parts, message_id, version)
    if kind == CALLRESULT:
        if len(parts) != 3:
            raise FrameError(message_id, Err.format(version), "a CALLRESULT has 3 elements", False)
        return CallResult(message_id, parts[2])
    if kind == CALLERROR:
        try:
            code, description = _str.decode(parts[2]), _str.decode(parts[3])
        except (msgspec.DecodeError, IndexError):
            code, description = Err.GENERIC, "unreadable CallError"
        return CallError(message_id, code[:50], description[:255])
    message_type = Err.format(version) if version == V16 else "MessageTypeNotSupported"
    raise FrameError(message_id, message_type, f"unknown message type {kind}")


def _call(parts: list[msgspec.Raw], message_id: str, version: str) -> Call:
    if len(parts) != 4:
        raise FrameError(message_id, Err.format(version), "a CALL has 4 elements")
    try:
        action = _str.decode(parts[2])
    except msgspec.DecodeError:
        raise FrameError(message_id, Err.format(version), "action is not a string") from None
    if action not in actions(version):
        raise FrameError(message_id, Err.NOT_IMPLEMENTED, f"unknown action {action[:40]!r}")
    try:
        known = decoder(version, action)
    except SchemaMissing:
        raise FrameError(message_id, Err.NOT_IMPLEMENTED, f"unknown action {action!r}") from None
    _known_calls[(version, action)] = known
    _know_frames(version, action)
    return _payload(known, parts[3], message_id, action, version)


def whole_call(version: str, action: str) -> msgspec.json.Decoder[Any]:
    """The decoder of a whole CALL of `action`: `[message type, message id, action,
    payload]`, the payload by its schema as `decoder(version, action)` reads it alone."""
    payload = payload_type(version, action, False)
    kind = tuple[int, str, Literal[action], payload]  # type: ignore[valid-type]
    return msgspec.json.Decoder(kind)


def _know_frames(version: str, action: str) -> None:
    # (an action JSON writes as it is, quotes around it: the bytes a frame has between them)
    if action.isascii() and action.isprintable() and '"' not in action and "\\" not in action:
        frames = _known_frames.setdefault(version, {})
        if action.encode() not in frames:
            frames[action.encode()] = whole_call(version, action)


def _payload(
    known: msgspec.json.Decoder[Any], raw: msgspec.Raw, message_id: str, action: str, version: str
) -> Call:
    try:
        payload = known.decode(raw)
    except msgspec.ValidationError as exc:
        code, text = violation(version, exc)
        raise FrameError(message_id, code, text[:255]) from None
    except msgspec.DecodeError as exc:
        raise FrameError(message_id, Err.format(version), str(exc)[:255]) from None
    return Call(message_id, action, payload)


def decode_result(version: str, action: str, raw: msgspec.Raw) -> Any:
    """A charger's answer to our CALL, validated against the response schema."""
    return decoder(version, action, response=True).decode(raw)


def as_plain(value: Any) -> Any:
    """A decoded payload (Structs) as plain JSON-ready values."""
    return msgspec.to_builtins(value)


def call(message_id: str, action: str, payload: dict[str, Any]) -> bytes:
    return _encoder.encode([CALL, message_id, action, payload])


def result(message_id: str, payload: dict[str, Any]) -> bytes:
    return _encoder.encode([CALLRESULT, message_id, payload])


def error(message_id: str, code: str, description: str) -> bytes:
    return _encoder.encode([CALLERROR, message_id, code, description[:255], {}])
