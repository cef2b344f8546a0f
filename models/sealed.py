"""Text encrypted at rest in the case database: a column type for the words a victim writes
that must be kept from anyone reading the database itself (a Victim Personal Statement).

AES-256-GCM with the project's keys (models/codec.py: VCS_CODEC_KEYS / VCS_CODEC_ACTIVE_KEY,
or the development key file), each key first narrowed by HKDF-SHA256 to this one purpose, so
the same key material never encrypts both Temporal payloads and database rows. A stored value
names the key that sealed it, so keys rotate as the codec's do: a new active key seals new
values, and older ones stay readable while their key is held.

    stored   v1:<kid>:<base64(12-byte nonce + ciphertext + tag)>
    AAD      "vcs-sealed-v1:<purpose>:<kid>"   (a value cannot be moved to another column type)

Errors name key IDs and purposes, never key material or content.
"""

import base64
import binascii
import os
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from models.codec import KEY_SIZE, NONCE_SIZE, TAG_SIZE, CodecError, KeyRing, load_keys

FORMAT = "v1"
HKDF_INFO = b"vcs case database: sealed text at rest"


class Sealer:
    """Encrypts and decrypts one purpose's values with a key ring."""

    def __init__(self, keys: KeyRing) -> None:
        self.active = keys.active
        self._ciphers = {kid: AESGCM(_narrow(key)) for kid, key in keys.keys.items()}

    def seal(self, plain: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._ciphers[self.active].encrypt(
            nonce, plain.encode("utf-8"), _aad(purpose, self.active)
        )
        return f"{FORMAT}:{self.active}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, stored: str, purpose: str) -> str:
        version, _, rest = stored.partition(":")
        kid, _, encoded = rest.partition(":")
        if version != FORMAT or not kid or not encoded:
            raise CodecError(f"a sealed {purpose} value is not in the {FORMAT} format")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise CodecError(
                f"a sealed {purpose} value names key {kid[:64]!r}, which this process does not "
                f"hold (it holds {', '.join(self._ciphers)}): add it to VCS_CODEC_KEYS"
            )
        try:
            data = base64.b64decode(encoded, validate=True)
            if len(data) < NONCE_SIZE + TAG_SIZE:
                raise ValueError("truncated")
            plain = cipher.decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], _aad(purpose, kid))
            return plain.decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error):
            raise CodecError(
                f"a sealed {purpose} value under key {kid[:64]!r} failed authentication: it was "
                "altered, truncated, or sealed with a different key under the same id"
            ) from None


def _narrow(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=HKDF_INFO).derive(key)


def _aad(purpose: str, kid: str) -> bytes:
    return f"vcs-sealed-{FORMAT}:{purpose}:{kid}".encode()


_lock = threading.Lock()
_sealer: Sealer | None = None


def sealer() -> Sealer:
    """The process's sealer, from the same keys as the payload codec (loaded once)."""
    global _sealer
    with _lock:
        if _sealer is None:
            _sealer = Sealer(load_keys())
        return _sealer


class SealedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code reads and writes plain `str`. It cannot be
    searched or compared in SQL (each value has its own nonce): compare after reading."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else sealer().seal(value, self.purpose)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else sealer().open(value, self.purpose)
