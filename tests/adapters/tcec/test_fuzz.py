"""Fuzzing T/CEC 102: envelopes that are not envelopes, signed and fresh envelopes whose
Data holds junk, and the pieces underneath (Data decryption, payload decoding). Every
answer is the protocol's own (Ret 0 or 4001–4004), never 500 or a dropped connection;
and a station accepted before is still there, unchanged, after."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from chargenet.adapters.tcec import model, wire
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.crypto import CryptoError, KeySet, decrypt, encrypt, sign
from chargenet.bootstrap import Platform, bootstrap
from chargenet.demo.tcec_operator import sample_station
from chargenet.entrypoints.web import create_app
from tests.adapters.tcec.harness import OPERATOR, settings_for
from tests.builders import areas, operator
from tests.fuzzing import JSON_DOCUMENTS, fuzz, mutated

pytestmark = pytest.mark.fuzz

PARTNER = "MA0000001"
PROTOCOL_RETS = {Ret.OK, Ret.SIGNATURE, Ret.TOKEN, Ret.PARAMETERS, Ret.BUSINESS}


@dataclass
class Link:
    client: TestClient
    platform: Platform
    keys: KeySet
    token: str
    seq: wire.SeqCounter

    def envelope(self, data: str, **overrides: str) -> dict[str, str]:
        """A signed, fresh envelope around `data` (the plain JSON text); `overrides`
        replace fields after signing."""
        assert self.platform.tcec is not None
        partner = self.platform.tcec.directory.get(PARTNER)
        assert partner is not None
        zone = partner.zone
        stamp = wire.format_timestamp(self.platform.clock.now(), zone)
        fields = {
            "OperatorID": PARTNER,
            "Data": encrypt(data, self.keys),
            "TimeStamp": stamp,
            "Seq": self.seq.next(stamp),
        }
        signed = fields["OperatorID"] + fields["Data"] + fields["TimeStamp"] + fields["Seq"]
        return {**fields, "Sig": sign(signed, self.keys), **overrides}

    def post(self, endpoint: str, body: bytes, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = self.client.post(f"/tcec/v1/{endpoint}", content=body, headers=headers)
        assert response.status_code in (200, 404, 413), (endpoint, body[:300], response.text)
        answer: dict[str, Any] = response.json()
        assert answer["Ret"] in PROTOCOL_RETS, (endpoint, body[:300], answer)
        return answer

    def push(self, endpoint: str, payload: Any) -> dict[str, Any]:
        text = json.dumps(payload, ensure_ascii=False)
        return self.post(endpoint, json.dumps(self.envelope(text)).encode())


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Link]:
    path: Path = tmp_path_factory.mktemp("tcec-fuzz")
    platform = bootstrap(settings_for(path, database_url=module_database_url))
    platform.ingestor.ingest([*areas(), operator(OPERATOR, name="模拟运营商")])
    credentials = platform.tcec.admin.add(partner_id=PARTNER, operator_id=OPERATOR, name="模拟")
    app = create_app(platform, routers=[platform.tcec.router()])
    with TestClient(app) as client:
        token = platform.tcec.tokens.issue(PARTNER).token
        found = Link(client, platform, credentials.keys, token, wire.SeqCounter())
        answer = found.push("notification_stationInfo", {"StationInfo": _station(1)})
        assert answer["Ret"] == Ret.OK, answer
        yield found
    platform.close()


def _station(number: int) -> dict[str, Any]:
    return sample_station(PARTNER, number)


def _kept(link: Link) -> Any:
    partner = link.platform.tcec.directory.get(PARTNER)
    assert partner is not None
    found = link.platform.read.station(partner.station_id("1001"))
    assert found is not None
    return found


def _stamp(minutes: int = 0) -> str:
    return datetime(2025, 5, 1, 8, minutes).strftime("%Y-%m-%d %H:%M:%S")


SEQ = f"{PARTNER}202505010800001234"
PAYLOADS: dict[str, Any] = {
    "notification_stationInfo": {"StationInfo": _station(9)},
    "notification_stationStatus": {"ConnectorStatusInfo": {"ConnectorID": "1009E1C1", "Status": 3}},
    "notification_start_charge_result": {
        "StartChargeSeq": SEQ,
        "StartChargeSeqStat": 2,
        "ConnectorID": "1009E1C1",
        "StartTime": _stamp(),
    },
    "notification_equip_charge_status": {
        "StartChargeSeq": SEQ,
        "StartChargeSeqStat": 2,
        "ConnectorID": "1009E1C1",
        "ConnectorStatus": 3,
        "CurrentA": 100.0,
        "VoltageA": 400.0,
        "Soc": 55.0,
        "StartTime": _stamp(),
        "EndTime": _stamp(30),
        "TotalPower": 12.5,
        "ElecMoney": 3.75,
        "SeviceMoney": 10.0,
        "TotalMoney": 13.75,
    },
    "notification_stop_charge_result": {
        "StartChargeSeq": SEQ,
        "StartChargeSeqStat": 4,
        "ConnectorID": "1009E1C1",
        "SuccStat": 0,
        "FailReason": 0,
    },
    "notification_charge_order_info": {
        "StartChargeSeq": SEQ,
        "ConnectorID": "1009E1C1",
        "StartTime": _stamp(),
        "EndTime": _stamp(30),
        "TotalPower": 12.5,
        "TotalElecMoney": 3.75,
        "TotalSeviceMoney": 10.0,
        "TotalMoney": 13.75,
        "StopReason": 0,
        "SumPeriod": 1,
        "ChargeDetails": [
            {
                "DetailStartTime": _stamp(),
                "DetailEndTime": _stamp(30),
                "ElecPrice": 0.3,
                "SevicePrice": 0.8,
                "DetailPower": 12.5,
                "DetailElecMoney": 3.75,
                "DetailSeviceMoney": 10.0,
            }
        ],
    },
    "check_charge_orders": {
        "CheckOrderSeq": "CHK0001",
        "StartTime": _stamp(),
        "EndTime": _stamp(59),
        "OrderCount": 1,
        "TotalOrderPower": 12.5,
        "TotalOrderMoney": 13.75,
        "ChargeOrders": [{"StartChargeSeq": SEQ, "TotalPower": 12.5, "TotalMoney": 13.75}],
    },
    "query_token": {"OperatorID": PARTNER, "OperatorSecret": "not-the-secret"},
}


@pytest.mark.parametrize("endpoint", sorted(PAYLOADS))
def test_signed_envelopes_with_junk_data_get_a_protocol_answer(link: Link, endpoint: str) -> None:
    before = _kept(link)
    texts = st.one_of(
        mutated(PAYLOADS[endpoint]).map(lambda d: json.dumps(d, ensure_ascii=False)),
        JSON_DOCUMENTS.map(json.dumps),
        st.text(max_size=40),
        st.sampled_from(["[" * 5000, '{"a":' * 40, "NaN", "", "\ufeff{}"]),
    )

    @fuzz(30)
    @given(texts)
    # An unknown field is skipped by recursing into it: past the parser's limit, always tried.
    @example('{"Extra": ' + "[" * 5000 + "]" * 5000 + "}")
    def push(text: str) -> None:
        link.post(endpoint, json.dumps(link.envelope(text)).encode())

    push()
    assert _kept(link) == before


def test_envelopes_that_are_not_envelopes_get_a_protocol_answer(link: Link) -> None:
    valid = link.envelope(json.dumps(PAYLOADS["notification_stationStatus"]))
    bodies = st.one_of(
        mutated(valid).map(lambda d: json.dumps(d).encode()),
        JSON_DOCUMENTS.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=80),
        st.sampled_from([b"[" * 100_000, b'{"x":' + b"[" * 5000, b"{}", b""]),
    )
    endpoints = st.sampled_from([*PAYLOADS, "no_such_endpoint"])
    tokens = st.sampled_from([link.token, "", "not-a-token"])

    @fuzz(120)
    @given(endpoints, bodies, tokens)
    @example("notification_stationStatus", b'{"x":' + b"[" * 5000, link.token)
    def send(endpoint: str, body: bytes, token: str) -> None:
        link.post(endpoint, body, token)

    send()


def test_a_signature_past_ascii_is_4001(link: Link) -> None:
    request = link.envelope(json.dumps(PAYLOADS["notification_stationStatus"]), Sig="\u0080")
    answer = link.post("notification_stationStatus", json.dumps(request).encode())
    assert answer["Ret"] == Ret.SIGNATURE


@fuzz(200)
@given(
    st.one_of(
        st.text(max_size=64),
        st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    )
)
def test_data_that_does_not_decrypt_is_a_crypto_error(data: str) -> None:
    keys = KeySet(data_key="1234567890abcdef", data_iv="abcdef1234567890", sig_key="k" * 16)
    with contextlib.suppress(CryptoError):
        decrypt(data, keys)


@fuzz(200)
@given(
    st.one_of(st.text(max_size=40), JSON_DOCUMENTS.map(json.dumps), st.just("[" * 5000)),
    st.sampled_from(
        [
            model.StationInfoNotice,
            model.StationStatusNotice,
            model.ChargeOrderInfo,
            model.CheckOrders,
        ]
    ),
)
def test_payloads_that_do_not_decode_are_a_payload_error(text: str, kind: type[Any]) -> None:
    with contextlib.suppress(model.PayloadError):
        model.decode(text, kind)
