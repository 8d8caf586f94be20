"""A Temporal payload codec that encrypts every payload with the platform's key ring.

Workflow inputs, signals, updates, queries, activity arguments and results carry
case data, phone numbers among them. The codec seals each payload before the
client sends it, so Temporal's history contains only ciphertext. Payloads written
before the codec (older histories, running cases) carry no encryption mark and
are decoded unchanged.
"""

import dataclasses
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

from common.sealing import KeyRing, Purpose, key_ring

ENCODING = b"binary/encrypted"
KEY_ID_FIELD = "encryption-key-id"
_PURPOSE = Purpose.TEMPORAL_PAYLOAD


class SealingCodec(PayloadCodec):
    """Encrypts payloads with AES-GCM under the ring's active key, with its id."""

    def __init__(self, ring: KeyRing | None = None) -> None:
        self._ring = ring

    def _key_ring(self) -> KeyRing:
        return self._ring if self._ring is not None else key_ring()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        ring = self._key_ring()
        encoded = []
        for payload in payloads:
            key_id, data = ring.encrypt(payload.SerializeToString(), _PURPOSE)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID_FIELD: key_id.encode()},
                    data=data,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            key_id = payload.metadata[KEY_ID_FIELD].decode()
            plaintext = self._key_ring().decrypt(key_id, payload.data, _PURPOSE)
            original = Payload()
            original.ParseFromString(plaintext)
            decoded.append(original)
        return decoded


def sealing_data_converter(ring: KeyRing | None = None) -> DataConverter:
    """Return the pydantic converter with the sealing codec.

    Without a ring the codec reads the process's key ring on first use.
    """
    codec = SealingCodec(ring)
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)
