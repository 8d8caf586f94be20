"""Encryption at rest of personal data: phone, ID and account numbers, secrets.

Values are sealed with AES-256-GCM under the active key of a key ring and carry the
key's id, so a new key can become active while older values still open. Sealed text
has the form ``dz1:<key id>:<base64url of nonce and ciphertext>``. Each use passes a
purpose (``"phone"``, ``"outbox"``…) as associated data, so a value sealed for one
column does not open as another's.

Lookups by phone number use ``lookup_hash``, an HMAC-SHA256 under a separate lookup
key that does not rotate with the encryption keys.

The key ring comes from ``DINGZE_PERSONAL_DATA_KEYS`` (the JSON below) when set, or
else from the file ``DINGZE_PERSONAL_DATA_KEY_FILE`` (``.stack/keys/personal-data.json``
by default, written by ``make personal-data-key``)::

    {"active": "<key id>", "keys": {"<key id>": "<base64 of 32 bytes>", ...},
     "lookup_key": "<base64 of 32 bytes>"}

``python -m common.sealing create`` writes a new file, ``rotate`` adds a new active
key to it.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_KEY_FILE = ROOT / ".stack" / "keys" / "personal-data.json"
KEYS_VARIABLE = "DINGZE_PERSONAL_DATA_KEYS"
KEY_FILE_VARIABLE = "DINGZE_PERSONAL_DATA_KEY_FILE"
PREFIX = "dz1:"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class Purpose(StrEnum):
    """The kind of a sealed value, bound to its ciphertext as associated data.

    Renaming a member makes every value sealed under the old name unreadable.
    """

    PHONE = "phone"
    CASE_DETAILS = "case details"
    OUTBOX = "outbox event"
    PAYEE_ACCOUNT = "payee account"
    WEBHOOK_SECRET = "webhook signing secret"
    WEBHOOK_PAYLOAD = "webhook payload"
    TEMPORAL_PAYLOAD = "temporal payload"


class SealingKeyError(RuntimeError):
    """The key ring is missing or invalid, or a value names a key it lacks."""


class SealedValueError(ValueError):
    """A sealed value is malformed or fails authentication."""


@dataclass(frozen=True)
class KeyRing:
    """The encryption keys by id, the one that seals new values, and the lookup key."""

    active_id: str
    keys: dict[str, bytes]
    lookup_key: bytes

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise SealingKeyError(f"active key {self.active_id!r} is not in the ring")
        for key_id, key in self.keys.items():
            if len(key) != _KEY_BYTES or ":" in key_id or not key_id:
                raise SealingKeyError(
                    f"key {key_id!r} must be 32 bytes under an id without ':'"
                )
        if len(self.lookup_key) != _KEY_BYTES:
            raise SealingKeyError("the lookup key must be 32 bytes")

    def encrypt(self, plaintext: bytes, purpose: str) -> tuple[str, bytes]:
        """Encrypt under the active key; return its id and the nonce and ciphertext."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(
            nonce, plaintext, _associated_data(purpose)
        )
        return self.active_id, nonce + sealed

    def decrypt(self, key_id: str, data: bytes, purpose: str) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise SealingKeyError(
                f"no key {key_id!r} in the ring; add the retired key back to "
                f"{KEYS_VARIABLE} or the key file"
            )
        try:
            return AESGCM(key).decrypt(
                data[:_NONCE_BYTES], data[_NONCE_BYTES:], _associated_data(purpose)
            )
        except InvalidTag:
            raise SealedValueError(
                f"sealed {purpose} value failed authentication under key {key_id}"
            ) from None

    def seal(self, value: str, purpose: str) -> str:
        """Return the value encrypted as sealed text."""
        key_id, data = self.encrypt(value.encode(), purpose)
        return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(data).decode()}"

    def unseal(self, value: str, purpose: str) -> str:
        """Return the plaintext of sealed text; any other text is returned unchanged.

        Values stored before encryption stay readable that way.
        """
        if not is_sealed(value):
            return value
        key_id, _, encoded = value[len(PREFIX) :].partition(":")
        try:
            data = base64.urlsafe_b64decode(encoded)
        except (binascii.Error, ValueError):
            raise SealedValueError(f"sealed {purpose} value is not base64") from None
        return self.decrypt(key_id, data, purpose).decode()

    def lookup_hash(self, value: str, purpose: str) -> str:
        """Return a keyed hash to find a value by, in hex: equal values hash equal."""
        message = _associated_data(purpose) + b"\x00" + value.encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def _associated_data(purpose: str) -> bytes:
    return b"dingze personal data:" + purpose.encode()


def parse_key_ring(text: str, source: str) -> KeyRing:
    try:
        document = json.loads(text)
        return KeyRing(
            active_id=document["active"],
            keys={
                key_id: base64.b64decode(key, validate=True)
                for key_id, key in document["keys"].items()
            },
            lookup_key=base64.b64decode(document["lookup_key"], validate=True),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SealingKeyError(
            f"{source} is not a valid key ring ({error!r}); it needs 'active', "
            "'keys' and 'lookup_key' with base64 keys of 32 bytes"
        ) from None


def key_file_path() -> Path:
    return Path(os.environ.get(KEY_FILE_VARIABLE) or DEFAULT_KEY_FILE)


@functools.cache
def key_ring() -> KeyRing:
    """Return the process's key ring, read once from the environment or the file."""
    text = os.environ.get(KEYS_VARIABLE)
    if text:
        return parse_key_ring(text, KEYS_VARIABLE)
    path = key_file_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SealingKeyError(
            f"personal data key file {path} is missing; create it with "
            f"make personal-data-key, or set {KEYS_VARIABLE} or {KEY_FILE_VARIABLE}"
        ) from None
    return parse_key_ring(text, str(path))


def seal(value: str, purpose: str) -> str:
    return key_ring().seal(value, purpose)


def unseal(value: str, purpose: str) -> str:
    return key_ring().unseal(value, purpose)


def lookup_hash(value: str, purpose: str) -> str:
    return key_ring().lookup_hash(value, purpose)


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()


def _new_key_id() -> str:
    """Name a key by its creation date and random hex, e.g. ``k20261204-3fa9c1``."""
    return datetime.now(UTC).strftime("k%Y%m%d-") + secrets.token_hex(3)


def _write_private(path: Path, document: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(document, file, indent=2)
    temporary.replace(path)


def create_key_file(path: Path) -> bool:
    """Write a new key ring unless the file exists; return whether it wrote."""
    if path.exists():
        return False
    key_id = _new_key_id()
    _write_private(
        path,
        {"active": key_id, "keys": {key_id: _new_key()}, "lookup_key": _new_key()},
    )
    return True


def rotate_key_file(path: Path) -> str:
    """Add a new key to the file and make it active; return its id.

    Older keys stay in the ring, so values sealed under them still open.
    """
    document = json.loads(path.read_text())
    parse_key_ring(json.dumps(document), str(path))
    key_id = _new_key_id()
    document["keys"][key_id] = _new_key()
    document["active"] = key_id
    _write_private(path, document)
    return key_id


def main(arguments: list[str]) -> int:
    command = arguments[0] if arguments else ""
    path = key_file_path()
    if command == "create":
        created = create_key_file(path)
        print(f"{'created' if created else 'kept the existing'} key ring {path}")
        return 0
    if command == "rotate":
        print(f"key {rotate_key_file(path)} is now active in {path}")
        return 0
    print("usage: python -m common.sealing create | rotate", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
