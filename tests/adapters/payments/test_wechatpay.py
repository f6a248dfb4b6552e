"""WeChat Pay API v3 payment notifications against a local peer that speaks the protocol
(written here from the published specification: RSA-SHA256 signature over
timestamp\\nnonce\\nbody\\n, resource sealed with AEAD_AES_256_GCM under the APIv3 key):
a verified notification tops up the driver's wallet once, whatever is resent; a bad
signature, a replayed time stamp or a tampered resource changes nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.entrypoints.web import create_app
from tests import migrated

APIV3_KEY = "0123456789abcdef0123456789abcdef"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
URL = "/payments/wechatpay/notify"


@dataclass
class WeChatPayPeer:
    """What WeChat Pay sends: a signed, encrypted TRANSACTION.SUCCESS notification."""

    key: rsa.RSAPrivateKey
    apiv3_key: bytes

    def notification(
        self, transaction_id: str, driver: str, fen: int, *, sent_at: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        transaction = {
            "mchid": "1900000001",
            "appid": "wxd678efh567hg6787",
            "out_trade_no": f"topup-{transaction_id}",
            "transaction_id": transaction_id,
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "attach": driver,
            "success_time": "2025-05-01T16:00:00+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": fen, "payer_total": fen, "currency": "CNY"},
        }
        nonce = secrets.token_hex(6)
        sealed = AESGCM(self.apiv3_key).encrypt(
            nonce.encode(), json.dumps(transaction).encode(), b"transaction"
        )
        body = json.dumps(
            {
                "id": f"EV-{transaction_id}",
                "create_time": "2025-05-01T16:00:01+08:00",
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(sealed).decode(),
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            }
        ).encode()
        return self.sign(body, sent_at), body

    def sign(self, body: bytes, sent_at: int | None = None) -> dict[str, str]:
        stamp, nonce = str(sent_at or int(time.time())), secrets.token_hex(16)
        message = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
        signature = self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": SERIAL,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Content-Type": "application/json",
        }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Platform, WeChatPayPeer]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "wechatpay-platform.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    platform = bootstrap(
        Settings(
            database_url=migrated.sqlite_url(tmp_path / "c.db"),
            sqlite_synchronous="OFF",
            wechatpay_apiv3_key=APIV3_KEY,
            wechatpay_platform_cert=str(pem),
            wechatpay_platform_serial=SERIAL,
        )
    )
    yield platform, WeChatPayPeer(key, APIV3_KEY.encode())
    platform.close()


def _run(platform: Platform, sends: list[tuple[dict[str, str], bytes]]) -> tuple[list[Any], str]:
    async def main() -> tuple[list[Any], str]:
        await platform.start()
        try:
            await platform.drivers.register("lina", "a-long-password")
            app = create_app(platform)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://chargenet"
            ) as c:
                answers = [await c.post(URL, headers=h, content=b) for h, b in sends]
            balance = platform.settlement.reads.balances(["wallet:lina"]).get("wallet:lina", 0)
            return answers, f"{balance:.2f}"
        finally:
            await platform.stop()

    return asyncio.run(main())


def test_a_verified_payment_tops_up_the_wallet_once_however_often_it_is_resent(
    world: tuple[Platform, WeChatPayPeer],
) -> None:
    platform, peer = world
    paid = peer.notification("4200001234202505011234567890", "lina", 5000)
    resent = (peer.sign(paid[1]), paid[1])  # WeChat Pay resends with new headers
    answers, balance = _run(platform, [paid, resent, paid])
    assert [a.status_code for a in answers] == [204, 204, 204]
    assert balance == "50.00"


def test_bad_signatures_replays_and_tampering_change_nothing(
    world: tuple[Platform, WeChatPayPeer],
) -> None:
    platform, peer = world
    headers, body = peer.notification("4200001", "lina", 5000)
    forged = body.replace(b"4200001", b"4200002")  # the signature no longer matches
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = WeChatPayPeer(other, APIV3_KEY.encode()).notification("4200003", "lina", 9900)
    old = peer.notification("4200004", "lina", 100, sent_at=int(time.time()) - 3600)
    wrong_key = WeChatPayPeer(peer.key, b"f" * 32).notification("4200005", "lina", 100)
    unsigned = ({"Content-Type": "application/json"}, body)
    answers, balance = _run(platform, [(headers, forged), impostor, old, wrong_key, unsigned])
    assert [a.status_code for a in answers] == [401, 401, 401, 400, 401]
    assert all(a.json()["code"] == "FAIL" for a in answers)
    assert balance == "0.00"
