"""The cryptography of T/CEC 102 Part 4, and of keeping partners' keys at rest.

On the wire: `Data` is AES-128-CBC with PKCS#7 (= PKCS5) padding, then Base64; `Sig` is
HMAC-MD5 in upper-case hex over OperatorID+Data+TimeStamp+Seq (request) or Ret+Msg+Data
(response). Keys and IVs are 16 characters, used as their UTF-8 bytes, as partners
exchange them. These primitives are the standard's, kept for compatibility: they do not
replace TLS.

At rest: keys chargenet must use again are sealed with Fernet (AES-128-CBC + HMAC-SHA256)
under a master key kept outside the database; secrets that only need verifying (a
partner's OperatorSecret) are kept as scrypt hashes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_CHARS = string.ascii_letters + string.digits


class CryptoError(ValueError):
    """Data that does not decrypt, or a key of the wrong shape."""


@dataclass(frozen=True, slots=True)
class KeySet:
    """The message keys of one direction of one partnership (who calls whom)."""

    data_key: str  # 16 characters
    data_iv: str  # 16 characters
    sig_key: str

    def __post_init__(self) -> None:
        for name in ("data_key", "data_iv"):
            if len(getattr(self, name).encode()) != 16:
                raise CryptoError(f"{name} must be 16 bytes (UTF-8), as T/CEC 102 Part 4 says")
        if not self.sig_key:
            raise CryptoError("the signature key cannot be empty")

    def __repr__(self) -> str:  # keys never reach a log by accident
        return "KeySet(<redacted>)"

    @classmethod
    def generate(cls) -> KeySet:
        return cls(data_key=new_secret(), data_iv=new_secret(), sig_key=new_secret())


def new_secret() -> str:
    """16 random letters and digits: the shape in which partners exchange keys."""
    return "".join(secrets.choice(KEY_CHARS) for _ in range(16))


def encrypt(plaintext: str, keys: KeySet) -> str:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    cipher = Cipher(algorithms.AES(keys.data_key.encode()), modes.CBC(keys.data_iv.encode()))
    encryptor = cipher.encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt(data: str, keys: KeySet) -> str:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("Data is not Base64") from exc
    if not raw or len(raw) % 16:
        raise CryptoError("Data is not a whole number of AES blocks")
    cipher = Cipher(algorithms.AES(keys.data_key.encode()), modes.CBC(keys.data_iv.encode()))
    decryptor = cipher.decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise CryptoError("Data does not decrypt with the agreed key and IV") from exc


def sign(message: str, keys: KeySet) -> str:
    return hmac.new(keys.sig_key.encode(), message.encode(), hashlib.md5).hexdigest().upper()


def signature_matches(message: str, sig: str, keys: KeySet) -> bool:
    # As bytes: compare_digest refuses str with characters past ASCII (TypeError), and a
    # Sig is whatever the sender put there.
    return hmac.compare_digest(sign(message, keys).encode(), sig.upper().encode())


# --- at rest ------------------------------------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), dklen=32, **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


def master_keys(given: str | None, path: str) -> list[str]:
    """The master key(s): given (comma-separated, newest first), else read from `path`,
    else a new key written there readable by the owner only."""
    if given:
        return [k.strip() for k in given.split(",") if k.strip()]
    file = Path(path)
    if file.exists():
        return [line.strip() for line in file.read_text().splitlines() if line.strip()]
    file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(key + "\n")
    return [key]


class Vault:
    """Seals and opens partner keys with the master key(s); the first key seals, all open
    (so a new master key can be added in front and old records re-sealed at leisure).
    The master keys are loaded on first use: a platform without partners needs none."""

    def __init__(self, master_keys: Callable[[], list[str]]) -> None:
        self._load = master_keys
        self._multi: MultiFernet | None = None

    @property
    def _fernet(self) -> MultiFernet:
        if self._multi is None:
            keys = self._load()
            if not keys:
                raise CryptoError("no master key")
            try:
                self._multi = MultiFernet([Fernet(k.encode()) for k in keys])
            except (ValueError, binascii.Error) as exc:
                raise CryptoError(
                    "a master key is not a Fernet key (32 url-safe Base64 bytes)"
                ) from exc
        return self._multi

    @staticmethod
    def new_master_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, keys: KeySet, secret: str = "") -> str:
        """Seal message keys, with the OperatorSecret chargenet must present (if any)."""
        plain = "\x1f".join((secret, keys.data_key, keys.data_iv, keys.sig_key))
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> tuple[KeySet, str]:
        try:
            plain = self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise CryptoError("partner keys do not open with the master key") from exc
        secret, key, iv, sig = plain.split("\x1f")
        return KeySet(data_key=key, data_iv=iv, sig_key=sig), secret

    def seal_text(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open_text(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise CryptoError("a sealed value does not open with the master key") from exc

    def reseal(self, sealed: str) -> str:
        return self._fernet.rotate(sealed.encode()).decode()
