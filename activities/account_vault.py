"""Payee accounts at rest (POLICY.md part 2, docs/SECURITY.md): the account number and holder name
are sealed here, in the application, with the payload keyring the Temporal codec uses
(AES-256-GCM, contracts/codec.py), before they reach the store; the database holds the sealed
bytes, the key id and the last 4 digits, never the number.

Why the keyring and not pgcrypto: with pgcrypto the key would travel to the server in every
statement (and into its logs and pg_stat_statements on an error or a slow query), and the
database's own access control would be the only line; here the database never sees a key, a dump
or a replica holds only ciphertext, and keys rotate exactly as payload keys do (a sealed value
names its key id, so old rows stay readable while the new key seals new ones).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.codec import NONCE_BYTES, Keyring, KeyringError, PayloadDecryptionError, keyring_from_settings
from contracts.settings import Settings


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce || ciphertext || tag


def mask(account_number: str) -> str:
    """The only form an account number is shown in: its last 4 characters."""
    return mask_last4(account_number[-4:])


def mask_last4(last4: str) -> str:
    """The shown form of an account from the last 4 characters the store keeps."""
    return "****" + last4


class AccountVault:
    """Seals and opens the personal data of a payee account. The payee and the field name are
    authenticated data, so a sealed value cannot be moved to another payee or field unnoticed."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountVault:
        keyring = keyring_from_settings(settings)
        if keyring is None:
            # Payload encryption may be off in development; account numbers are never stored in clear.
            raise KeyringError("payee accounts need the payload keyring (JIUYE_PAYLOAD_ENCRYPTION=false "
                               "leaves none to seal them with)")
        return cls(keyring)

    def seal(self, payee: str, field: str, text: str) -> Sealed:
        key_id = self.keyring.current_id
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + self._ciphers[key_id].encrypt(nonce, text.encode(), _aad(key_id, payee, field))
        return Sealed(key_id, blob)

    def open(self, payee: str, field: str, sealed: Sealed) -> str:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise PayloadDecryptionError(f"payee account sealed with key id {sealed.key_id!r}, not in this keyring")
        try:
            return cipher.decrypt(sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:],
                                  _aad(sealed.key_id, payee, field)).decode()
        except InvalidTag:
            raise PayloadDecryptionError(f"a sealed {field} of {payee} failed authentication") from None


def _aad(key_id: str, payee: str, field: str) -> bytes:
    return f"{key_id}\n{payee}\n{field}".encode()
