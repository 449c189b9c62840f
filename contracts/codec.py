"""Encryption of every Temporal payload (workflow and activity inputs and results, signals,
queries, updates, memos, failures' details) with AES-256-GCM, so that no personal data of a case
— names, national ID numbers, addresses an application's `details` may carry — is readable in
Temporal's store, its history exports or its Web UI.

The codec sits below the pydantic data converter: a payload is first serialised as usual, then
the whole `Payload` message (metadata + data) is sealed; what Temporal stores is

    metadata: encoding = binary/encrypted, encryption-key-id = <id>
    data:     12-byte random nonce || AES-GCM ciphertext+tag  (the key id is authenticated data)

Keys form a keyring (`Keyring`): payloads are encoded with the *current* key, and decoded with
whichever key their `encryption-key-id` names, so a key can be rotated without re-encrypting
histories (add the new key, make it current, keep the old ones until every history that uses
them has passed retention; see docs/SECURITY.md). Payloads without the encrypted encoding pass
through decoding untouched: histories recorded before encryption (tests/histories) still replay.

Where the keyring comes from is `keyring_from_settings` (environment, a key file, or in
development a key generated once into the state dir).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from contracts.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random per payload (2^-32 collision bound at 2^32 payloads/key)
DEV_KEY_FILE = "payload-keys.dev"

_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class KeyringError(ValueError):
    """The configured keys are missing, malformed or do not name the current key."""


class PayloadDecryptionError(ValueError):
    """An encrypted payload could not be decrypted: its key is unknown here, or it was altered."""


@dataclass(frozen=True)
class Keyring:
    """AES-256 keys by id; `current_id` encrypts, every key decrypts what names it."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the payload keyring is empty")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise KeyringError(f"payload key id {key_id!r} must be 1-64 of A-Z a-z 0-9 . _ -")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"payload key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        if self.current_id not in self.keys:
            raise KeyringError(f"the current payload key id {self.current_id!r} is not among the keys "
                               f"({', '.join(sorted(self.keys))})")

    @classmethod
    def parse(cls, text: str, current_id: str | None = None) -> Keyring:
        """Parse `id:base64key` entries separated by commas, whitespace or newlines (lines
        starting with # are comments). Without `current_id`, a keyring of exactly one key uses it;
        with several, the current one must be named (JIUYE_PAYLOAD_KEY_ID)."""
        keys: dict[str, bytes] = {}
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        for entry in re.split(r"[\s,]+", " ".join(lines)):
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep or not encoded:
                raise KeyringError(f"payload key entry {_redacted(entry)!r} is not of the form id:base64key")
            if key_id in keys:
                raise KeyringError(f"payload key id {key_id!r} appears twice")
            keys[key_id] = _decode_key(key_id, encoded)
        if not keys:
            raise KeyringError("no payload keys given")
        if current_id is None:
            if len(keys) != 1:
                raise KeyringError(f"{len(keys)} payload keys given ({', '.join(keys)}): "
                                   "name the one to encrypt with in JIUYE_PAYLOAD_KEY_ID")
            current_id = next(iter(keys))
        return cls(current_id=current_id, keys=keys)


def generate_key() -> bytes:
    """A fresh random AES-256 key."""
    return secrets.token_bytes(KEY_BYTES)


def format_entry(key_id: str, key: bytes) -> str:
    """`id:base64key`, the form `Keyring.parse` reads (and JIUYE_PAYLOAD_KEYS holds)."""
    return f"{key_id}:{base64.b64encode(key).decode()}"


def _decode_key(key_id: str, encoded: str) -> bytes:
    try:
        # Standard or URL-safe alphabet, padding optional: whatever a secret manager hands over.
        normalised = encoded.replace("-", "+").replace("_", "/")
        return base64.b64decode(normalised + "=" * (-len(normalised) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"payload key {key_id!r} is not valid base64") from None


def _redacted(entry: str) -> str:
    key_id, _, rest = entry.partition(":")
    return f"{key_id}:***" if rest else key_id[:8] + "***"


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec over a `Keyring` (see the module docstring)."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal each payload with the current key."""
        key_id = self.keyring.current_id
        cipher = self._ciphers[key_id]
        sealed = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            data = nonce + cipher.encrypt(nonce, payload.SerializeToString(), key_id.encode())
            sealed.append(Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()}, data=data))
        return sealed

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each encrypted payload with the key it names; plain payloads pass through."""
        return [self._open(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r}, which is not in this keyring "
                f"({', '.join(sorted(self._ciphers))}); add it to JIUYE_PAYLOAD_KEYS")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r} failed authentication: it was altered, "
                "or the key under that id is not the one it was encrypted with") from None
        return Payload.FromString(plain)


def keyring_from_settings(settings: Settings) -> Keyring | None:
    """The keyring the settings configure, or None when encryption is switched off.

    In order: JIUYE_PAYLOAD_KEYS, else the file JIUYE_PAYLOAD_KEYS_FILE, else — outside
    production only — a development key generated once into `<state_dir>/payload-keys.dev`.
    JIUYE_PAYLOAD_KEY_ID names the current key. Production (JIUYE_ENV=production) refuses to
    run without configured keys or with encryption off: a forgotten key must fail loudly.
    """
    production = settings.env == "production"
    if not settings.payload_encryption:
        if production:
            raise KeyringError("JIUYE_PAYLOAD_ENCRYPTION=false is not allowed with JIUYE_ENV=production")
        return None
    if settings.payload_keys is not None:
        text = settings.payload_keys.get_secret_value()
    elif settings.payload_keys_file is not None:
        text = settings.payload_keys_file.read_text()
    elif production:
        raise KeyringError("JIUYE_ENV=production needs JIUYE_PAYLOAD_KEYS or JIUYE_PAYLOAD_KEYS_FILE")
    else:
        text = dev_key_file(settings.state_dir).read_text()
    return Keyring.parse(text, settings.payload_key_id)


def dev_key_file(state_dir: Path) -> Path:
    """`<state_dir>/payload-keys.dev`, created with one random key on first use (mode 0600).

    Created atomically (write aside, then hard-link into place), so processes starting at once
    agree on one key. It belongs to the local stack's data: deleting the state dir deletes both
    the Temporal database and the key that opens it.
    """
    path = state_dir / DEV_KEY_FILE
    if path.exists():
        return path
    state_dir.mkdir(parents=True, exist_ok=True)
    key_id = f"dev-{secrets.token_hex(4)}"
    aside = state_dir / f".{DEV_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write("# Development payload key of the local stack (see docs/SECURITY.md); never use in production.\n")
            out.write(format_entry(key_id, generate_key()) + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process won the race; its key is the one
    finally:
        aside.unlink(missing_ok=True)
    return path


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    """The payload codec the settings configure, None when encryption is off."""
    keyring = keyring_from_settings(settings)
    return EncryptionCodec(keyring) if keyring is not None else None
