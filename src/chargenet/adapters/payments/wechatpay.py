"""WeChat Pay API v3 payment notifications (微信支付 APIv3 支付通知), from the provider's
published specification:

- The request carries `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Serial` and
  `Wechatpay-Signature`: Base64 of an RSA signature (PKCS#1 v1.5, SHA-256) by the WeChat
  Pay platform key over `timestamp\\nnonce\\nbody\\n`. It is verified with the platform
  certificate whose serial the request names before anything is read; a time stamp more
  than 5 minutes from ours is refused (a replay).
- The body's `resource` is encrypted with AEAD_AES_256_GCM under the merchant's APIv3 key
  (32 bytes): `nonce` and `associated_data` as given, `ciphertext` Base64 of the
  ciphertext followed by the 16-byte tag. Decrypted it is the transaction: `transaction_id`,
  `out_trade_no`, `trade_state`, `amount.total` in fen, `amount.currency`, `attach`.
- Only `TRANSACTION.SUCCESS` with `trade_state` SUCCESS is money received. The driver is
  named in `attach` (set by the platform when it opened the order), checked as a driver id.
- The answer: HTTP 204 without a body when taken; 4xx with `{"code": "FAIL", "message"}`
  otherwise, so the provider resends.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chargenet.app.payments import NotificationRefused, PaymentReceived
from chargenet.core.drivers import DRIVER_ID

NAME = "wechatpay"
TIME_WINDOW_S = 300
MAX_BODY = 64 * 1024


@dataclass
class WeChatPayV3:
    apiv3_key: bytes  # 32 bytes
    platform_keys: Mapping[str, rsa.RSAPublicKey]  # certificate serial → public key
    mchid: str | None = None  # when set, a transaction of another merchant is refused
    name: str = field(default=NAME)

    def __post_init__(self) -> None:
        if len(self.apiv3_key) != 32:
            raise ValueError("the APIv3 key is 32 bytes")

    def read(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> PaymentReceived | None:
        h = {k.lower(): v for k, v in headers.items()}
        if len(body) > MAX_BODY:
            raise NotificationRefused("notification too large", 413)
        timestamp, nonce = h.get("wechatpay-timestamp", ""), h.get("wechatpay-nonce", "")
        serial, signature = h.get("wechatpay-serial", ""), h.get("wechatpay-signature", "")
        key = self.platform_keys.get(serial)
        if key is None:
            raise NotificationRefused(f"unknown platform certificate serial {serial[:64]!r}")
        try:
            sent_at = int(timestamp)
            key.verify(
                base64.b64decode(signature, validate=True),
                f"{timestamp}\n{nonce}\n".encode() + body + b"\n",
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (ValueError, binascii.Error, InvalidSignature):
            raise NotificationRefused("the signature does not verify") from None
        if abs(now.timestamp() - sent_at) > TIME_WINDOW_S:
            raise NotificationRefused("the time stamp is outside 5 minutes of ours")
        notice = _json(body, "the notification is not JSON")
        if notice.get("event_type") != "TRANSACTION.SUCCESS":
            return None
        resource = notice.get("resource")
        if not isinstance(resource, dict) or resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise NotificationRefused("resource is not AEAD_AES_256_GCM", 400)
        try:
            plain = AESGCM(self.apiv3_key).decrypt(
                str(resource.get("nonce", "")).encode(),
                base64.b64decode(str(resource.get("ciphertext", "")), validate=True),
                str(resource.get("associated_data", "")).encode() or None,
            )
        except (ValueError, binascii.Error, InvalidTag):
            raise NotificationRefused("the resource does not decrypt", 400) from None
        tx = _json(plain, "the resource is not JSON")
        return self._payment(tx)

    def _payment(self, tx: dict[str, Any]) -> PaymentReceived | None:
        if tx.get("trade_state") != "SUCCESS":
            return None
        if self.mchid is not None and tx.get("mchid") != self.mchid:
            raise NotificationRefused("a transaction of another merchant", 400)
        amount, driver = tx.get("amount"), str(tx.get("attach") or "")
        transaction_id = str(tx.get("transaction_id") or "")
        if not isinstance(amount, dict) or not isinstance(amount.get("total"), int):
            raise NotificationRefused("amount.total (fen) missing", 400)
        if not DRIVER_ID.match(driver) or not 0 < len(transaction_id) <= 64:
            raise NotificationRefused("attach (the driver) or transaction_id missing", 400)
        if amount["total"] <= 0:
            return None
        return PaymentReceived(
            provider=self.name,
            transaction_id=transaction_id,
            driver_id=driver,
            amount=Decimal(amount["total"]) / 100,
            currency=str(amount.get("currency") or "CNY"),
        )


def _json(data: bytes, problem: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise NotificationRefused(problem, 400) from None
    if not isinstance(value, dict):
        raise NotificationRefused(problem, 400)
    return value


def from_settings(apiv3_key: str, platform_pem: str, serial: str, mchid: str | None) -> WeChatPayV3:
    """The adapter from configuration: the APIv3 key, and the platform certificate (or its
    public key) as PEM with its serial number."""
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = Path(platform_pem).read_bytes()
    key: object = (
        x509.load_pem_x509_certificate(data).public_key()
        if b"BEGIN CERTIFICATE" in data
        else load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the WeChat Pay platform key is RSA")
    return WeChatPayV3(apiv3_key.encode(), {serial: key}, mchid)
