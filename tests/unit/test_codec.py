"""The payload encryption codec (contracts/codec.py) and where its keys come from.

Each test is named after the property it guards: round trip, tamper detection, key rotation,
unknown key ids, plain payloads passing through (committed histories replay), the keyring's
configuration (environment, file, development key, production refusing to run without keys),
and that `contracts.temporal.data_converter` wires it into Temporal's converter.
"""

from __future__ import annotations

import base64
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from contracts.cases import CaseEvent
from contracts.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    Keyring,
    KeyringError,
    PayloadDecryptionError,
    dev_key_file,
    format_entry,
    generate_key,
    keyring_from_settings,
)
from contracts.settings import Settings
from contracts.temporal import DATA_CONVERTER, data_converter

SECRET_NAME = "王秘密"
SECRET_ID_CARD = "210102198001014242"


def _ring(*ids: str, current: str | None = None) -> Keyring:
    keys = {key_id: generate_key() for key_id in ids}
    return Keyring(current_id=current or ids[-1], keys=keys)


def _payload(text: str = f'{{"name":"{SECRET_NAME}","id_card":"{SECRET_ID_CARD}"}}') -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_round_trip_restores_metadata_and_data_exactly() -> None:
    codec = EncryptionCodec(_ring("k1"))
    original = [_payload(), Payload(metadata={"encoding": b"binary/null"}, data=b"")]
    encoded = await codec.encode(original)
    assert await codec.decode(encoded) == original


async def test_encoded_payload_hides_the_plaintext_and_names_encoding_and_key_id() -> None:
    codec = EncryptionCodec(_ring("k1"))
    [sealed] = await codec.encode([_payload()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    blob = sealed.SerializeToString()
    for secret in (SECRET_NAME.encode(), SECRET_ID_CARD.encode(), b"json/plain"):
        assert secret not in blob


async def test_each_encoding_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec(_ring("k1"))
    first, second = await codec.encode([_payload(), _payload()])
    assert first.data != second.data


async def test_tampered_ciphertext_is_rejected() -> None:
    codec = EncryptionCodec(_ring("k1"))
    [sealed] = await codec.encode([_payload()])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([tampered])


async def test_relabelled_key_id_is_rejected_because_the_key_id_is_authenticated() -> None:
    # Same key under two ids: moving a payload to another id must still fail (the id is AAD).
    key = generate_key()
    codec = EncryptionCodec(Keyring(current_id="a", keys={"a": key, "b": key}))
    [sealed] = await codec.encode([_payload()])
    relabelled = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"b"}, data=sealed.data)
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([relabelled])


async def test_rotation_old_key_id_still_decodes_and_new_payloads_use_the_new_key() -> None:
    old = _ring("2020-01")
    [before] = await EncryptionCodec(old).encode([_payload("before")])
    rotated = Keyring(current_id="2020-07", keys={**old.keys, "2020-07": generate_key()})
    codec = EncryptionCodec(rotated)
    [after] = await codec.encode([_payload("after")])
    assert after.metadata[KEY_ID_METADATA] == b"2020-07"
    assert await codec.decode([before, after]) == [_payload("before"), _payload("after")]


async def test_unknown_key_id_is_a_clear_error_naming_the_missing_id() -> None:
    [sealed] = await EncryptionCodec(_ring("retired")).encode([_payload()])
    with pytest.raises(PayloadDecryptionError, match=r"key id 'retired'.*not in this keyring \(current\)"):
        await EncryptionCodec(_ring("current")).decode([sealed])


async def test_plain_payloads_pass_through_decoding_so_unencrypted_histories_replay() -> None:
    codec = EncryptionCodec(_ring("k1"))
    plain = [_payload(), Payload(metadata={"encoding": b"json/protobuf"}, data=b"{}")]
    assert await codec.decode(plain) == plain


def test_keyring_parse_reads_entries_comments_and_both_base64_alphabets() -> None:
    a, b = generate_key(), bytes(range(32))  # bytes(range(32)) has + and / in standard base64
    urlsafe = base64.urlsafe_b64encode(b).decode().rstrip("=")
    ring = Keyring.parse(f"# rotated 2020-07\n{format_entry('a', a)},\n b:{urlsafe}\n", "b")
    assert ring.keys == {"a": a, "b": b} and ring.current_id == "b"


def test_keyring_with_one_key_uses_it_and_with_several_needs_the_current_id() -> None:
    one = format_entry("only", generate_key())
    assert Keyring.parse(one).current_id == "only"
    two = f"{one},{format_entry('other', generate_key())}"
    with pytest.raises(KeyringError, match="JIUYE_PAYLOAD_KEY_ID"):
        Keyring.parse(two)
    with pytest.raises(KeyringError, match="'missing' is not among the keys"):
        Keyring.parse(two, "missing")


