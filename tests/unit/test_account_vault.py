"""Payee accounts are sealed with the payload keyring (activities/account_vault.py): what is
stored opens only for the payee and field it was sealed for, under a key the keyring has."""

from __future__ import annotations

import os

import pytest

from activities.account_vault import AccountVault, Sealed, mask
from contracts.codec import Keyring, KeyringError, PayloadDecryptionError
from contracts.settings import Settings

NUMBER = "6222020200112233"


def vault(*ids: str, current: str) -> AccountVault:
    return AccountVault(Keyring(current_id=current, keys={i: bytes([n]) * 32 for n, i in enumerate(ids, 1)}))


def test_a_sealed_number_opens_to_itself_and_holds_no_clear_text() -> None:
    v = vault("k1", current="k1")
    sealed = v.seal("person/P1", "account_number", NUMBER)
    assert NUMBER.encode() not in sealed.blob
    assert v.open("person/P1", "account_number", sealed) == NUMBER
    assert v.seal("person/P1", "account_number", NUMBER).blob != sealed.blob  # a fresh nonce each time


def test_a_sealed_value_moved_to_another_payee_or_field_does_not_open() -> None:
    v = vault("k1", current="k1")
    sealed = v.seal("person/P1", "account_number", NUMBER)
    with pytest.raises(PayloadDecryptionError) as other_payee:
        v.open("person/P2", "account_number", sealed)
    with pytest.raises(PayloadDecryptionError):
        v.open("person/P1", "holder_name", sealed)
    assert NUMBER not in str(other_payee.value)


def test_keys_rotate_as_payload_keys_do() -> None:
    old = vault("k1", current="k1").seal("person/P1", "account_number", NUMBER)
    rotated = vault("k1", "k2", current="k2")
    assert rotated.open("person/P1", "account_number", old) == NUMBER
    assert rotated.seal("person/P1", "account_number", NUMBER).key_id == "k2"
    with pytest.raises(PayloadDecryptionError):
        vault("k2", current="k2").open("person/P1", "account_number", Sealed("k1", old.blob))


def test_accounts_are_never_stored_in_clear_even_with_payload_encryption_off(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(KeyringError):
        AccountVault.from_settings(Settings(payload_encryption=False, state_dir=tmp_path))


def test_an_account_number_is_shown_by_its_last_4_only() -> None:
    assert mask(NUMBER) == "****2233"
