import base64
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from common.sealing import (
    KeyRing,
    SealedValueError,
    SealingKeyError,
    create_key_file,
    parse_key_ring,
    rotate_key_file,
)
from common.temporal_codec import ENCODING, SealingCodec

PHONE = "13912345678"


def ring(active: str = "k1", *others: str) -> KeyRing:
    keys = {key_id: bytes([index + 1]) * 32 for index, key_id in enumerate(others)}
    keys[active] = bytes([9]) * 32
    return KeyRing(active_id=active, keys=keys, lookup_key=bytes([7]) * 32)


def test_sealed_value_opens_and_hides_plaintext() -> None:
    keys = ring()

    sealed = keys.seal(PHONE, "phone")

    assert PHONE not in sealed
    assert sealed.startswith("dz1:k1:")
    assert keys.unseal(sealed, "phone") == PHONE


def test_same_value_seals_differently_each_time() -> None:
    keys = ring()

    assert keys.seal(PHONE, "phone") != keys.seal(PHONE, "phone")


def test_value_sealed_for_other_purpose_is_rejected() -> None:
    keys = ring()
    sealed = keys.seal(PHONE, "phone")

    with pytest.raises(SealedValueError):
        keys.unseal(sealed, "account")


def test_altered_ciphertext_is_rejected() -> None:
    keys = ring()
    prefix, key_id, encoded = keys.seal(PHONE, "phone").split(":")
    data = bytearray(base64.urlsafe_b64decode(encoded))
    data[-1] ^= 1
    altered = f"{prefix}:{key_id}:{base64.urlsafe_b64encode(bytes(data)).decode()}"

    with pytest.raises(SealedValueError):
        keys.unseal(altered, "phone")


def test_plaintext_from_before_encryption_passes_through() -> None:
    assert ring().unseal(PHONE, "phone") == PHONE


def test_value_sealed_under_retired_key_opens_after_rotation() -> None:
    old = ring("k1")
    sealed = old.seal(PHONE, "phone")
    rotated = KeyRing(
        active_id="k2",
        keys={**old.keys, "k2": bytes([5]) * 32},
        lookup_key=old.lookup_key,
    )

    assert rotated.unseal(sealed, "phone") == PHONE
    assert rotated.seal(PHONE, "phone").startswith("dz1:k2:")


def test_value_under_unknown_key_names_the_key() -> None:
    sealed = ring("k1").seal(PHONE, "phone")
    other = ring("k2")

    with pytest.raises(SealingKeyError, match="k1"):
        other.unseal(sealed, "phone")


def test_lookup_hash_is_stable_and_keyed() -> None:
    keys = ring()
    other = KeyRing(active_id="k1", keys=keys.keys, lookup_key=bytes([8]) * 32)

    assert keys.lookup_hash(PHONE, "phone") == keys.lookup_hash(PHONE, "phone")
    assert keys.lookup_hash(PHONE, "phone") != other.lookup_hash(PHONE, "phone")
    assert PHONE not in keys.lookup_hash(PHONE, "phone")


def test_short_key_is_rejected() -> None:
    with pytest.raises(SealingKeyError):
        KeyRing(active_id="k1", keys={"k1": b"short"}, lookup_key=bytes(32))


def test_malformed_key_ring_text_is_rejected() -> None:
    with pytest.raises(SealingKeyError, match="not a valid key ring"):
        parse_key_ring('{"active": "k1"}', "test")


def test_key_file_rotation_keeps_old_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    assert create_key_file(path)
    first = parse_key_ring(path.read_text(), "file")
    sealed = first.seal(PHONE, "phone")

    new_id = rotate_key_file(path)
    rotated = parse_key_ring(path.read_text(), "file")

    assert not create_key_file(path)
    assert rotated.active_id == new_id != first.active_id
    assert first.active_id in rotated.keys
    assert rotated.unseal(sealed, "phone") == PHONE
    assert rotated.lookup_key == first.lookup_key
    assert path.stat().st_mode & 0o077 == 0


async def test_codec_encrypts_and_restores_payloads() -> None:
    codec = SealingCodec(ring())
    payload = Payload(metadata={"encoding": b"json/plain"}, data=PHONE.encode())

    encoded = await codec.encode([payload])
    decoded = await codec.decode(encoded)

    assert encoded[0].metadata["encoding"] == ENCODING
    assert PHONE.encode() not in encoded[0].SerializeToString()
    assert decoded == [payload]


async def test_codec_reads_unencrypted_payloads() -> None:
    codec = SealingCodec(ring())
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'"13912345678"')

    assert await codec.decode([payload]) == [payload]
