"""The T/CEC 102 message envelope (Part 4): request `OperatorID, Data, TimeStamp, Seq, Sig`,
answer `Ret, Msg, Data, Sig`. Building, signing, verifying and opening them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from chargenet.adapters.tcec.crypto import KeySet, decrypt, encrypt, sign, signature_matches
from chargenet.kit.bounds import nesting_problem

TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss, the sender's local time
_SEQ = re.compile(r"^\d{4}$")
_TIMESTAMP = re.compile(r"^\d{14}$")

# Decimals go out as JSON numbers (T/CEC money and energy are numbers), text as UTF-8.
_encoder = msgspec.json.Encoder(decimal_format="number")


class Request(msgspec.Struct, forbid_unknown_fields=False):
    OperatorID: str
    Data: str
    TimeStamp: str
    Seq: str
    Sig: str


class Reply(msgspec.Struct, forbid_unknown_fields=False):
    Ret: int
    Msg: str
    Data: str
    Sig: str


class EnvelopeError(ValueError):
    pass


def decode_request(body: bytes) -> Request:
    """A request envelope, or EnvelopeError saying what is wrong with it. A document nested
    too deep is refused before msgspec, which would run out of stack on it."""
    problem = nesting_problem(body)
    if problem:
        raise EnvelopeError(problem)
    try:
        return msgspec.json.decode(body, type=Request)
    except msgspec.MsgspecError as exc:
        raise EnvelopeError(str(exc)) from None


def encode_payload(payload: Any) -> str:
    return _encoder.encode(payload).decode()


def format_timestamp(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str, zone: ZoneInfo) -> datetime:
    if not _TIMESTAMP.match(text):
        raise EnvelopeError(f"TimeStamp {text!r} is not yyyyMMddHHmmss")
    try:
        naive = datetime.strptime(text, TIMESTAMP_FORMAT)  # noqa: DTZ007 - zone set next
        return naive.replace(tzinfo=zone)
    except ValueError as exc:
        raise EnvelopeError(f"TimeStamp {text!r} is not a date and time") from exc


def seq_problem(seq: str) -> str | None:
    if not _SEQ.match(seq) or seq == "0000":
        return f"Seq {seq!r} is not 0001..9999"
    return None


class SeqCounter:
    """Seq numbers 0001..9999, counted afresh each second of the sender's clock."""

    def __init__(self) -> None:
        self._second = ""
        self._next = 1

    def next(self, timestamp: str) -> str:
        if timestamp != self._second:
            self._second, self._next = timestamp, 1
        if self._next > 9999:
            raise EnvelopeError("more than 9999 messages in one second")
        value = self._next
        self._next += 1
        return f"{value:04d}"


def build_request(
    operator_id: str, payload: Any, keys: KeySet, timestamp: str, seq: str
) -> dict[str, str]:
    data = encrypt(encode_payload(payload), keys)
    return {
        "OperatorID": operator_id,
        "Data": data,
        "TimeStamp": timestamp,
        "Seq": seq,
        "Sig": sign(operator_id + data + timestamp + seq, keys),
    }


def request_signed(request: Request, keys: KeySet) -> bool:
    message = request.OperatorID + request.Data + request.TimeStamp + request.Seq
    return signature_matches(message, request.Sig, keys)


def open_data(data: str, keys: KeySet) -> str:
    return decrypt(data, keys)


def build_reply(ret: int, msg: str, payload: Any, keys: KeySet | None) -> dict[str, Any]:
    """An answer; without keys (the caller is unknown) it goes out unsigned and empty."""
    if keys is None:
        return {"Ret": ret, "Msg": msg, "Data": "", "Sig": ""}
    data = encrypt(encode_payload(payload), keys) if payload is not None else ""
    return {"Ret": ret, "Msg": msg, "Data": data, "Sig": sign(f"{ret}{msg}{data}", keys)}


def reply_signed(reply: Reply, keys: KeySet) -> bool:
    return signature_matches(f"{reply.Ret}{reply.Msg}{reply.Data}", reply.Sig, keys)
