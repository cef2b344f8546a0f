"""Encryption of everything the engine stores in Temporal: AES-256-GCM, with rotating keys.

Workflows already carry IDs, dates and stages only; this codec is the second wall. Every payload
(workflow and activity inputs and results, update arguments, failure messages) is encrypted
before it leaves the process, so Temporal's database, its Web UI and anyone reading history see
ciphertext. Each payload names the key that encrypted it:

    metadata  encoding: binary/encrypted   encryption-key-id: <kid>
    data      12-byte nonce + AES-GCM ciphertext (the key id is authenticated as associated data)

Keys, from the environment:

    VCS_CODEC_KEYS="2026-01:<base64 32 bytes>,2026-07:<base64 32 bytes>"
    VCS_CODEC_ACTIVE_KEY=2026-07

New payloads are encrypted with the active key; a payload is decrypted with whichever key it
names, so rotating is: add a new key, make it active, and keep the old one for as long as any
history written with it is kept. With neither variable set, a process refuses to start unless
`VCS_DEVELOPMENT=1` says it is a developer's machine (bin/run-demo, the tests): then a key file
`data/codec-keys` is used, created on first use with mode 0600 (same format, one key a line; the
last line is the active key). A production process never makes a key of its own.

Errors name key IDs, never key material or payload content.
"""

import base64
import binascii
import contextlib
import dataclasses
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from models.errors import VcsError
from models.secret_files import secret

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_SIZE = 32  # AES-256
NONCE_SIZE = 12  # the GCM standard nonce
TAG_SIZE = 16
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
DEV_KEY_FILE = Path(__file__).resolve().parent.parent / "data" / "codec-keys"
DEVELOPMENT = "VCS_DEVELOPMENT"

log = logging.getLogger("vcs.codec")


class CodecError(VcsError):
    """Keys missing or malformed, or a payload this process cannot decrypt. The message names
    key IDs only: never key material, never payload content."""


@dataclass(frozen=True)
class KeyRing:
    """Every key this process may decrypt with, and the one it encrypts with."""

    keys: Mapping[str, bytes]
    active: str

    def __post_init__(self) -> None:
        for kid, key in self.keys.items():
            if not KEY_ID_PATTERN.fullmatch(kid):
                raise CodecError(
                    f"codec key id {kid[:64]!r} is not 1-64 letters, digits, '.', '_' or '-'"
                )
            if len(key) != KEY_SIZE:
                raise CodecError(f"codec key {kid!r} is {len(key)} bytes, not {KEY_SIZE}")
        if self.active not in self.keys:
            raise CodecError(
                f"active codec key {self.active[:64]!r} is not among the keys held "
                f"({', '.join(self.keys) or 'none'})"
            )


def parse_keys(text: str, source: str) -> dict[str, bytes]:
    """`kid:base64key` entries, separated by commas or newlines; `#` starts a comment line."""
    keys: dict[str, bytes] = {}
    lines = (line.strip() for line in text.splitlines())
    entries = [
        entry.strip()
        for line in lines
        if line and not line.startswith("#")
        for entry in line.split(",")
        if entry.strip()
    ]
    for number, entry in enumerate(entries, 1):
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        if not sep or not kid:
            raise CodecError(f"{source}: entry {number} is not kid:base64key")
        if kid in keys:
            raise CodecError(f"{source}: key id {kid[:64]!r} appears twice")
        try:
            keys[kid] = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise CodecError(f"{source}: key {kid[:64]!r} is not valid base64") from None
    if not keys:
        raise CodecError(f"{source} holds no keys")
    return keys


def development() -> bool:
    """A developer's machine, said explicitly (VCS_DEVELOPMENT=1): development keys allowed."""
    return os.environ.get(DEVELOPMENT, "").strip() == "1"


def load_keys(key_file: Path = DEV_KEY_FILE) -> KeyRing:
    """The keys from VCS_CODEC_KEYS / VCS_CODEC_ACTIVE_KEY (or VCS_CODEC_KEYS_FILE), or else
    (VCS_DEVELOPMENT=1 only) the development key file."""
    keys_text = secret("VCS_CODEC_KEYS").strip()  # VCS_CODEC_KEYS_FILE in production
    active = os.environ.get("VCS_CODEC_ACTIVE_KEY", "").strip()
    if keys_text and active:
        return KeyRing(parse_keys(keys_text, "VCS_CODEC_KEYS"), active)
    if keys_text or active:
        raise CodecError(
            "set both VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY (or neither, on a development "
            f"machine, to use the key file {key_file})"
        )
    if not development():
        raise CodecError(
            "no payload keys: set VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY (see README, 'Victim "
            f"data in Temporal'), or {DEVELOPMENT}=1 on a developer's machine to use the key "
            f"file {key_file}"
        )
    return development_keys(key_file)


def development_keys(path: Path) -> KeyRing:
    """The development key file, created (mode 0600) with one fresh key if it does not exist."""
    try:
        if not path.exists():
            create_key_file(path)
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CodecError(
            f"cannot use the development key file {path} ({err.strerror}): "
            "set VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY"
        ) from None
    if mode & 0o077:
        log.warning("%s can be read by other users: chmod 600 it", path)
    keys = parse_keys(text, str(path))
    return KeyRing(keys, active=list(keys)[-1])


def create_key_file(path: Path) -> None:
    """Write a new key file atomically: two processes starting together (the worker and the
    CLI) must not both create one, nor read a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kid = f"dev-{secrets.token_hex(4)}"
    key = base64.b64encode(AESGCM.generate_key(bit_length=KEY_SIZE * 8)).decode()
    content = (
        "# Development keys for the Temporal payload codec (models/codec.py). Never for\n"
        "# production: there, set VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY.\n"
        "# One kid:base64key a line; the last line is the active key. Losing this file makes\n"
        "# the demonstration's workflow histories unreadable.\n"
        f"{kid}:{key}\n"
    )
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".codec-keys-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first: use theirs
            os.link(temp, path)
    finally:
        os.unlink(temp)


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole serialized payload, metadata included."""

    def __init__(self, keys: KeyRing) -> None:
        super().__init__()
        self.active_key_id = keys.active
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.keys.items()}

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        kid = self.active_key_id.encode()
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._ciphers[self.active_key_id].encrypt(nonce, payload.SerializeToString(), kid)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            # Written before encryption was switched on (the demonstration's older histories).
            return payload
        raw_kid = payload.metadata.get(KEY_ID, b"")
        kid = raw_kid.decode("utf-8", "replace")[:64]
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise CodecError(
                f"payload is encrypted with codec key {kid!r}, which this process does not hold "
                f"(it holds {', '.join(self._ciphers)}): add that key to VCS_CODEC_KEYS"
            )
        data = payload.data
        if len(data) < NONCE_SIZE + TAG_SIZE:
            raise CodecError(f"payload encrypted with codec key {kid!r} is truncated")
        try:
            plain = cipher.decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], raw_kid)
            return Payload.FromString(plain)
        except (InvalidTag, DecodeError):
            raise CodecError(
                f"payload encrypted with codec key {kid!r} failed authentication: it was "
                "altered, or encrypted with a different key under the same id"
            ) from None


def data_converter(keys: KeyRing | None = None) -> DataConverter:
    """The pydantic converter with every payload encrypted, failure messages and stack traces
    included (they are moved into encoded attributes, so the codec covers them too)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys if keys is not None else load_keys()),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
