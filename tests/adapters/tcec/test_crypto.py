"""The envelope's cryptography against published vectors, and keys at rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chargenet.adapters.tcec import wire
from chargenet.adapters.tcec.crypto import (
    CryptoError,
    KeySet,
    Vault,
    decrypt,
    encrypt,
    hash_secret,
    master_keys,
    secret_matches,
    sign,
)

# Published examples (Xiaoju open-energy server docs 11/14 §2.3.3 and §2.3.5, and T/CEC
# 102.4-2016 Appendix C.3), as collected with their provenance in
# ac1982/tcec-ev-charging-java tcec-core/src/test/resources/published-crypto-vectors.json.
KEYS = KeySet(data_key="1234567890abcdef", data_iv="1234567890abcdef", sig_key="1234567890abcdef")
TOKEN_REQUEST = {
    "OperatorID": "123456789",
    "Data": "mYvffpNoFf4E/ZTC1tOw41TC5OlkEobfAYCm5N8hEusaLUaUIqOrXtdbMrSck0DSmfM7mRuOGMoCQzH0nWPGuw==",  # noqa: E501 - a published vector
    "TimeStamp": "20180120165755",
    "Seq": "0001",
    "Sig": "D2D584A14F3F284445DF85D0E8C0697C",
}
TOKEN_ANSWER: dict[str, Any] = {
    "Ret": 0,
    "Msg": "",
    "Data": "uxeKP0ezR5yL8xSg4/ZCDh/N91/u86NXFxd2DrwZVW8zCPYcpl59Twz/yQZ3RaO4rDDrGmkvQignmNEJ+k4PGxdmIC+4fpJ8rU6osSobY+AeA0uueuQ5+eQiWBL6p6v5XMMm91brtK8yfFELYUWQzVcxABnAwK/+dyxtUhqLIxUpkwTEU/4ktN40df9IzzlLO5uvUknPGYu9yL0pp5w9vdRxmA1RiiTDNCysz6klr9bunGV3VJa2qpLcgeZMf/oG",  # noqa: E501 - a published vector
    "Sig": "58E52010C7DEE87FE183B0AFA5B2BE30",
}
APPENDIX_C3 = {
    "OperatorID": "123456789",
    "Data": "il7B0BSEjFdzpyKzfOFpvg/Se1CP802RItKYFPfSLRxJ3jf0bVl9hvYOEktPAYW2nd7S8MBcyHYyacHKbISq5iTmDzG+ivnR+SZJv3USNTYVMz9rCQVSxd0cLlqsJauko79NnwQJbzDTyLooYoIwz75qBOH2/xOMirpeEqRJrF/EQjWekJmGk9RtboXePu2rka+Xm51syBPhiXJAq0GfbfaFu9tNqs/e2Vjja/ltE1M0lqvxfXQ6da6HrThsm5id4ClZFIi0acRfrsPLRixS/IQYtksxghvJwbqOsbIsITail9Ayy4tKcogeEZiOO+4Ed264NSKmk7l3wKwJLAFjCFogBx8GE3OBz4pqcAn/ydA=",  # noqa: E501 - a published vector
    "TimeStamp": "20160729142400",
    "Seq": "0001",
    "Sig": "745166E8C43C84D37FFEC0F529C4136F",
}


def test_published_request_opens_and_its_signature_verifies() -> None:
    request = wire.Request(**TOKEN_REQUEST)
    assert wire.request_signed(request, KEYS)
    plain = json.loads(decrypt(request.Data, KEYS))
    assert plain == {"OperatorID": "123456789", "OperatorSecret": "1234567890abcdef"}
    # Encrypting the same text gives the same Data: CBC with the fixed IV is deterministic.
    assert encrypt(decrypt(request.Data, KEYS), KEYS) == request.Data


def test_published_answer_opens_and_its_signature_verifies() -> None:
    reply = wire.Reply(**TOKEN_ANSWER)
    assert wire.reply_signed(reply, KEYS)
    plain = json.loads(decrypt(reply.Data, KEYS))
    assert plain["AccessToken"].startswith("kVnStIRknCCOBdXgJrmu8rb3")
    assert plain["TokenAvailableTime"] == 7200


def test_the_standards_appendix_signature() -> None:
    message = "".join(APPENDIX_C3[k] for k in ("OperatorID", "Data", "TimeStamp", "Seq"))
    assert sign(message, KEYS) == APPENDIX_C3["Sig"]
    tampered = wire.Request(**{**APPENDIX_C3, "Seq": "0002"})
    assert not wire.request_signed(tampered, KEYS)


def test_data_under_other_keys_is_refused_not_misread() -> None:
    other = KeySet(data_key="abcdef1234567890", data_iv="1234567890abcdef", sig_key="x")
    with pytest.raises(CryptoError):
        decrypt(TOKEN_REQUEST["Data"], other)
    with pytest.raises(CryptoError):
        decrypt("not base64!", KEYS)
    with pytest.raises(CryptoError):
        KeySet(data_key="short", data_iv="1234567890abcdef", sig_key="x")


def test_keys_at_rest_are_sealed_and_secrets_hashed(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "master.key"
    keys = master_keys(None, str(key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert master_keys(None, str(key_file)) == keys  # created once, then read
    vault = Vault(lambda: keys)
    sealed = vault.seal(KEYS, "their-secret")
    assert "1234567890abcdef" not in sealed
    assert vault.open(sealed) == (KEYS, "their-secret")
    rotated = Vault(lambda: [Vault.new_master_key(), *keys])
    assert rotated.open(rotated.reseal(sealed)) == (KEYS, "their-secret")
    with pytest.raises(CryptoError):
        Vault(lambda: [Vault.new_master_key()]).open(sealed)
    stored = hash_secret("s3cret")
    assert "s3cret" not in stored
    assert secret_matches("s3cret", stored) and not secret_matches("S3cret", stored)
