"""The platform's Ed25519 document-signing key: files, signatures and printed codes.

The private key file is made once per installation (``make document-key`` locally) and
never committed. Services that only verify read the public key file beside it.
"""

import base64
import hashlib
import os
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from common.settings import PlatformSettings

# Each use of the key signs a different kind of message; the prefix keeps a
# signature made for one from passing as the other.
_DIGEST_CONTEXT = b"dingze ruling document sha256\x00"
_CODE_CONTEXT = b"dingze verification code\x00"
CODE_LENGTH = 8


class DocumentKeyError(RuntimeError):
    """The signing or verifying key file is missing or unreadable."""


def public_key_path(private_key_path: Path) -> Path:
    return private_key_path.with_suffix(".pub.pem")


def create_key_files(private_key_path: Path) -> bool:
    """Write a new key pair unless the private key exists; return whether it wrote."""
    if private_key_path.exists():
        return False
    private_key_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(private_pem)
    public_key_path(private_key_path).write_bytes(public_key_pem(key.public_key()))
    return True


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise DocumentKeyError(
            f"document signing key {path} is missing; create it with "
            "make document-key or set DINGZE_DOCUMENT_KEY_FILE"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DocumentKeyError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise DocumentKeyError(
            f"document verifying key {path} is missing; create the key pair with "
            "make document-key or set DINGZE_DOCUMENT_PUBLIC_KEY_FILE"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise DocumentKeyError(f"{path} does not hold an Ed25519 public key")
    return key


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """Return the key as a PEM SubjectPublicKeyInfo, the form OpenSSL reads."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """Name a key by the first 16 hex digits of its raw public bytes' SHA-256."""
    raw = public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_sha256(key: Ed25519PrivateKey, sha256_hex: str) -> str:
    """Sign a document's SHA-256 and return the signature in hex."""
    return key.sign(_DIGEST_CONTEXT + bytes.fromhex(sha256_hex)).hex()


def signature_is_valid(
    public_key: Ed25519PublicKey, sha256_hex: str, signature_hex: str
) -> bool:
    try:
        public_key.verify(
            bytes.fromhex(signature_hex), _DIGEST_CONTEXT + bytes.fromhex(sha256_hex)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def verification_code(key: Ed25519PrivateKey, document_number: str) -> str:
    """Derive the code printed on a document from its number and the private key.

    Ed25519 signatures are deterministic, so a retried issue prints the same code,
    and without the key the code of another document cannot be computed.
    """
    signature = key.sign(_CODE_CONTEXT + document_number.encode())
    letters = base64.b32encode(hashlib.sha256(signature).digest()).decode()
    return letters[:CODE_LENGTH]


def code_digest(code: str) -> str:
    """Hash a printed code for storage, ignoring case, spaces and hyphens."""
    normalized = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalized.encode()).hexdigest()


def main(arguments: list[str]) -> int:
    """Create the key pair at the given path, or at DINGZE_DOCUMENT_KEY_FILE's."""
    if not 1 <= len(arguments) <= 2 or arguments[0] != "create":
        print(
            "usage: python -m documents.keys create [PRIVATE_KEY_FILE]",
            file=sys.stderr,
        )
        return 2
    if len(arguments) == 2:
        path = Path(arguments[1])
    else:
        path = PlatformSettings().document_key_file
    if create_key_files(path):
        print(f"created document signing key {path} and {public_key_path(path)}")
    else:
        print(f"document signing key {path} already exists")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