@pytest.mark.parametrize("text, message", [
    ("k1", "id:base64key"),
    ("k1:not*base64", "not valid base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "AES-256 needs 32"),
    (f"bad/id:{base64.b64encode(bytes(32)).decode()}", "must be 1-64"),
    (f"{format_entry('k', bytes(32))},{format_entry('k', bytes(32))}", "appears twice"),
    ("  \n# nothing\n", "no payload keys"),
])
def test_malformed_keyrings_are_refused(text: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        Keyring.parse(text)


def test_keyring_errors_never_echo_key_material() -> None:
    secret = "c2VjcmV0LWtleS1tYXRlcmlhbA"
    with pytest.raises(KeyringError) as raised:
        Keyring.parse(f"k1:{secret}")  # decodes, but to 19 bytes
    assert secret not in str(raised.value)
    with pytest.raises(KeyringError) as raised:
        Keyring.parse("k1-c2VjcmV0LWtleS1tYXRlcmlhbA")  # a colon forgotten
    assert secret not in str(raised.value)


def test_keyring_from_settings_prefers_the_environment_then_the_file(tmp_path: Path) -> None:
    env_key, file_key = generate_key(), generate_key()
    keys_file = tmp_path / "keys"
    keys_file.write_text(format_entry("file", file_key))
    from_env = keyring_from_settings(Settings(payload_keys=format_entry("env", env_key), payload_keys_file=keys_file,
                                              state_dir=tmp_path / "state"))
    assert from_env is not None and from_env.keys == {"env": env_key}
    from_file = keyring_from_settings(Settings(payload_keys_file=keys_file, state_dir=tmp_path / "state"))
    assert from_file is not None and from_file.keys == {"file": file_key}
    assert not (tmp_path / "state").exists(), "no development key when keys are configured"


def test_keyring_from_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("JIUYE_PAYLOAD_KEYS", f"{format_entry('old', old)},{format_entry('new', new)}")
    monkeypatch.setenv("JIUYE_PAYLOAD_KEY_ID", "new")
    ring = keyring_from_settings(Settings(state_dir=tmp_path))
    assert ring is not None and ring.current_id == "new" and set(ring.keys) == {"old", "new"}
    assert "JIUYE" not in repr(ring) and repr(new) not in repr(ring), "keys stay out of reprs"


def test_development_generates_one_private_key_into_the_state_dir_and_reuses_it(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    first = keyring_from_settings(settings)
    second = keyring_from_settings(settings)
    assert first is not None and first == second and first.current_id.startswith("dev-")
    path = dev_key_file(settings.state_dir)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in settings.state_dir.iterdir()] == [path.name], "no temporary file left behind"


def test_production_refuses_to_run_without_keys_or_with_encryption_off(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="JIUYE_PAYLOAD_KEYS"):
        keyring_from_settings(Settings(env="production", state_dir=tmp_path))
    with pytest.raises(KeyringError, match="not allowed"):
        keyring_from_settings(Settings(env="production", payload_encryption=False, state_dir=tmp_path))
    assert not any(tmp_path.iterdir()), "production never generates a development key"


def test_encryption_can_be_switched_off_outside_production(tmp_path: Path) -> None:
    settings = Settings(payload_encryption=False, state_dir=tmp_path)
    assert keyring_from_settings(settings) is None
    assert data_converter(settings) is DATA_CONVERTER


async def test_data_converter_encrypts_case_payloads_and_reads_them_back(tmp_path: Path) -> None:
    converter = data_converter(Settings(payload_keys=format_entry("k1", generate_key()), state_dir=tmp_path))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    event = CaseEvent(source="es/2101", id="e1", type="application.submitted", subject="person/P-SECRET-4242",
                      time="2020-03-02T09:00:00+08:00",
                      data={"applicant": "P-SECRET-4242", "on": date(2020, 3, 2),
                            "details": {"name": SECRET_NAME, "id_card": SECRET_ID_CARD}})
    [stored] = await converter.encode([event])
    for secret in (SECRET_NAME.encode(), SECRET_ID_CARD.encode(), b"P-SECRET-4242"):
        assert secret not in stored.SerializeToString()
    [back] = await converter.decode([stored], [CaseEvent])
    assert back == CaseEvent.model_validate(event.model_dump(mode="json"))
    # and what the plain converter wrote before encryption still reads
    [old] = await DATA_CONVERTER.encode([event])
    assert await converter.decode([old], [CaseEvent]) == [back]
